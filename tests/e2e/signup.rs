use guildhall_tests::{PASSWORD, TestServer};
use serde_json::json;

#[tokio::test]
async fn first_signup_is_instance_admin_and_owner_of_named_org() {
    let server = TestServer::start().await;
    let resp = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "  Founder@Example.COM ", "password": PASSWORD, "org_name": "Acme Corp" }),
        )
        .await;
    let body = resp.expect(201);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("gh_rt_"));
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], "founder@example.com");
    assert_eq!(body["user"]["is_instance_admin"], true);
    assert_eq!(body["user"]["status"], "active");
    assert_eq!(body["org"]["name"], "Acme Corp");
    assert_eq!(body["org"]["slug"], "acme-corp");
    assert_eq!(body["org"]["role"], "owner");
    assert!(body["user"].get("password_hash").is_none());
}

#[tokio::test]
async fn later_signups_get_their_own_org_and_no_admin() {
    let server = TestServer::start().await;
    server.signup("first@example.com").await;
    let (_, body) = server.signup("second@example.com").await;
    assert_eq!(body["user"]["is_instance_admin"], false);
    assert_eq!(body["org"]["role"], "owner");
    assert_eq!(body["org"]["name"], "second's organization");
    // Two orgs with the same name get distinct slugs.
    let resp = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "third@example.com", "password": PASSWORD, "org_name": "second's organization" }))
        .await;
    assert_eq!(resp.expect(201)["org"]["slug"], "second-s-organization-2");
}

#[tokio::test]
async fn duplicate_email_is_a_conflict_whatever_its_case() {
    let server = TestServer::start().await;
    server.signup("dup@example.com").await;
    let resp = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "DUP@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(resp.problem(409), "EMAIL_TAKEN");
}

#[tokio::test]
async fn signup_rejects_bad_input_naming_the_field() {
    let server = TestServer::start().await;
    let long_password = "x".repeat(1025);
    for (case, body, field) in [
        ("missing email", json!({ "password": PASSWORD }), "email"),
        ("missing password", json!({ "email": "a@example.com" }), "password"),
        ("empty email", json!({ "email": "", "password": PASSWORD }), "email"),
        ("not an email", json!({ "email": "alice", "password": PASSWORD }), "email"),
        ("no domain dot", json!({ "email": "alice@localhost", "password": PASSWORD }), "email"),
        ("email wrong type", json!({ "email": 42, "password": PASSWORD }), "email"),
        ("password wrong type", json!({ "email": "a@example.com", "password": ["x"] }), "password"),
        ("short password", json!({ "email": "a@example.com", "password": "short" }), "password"),
        ("huge password", json!({ "email": "a@example.com", "password": long_password }), "password"),
        (
            "empty org name",
            json!({ "email": "a@example.com", "password": PASSWORD, "org_name": " " }),
            "org_name",
        ),
        (
            "long org name",
            json!({ "email": "a@example.com", "password": PASSWORD, "org_name": "o".repeat(101) }),
            "org_name",
        ),
        ("unknown field", json!({ "email": "a@example.com", "password": PASSWORD, "admin": true }), "admin"),
        ("array body", json!([1, 2]), "body"),
    ] {
        let resp = server.anon().post("/api/v1/auth/signup", &body).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    // Nothing was created by the failures: the next signup is still the first user.
    let (_, body) = server.signup("a@example.com").await;
    assert_eq!(body["user"]["is_instance_admin"], true);
}

#[tokio::test]
async fn closed_signup_is_forbidden_with_a_clear_code() {
    let (server, admin) = TestServer::with_admin().await;
    admin.patch("/api/v1/instance/settings", &json!({ "signup_open": false })).await.expect(200);
    let resp = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "late@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(resp.problem(403), "SIGNUP_CLOSED");
}

#[tokio::test]
async fn first_user_may_sign_up_even_when_signup_starts_closed() {
    let server = TestServer::start_with(|c| c.instance.signup_open = false).await;
    let (_, body) = server.signup("root@example.com").await;
    assert_eq!(body["user"]["is_instance_admin"], true);
    let resp = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "b@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(resp.problem(403), "SIGNUP_CLOSED");
}

#[tokio::test]
async fn approval_required_makes_accounts_pending_until_approved() {
    let (server, admin) = TestServer::with_admin().await;
    admin.patch("/api/v1/instance/settings", &json!({ "approval_required": true })).await.expect(200);
    let resp = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "wait@example.com", "password": PASSWORD }))
        .await;
    let body = resp.expect(202);
    assert_eq!(body["user"]["status"], "pending");
    assert!(body.get("access_token").is_none());
    let user_id = body["user"]["id"].as_str().unwrap().to_string();

    assert_eq!(server.login("wait@example.com", PASSWORD).await.problem(403), "ACCOUNT_PENDING");
    // A wrong password on a pending account says nothing about its state.
    assert_eq!(server.login("wait@example.com", "wrong password!").await.problem(401), "INVALID_CREDENTIALS");

    let approved = admin.post_empty(&format!("/api/v1/users/{user_id}/approve")).await;
    assert_eq!(approved.expect(200)["status"], "active");
    let login = server.login("wait@example.com", PASSWORD).await;
    assert_eq!(login.expect(200)["org"]["role"], "owner");
}
