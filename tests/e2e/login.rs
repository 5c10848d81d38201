use chrono::Duration;
use guildhall_tests::{PASSWORD, TestServer};
use serde_json::json;

#[tokio::test]
async fn login_returns_a_token_pair_that_works_on_me() {
    let server = TestServer::start().await;
    server.signup("alice@example.com").await;
    let resp = server.login("ALICE@example.com", PASSWORD).await;
    let body = resp.expect(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert!(body["user"]["last_login_at"].is_string());
    let me = server.with_token(body["access_token"].as_str().unwrap()).get("/api/v1/auth/me").await;
    let me = me.expect(200);
    assert_eq!(me["user"]["email"], "alice@example.com");
    assert_eq!(me["org"]["role"], "owner");
    assert_eq!(me["auth_method"], "session");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let server = TestServer::start().await;
    server.signup("alice@example.com").await;
    let wrong = server.login("alice@example.com", "not the password").await;
    let unknown = server.login("nobody@example.com", PASSWORD).await;
    assert_eq!(wrong.problem(401), "INVALID_CREDENTIALS");
    assert_eq!(unknown.problem(401), "INVALID_CREDENTIALS");
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lockout_passes() {
    let server = TestServer::start().await;
    let (admin, _) = server.signup("admin@example.com").await;
    admin
        .patch("/api/v1/instance/settings", &json!({ "max_login_attempts": 3, "lockout_minutes": 10 }))
        .await
        .expect(200);
    server.signup("victim@example.com").await;
    for _ in 0..3 {
        assert_eq!(
            server.login("victim@example.com", "bad password").await.problem(401),
            "INVALID_CREDENTIALS"
        );
    }
    // Even the right password is refused while locked.
    let locked = server.login("victim@example.com", PASSWORD).await;
    assert_eq!(locked.problem(429), "ACCOUNT_LOCKED");
    let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");

    server.clock.advance(Duration::minutes(11));
    server.login("victim@example.com", PASSWORD).await.expect(200);
    // A success resets the counter: two more failures do not lock.
    for _ in 0..2 {
        server.login("victim@example.com", "bad password").await.problem(401);
    }
    server.login("victim@example.com", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn login_rejects_bad_input() {
    let server = TestServer::start().await;
    for (case, body, field) in [
        ("missing password", json!({ "email": "a@example.com" }), "password"),
        ("missing email", json!({ "password": PASSWORD }), "email"),
        ("bad email", json!({ "email": "nope", "password": PASSWORD }), "email"),
        ("empty password", json!({ "email": "a@example.com", "password": "" }), "password"),
        ("wrong type", json!({ "email": "a@example.com", "password": 12345 }), "password"),
        ("null email", json!({ "email": null, "password": PASSWORD }), "email"),
    ] {
        let resp = server.anon().post("/api/v1/auth/login", &body).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}");
    }
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let server = TestServer::start().await;
    let (client, body) = server.signup("alice@example.com").await;
    client.post_empty("/api/v1/auth/logout").await.expect(204);
    assert_eq!(client.get("/api/v1/auth/me").await.problem(401), "SESSION_REVOKED");
    let refresh =
        server.anon().post("/api/v1/auth/refresh", &json!({ "refresh_token": body["refresh_token"] })).await;
    assert_eq!(refresh.problem(401), "INVALID_REFRESH_TOKEN");
    // Other sessions of the same user are untouched.
    let other = server.login("alice@example.com", PASSWORD).await;
    let other = server.with_token(other.expect(200)["access_token"].as_str().unwrap());
    other.get("/api/v1/auth/me").await.expect(200);
}

#[tokio::test]
async fn logout_needs_a_session() {
    let server = TestServer::start().await;
    assert_eq!(server.anon().post_empty("/api/v1/auth/logout").await.problem(401), "UNAUTHENTICATED");
    let (client, _) = server.signup("alice@example.com").await;
    let pat = client.post("/api/v1/auth/tokens", &json!({ "name": "ci" })).await;
    let pat = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    assert_eq!(pat.post_empty("/api/v1/auth/logout").await.problem(403), "SESSION_REQUIRED");
}
