use chrono::Duration;
use guildhall_tests::TestServer;
use serde_json::{Value, json};

async fn refresh(server: &TestServer, token: &Value) -> guildhall_tests::Resp {
    server.anon().post("/api/v1/auth/refresh", &json!({ "refresh_token": token })).await
}

#[tokio::test]
async fn refresh_rotates_the_token_and_keeps_the_org() {
    let server = TestServer::start().await;
    let (_, body) = server.signup("alice@example.com").await;
    let first = body["refresh_token"].clone();
    let resp = refresh(&server, &first).await;
    let next = resp.expect(200);
    assert_ne!(next["refresh_token"], first);
    assert_eq!(next["org"]["id"], body["org"]["id"]);
    assert_eq!(next["user"]["email"], "alice@example.com");
    server.with_token(next["access_token"].as_str().unwrap()).get("/api/v1/auth/me").await.expect(200);
    // The new token works once more.
    refresh(&server, &next["refresh_token"]).await.expect(200);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let server = TestServer::start().await;
    let (_, body) = server.signup("alice@example.com").await;
    let stolen = body["refresh_token"].clone();
    let legit = refresh(&server, &stolen).await;
    let legit = legit.expect(200).clone();
    let access = server.with_token(legit["access_token"].as_str().unwrap());
    access.get("/api/v1/auth/me").await.expect(200);

    assert_eq!(refresh(&server, &stolen).await.problem(401), "REFRESH_TOKEN_REUSED");
    // Every token of that session is now dead: the newest refresh token and the access token.
    assert_eq!(refresh(&server, &legit["refresh_token"]).await.problem(401), "INVALID_REFRESH_TOKEN");
    assert_eq!(access.get("/api/v1/auth/me").await.problem(401), "SESSION_REVOKED");
}

#[tokio::test]
async fn expired_refresh_tokens_are_refused() {
    let server = TestServer::start_with(|c| c.tokens.refresh_ttl_seconds = 3600).await;
    let (_, body) = server.signup("alice@example.com").await;
    server.clock.advance(Duration::seconds(3601));
    assert_eq!(refresh(&server, &body["refresh_token"]).await.problem(401), "INVALID_REFRESH_TOKEN");
}

#[tokio::test]
async fn refresh_rejects_garbage() {
    let server = TestServer::start().await;
    for token in [
        json!("gh_rt_nope"),
        json!(""),
        json!("x".repeat(5000)),
        json!("gh_rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        assert_eq!(refresh(&server, &token).await.problem(401), "INVALID_REFRESH_TOKEN");
    }
    for (body, field) in [(json!({}), "refresh_token"), (json!({ "refresh_token": 7 }), "refresh_token")] {
        let resp = server.anon().post("/api/v1/auth/refresh", &body).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR");
        assert_eq!(resp.field(), Some(field));
    }
}
