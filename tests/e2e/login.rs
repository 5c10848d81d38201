use chrono::Duration;
use guildhall_entities::login_throttle;
use guildhall_tests::{Client, PASSWORD, Resp, TestServer};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

/// An unauthenticated client whose requests come from `ip` (Linux routes all of 127/8 to
/// loopback), to sign in from "another place".
fn from(server: &TestServer, ip: &str) -> Client {
    let http =
        reqwest::Client::builder().local_address(ip.parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    Client { base: server.base.clone(), http, token: None }
}

async fn login_from(client: &Client, email: &str, password: &str) -> Resp {
    client.post("/api/v1/auth/login", &json!({ "email": email, "password": password })).await
}

fn retry_after(resp: &Resp) -> i64 {
    resp.header("retry-after").unwrap().parse().unwrap()
}

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
async fn repeated_failures_from_one_address_lock_it_out_until_the_lockout_passes() {
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
    let retry = retry_after(&locked);
    assert!((590..=600).contains(&retry), "{retry}");

    server.clock.advance(Duration::minutes(11));
    server.login("victim@example.com", PASSWORD).await.expect(200);
    // A success resets the counter: two more failures do not lock.
    for _ in 0..2 {
        server.login("victim@example.com", "bad password").await.problem(401);
    }
    server.login("victim@example.com", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn wrong_passwords_from_elsewhere_do_not_lock_the_owner_out() {
    let server = TestServer::start().await;
    let (owner, _) = server.signup("owner@example.com").await;
    owner.patch("/api/v1/instance/settings", &json!({ "max_login_attempts": 7 })).await.expect(200);
    let elsewhere = from(&server, "127.0.0.2");
    for _ in 0..3 {
        let wrong = login_from(&elsewhere, "owner@example.com", "guess").await;
        assert_eq!(wrong.problem(401), "INVALID_CREDENTIALS");
    }
    // From the fourth failure on, each one pauses that address for twice as long.
    for pause in [2, 4, 8] {
        login_from(&elsewhere, "owner@example.com", "guess").await.problem(401);
        let paused = login_from(&elsewhere, "owner@example.com", PASSWORD).await;
        assert_eq!(paused.problem(429), "LOGIN_THROTTLED");
        assert!((pause - 1..=pause).contains(&retry_after(&paused)), "{pause}: {}", retry_after(&paused));
        // The owner, at home, is not slowed down.
        server.login("owner@example.com", PASSWORD).await.expect(200);
        server.clock.advance(Duration::seconds(pause));
    }
    // The seventh failure locks that address out for the lockout period (15 minutes).
    login_from(&elsewhere, "owner@example.com", "guess").await.problem(401);
    let locked = login_from(&elsewhere, "owner@example.com", PASSWORD).await;
    assert_eq!(locked.problem(429), "ACCOUNT_LOCKED");
    assert!((890..=900).contains(&retry_after(&locked)), "{}", retry_after(&locked));
    server.login("owner@example.com", PASSWORD).await.expect(200);
    assert_eq!(server.login("owner@example.com", "typo").await.problem(401), "INVALID_CREDENTIALS");

    server.clock.advance(Duration::minutes(16));
    login_from(&elsewhere, "owner@example.com", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn per_org_lockout_threshold_applies_to_its_members() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap();
    owner
        .patch(
            &format!("/api/v1/orgs/{org}"),
            &json!({ "auth_settings": { "max_login_attempts": 2, "lockout_minutes": 30 } }),
        )
        .await
        .expect(200);
    let (member, _) = server.signup("member@example.com").await;
    server.invite_and_accept(&owner, &member, org, "member@example.com", "member").await;
    server.signup("outsider@example.com").await;
    for email in ["member@example.com", "outsider@example.com"] {
        for _ in 0..2 {
            assert_eq!(server.login(email, "guess").await.problem(401), "INVALID_CREDENTIALS", "{email}");
        }
    }
    // The org's stricter policy (2 attempts, 30 minutes) applies to its member, not to others.
    let locked = server.login("member@example.com", PASSWORD).await;
    assert_eq!(locked.problem(429), "ACCOUNT_LOCKED");
    assert!((1790..=1800).contains(&retry_after(&locked)), "{}", retry_after(&locked));
    server.login("outsider@example.com", PASSWORD).await.expect(200);
    server.clock.advance(Duration::minutes(31));
    server.login("member@example.com", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn unknown_emails_leave_no_throttle_rows() {
    let server = TestServer::start().await;
    for _ in 0..8 {
        assert_eq!(server.login("nobody@example.com", "guess").await.problem(401), "INVALID_CREDENTIALS");
    }
    assert_eq!(login_throttle::Entity::find().count(server.db()).await.unwrap(), 0);
}

#[tokio::test]
async fn forgotten_throttles_and_spent_challenges_are_purged() {
    let server = TestServer::start().await;
    server.signup("alice@example.com").await;
    for _ in 0..2 {
        assert_eq!(
            server.login("alice@example.com", "wrong guess").await.problem(401),
            "INVALID_CREDENTIALS"
        );
    }
    let purge = || guildhall_tests::guildhall_server::jobs::purge_stale_sign_in_state(&server.server.state);
    assert_eq!(purge().await.unwrap(), 0, "a recent failure still counts");
    assert_eq!(login_throttle::Entity::find().count(server.db()).await.unwrap(), 1);
    server.clock.advance(chrono::Duration::hours(25));
    assert_eq!(purge().await.unwrap(), 1);
    assert_eq!(login_throttle::Entity::find().count(server.db()).await.unwrap(), 0);
    // The account signs in as before.
    server.login("alice@example.com", PASSWORD).await.expect(200);
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
