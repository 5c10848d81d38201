use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use guildhall_tests::{Client, PASSWORD, TestServer};
use serde_json::{Value, json};

fn claims(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

async fn create_org(server: &TestServer, client: &Client, body: Value) -> (Client, Value) {
    let resp = client.post("/api/v1/orgs", &body).await;
    let created = resp.expect(201).clone();
    (server.with_token(created["access_token"].as_str().unwrap()), created)
}

#[tokio::test]
async fn creating_an_org_signs_you_into_it_as_owner() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    let (in_new, created) = create_org(
        &server,
        &alice,
        json!({ "name": "Cardiology", "slug": "cardiology", "metadata": { "code": "CARD-01" }, "max_users": 10 }),
    )
    .await;
    let org = &created["org"];
    assert_eq!(org["slug"], "cardiology");
    assert_eq!(org["metadata"]["code"], "CARD-01");
    assert_eq!(org["max_users"], 10);
    assert_eq!(org["data_retention_days"], 90);
    assert_eq!(org["role"], "owner");
    assert_eq!(created["token_type"], "Bearer");
    let c = claims(created["access_token"].as_str().unwrap());
    assert_eq!(
        (c["org_id"].clone(), c["org_slug"].clone(), c["org_role"].clone()),
        (org["id"].clone(), json!("cardiology"), json!("owner"))
    );
    let me = in_new.get("/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["org"]["slug"], "cardiology");
    // The next sign-in starts in the org last switched into.
    let login = server.login("alice@example.com", PASSWORD).await;
    assert_eq!(login.expect(200)["org"]["slug"], "cardiology");
}

#[tokio::test]
async fn orgs_are_addressed_by_id_or_slug_and_show_effective_settings() {
    let (server, admin) = TestServer::with_admin().await;
    admin
        .patch("/api/v1/instance/settings", &json!({ "primary_color": "#112233", "password_min_length": 14 }))
        .await
        .expect(200);
    let (client, created) =
        create_org(&server, &admin, json!({ "name": "Acme", "branding": { "welcome_text": "Hi" } })).await;
    let id = created["org"]["id"].as_str().unwrap();
    for path in
        [format!("/api/v1/orgs/{id}"), "/api/v1/orgs/acme".to_string(), "/api/v1/orgs/ACME".to_string()]
    {
        let org = client.get(&path).await;
        let org = org.expect(200);
        assert_eq!(org["id"], id, "{path}");
        assert_eq!(org["branding"]["primary_color"], Value::Null);
        assert_eq!(org["effective_branding"]["primary_color"], "#112233");
        assert_eq!(org["effective_branding"]["welcome_text"], "Hi");
        assert_eq!(org["auth_settings"]["password_min_length"], Value::Null);
        assert_eq!(org["effective_auth_settings"]["password_min_length"], 14);
        assert_eq!(org["effective_auth_settings"]["require_mfa"], false);
    }
    // An override wins; `null` clears it again; other fields stay.
    let patched = client
        .patch(&format!("/api/v1/orgs/{id}"), &json!({ "auth_settings": { "password_min_length": 20, "lockout_minutes": 30 }, "branding": { "primary_color": "#ABCDEF" } }))
        .await;
    let patched = patched.expect(200);
    assert_eq!(patched["effective_auth_settings"]["password_min_length"], 20);
    assert_eq!(patched["effective_branding"]["primary_color"], "#abcdef");
    assert_eq!(patched["branding"]["welcome_text"], "Hi");
    let cleared = client
        .patch(&format!("/api/v1/orgs/{id}"), &json!({ "auth_settings": { "password_min_length": null } }))
        .await;
    let cleared = cleared.expect(200);
    assert_eq!(cleared["auth_settings"]["password_min_length"], Value::Null);
    assert_eq!(cleared["effective_auth_settings"]["password_min_length"], 14);
    assert_eq!(cleared["auth_settings"]["lockout_minutes"], 30);
}

#[tokio::test]
async fn org_updates_reject_bad_input_naming_the_field() {
    let server = TestServer::start().await;
    let (alice, body) = server.signup("alice@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}");
    for (case, patch, field) in [
        ("empty name", json!({ "name": "" }), "name"),
        ("long name", json!({ "name": "n".repeat(101) }), "name"),
        ("name wrong type", json!({ "name": 5 }), "name"),
        ("bad slug", json!({ "slug": "Not OK" }), "slug"),
        ("uuid slug", json!({ "slug": uuid::Uuid::now_v7().to_string() }), "slug"),
        ("metadata not object", json!({ "metadata": [1, 2] }), "metadata"),
        ("metadata too big", json!({ "metadata": { "k": "v".repeat(9000) } }), "metadata"),
        ("max users zero", json!({ "max_users": 0 }), "max_users"),
        ("retention too short", json!({ "data_retention_days": 6 }), "data_retention_days"),
        ("retention too long", json!({ "data_retention_days": 3651 }), "data_retention_days"),
        ("retention wrong type", json!({ "data_retention_days": "90" }), "data_retention_days"),
        ("bad color", json!({ "branding": { "primary_color": "blue" } }), "branding.primary_color"),
        ("bad logo", json!({ "branding": { "logo_url": "javascript:alert(1)" } }), "branding.logo_url"),
        ("long welcome", json!({ "branding": { "welcome_text": "w".repeat(501) } }), "branding.welcome_text"),
        ("unknown branding field", json!({ "branding": { "custom_domain": "x" } }), "branding.custom_domain"),
        (
            "short password",
            json!({ "auth_settings": { "password_min_length": 4 } }),
            "auth_settings.password_min_length",
        ),
        ("mfa wrong type", json!({ "auth_settings": { "require_mfa": "yes" } }), "auth_settings.require_mfa"),
        (
            "ttl too short",
            json!({ "auth_settings": { "session_ttl_minutes": 1 } }),
            "auth_settings.session_ttl_minutes",
        ),
        (
            "attempts",
            json!({ "auth_settings": { "max_login_attempts": 0 } }),
            "auth_settings.max_login_attempts",
        ),
        (
            "lockout",
            json!({ "auth_settings": { "lockout_minutes": 20000 } }),
            "auth_settings.lockout_minutes",
        ),
        ("unknown field", json!({ "colour": "red" }), "colour"),
    ] {
        let resp = alice.patch(&path, &patch).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    for (case, create, field) in [
        ("missing name", json!({}), "name"),
        ("bad slug", json!({ "name": "x", "slug": "-x-" }), "slug"),
        ("max users", json!({ "name": "x", "max_users": -1 }), "max_users"),
    ] {
        let resp = alice.post("/api/v1/orgs", &create).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}");
    }
    // Nothing changed.
    let org_now = alice.get(&path).await;
    assert_eq!(org_now.expect(200)["data_retention_days"], 90);
    let list = alice.get("/api/v1/orgs").await;
    assert_eq!(list.expect(200)["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn slugs_are_unique() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    create_org(&server, &alice, json!({ "name": "One", "slug": "taken" })).await;
    assert_eq!(
        alice.post("/api/v1/orgs", &json!({ "name": "Two", "slug": "taken" })).await.problem(409),
        "SLUG_TAKEN"
    );
    let (_, other) = create_org(&server, &alice, json!({ "name": "Two" })).await;
    let id = other["org"]["id"].as_str().unwrap();
    assert_eq!(
        alice.patch(&format!("/api/v1/orgs/{id}"), &json!({ "slug": "taken" })).await.problem(409),
        "SLUG_TAKEN"
    );
}

#[tokio::test]
async fn listing_orgs_filters_orders_and_pages() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    for name in ["Zeta Labs", "Alpha Works", "Mid Labs"] {
        alice.post("/api/v1/orgs", &json!({ "name": name })).await.expect(201);
    }
    let all = alice.get("/api/v1/orgs").await;
    let names: Vec<String> = all.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["alice's organization", "Zeta Labs", "Alpha Works", "Mid Labs"]);

    let labs = alice.get("/api/v1/orgs?name=LABS&order=name").await;
    let names: Vec<&str> =
        labs.body["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Mid Labs", "Zeta Labs"]);

    let first = alice.get("/api/v1/orgs?order=name&limit=2").await;
    let first = first.expect(200).clone();
    assert_eq!(first["has_more"], true);
    let next = alice
        .get(&format!("/api/v1/orgs?order=name&limit=2&cursor={}", first["next_cursor"].as_str().unwrap()))
        .await;
    let mut names: Vec<String> =
        first["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect();
    names.extend(
        next.expect(200)["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()),
    );
    assert_eq!(names, ["alice's organization", "Alpha Works", "Mid Labs", "Zeta Labs"]);

    for (query, field) in [("limit=0", "limit"), ("order=size", "order"), ("cursor=@@", "cursor")] {
        let resp = alice.get(&format!("/api/v1/orgs?{query}")).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{query}");
        assert_eq!(resp.field(), Some(field), "{query}");
    }
    // Wildcards in the filter are literal.
    assert_eq!(alice.get("/api/v1/orgs?name=%25").await.expect(200)["data"], json!([]));
}

#[tokio::test]
async fn select_switches_the_active_org_with_that_role() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    let me = member.get("/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["org"]["id"], org);
    assert_eq!(me.body["org"]["role"], "member");
    let token = member.token.clone().unwrap();
    assert_eq!(claims(&token)["org_role"], "member");

    // A personal token cannot switch orgs.
    let pat = member.post("/api/v1/auth/tokens", &json!({ "name": "t" })).await;
    let pat = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    assert_eq!(pat.post_empty(&format!("/api/v1/orgs/{org}/select")).await.problem(403), "SESSION_REQUIRED");
}

#[tokio::test]
async fn only_owners_delete_and_never_the_current_org() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let home = org_of(&body);
    let (in_second, created) = create_org(&server, &owner, json!({ "name": "Second" })).await;
    let second = created["org"]["id"].as_str().unwrap().to_string();
    let (admin, _) = server.member_of(&in_second, &second, "admin@example.com", "admin").await;

    assert_eq!(admin.delete(&format!("/api/v1/orgs/{second}")).await.problem(403), "FORBIDDEN");
    assert_eq!(in_second.delete(&format!("/api/v1/orgs/{second}")).await.problem(409), "CURRENT_ORG");
    // The admin's only org is `second` plus their own; deleting leaves them their own.
    let back_home = in_second.post_empty(&format!("/api/v1/orgs/{home}/select")).await;
    let back_home = server.with_token(back_home.expect(200)["access_token"].as_str().unwrap());
    back_home.delete(&format!("/api/v1/orgs/{second}")).await.expect(204);

    // Sessions active in the deleted org end; the org is gone for everyone.
    assert_eq!(admin.get("/api/v1/auth/me").await.problem(401), "SESSION_REVOKED");
    assert_eq!(in_second.get("/api/v1/auth/me").await.problem(401), "SESSION_REVOKED");
    assert_eq!(back_home.get(&format!("/api/v1/orgs/{second}")).await.problem(404), "NOT_FOUND");
    let admin_login = server.login("admin@example.com", PASSWORD).await;
    assert_ne!(admin_login.expect(200)["org"]["id"], json!(second));
}

#[tokio::test]
async fn admins_update_members_cannot() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    admin.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Renamed" })).await.expect(200);
    assert_eq!(
        member.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Mine" })).await.problem(403),
        "FORBIDDEN"
    );
    assert_eq!(member.get(&format!("/api/v1/orgs/{org}")).await.expect(200)["name"], "Renamed");
    assert_eq!(admin.delete(&format!("/api/v1/orgs/{org}")).await.problem(403), "FORBIDDEN");
}

#[tokio::test]
async fn ownership_transfers_to_a_member() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, admin_id) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let path = format!("/api/v1/orgs/{org}/transfer-ownership");
    assert_eq!(admin.post(&path, &json!({ "user_id": admin_id })).await.problem(403), "OWNER_REQUIRED");
    let stranger = uuid::Uuid::now_v7();
    let resp = owner.post(&path, &json!({ "user_id": stranger })).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("user_id")));
    assert_eq!(owner.post(&path, &json!({ "user_id": "nope" })).await.problem(400), "VALIDATION_ERROR");
    owner.post(&path, &json!({ "user_id": admin_id })).await.expect(204);
    let members = admin.get(&format!("/api/v1/orgs/{org}/members")).await;
    let roles: Vec<(String, String)> = members.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap().to_string(), m["role"].as_str().unwrap().to_string()))
        .collect();
    assert!(roles.contains(&("admin@example.com".into(), "owner".into())), "{roles:?}");
    assert!(roles.contains(&("owner@example.com".into(), "admin".into())), "{roles:?}");
}

/// Every org-scoped route answers 404 to someone who is not a member, by id and by slug.
#[tokio::test]
async fn another_orgs_resources_are_not_found() {
    let server = TestServer::start().await;
    let (alice, a_body) = server.signup("alice@example.com").await;
    let (mallory, _) = server.signup("mallory@example.com").await;
    let org = org_of(&a_body);
    let slug = a_body["org"]["slug"].as_str().unwrap().to_string();
    let alice_id = a_body["user"]["id"].as_str().unwrap().to_string();
    alice
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "auditor", "name": "Auditor", "permissions": ["audit:read"] }),
        )
        .await
        .expect(201);

    for target in [org.clone(), slug] {
        let base = format!("/api/v1/orgs/{target}");
        let cases: Vec<(&str, guildhall_tests::Resp)> = vec![
            ("get org", mallory.get(&base).await),
            ("patch org", mallory.patch(&base, &json!({ "name": "pwned" })).await),
            ("delete org", mallory.delete(&base).await),
            ("select", mallory.post_empty(&format!("{base}/select")).await),
            (
                "transfer",
                mallory.post(&format!("{base}/transfer-ownership"), &json!({ "user_id": alice_id })).await,
            ),
            ("list members", mallory.get(&format!("{base}/members")).await),
            (
                "add member",
                mallory
                    .post(
                        &format!("{base}/members"),
                        &json!({ "email": "mallory@example.com", "role": "owner" }),
                    )
                    .await,
            ),
            ("get member", mallory.get(&format!("{base}/members/{alice_id}")).await),
            (
                "patch member",
                mallory.patch(&format!("{base}/members/{alice_id}"), &json!({ "role": "member" })).await,
            ),
            ("remove member", mallory.delete(&format!("{base}/members/{alice_id}")).await),
            ("list roles", mallory.get(&format!("{base}/roles")).await),
            (
                "create role",
                mallory
                    .post(&format!("{base}/roles"), &json!({ "key": "x", "name": "X", "permissions": [] }))
                    .await,
            ),
            (
                "update role",
                mallory
                    .put(&format!("{base}/roles/auditor"), &json!({ "name": "X", "permissions": [] }))
                    .await,
            ),
            ("delete role", mallory.delete(&format!("{base}/roles/auditor")).await),
            ("audit", mallory.get(&format!("{base}/audit-logs")).await),
            ("verify", mallory.get(&format!("{base}/audit-logs/verify")).await),
        ];
        for (case, resp) in cases {
            assert_eq!(resp.problem(404), "NOT_FOUND", "{case} on {target}");
        }
    }
    // Nothing changed.
    let org_now = alice.get(&format!("/api/v1/orgs/{org}")).await;
    assert_eq!(org_now.expect(200)["name"], "alice's organization");
    let roles = alice.get(&format!("/api/v1/orgs/{org}/roles")).await;
    assert_eq!(roles.expect(200)["data"].as_array().unwrap().len(), 4);
    assert_eq!(alice.get(&format!("/api/v1/orgs/{}", uuid::Uuid::now_v7())).await.problem(404), "NOT_FOUND");
}

#[tokio::test]
async fn a_personal_token_acts_only_in_its_own_org() {
    let server = TestServer::start().await;
    let (alice, body) = server.signup("alice@example.com").await;
    let home = org_of(&body);
    let (_, created) = create_org(&server, &alice, json!({ "name": "Other" })).await;
    let other = created["org"]["id"].as_str().unwrap().to_string();
    // The token is made in `home` (alice's original session is still active there).
    let pat = alice.post("/api/v1/auth/tokens", &json!({ "name": "home only" })).await;
    let pat = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    pat.get(&format!("/api/v1/orgs/{home}")).await.expect(200);
    assert_eq!(pat.get(&format!("/api/v1/orgs/{other}")).await.problem(404), "NOT_FOUND");
    assert_eq!(pat.get(&format!("/api/v1/orgs/{other}/members")).await.problem(404), "NOT_FOUND");
    let listed = pat.get("/api/v1/orgs").await;
    assert_eq!(listed.expect(200)["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_orgs_session_ttl_caps_how_long_its_sessions_refresh() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .patch(&format!("/api/v1/orgs/{org}"), &json!({ "auth_settings": { "session_ttl_minutes": 60 } }))
        .await
        .expect(200);
    let (_, other) = server.signup("other@example.com").await;
    server.clock.advance(chrono::Duration::minutes(61));
    let refresh = |token: Value| {
        let anon = server.anon();
        async move { anon.post("/api/v1/auth/refresh", &json!({ "refresh_token": token })).await }
    };
    assert_eq!(refresh(body["refresh_token"].clone()).await.problem(401), "SESSION_EXPIRED");
    // The instance default (30 days) still applies to orgs without an override.
    refresh(other["refresh_token"].clone()).await.expect(200);
    server.login("owner@example.com", PASSWORD).await.expect(200);
}
