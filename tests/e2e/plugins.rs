//! WebAssembly plugins over HTTP: upload (validated, world detected), dry runs, hostile
//! components that must fail cleanly while the server keeps serving, a role mapper deciding an
//! OIDC sign-in's role and teams (and never more than its uploader's role), a transform
//! reshaping a webhook delivery that arrives signed, `drop` honoured, and tenant isolation.
//! The components are the real example and fixture plugins built for wasm32-wasip2.

use guildhall_plugin_host::testing;
use guildhall_tests::{Client, TestServer, oidc_issuer::IdpUser, receiver::Receiver};
use serde_json::{Value, json};

use crate::sso_oidc::world;

fn component(name: &str) -> Vec<u8> {
    let path = testing::example(name).unwrap_or_else(|e| panic!("the example plugin {name}: {e}"));
    std::fs::read(path).unwrap()
}

async fn upload(client: &Client, org: &str, name: &str, bytes: Vec<u8>) -> guildhall_tests::Resp {
    client.post_raw(&format!("/api/v1/orgs/{org}/plugins?name={name}"), "application/wasm", bytes).await
}

async fn uploaded(client: &Client, org: &str, name: &str, example: &str) -> String {
    let resp = upload(client, org, name, component(example)).await;
    resp.expect(201)["id"].as_str().unwrap().to_string()
}

async fn invoke(client: &Client, org: &str, id: &str, input: Value) -> guildhall_tests::Resp {
    client.post(&format!("/api/v1/orgs/{org}/plugins/{id}/invoke"), &json!({ "input": input })).await
}

fn mapper_input(org_slug: &str, groups: &[&str]) -> Value {
    json!({ "org_slug": org_slug, "source": "oidc", "subject": "s-1", "email": "a@example.com",
            "groups": groups, "attributes": { "department": "R&D" } })
}

#[tokio::test]
async fn plugins_upload_with_their_world_detected_and_dry_run_with_cost() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();

    let bytes = component("role-mapper-example");
    let created = upload(&owner, &org, "groups", bytes.clone()).await;
    let created = created.expect(201).clone();
    assert_eq!(created["world"], "role-mapper");
    assert_eq!(created["size"], bytes.len());
    assert_eq!(created["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(created["ceiling_role"], "owner");
    let mapper = created["id"].as_str().unwrap().to_string();
    let transform = uploaded(&owner, &org, "slack", "slack-transform").await;
    let list = owner.get(&format!("/api/v1/orgs/{org}/plugins")).await;
    let worlds: Vec<&str> =
        list.expect(200)["data"].as_array().unwrap().iter().map(|p| p["world"].as_str().unwrap()).collect();
    assert_eq!(worlds, ["role-mapper", "webhook-transform"]);

    let ran = invoke(&owner, &org, &mapper, mapper_input("acme", &["acme-admins", "engineering-core"])).await;
    let ran = ran.expect(200).clone();
    assert_eq!(ran["output"], json!({ "decision": "assign", "role": "admin", "teams": ["engineering"] }));
    assert!(ran["fuel_used"].as_u64().unwrap() > 0, "{ran}");
    assert!(ran["duration_us"].as_u64().is_some(), "{ran}");
    let again =
        invoke(&owner, &org, &mapper, mapper_input("acme", &["acme-admins", "engineering-core"])).await;
    assert_eq!(again.expect(200)["fuel_used"], ran["fuel_used"], "a plugin is deterministic");
    let denied = invoke(&owner, &org, &mapper, mapper_input("acme", &["contractors"])).await;
    assert_eq!(denied.expect(200)["output"]["decision"], "deny");

    let event = json!({ "event_type": "member.added", "payload": { "type": "member.added",
        "data": { "email": "bo@example.com", "role": "member" } } });
    let shaped = invoke(&owner, &org, &transform, event).await;
    let shaped = shaped.expect(200).clone();
    assert_eq!(shaped["output"]["action"], "replace", "{shaped}");
    assert!(shaped["output"]["payload"]["text"].as_str().unwrap().contains("member.added"), "{shaped}");

    // Bad input names the field; the wrong world's input is refused too.
    let wrong = invoke(&owner, &org, &mapper, json!({ "org_slug": "acme", "source": "ldap" })).await;
    assert_eq!(wrong.problem(400), "VALIDATION_ERROR");
    assert!(wrong.field().is_some_and(|f| f.starts_with("input")), "{}", wrong.text);
    let wrong = invoke(&owner, &org, &transform, mapper_input("acme", &[])).await;
    assert_eq!(wrong.problem(400), "VALIDATION_ERROR");
    let not_object = owner.post(&format!("/api/v1/orgs/{org}/plugins/{mapper}/invoke"), &json!([1])).await;
    assert_eq!(not_object.problem(400), "VALIDATION_ERROR");
    // Names are unique in the org and checked.
    assert_eq!(upload(&owner, &org, "groups", bytes.clone()).await.problem(409), "PLUGIN_NAME_TAKEN");
    assert_eq!(upload(&owner, &org, "no%20spaces", bytes.clone()).await.problem(400), "VALIDATION_ERROR");
    let missing = owner.post_raw(&format!("/api/v1/orgs/{org}/plugins"), "application/wasm", bytes).await;
    assert_eq!(missing.status.as_u16(), 400, "{}", missing.text);
    let unknown = invoke(&owner, &org, &uuid::Uuid::now_v7().to_string(), mapper_input("a", &[])).await;
    assert_eq!(unknown.problem(404), "NOT_FOUND");
    // Deleting one nothing uses.
    owner.delete(&format!("/api/v1/orgs/{org}/plugins/{transform}")).await;
    assert_eq!(owner.get(&format!("/api/v1/orgs/{org}/plugins/{transform}")).await.problem(404), "NOT_FOUND");
}

#[tokio::test]
async fn hostile_plugins_fail_cleanly_and_the_server_keeps_serving() {
    let server = TestServer::start_with(|c| c.plugins.max_component_kib = 1024).await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();
    let hostile = uploaded(&owner, &org, "hostile", "hostile").await;
    let hostile_transform = uploaded(&owner, &org, "hostile-transform", "hostile-transform").await;
    for (slug, code) in [
        ("loop", "PLUGIN_FUEL_EXHAUSTED"),
        ("bomb", "PLUGIN_MEMORY_LIMIT"),
        ("recurse", "PLUGIN_TRAPPED"),
        ("trap", "PLUGIN_TRAPPED"),
        ("huge", "PLUGIN_INVALID_OUTPUT"),
        ("bad-role", "PLUGIN_INVALID_OUTPUT"),
    ] {
        let failed = invoke(&owner, &org, &hostile, mapper_input(slug, &[])).await;
        assert_eq!(failed.problem(422), code, "{slug}: {}", failed.text);
        // The server, and the same plugin, still answer at once.
        server.anon().get("/healthz").await.expect(200);
        let fine = invoke(&owner, &org, &hostile, mapper_input("calm", &[])).await;
        assert_eq!(fine.expect(200)["output"]["role"], "member", "after {slug}");
    }
    for event_type in ["bad-json", "crlf-header", "many-headers", "huge"] {
        let input = json!({ "event_type": event_type, "payload": { "x": 1 } });
        let failed = invoke(&owner, &org, &hostile_transform, input).await;
        assert_eq!(failed.problem(422), "PLUGIN_INVALID_OUTPUT", "{event_type}: {}", failed.text);
    }
    // Uploads that are not a usable component.
    let wrong_world = std::fs::read_to_string(testing::testdata_dir().join("wrong-world.wat")).unwrap();
    let wrong_world = wat::parse_str(&wrong_world).unwrap();
    let refused = upload(&owner, &org, "wrong", wrong_world).await;
    assert_eq!(refused.problem(400), "PLUGIN_INVALID");
    assert!(refused.text.contains("map-role") || refused.text.contains("transform"), "{}", refused.text);
    let core_module = wat::parse_str("(module)").unwrap();
    let refused = upload(&owner, &org, "core", core_module).await;
    assert_eq!(refused.problem(400), "PLUGIN_INVALID");
    assert!(refused.text.contains("component"), "{}", refused.text);
    assert_eq!(
        upload(&owner, &org, "text", b"hello, not wasm".to_vec()).await.problem(400),
        "PLUGIN_INVALID"
    );
    assert_eq!(upload(&owner, &org, "empty", Vec::new()).await.problem(400), "PLUGIN_INVALID");
    let oversized = upload(&owner, &org, "big", vec![0u8; 1024 * 1024 + 1]).await;
    assert_eq!(oversized.problem(413), "PLUGIN_TOO_LARGE");
    let json_body = owner.post(&format!("/api/v1/orgs/{org}/plugins?name=j"), &json!({ "a": 1 })).await;
    assert!(json_body.status.is_client_error(), "{}", json_body.text);
    // Nothing of that was stored.
    let list = owner.get(&format!("/api/v1/orgs/{org}/plugins")).await;
    assert_eq!(list.expect(200)["data"].as_array().unwrap().len(), 2);
    server.anon().get("/healthz").await.expect(200);
}

#[tokio::test]
async fn an_oidc_sign_in_gets_its_role_and_teams_from_the_orgs_role_mapper() {
    let w = world(json!({})).await;
    let org = &w.org;
    w.owner.post(&format!("/api/v1/orgs/{org}/teams"), &json!({ "name": "Engineering" })).await.expect(201);
    let mapper = uploaded(&w.owner, org, "groups", "role-mapper-example").await;
    let provider_url = format!("/api/v1/orgs/{org}/sso/providers/{}", w.provider);
    let mut provider = w.owner.get(&provider_url).await.expect(200).clone();
    let body = json!({ "kind": "oidc", "name": provider["name"], "domains": provider["domains"],
        "role_mapper_plugin_id": mapper, "oidc": { "discovery_url": provider["oidc"]["discovery_url"],
        "client_id": provider["oidc"]["client_id"], "groups_claim": "groups" } });
    provider = w.owner.put(&provider_url, &body).await.expect(200).clone();
    assert_eq!(provider["role_mapper_plugin_id"], mapper.as_str());

    let alice = IdpUser::new("okta|alice", "alice@example.com").groups(&["acme-admins", "engineering-core"]);
    let tokens = w.tokens(alice).await;
    assert_eq!(tokens["org"]["role"], "admin");
    let teams = w.owner.get(&format!("/api/v1/orgs/{org}/teams")).await;
    let team = teams.expect(200)["data"][0].clone();
    let detail = w.owner.get(&format!("/api/v1/orgs/{org}/teams/{}", team["id"].as_str().unwrap())).await;
    let members = detail.expect(200)["members"].clone();
    assert_eq!(members[0]["email"], "alice@example.com", "{members}");

    // A denial refuses the sign-in with the plugin's reason, audited.
    let hop = w.sign_in(IdpUser::new("okta|carl", "carl@example.com").groups(&["contractors"])).await;
    assert_eq!(hop.reason(), "denied_by_plugin", "{}", hop.text);
    assert!(hop.text.contains("partner portal"), "{}", hop.text);
    // Groups that pick no role leave it to the default role.
    let bo = w.tokens(IdpUser::new("okta|bo", "bo@example.com").groups(&["sales-emea"])).await;
    assert_eq!(bo["org"]["role"], "member");

    // Every call is on record, for the author to read.
    let runs = w.owner.get(&format!("/api/v1/orgs/{org}/plugins/{mapper}/runs")).await;
    let runs = runs.expect(200)["data"].as_array().unwrap().clone();
    let outcomes: Vec<&str> = runs.iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["assigned", "denied", "assigned"]);
    assert_eq!(runs[2]["hook"], "sso");
    assert_eq!(runs[2]["hook_id"], w.provider.as_str());
    assert!(runs[2]["detail"].as_str().unwrap().contains("admin"), "{:?}", runs[2]);
    // In use, it cannot be deleted; the answer names the user.
    let busy = w.owner.delete(&format!("/api/v1/orgs/{org}/plugins/{mapper}")).await;
    assert_eq!(busy.problem(409), "PLUGIN_IN_USE");
    assert!(busy.text.contains("Okta"), "{}", busy.text);
}

#[tokio::test]
async fn a_role_mapper_never_confers_more_than_its_uploader_holds() {
    let w = world(json!({})).await;
    let org = &w.org;
    let (admin, _) = w.server.member_of(&w.owner, org, "adele@example.com", "admin").await;
    // The admin's plugin maps `owners` to owner: more than the admin holds.
    let mapper = uploaded(&admin, org, "by-admin", "role-mapper-example").await;
    let provider_url = format!("/api/v1/orgs/{org}/sso/providers/{}", w.provider);
    let provider = w.owner.get(&provider_url).await.expect(200).clone();
    let body = |plugin: &str, failure: &str| {
        json!({ "kind": "oidc", "name": provider["name"], "domains": provider["domains"],
            "role_mapper_plugin_id": plugin, "plugin_failure": failure,
            "oidc": { "discovery_url": provider["oidc"]["discovery_url"],
            "client_id": provider["oidc"]["client_id"], "groups_claim": "groups" } })
    };
    w.owner.put(&provider_url, &body(&mapper, "open")).await.expect(200);
    let mallory = IdpUser::new("okta|mallory", "mallory@example.com").groups(&["owners"]);
    let tokens = w.tokens(mallory).await;
    assert_eq!(tokens["org"]["role"], "member", "failing open: the default role, never owner");
    let runs = w.owner.get(&format!("/api/v1/orgs/{org}/plugins/{mapper}/runs")).await;
    assert_eq!(runs.expect(200)["data"][0]["outcome"], "PLUGIN_INVALID_OUTPUT");
    let audit = w.owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=plugin.failed")).await;
    let audit = audit.expect(200)["data"].clone();
    assert_eq!(audit[0]["details"]["consequence"], "fallback", "{audit}");

    // Failing closed, the same sign-in is refused.
    w.owner.put(&provider_url, &body(&mapper, "closed")).await.expect(200);
    let hop = w.sign_in(IdpUser::new("okta|mallory", "mallory@example.com").groups(&["owners"])).await;
    assert_eq!(hop.reason(), "plugin_failed", "{}", hop.text);

    // An owner's plugin (ceiling owner) cannot be put to work by an admin.
    let owners_plugin = uploaded(&w.owner, org, "by-owner", "role-mapper-example").await;
    let attached = admin.put(&provider_url, &body(&owners_plugin, "open")).await;
    assert_eq!(attached.status.as_u16(), 403, "{}", attached.text);
    // A member without plugins:manage reaches none of it.
    let (member, _) = w.server.member_of(&w.owner, org, "meg@example.com", "member").await;
    assert_eq!(member.get(&format!("/api/v1/orgs/{org}/plugins")).await.status.as_u16(), 403);
    let sneaked = upload(&member, org, "sneaky", component("role-mapper-example")).await;
    assert_eq!(sneaked.status.as_u16(), 403, "{}", sneaked.text);
}

#[tokio::test]
async fn a_token_of_another_org_never_reaches_or_borrows_a_plugin() {
    let server = TestServer::start().await;
    let (owner_a, body_a) = server.signup("owner@a.example.com").await;
    let org_a = body_a["org"]["id"].as_str().unwrap().to_string();
    let (owner_b, body_b) = server.signup("owner@b.example.com").await;
    let org_b = body_b["org"]["id"].as_str().unwrap().to_string();
    let plugin = uploaded(&owner_a, &org_a, "slack", "slack-transform").await;
    for path in [
        format!("/api/v1/orgs/{org_b}/plugins/{plugin}"),
        format!("/api/v1/orgs/{org_b}/plugins/{plugin}/runs"),
    ] {
        assert_eq!(owner_b.get(&path).await.problem(404), "NOT_FOUND", "{path}");
    }
    let input = json!({ "event_type": "x", "payload": {} });
    assert_eq!(invoke(&owner_b, &org_b, &plugin, input).await.problem(404), "NOT_FOUND");
    assert_eq!(
        owner_b.delete(&format!("/api/v1/orgs/{org_b}/plugins/{plugin}")).await.problem(404),
        "NOT_FOUND"
    );
    // Org A's own path with B's token: B is no member of A.
    assert_eq!(owner_b.get(&format!("/api/v1/orgs/{org_a}/plugins/{plugin}")).await.status.as_u16(), 404);
    // B cannot put A's plugin on its own webhook.
    let hook = json!({ "url": "https://hooks.example.com/x", "transform_plugin_id": plugin });
    let borrowed = owner_b.post(&format!("/api/v1/orgs/{org_b}/webhooks"), &hook).await;
    assert_eq!(borrowed.problem(400), "VALIDATION_ERROR");
    assert_eq!(borrowed.field(), Some("transform_plugin_id"));
    // And A's plugin is still A's, untouched.
    owner_a.get(&format!("/api/v1/orgs/{org_a}/plugins/{plugin}")).await.expect(200);
}

#[tokio::test]
async fn a_transform_reshapes_signed_deliveries_and_its_drop_is_honoured() {
    let server = TestServer::start_with(|c| {
        c.outbound.allow_private_networks = true;
        c.outbound.allow_http = true;
        c.webhooks.poll_interval_ms = 20;
        c.webhooks.timeout_seconds = 1;
    })
    .await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();
    let slack = uploaded(&owner, &org, "slack", "slack-transform").await;
    // A role mapper is not a transform.
    let mapper = uploaded(&owner, &org, "mapper", "role-mapper-example").await;
    let receiver = Receiver::start().await;
    let hook = json!({ "url": receiver.url, "event_types": ["org.updated", "session.*"], "transform_plugin_id": mapper });
    let refused = owner.post(&format!("/api/v1/orgs/{org}/webhooks"), &hook).await;
    assert_eq!(refused.field(), Some("transform_plugin_id"), "{}", refused.text);
    let hook = json!({ "url": receiver.url, "event_types": ["org.updated", "session.*"], "transform_plugin_id": slack });
    let created = owner.post(&format!("/api/v1/orgs/{org}/webhooks"), &hook).await;
    let created = created.expect(201).clone();
    assert_eq!(created["transform_plugin_id"], slack.as_str());
    let (hook_id, secret) =
        (created["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string());

    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Renamed" })).await.expect(200);
    let got = receiver.wait_for(1).await;
    let delivered = &got[0];
    assert!(delivered.signed_with(&secret), "the transformed body is what is signed");
    assert!(delivered.body["text"].as_str().unwrap().contains("org.updated"), "{}", delivered.body);
    assert_eq!(delivered.header("x-guildhall-transform"), Some("slack"));
    assert_eq!(delivered.header("content-type"), Some("application/json"));

    // A reused refresh token makes a `session.*` event, which this transform drops (it ends
    // the session too: go on with a personal token).
    let pat = owner.post("/api/v1/auth/tokens", &json!({ "name": "plugin tests" })).await;
    let owner = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    let refresh = body["refresh_token"].clone();
    server.anon().post("/api/v1/auth/refresh", &json!({ "refresh_token": refresh })).await.expect(200);
    server.anon().post("/api/v1/auth/refresh", &json!({ "refresh_token": refresh })).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = owner.get(&format!("/api/v1/orgs/{org}/webhooks/{hook_id}/deliveries")).await;
        let all = page.expect(200)["data"].as_array().unwrap().clone();
        if let Some(d) =
            all.iter().find(|d| d["event_type"].as_str().is_some_and(|t| t.starts_with("session.")))
            && d["status"] == "dropped"
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the session event was never dropped: {all:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.received().len(), 1, "nothing dropped reached the receiver");
    let runs = owner.get(&format!("/api/v1/orgs/{org}/plugins/{slack}/runs")).await;
    let outcomes: Vec<String> = runs.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect();
    assert!(
        outcomes.contains(&"dropped".to_string()) && outcomes.contains(&"replaced".to_string()),
        "{outcomes:?}"
    );
    // Detaching is a PATCH with null.
    let detached = owner
        .patch(&format!("/api/v1/orgs/{org}/webhooks/{hook_id}"), &json!({ "transform_plugin_id": null }))
        .await;
    assert_eq!(detached.expect(200)["transform_plugin_id"], Value::Null);
    owner.delete(&format!("/api/v1/orgs/{org}/plugins/{slack}")).await;
}

#[tokio::test]
async fn an_admins_plugin_cannot_demote_an_owner_at_sign_in() {
    let w = world(json!({})).await;
    let org = &w.org;
    let (admin, _) = w.server.member_of(&w.owner, org, "adele@example.com", "admin").await;
    w.server.member_of(&w.owner, org, "olga@example.com", "owner").await;
    // The admin's plugin (ceiling admin) makes everyone in `*-admins` an admin.
    let mapper = uploaded(&admin, org, "by-admin", "role-mapper-example").await;
    let provider_url = format!("/api/v1/orgs/{org}/sso/providers/{}", w.provider);
    let provider = w.owner.get(&provider_url).await.expect(200).clone();
    let body = json!({ "kind": "oidc", "name": provider["name"], "domains": provider["domains"],
        "role_mapper_plugin_id": mapper, "oidc": { "discovery_url": provider["oidc"]["discovery_url"],
        "client_id": provider["oidc"]["client_id"], "groups_claim": "groups" } });
    admin.put(&provider_url, &body).await.expect(200);

    // Olga, an owner, signs in with a group the plugin maps to admin: she stays owner.
    let olga = w.tokens(IdpUser::new("okta|olga", "olga@example.com").groups(&["acme-admins"])).await;
    assert_eq!(olga["org"]["role"], "owner", "an admin's plugin reaches no owner");
    // The plugin still decides for those within its reach.
    let mo = w.tokens(IdpUser::new("okta|mo", "mo@example.com").groups(&["acme-admins"])).await;
    assert_eq!(mo["org"]["role"], "admin");
    let changed = w.owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=member.role_changed")).await;
    assert_eq!(changed.expect(200)["data"], json!([]), "nobody's role was changed");
}

#[tokio::test]
async fn an_admins_mapping_cannot_demote_an_owner_at_sign_in() {
    let w = world(json!({})).await;
    let org = &w.org;
    let (admin, _) = w.server.member_of(&w.owner, org, "adele@example.com", "admin").await;
    let (_, meg) = w.server.member_of(&w.owner, org, "meg@example.com", "admin").await;
    w.server.member_of(&w.owner, org, "olga@example.com", "owner").await;
    let made = admin
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "staff", "role": "member" }),
        )
        .await;
    assert_eq!(made.expect(201)["ceiling_role"], "admin");

    let olga = w.tokens(IdpUser::new("okta|olga", "olga@example.com").groups(&["staff"])).await;
    assert_eq!(olga["org"]["role"], "owner", "an admin's mapping reaches no owner");
    // Within the admin's reach, the mapping decides: another admin becomes a member.
    let demoted = w.tokens(IdpUser::new("okta|meg", "meg@example.com").groups(&["staff"])).await;
    assert_eq!(demoted["org"]["role"], "member");
    let member = w.owner.get(&format!("/api/v1/orgs/{org}/members/{meg}")).await;
    assert_eq!(member.expect(200)["role"], "member");
}

/// A SCIM org whose directory role mapper is `plugin` (uploaded by `uploader`), failing `failure`.
async fn directory_mapper(owner: &Client, org: &str, plugin: &str, failure: &str) -> guildhall_tests::Resp {
    let url = format!("/api/v1/orgs/{org}/group-role-mappings/plugin");
    owner.put(&url, &json!({ "plugin_id": plugin, "plugin_failure": failure })).await
}

async fn scim_group(scim: &Client, name: &str, members: &[&str]) -> guildhall_tests::Resp {
    let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
        "members": members });
    scim.post("/scim/v2/Groups", &body).await
}

async fn role_in(owner: &Client, org: &str, email: &str) -> String {
    let found = owner.get(&format!("/api/v1/orgs/{org}/members?email={email}")).await;
    found.expect(200)["data"][0]["role"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_scim_push_gets_its_role_and_teams_from_the_orgs_role_mapper() {
    let server = TestServer::start().await;
    let (owner, org, scim) = crate::scim_users::scim_org(&server, "owner@example.com").await;
    server.verify_domain(&owner, &org, "example.com").await;
    owner.post(&format!("/api/v1/orgs/{org}/teams"), &json!({ "name": "Engineering" })).await.expect(201);
    let mapper = uploaded(&owner, &org, "groups", "role-mapper-example").await;
    let url = format!("/api/v1/orgs/{org}/group-role-mappings/plugin");
    assert_eq!(owner.get(&url).await.expect(200)["plugin_id"], Value::Null);
    let set = directory_mapper(&owner, &org, &mapper, "open").await;
    assert_eq!(set.expect(200)["plugin_id"], mapper.as_str());
    assert_eq!(owner.get(&url).await.expect(200)["plugin_failure"], "open");

    let carol = crate::scim_users::create_user(&scim, "carol@example.com").await;
    let carol_id = carol["id"].as_str().unwrap();
    assert_eq!(role_in(&owner, &org, "carol@example.com").await, "member");
    // A group the plugin maps to admin, and one it maps to the team Engineering.
    scim_group(&scim, "acme-admins", &[carol_id]).await.expect(201);
    assert_eq!(role_in(&owner, &org, "carol@example.com").await, "admin");
    scim_group(&scim, "engineering-core", &[carol_id]).await.expect(201);
    let teams = owner.get(&format!("/api/v1/orgs/{org}/teams?name=Engineering")).await;
    let team =
        teams.expect(200)["data"].as_array().unwrap().iter().find(|t| t["name"] == "Engineering").cloned();
    let team_id = team.expect("the Engineering team")["id"].as_str().unwrap().to_string();
    let detail = owner.get(&format!("/api/v1/orgs/{org}/teams/{team_id}")).await;
    assert_eq!(detail.expect(200)["members"][0]["email"], "carol@example.com");
    // The role follows the plugin, not the org API.
    let members = owner.get(&format!("/api/v1/orgs/{org}/members?email=carol@example.com")).await;
    let carol_user = members.expect(200)["data"][0]["user_id"].as_str().unwrap().to_string();
    let manual =
        owner.patch(&format!("/api/v1/orgs/{org}/members/{carol_user}"), &json!({ "role": "member" })).await;
    assert_eq!(manual.problem(409), "DIRECTORY_MANAGED");

    // A denial refuses the directory's write with the plugin's reason; nothing of it is kept.
    let dave = crate::scim_users::create_user(&scim, "dave@example.com").await;
    let refused = scim_group(&scim, "contractors", &[dave["id"].as_str().unwrap()]).await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.text);
    assert!(refused.text.contains("partner portal"), "{}", refused.text);
    let groups = scim.get("/scim/v2/Groups?filter=displayName%20eq%20%22contractors%22").await;
    assert_eq!(groups.expect(200)["totalResults"], 0);

    // Every call is on record, the refused one too.
    let runs = owner.get(&format!("/api/v1/orgs/{org}/plugins/{mapper}/runs")).await;
    let runs = runs.expect(200)["data"].as_array().unwrap().clone();
    assert!(runs.iter().all(|r| r["hook"] == "scim"), "{runs:?}");
    assert_eq!(runs[0]["outcome"], "denied", "{runs:?}");
    assert!(runs.iter().any(|r| r["detail"].as_str().unwrap_or_default().contains("role admin")), "{runs:?}");
    // In use, it cannot be deleted; the answer names the user.
    let busy = owner.delete(&format!("/api/v1/orgs/{org}/plugins/{mapper}")).await;
    assert_eq!(busy.problem(409), "PLUGIN_IN_USE");
    assert!(busy.text.contains("SCIM"), "{}", busy.text);
    // Removed, with no mapping either, roles are the org's to set again, as they stand.
    let removed = owner.put(&url, &json!({ "plugin_id": null })).await;
    assert_eq!(removed.expect(200)["plugin_id"], Value::Null);
    assert_eq!(role_in(&owner, &org, "carol@example.com").await, "admin");
    let manual =
        owner.patch(&format!("/api/v1/orgs/{org}/members/{carol_user}"), &json!({ "role": "member" })).await;
    assert_eq!(manual.expect(200)["role"], "member");
    let audit =
        owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=group_role_mapping.plugin_changed")).await;
    assert_eq!(audit.expect(200)["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_failing_directory_role_mapper_falls_back_or_refuses_the_write() {
    let server = TestServer::start().await;
    let (owner, org, scim) = crate::scim_users::scim_org(&server, "owner@example.com").await;
    server.verify_domain(&owner, &org, "example.com").await;
    let (admin, _) = server.member_of(&owner, &org, "adele@example.com", "admin").await;
    owner
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "owners", "role": "admin" }),
        )
        .await
        .expect(201);
    // The admin's plugin maps `owners` to owner: above its ceiling, so invalid output.
    let mapper = uploaded(&admin, &org, "by-admin", "role-mapper-example").await;
    directory_mapper(&owner, &org, &mapper, "open").await.expect(200);
    let erin = crate::scim_users::create_user(&scim, "erin@example.com").await;
    scim_group(&scim, "owners", &[erin["id"].as_str().unwrap()]).await.expect(201);
    assert_eq!(role_in(&owner, &org, "erin@example.com").await, "admin", "failing open: the mapping table");
    let audit = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=plugin.failed")).await;
    let audit = audit.expect(200)["data"].clone();
    assert_eq!(audit[0]["details"]["hook"], "scim", "{audit}");
    assert_eq!(audit[0]["details"]["code"], "PLUGIN_INVALID_OUTPUT", "{audit}");
    assert_eq!(audit[0]["details"]["consequence"], "fallback", "{audit}");

    // Failing closed is refused while the plugin fails for a member: naming it derives them all.
    let refused = directory_mapper(&owner, &org, &mapper, "closed").await;
    assert_eq!(refused.problem(503), "PLUGIN_FAILED");
    let existing = scim.get("/scim/v2/Groups?filter=displayName%20eq%20%22owners%22").await;
    let owners = format!("/scim/v2/Groups/{}", existing.expect(200)["Resources"][0]["id"].as_str().unwrap());
    let out = crate::scim_users::patch(json!([{ "op": "remove", "path": "members",
        "value": [{ "value": erin["id"].as_str().unwrap() }] }]));
    assert_eq!(scim.patch(&owners, &out).await.status.as_u16(), 204);
    assert_eq!(role_in(&owner, &org, "erin@example.com").await, "member");
    // Failing closed, the directory's write is refused for it to retry, and nothing changes.
    directory_mapper(&owner, &org, &mapper, "closed").await.expect(200);
    let fred = crate::scim_users::create_user(&scim, "fred@example.com").await;
    let fred_id = fred["id"].as_str().unwrap();
    let push = crate::scim_users::patch(
        json!([{ "op": "add", "path": "members", "value": [{ "value": fred_id }] }]),
    );
    let refused = scim.patch(&owners, &push).await;
    assert_eq!(refused.status.as_u16(), 503, "{}", refused.text);
    assert!(refused.text.contains("PLUGIN_INVALID_OUTPUT"), "{}", refused.text);
    assert_eq!(role_in(&owner, &org, "fred@example.com").await, "member");
    let members = scim.get(&owners).await.expect(200)["members"].clone();
    assert!(!members.to_string().contains(fred_id), "fred was not added: {members}");
    let audit = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=plugin.failed")).await;
    assert_eq!(audit.expect(200)["data"][0]["details"]["consequence"], "refused");

    // An admin cannot put an owner's plugin to work, nor a member anything.
    let owners_plugin = uploaded(&owner, &org, "by-owner", "role-mapper-example").await;
    assert_eq!(directory_mapper(&admin, &org, &owners_plugin, "open").await.status.as_u16(), 403);
    let (member, _) = server.member_of(&owner, &org, "meg@example.com", "member").await;
    assert_eq!(directory_mapper(&member, &org, &mapper, "open").await.status.as_u16(), 403);
}

#[tokio::test]
async fn the_directory_role_mapper_refuses_bad_and_foreign_input() {
    let server = TestServer::start().await;
    let (owner_a, body_a) = server.signup("owner@a.example.com").await;
    let org_a = body_a["org"]["id"].as_str().unwrap().to_string();
    let (owner_b, body_b) = server.signup("owner@b.example.com").await;
    let org_b = body_b["org"]["id"].as_str().unwrap().to_string();
    let a_mapper = uploaded(&owner_a, &org_a, "groups", "role-mapper-example").await;
    let b_transform = uploaded(&owner_b, &org_b, "slack", "slack-transform").await;
    let url = format!("/api/v1/orgs/{org_b}/group-role-mappings/plugin");

    // Another org's plugin cannot be borrowed, nor a plugin of the other world named.
    let borrowed = directory_mapper(&owner_b, &org_b, &a_mapper, "open").await;
    assert_eq!(borrowed.problem(400), "VALIDATION_ERROR");
    assert_eq!(borrowed.field(), Some("plugin_id"));
    let wrong = directory_mapper(&owner_b, &org_b, &b_transform, "open").await;
    assert_eq!(wrong.problem(400), "VALIDATION_ERROR");
    assert!(wrong.text.contains("webhook-transform"), "{}", wrong.text);
    // Malformed, wrong-typed, unknown and oversized input.
    for (body, what) in [
        (b"{\"plugin_id\": ".to_vec(), "truncated JSON"),
        (br#"{"plugin_id": 42}"#.to_vec(), "a number for an id"),
        (br#"{"plugin_id": "not-a-uuid"}"#.to_vec(), "not a uuid"),
        (br#"{"plugin_id": null, "plugin_failure": "maybe"}"#.to_vec(), "an unknown failure mode"),
        (br#"{"plugin_id": null, "extra": 1}"#.to_vec(), "an unknown field"),
        (
            format!(r#"{{"plugin_id": null, "plugin_failure": "{}"}}"#, "x".repeat(2 << 20)).into_bytes(),
            "oversized",
        ),
    ] {
        let resp = owner_b.send(reqwest::Method::PUT, &url, Some(("application/json", body))).await;
        let status = resp.status.as_u16();
        assert!(status == 400 || status == 413, "{what}: {status} {}", resp.text);
    }
    // A's path with B's token is no org of B's; A's setting is untouched.
    let foreign = format!("/api/v1/orgs/{org_a}/group-role-mappings/plugin");
    assert_eq!(owner_b.get(&foreign).await.status.as_u16(), 404);
    let put = owner_b.put(&foreign, &json!({ "plugin_id": a_mapper })).await;
    assert_eq!(put.status.as_u16(), 404, "{}", put.text);
    assert_eq!(owner_a.get(&foreign).await.expect(200)["plugin_id"], Value::Null);
    assert_eq!(owner_b.get(&url).await.expect(200)["plugin_id"], Value::Null);
}

#[tokio::test]
async fn one_org_cannot_burn_the_servers_cpu_by_uploading_components() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();
    // Every upload is validated and compiled, the ones that fail too; they share one budget.
    for i in 0..20 {
        let refused = upload(&owner, &org, &format!("junk-{i}"), b"\0asm not really".to_vec()).await;
        assert_eq!(refused.problem(400), "PLUGIN_INVALID", "{i}");
    }
    let limited = upload(&owner, &org, "real", component("role-mapper-example")).await;
    assert_eq!(limited.problem(429), "PLUGIN_UPLOAD_RATE_LIMITED");
    // Another org has its own budget.
    let (other, body) = server.signup("owner@other.example.com").await;
    let other_org = body["org"]["id"].as_str().unwrap().to_string();
    upload(&other, &other_org, "real", component("role-mapper-example")).await.expect(201);
}
