use guildhall_tests::TestServer;
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn built_in_and_custom_roles_are_listed() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let roles = owner.get(&format!("/api/v1/orgs/{org}/roles")).await;
    let roles = roles.expect(200)["data"].as_array().unwrap().clone();
    let keys: Vec<&str> = roles.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["owner", "admin", "member"]);
    assert!(roles.iter().all(|r| r["built_in"] == true));
    assert!(roles[0]["permissions"].as_array().unwrap().contains(&json!("org:delete")));
    assert!(!roles[1]["permissions"].as_array().unwrap().contains(&json!("org:delete")));
    assert_eq!(roles[2]["permissions"], json!(["org:read", "members:read"]));

    let created = owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "auditor", "name": "Auditor", "description": "reads the log", "permissions": ["audit:read", "org:read"] }),
        )
        .await;
    let created = created.expect(201);
    assert_eq!(created["built_in"], false);
    assert_eq!(created["permissions"], json!(["org:read", "audit:read"]));

    let updated = owner
        .put(
            &format!("/api/v1/orgs/{org}/roles/auditor"),
            &json!({ "name": "Log reader", "permissions": ["audit:read"] }),
        )
        .await;
    let updated = updated.expect(200);
    assert_eq!(
        (updated["name"].as_str(), updated["permissions"].clone()),
        (Some("Log reader"), json!(["audit:read"]))
    );
    assert_eq!(updated["description"], Value::Null);
}

#[tokio::test]
async fn custom_roles_grant_exactly_their_permissions() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "auditor", "name": "Auditor", "permissions": ["audit:read"] }),
        )
        .await
        .expect(201);
    let (auditor, _) = server.member_of(&owner, &org, "auditor@example.com", "auditor").await;
    auditor.get(&format!("/api/v1/orgs/{org}/audit-logs")).await.expect(200);
    assert_eq!(auditor.get(&format!("/api/v1/orgs/{org}/members")).await.problem(403), "FORBIDDEN");
    // Changing the role takes effect on the next request, without a new token.
    owner
        .put(
            &format!("/api/v1/orgs/{org}/roles/auditor"),
            &json!({ "name": "Auditor", "permissions": ["members:read"] }),
        )
        .await
        .expect(200);
    auditor.get(&format!("/api/v1/orgs/{org}/members")).await.expect(200);
    assert_eq!(auditor.get(&format!("/api/v1/orgs/{org}/audit-logs")).await.problem(403), "FORBIDDEN");
}

#[tokio::test]
async fn roles_in_use_and_built_in_roles_stay() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "support", "name": "Support", "permissions": ["members:read"] }),
        )
        .await
        .expect(201);
    server.member_of(&owner, &org, "s1@example.com", "support").await;
    server.member_of(&owner, &org, "s2@example.com", "support").await;
    let resp = owner.delete(&format!("/api/v1/orgs/{org}/roles/support")).await;
    assert_eq!(resp.problem(409), "ROLE_IN_USE");
    assert!(resp.body["detail"].as_str().unwrap().starts_with("2 member(s)"), "{}", resp.text);
    for key in ["owner", "admin", "member"] {
        assert_eq!(
            owner.delete(&format!("/api/v1/orgs/{org}/roles/{key}")).await.problem(409),
            "BUILT_IN_ROLE"
        );
        let put = owner
            .put(&format!("/api/v1/orgs/{org}/roles/{key}"), &json!({ "name": "X", "permissions": [] }))
            .await;
        assert_eq!(put.problem(409), "BUILT_IN_ROLE");
    }
    let dup = owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "support", "name": "Again", "permissions": [] }),
        )
        .await;
    assert_eq!(dup.problem(409), "ROLE_EXISTS");
    let builtin = owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "admin", "name": "Admin", "permissions": [] }),
        )
        .await;
    assert_eq!(builtin.problem(409), "BUILT_IN_ROLE");
    assert_eq!(owner.delete(&format!("/api/v1/orgs/{org}/roles/nope")).await.problem(404), "NOT_FOUND");
    // Unused custom roles can go.
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "temp", "name": "Temp", "permissions": [] }),
        )
        .await
        .expect(201);
    owner.delete(&format!("/api/v1/orgs/{org}/roles/temp")).await.expect(204);
}

#[tokio::test]
async fn nobody_grants_a_permission_they_do_not_hold() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let resp = admin
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "destroyer", "name": "D", "permissions": ["org:delete"] }),
        )
        .await;
    assert_eq!(resp.problem(403), "PERMISSION_NOT_HELD");
    admin
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "helper", "name": "H", "permissions": ["members:read"] }),
        )
        .await
        .expect(201);
}

#[tokio::test]
async fn role_endpoints_reject_bad_input() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/roles");
    for (case, req, field) in [
        ("missing key", json!({ "name": "X", "permissions": [] }), "key"),
        ("bad key", json!({ "key": "Bad Key", "name": "X", "permissions": [] }), "key"),
        ("long key", json!({ "key": "k".repeat(41), "name": "X", "permissions": [] }), "key"),
        ("empty name", json!({ "key": "k", "name": " ", "permissions": [] }), "name"),
        (
            "unknown permission",
            json!({ "key": "k", "name": "X", "permissions": ["rockets:launch"] }),
            "permissions",
        ),
        (
            "permissions not a list",
            json!({ "key": "k", "name": "X", "permissions": "org:read" }),
            "permissions",
        ),
        (
            "long description",
            json!({ "key": "k", "name": "X", "description": "d".repeat(501), "permissions": [] }),
            "description",
        ),
    ] {
        let resp = owner.post(&path, &req).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    let roles = owner.get(&path).await;
    assert_eq!(roles.expect(200)["data"].as_array().unwrap().len(), 3);
}
