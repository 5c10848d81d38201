//! Trust boundaries, played as an attacker with an ordinary account would: each test is named
//! after the attack it stops. Tenants never reach each other's people, identities from outside
//! never land on accounts they do not own, and no credential is stronger than its issuer.

use guildhall_tests::{Client, PASSWORD, TestServer};
use serde_json::{Value, json};

use crate::scim_users::{USER, patch, user_body};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

fn user_id_of(body: &Value) -> String {
    body["user"]["id"].as_str().unwrap().to_string()
}

async fn scim_token(issuer: &Client, org: &str, body: Value) -> guildhall_tests::Resp {
    issuer.post(&format!("/api/v1/orgs/{org}/scim/token"), &body).await
}

async fn scim_client(server: &TestServer, issuer: &Client, org: &str, body: Value) -> Client {
    let issued = scim_token(issuer, org, body).await;
    server.with_token(issued.expect(201)["token"].as_str().unwrap())
}

async fn audit_actions(owner: &Client, org: &str) -> Vec<String> {
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?limit=200")).await;
    log.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn group(scim: &Client, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    let created = scim
        .post("/scim/v2/Groups", &json!({ "schemas": [GROUP], "displayName": name, "members": members }))
        .await;
    created.expect(201).clone()
}

#[tokio::test]
async fn another_org_cannot_adopt_delete_or_promote_a_service_account() {
    let server = TestServer::start().await;
    let (a_owner, a) = server.signup("a-owner@example.com").await;
    let a_org = org_of(&a);
    let (b_owner, b) = server.signup("b-owner@example.com").await;
    let b_org = org_of(&b);
    let sa = a_owner
        .post(
            &format!("/api/v1/orgs/{a_org}/service-accounts"),
            &json!({ "name": "deployer", "role": "member" }),
        )
        .await;
    let sa_id = sa.expect(201)["id"].as_str().unwrap().to_string();
    let token = a_owner
        .post(&format!("/api/v1/orgs/{a_org}/service-accounts/{sa_id}/tokens"), &json!({ "name": "ci" }))
        .await;
    let bot = server.with_token(token.expect(201)["token"].as_str().unwrap());

    let adopt = b_owner
        .post(&format!("/api/v1/orgs/{b_org}/members"), &json!({ "user_id": sa_id, "role": "owner" }))
        .await;
    assert_eq!(adopt.problem(403), "CONSENT_REQUIRED");
    let adopt = b_owner
        .post(&format!("/api/v1/orgs/{b_org}/members"), &json!({ "user_id": sa_id, "role": "member" }))
        .await;
    assert_eq!(adopt.problem(403), "CONSENT_REQUIRED");
    assert_eq!(
        b_owner.delete(&format!("/api/v1/orgs/{b_org}/service-accounts/{sa_id}")).await.problem(404),
        "NOT_FOUND"
    );
    let transfer =
        b_owner.post(&format!("/api/v1/orgs/{b_org}/transfer-ownership"), &json!({ "user_id": sa_id })).await;
    assert_eq!(transfer.problem(400), "VALIDATION_ERROR");
    // A's service account and its token are untouched.
    bot.get("/api/v1/auth/me").await.expect(200);
    let accounts = a_owner.get(&format!("/api/v1/orgs/{a_org}/service-accounts")).await;
    assert_eq!(accounts.expect(200)["data"][0]["id"], json!(sa_id));
}

#[tokio::test]
async fn narrow_role_cannot_mint_a_token_for_a_stronger_service_account() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "bots", "name": "Bots", "permissions": ["service_accounts:write", "members:read", "org:read"] }),
        )
        .await
        .expect(201);
    let (mallory, _) = server.member_of(&owner, &org, "mallory@example.com", "bots").await;
    let base = format!("/api/v1/orgs/{org}/service-accounts");
    for role in ["owner", "admin"] {
        let sa = owner.post(&base, &json!({ "name": format!("{role} bot"), "role": role })).await;
        let sa_id = sa.expect(201)["id"].as_str().unwrap().to_string();
        let minted = mallory.post(&format!("{base}/{sa_id}/tokens"), &json!({ "name": "mine" })).await;
        assert_eq!(minted.problem(403), "PERMISSION_NOT_HELD", "{role}");
    }
    // Mallory cannot climb to owner through a token she could not mint: she stays `bots`.
    let me = mallory.get("/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["org"]["role"], "bots");
    // A service account at her own level or below is hers to mint for.
    let low = owner.post(&base, &json!({ "name": "reader", "role": "member" })).await;
    let low_id = low.expect(201)["id"].as_str().unwrap().to_string();
    mallory.post(&format!("{base}/{low_id}/tokens"), &json!({ "name": "ok" })).await.expect(201);
}

#[tokio::test]
async fn tokens_minted_by_an_admin_die_when_the_admin_is_demoted_or_removed() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, admin_id) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let base = format!("/api/v1/orgs/{org}/service-accounts");
    let sa = owner.post(&base, &json!({ "name": "ops", "role": "admin" })).await;
    let sa_id = sa.expect(201)["id"].as_str().unwrap().to_string();
    let minted = admin.post(&format!("{base}/{sa_id}/tokens"), &json!({ "name": "admin's" })).await;
    let bot = server.with_token(minted.expect(201)["token"].as_str().unwrap());
    let scim = scim_client(&server, &admin, &org, json!({})).await;
    bot.get("/api/v1/auth/me").await.expect(200);
    scim.get("/scim/v2/Users").await.expect(200);

    owner
        .patch(&format!("/api/v1/orgs/{org}/members/{admin_id}"), &json!({ "role": "member" }))
        .await
        .expect(200);
    assert_eq!(bot.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    assert_eq!(scim.get("/scim/v2/Users").await.status, 401);
    let actions = audit_actions(&owner, &org).await;
    assert!(actions.contains(&"service_account.token_revoked".to_string()), "{actions:?}");
    assert!(actions.contains(&"scim.token.revoked".to_string()), "{actions:?}");
}

#[tokio::test]
async fn squatters_password_dies_when_the_verified_domain_org_provisions_the_address() {
    let server = TestServer::start().await;
    // The first account is the instance admin, which verifies domains by hand in tests.
    let (victim_owner, body) = server.signup("it@victimcorp.test").await;
    let org = org_of(&body);
    let (squatter, _) = server.signup("cfo@victimcorp.test").await;
    server.verify_domain(&victim_owner, &org, "victimcorp.test").await;
    let scim = scim_client(&server, &victim_owner, &org, json!({})).await;
    let created = scim.post("/scim/v2/Users", &user_body("cfo@victimcorp.test")).await;
    created.expect(201);

    // The squatter's password and session are gone; the address is the org's to manage.
    assert_eq!(server.login("cfo@victimcorp.test", PASSWORD).await.problem(401), "INVALID_CREDENTIALS");
    assert_eq!(squatter.get("/api/v1/auth/me").await.problem(401), "SESSION_REVOKED");
    let members = victim_owner.get(&format!("/api/v1/orgs/{org}/members?email=cfo")).await;
    let members = members.expect(200);
    assert_eq!(
        (members["data"][0]["email"].as_str(), members["data"][0]["unclaimed"].as_bool()),
        (Some("cfo@victimcorp.test"), Some(false))
    );
    assert!(audit_actions(&victim_owner, &org).await.contains(&"user.credentials_revoked".to_string()));

    // The real holder of the address signs up: the password they choose takes effect only when
    // the emailed link proves the address, and then they are in the org.
    let claim = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "cfo@victimcorp.test", "password": "the real cfo's pw" }),
        )
        .await;
    assert_eq!(claim.status, 202, "{}", claim.text);
    assert_eq!(
        server.login("cfo@victimcorp.test", "the real cfo's pw").await.problem(401),
        "INVALID_CREDENTIALS"
    );
    let token = server.token_mailed_to("cfo@victimcorp.test", "gh_ver_").unwrap();
    let verify = |password: Value| {
        let body = json!({ "token": token, "password": password });
        let anon = server.anon();
        async move { anon.post("/api/v1/auth/verify-email", &body).await }
    };
    // The link alone, or with another password, sets nothing.
    let bare = verify(Value::Null).await;
    assert_eq!((bare.problem(400).as_str(), bare.field()), ("VALIDATION_ERROR", Some("password")));
    let wrong = verify(json!("not the one")).await;
    assert_eq!((wrong.problem(400).as_str(), wrong.field()), ("VALIDATION_ERROR", Some("password")));
    verify(json!("the real cfo's pw")).await.expect(200);
    let login = server.login("cfo@victimcorp.test", "the real cfo's pw").await;
    let cfo = server.with_token(login.expect(200)["access_token"].as_str().unwrap());
    cfo.get(&format!("/api/v1/orgs/{org}")).await.expect(200);
}

#[tokio::test]
async fn verified_accounts_in_a_verified_domain_are_linked_without_losing_their_password() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("it@corp.test").await;
    let org = org_of(&body);
    let (worker, worker_body) = server.signup("worker@corp.test").await;
    let token = server.token_mailed_to("worker@corp.test", "gh_ver_").unwrap();
    worker.post("/api/v1/auth/verify-email", &json!({ "token": token })).await.expect(200);
    server.verify_domain(&owner, &org, "corp.test").await;
    let scim = scim_client(&server, &owner, &org, json!({})).await;
    scim.post("/scim/v2/Users", &user_body("worker@corp.test")).await.expect(201);
    let login = server.login("worker@corp.test", PASSWORD).await;
    assert_eq!(login.expect(200)["user"]["id"], worker_body["user"]["id"]);
    // And the org may add people of its verified domain directly.
    server.signup("new@corp.test").await;
    owner
        .post(&format!("/api/v1/orgs/{org}/members"), &json!({ "email": "new@corp.test", "role": "member" }))
        .await
        .expect(201);
}

#[tokio::test]
async fn admin_cannot_provision_themself_into_owner_through_scim() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    // An admin's token issued before the owner mapping existed...
    let early = scim_client(&server, &admin, &org, json!({})).await;
    owner
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "Owners", "role": "owner" }),
        )
        .await
        .expect(201);
    // ...dies with it, and no new one can be issued by an admin.
    assert_eq!(early.get("/scim/v2/Users").await.status, 401);
    assert_eq!(scim_token(&admin, &org, json!({})).await.problem(403), "PERMISSION_NOT_HELD");
    assert_eq!(
        scim_token(&admin, &org, json!({ "manage_owners": true })).await.problem(403),
        "PERMISSION_NOT_HELD"
    );
    // Nor can the admin map groups to owner themselves.
    let mapping = admin
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "Chiefs", "role": "owner" }),
        )
        .await;
    assert_eq!(mapping.problem(403), "OWNER_REQUIRED");
    let me = admin.get("/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["org"]["role"], "admin");
}

#[tokio::test]
async fn scim_token_cannot_adopt_deactivate_or_delete_an_owners_membership() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let (_, second_owner_id) = server.member_of(&owner, &org, "second@example.com", "owner").await;
    let scim = scim_client(&server, &admin, &org, json!({})).await;
    for email in ["owner@example.com", "second@example.com"] {
        let adopt = scim.post("/scim/v2/Users", &user_body(email)).await;
        assert_eq!(adopt.status, 403, "{}", adopt.text);
        assert_eq!(adopt.body["status"], "403");
    }
    let members = owner.get(&format!("/api/v1/orgs/{org}/members/{second_owner_id}")).await;
    assert_eq!(members.expect(200)["role"], "owner");
    // An owner can allow it, with a token of its own kind.
    let trusted = scim_client(&server, &owner, &org, json!({ "manage_owners": true })).await;
    let adopted = trusted.post("/scim/v2/Users", &user_body("second@example.com")).await;
    let scim_id = adopted.expect(201)["id"].as_str().unwrap().to_string();
    // The admin's token still cannot touch that owner's membership.
    let deactivate = scim
        .patch(
            &format!("/scim/v2/Users/{scim_id}"),
            &patch(json!([{ "op": "replace", "path": "active", "value": false }])),
        )
        .await;
    assert_eq!(deactivate.status, 403, "{}", deactivate.text);
    assert_eq!(scim.delete(&format!("/scim/v2/Users/{scim_id}")).await.status, 403);
    trusted.delete(&format!("/scim/v2/Users/{scim_id}")).await.expect(204);
}

#[tokio::test]
async fn admin_cannot_demote_owners_by_deleting_the_owner_mapping() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let mapping = owner
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "Owners", "role": "owner" }),
        )
        .await;
    let mapping_id = mapping.expect(201)["id"].as_str().unwrap().to_string();
    let scim = scim_client(&server, &owner, &org, json!({})).await;
    let boss = scim.post("/scim/v2/Users", &user_body("boss@elsewhere.test")).await;
    let boss_id = boss.expect(201)["id"].as_str().unwrap().to_string();
    group(&scim, "Owners", &[&boss_id]).await;
    let owners = owner.get(&format!("/api/v1/orgs/{org}/members?role=owner")).await;
    assert_eq!(owners.expect(200)["data"].as_array().unwrap().len(), 2);

    let delete = admin.delete(&format!("/api/v1/orgs/{org}/group-role-mappings/{mapping_id}")).await;
    assert_eq!(delete.problem(403), "OWNER_REQUIRED");
    let owners = owner.get(&format!("/api/v1/orgs/{org}/members?role=owner")).await;
    assert_eq!(owners.expect(200)["data"].as_array().unwrap().len(), 2, "nobody was demoted");
    owner.delete(&format!("/api/v1/orgs/{org}/group-role-mappings/{mapping_id}")).await.expect(204);
}

#[tokio::test]
async fn a_directory_cannot_squat_an_address_outside_its_verified_domains() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let scim = scim_client(&server, &owner, &org, json!({})).await;
    let ceo = scim.post("/scim/v2/Users", &user_body("ceo@bigcorp.test")).await;
    let scim_id = ceo.expect(201)["id"].as_str().unwrap().to_string();
    let listed = owner.get(&format!("/api/v1/orgs/{org}/members?email=ceo")).await;
    let listed = listed.expect(200)["data"][0].clone();
    assert_eq!(
        (listed["email"].as_str(), listed["unclaimed"].as_bool()),
        (Some("ceo@bigcorp.test"), Some(true))
    );

    // The real person signs up as usual: the directory's record does not block them...
    let (real, real_body) = server.signup("ceo@bigcorp.test").await;
    let orgs = real.get("/api/v1/orgs").await;
    assert!(
        !orgs.expect(200)["data"].as_array().unwrap().iter().any(|o| o["id"] == json!(org)),
        "not before proving the address"
    );
    // ...and proving the address claims the identity the directory made for it.
    let token = server.token_mailed_to("ceo@bigcorp.test", "gh_ver_").unwrap();
    real.post("/api/v1/auth/verify-email", &json!({ "token": token })).await.expect(200);
    let member = owner.get(&format!("/api/v1/orgs/{org}/members/{}", user_id_of(&real_body))).await;
    assert_eq!(member.expect(200)["unclaimed"], false);
    let same = scim.get(&format!("/scim/v2/Users/{scim_id}")).await;
    assert_eq!(same.expect(200)["userName"], "ceo@bigcorp.test");
    assert!(audit_actions(&owner, &org).await.contains(&"member.identity_claimed".to_string()));
}

#[tokio::test]
async fn an_existing_account_outside_the_verified_domains_is_not_linked_without_consent() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (bystander, bystander_body) = server.signup("someone@other.test").await;
    let scim = scim_client(&server, &owner, &org, json!({})).await;
    scim.post("/scim/v2/Users", &user_body("someone@other.test")).await.expect(201);
    // The bystander is not a member until they prove the address and sign in.
    let orgs = bystander.get("/api/v1/orgs").await;
    assert_eq!(orgs.expect(200)["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        owner.get(&format!("/api/v1/orgs/{org}/members/{}", user_id_of(&bystander_body))).await.problem(404),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn a_placeholder_identity_can_never_take_a_real_address() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    // Nobody signs up in the reserved `.invalid` domain where stand-in identities live.
    let squat = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "scim-0190abc@directory.invalid", "password": PASSWORD }),
        )
        .await;
    assert_eq!((squat.problem(400).as_str(), squat.field()), ("VALIDATION_ERROR", Some("email")));
    // A user the directory made without an address gets one outside the org's verified
    // domains: it is recorded for its holder to claim, not taken.
    let (victim, _) = server.signup("victim@elsewhere.test").await;
    let scim = scim_client(&server, &owner, &org, json!({})).await;
    let anon = scim.post("/scim/v2/Users", &json!({ "schemas": [USER], "userName": "nobody" })).await;
    let scim_id = anon.expect(201)["id"].as_str().unwrap().to_string();
    let patched = scim
        .patch(
            &format!("/scim/v2/Users/{scim_id}"),
            &patch(json!([{ "op": "add", "path": "emails", "value": [{ "value": "victim@elsewhere.test", "primary": true }] }])),
        )
        .await;
    patched.expect(200);
    server.login("victim@elsewhere.test", PASSWORD).await.expect(200);
    victim.get("/api/v1/auth/me").await.expect(200);
    let listed = owner.get(&format!("/api/v1/orgs/{org}/members?email=victim")).await;
    assert_eq!(listed.expect(200)["data"][0]["unclaimed"], true);
}

#[tokio::test]
async fn adding_by_email_reveals_nothing_about_accounts() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    server.signup("exists@elsewhere.test").await;
    let path = format!("/api/v1/orgs/{org}/members");
    let known = owner.post(&path, &json!({ "email": "exists@elsewhere.test", "role": "member" })).await;
    let unknown = owner.post(&path, &json!({ "email": "ghost@elsewhere.test", "role": "member" })).await;
    assert_eq!(known.problem(403), "CONSENT_REQUIRED");
    assert_eq!(unknown.problem(403), "CONSENT_REQUIRED");
    assert_eq!(known.body["detail"], unknown.body["detail"]);
    // Nobody was added.
    let members = owner.get(&path).await;
    assert_eq!(members.expect(200)["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn teams_write_cannot_edit_or_delete_a_directory_managed_team() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "team-lead", "name": "Team lead", "permissions": ["teams:write", "members:read"] }),
        )
        .await
        .expect(201);
    let (lead, _) = server.member_of(&owner, &org, "lead@example.com", "team-lead").await;
    let scim = scim_client(&server, &owner, &org, json!({})).await;
    let team = group(&scim, "Engineering", &[]).await;
    let team_id = team["id"].as_str().unwrap();
    let path = format!("/api/v1/orgs/{org}/teams/{team_id}");
    for (who, client) in [("lead", &lead), ("owner", &owner)] {
        assert_eq!(
            client.patch(&path, &json!({ "external_id": "hijacked" })).await.problem(409),
            "DIRECTORY_MANAGED",
            "{who}"
        );
        assert_eq!(
            client.patch(&path, &json!({ "name": "Renamed" })).await.problem(409),
            "DIRECTORY_MANAGED",
            "{who}"
        );
        assert_eq!(client.delete(&path).await.problem(409), "DIRECTORY_MANAGED", "{who}");
    }
    scim.get(&format!("/scim/v2/Groups/{team_id}")).await.expect(200);
}

#[tokio::test]
async fn admin_cannot_remove_a_permission_they_do_not_hold_from_a_role() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let path = format!("/api/v1/orgs/{org}/roles");
    owner
        .post(&path, &json!({ "key": "closer", "name": "Closer", "permissions": ["org:read", "org:delete"] }))
        .await
        .expect(201);
    let strip =
        admin.put(&format!("{path}/closer"), &json!({ "name": "Closer", "permissions": ["org:read"] })).await;
    assert_eq!(strip.problem(403), "PERMISSION_NOT_HELD");
    // Renaming alone changes no permission and is fine.
    admin
        .put(
            &format!("{path}/closer"),
            &json!({ "name": "Closer 2", "permissions": ["org:read", "org:delete"] }),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn an_account_deleted_elsewhere_shows_in_each_of_its_orgs_audit_logs() {
    let server = TestServer::start().await;
    let (admin, body) = server.signup("admin@example.com").await;
    let (owner, other) = server.signup("owner@example.com").await;
    let org = org_of(&other);
    let (_, member_id) = server.member_of(&owner, &org, "leaver@example.com", "member").await;
    let _ = body;
    admin.delete(&format!("/api/v1/users/{member_id}")).await;
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=member.removed")).await;
    let log = log.expect(200);
    assert_eq!(log["data"][0]["details"]["reason"], "account_deleted", "{log}");
}

#[tokio::test]
async fn scim_token_options_reject_bad_input_and_other_orgs() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (stranger, _) = server.signup("stranger@example.com").await;
    let path = format!("/api/v1/orgs/{org}/scim/token");
    for (case, req, field) in [
        ("wrong type", json!({ "manage_owners": "yes" }), "manage_owners"),
        ("unknown field", json!({ "owner": true }), "owner"),
    ] {
        let resp = owner.post(&path, &req).await;
        assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some(field)), "{case}");
    }
    let resp = owner.post_raw(&path, "application/json", "[1]").await;
    assert_eq!(resp.problem(400), "VALIDATION_ERROR");
    let resp = owner.post_raw(&path, "application/json", "x".repeat(70 * 1024)).await;
    assert_eq!(resp.problem(413), "PAYLOAD_TOO_LARGE");
    assert_eq!(stranger.post(&path, &json!({})).await.problem(404), "NOT_FOUND");
    // No body at all is the plain token.
    let plain = owner.post_empty(&path).await;
    assert!(plain.expect(201)["token"].as_str().unwrap().starts_with("gh_scim_"));
}

#[tokio::test]
async fn narrow_role_cannot_remove_a_member_who_outranks_it() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "recruiter", "name": "Recruiter", "permissions": ["members:write", "members:read", "org:read"] }),
        )
        .await
        .expect(201);
    let (recruiter, _) = server.member_of(&owner, &org, "recruiter@example.com", "recruiter").await;
    let (_, admin_id) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let (_, member_id) = server.member_of(&owner, &org, "member@example.com", "member").await;
    let remove = recruiter.delete(&format!("/api/v1/orgs/{org}/members/{admin_id}")).await;
    assert_eq!(remove.problem(403), "PERMISSION_NOT_HELD");
    owner.get(&format!("/api/v1/orgs/{org}/members/{admin_id}")).await.expect(200);
    recruiter.delete(&format!("/api/v1/orgs/{org}/members/{member_id}")).await.expect(204);
}

#[tokio::test]
async fn a_strangers_signup_cannot_plant_a_password_on_a_provisioned_account() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("it@corp.test").await;
    let org = org_of(&body);
    server.verify_domain(&owner, &org, "corp.test").await;
    let scim = scim_client(&server, &owner, &org, json!({})).await;
    scim.post("/scim/v2/Users", &user_body("dana@corp.test")).await.expect(201);
    // Mallory signs up as Dana's address, hoping Dana clicks the link that arrives.
    let planted = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "dana@corp.test", "password": "mallory's password" }))
        .await;
    assert_eq!(planted.status, 202, "{}", planted.text);
    let mail = server.mails_to("dana@corp.test").pop().unwrap();
    assert!(mail.contains("If it was not you"), "{mail}");
    let token = server.token_mailed_to("dana@corp.test", "gh_ver_").unwrap();
    // Dana clicks: without Mallory's password nothing is set.
    let clicked = server.anon().post("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    assert_eq!(clicked.problem(400), "VALIDATION_ERROR");
    assert_eq!(
        server.login("dana@corp.test", "mallory's password").await.problem(401),
        "INVALID_CREDENTIALS"
    );
    // Dana signs up herself; the new link replaces Mallory's.
    server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "dana@corp.test", "password": "dana's own password" }))
        .await
        .expect(202);
    let token = server.token_mailed_to("dana@corp.test", "gh_ver_").unwrap();
    server
        .anon()
        .post("/api/v1/auth/verify-email", &json!({ "token": token, "password": "dana's own password" }))
        .await
        .expect(200);
    server.login("dana@corp.test", "dana's own password").await.expect(200);
    assert_eq!(
        server.login("dana@corp.test", "mallory's password").await.problem(401),
        "INVALID_CREDENTIALS"
    );
}

#[tokio::test]
async fn an_admins_mapping_cannot_demote_a_directory_managed_owner() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let (_, second_id) = server.member_of(&owner, &org, "second@example.com", "owner").await;
    let (_, other_admin_id) = server.member_of(&owner, &org, "other@example.com", "admin").await;
    let trusted = scim_client(&server, &owner, &org, json!({ "manage_owners": true })).await;
    let second = trusted.post("/scim/v2/Users", &user_body("second@example.com")).await;
    let second = second.expect(201)["id"].as_str().unwrap().to_string();
    let other = trusted.post("/scim/v2/Users", &user_body("other@example.com")).await;
    let other = other.expect(201)["id"].as_str().unwrap().to_string();
    // The admin maps `staff` to member: within their reach, but an owner is beyond it.
    let made = admin
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "staff", "role": "member" }),
        )
        .await;
    assert_eq!(made.expect(201)["ceiling_role"], "admin");
    group(&trusted, "staff", &[&second, &other]).await;
    let role = |id: String| {
        let (owner, org) = (owner.clone(), org.clone());
        async move { owner.get(&format!("/api/v1/orgs/{org}/members/{id}")).await.expect(200)["role"].to_string() }
    };
    assert_eq!(role(second_id).await, "\"owner\"", "the admin's mapping reaches no owner");
    assert_eq!(role(other_admin_id).await, "\"member\"", "an admin is within the admin's reach");
}
