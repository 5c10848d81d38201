use chrono::{Duration, Utc};
use guildhall_tests::TestServer;
use serde_json::json;

#[tokio::test]
async fn personal_token_is_shown_once_and_works_like_a_jwt() {
    let server = TestServer::start().await;
    let (client, body) = server.signup("alice@example.com").await;
    let created = client.post("/api/v1/auth/tokens", &json!({ "name": "ci deploys" })).await;
    let created = created.expect(201).clone();
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("gh_pat_"), "{secret}");
    assert_eq!(created["org_id"], body["org"]["id"]);
    assert_eq!(created["is_default"], false);

    let pat = server.with_token(&secret);
    let me = pat.get("/api/v1/auth/me").await;
    let me = me.expect(200);
    assert_eq!(me["auth_method"], "personal_token");
    assert_eq!(me["credential_id"], created["id"]);
    assert_eq!(me["org"]["role"], "owner");

    let list = client.get("/api/v1/auth/tokens").await;
    let list = list.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("token").is_none(), "secret listed: {list}");
    assert!(list["data"][0]["last_used_at"].is_string(), "last use recorded: {list}");
    assert!(!list.to_string().contains(&secret));
}

#[tokio::test]
async fn revoked_and_expired_tokens_stop_working() {
    let server = TestServer::start().await;
    let (client, _) = server.signup("alice@example.com").await;
    let expires = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let short = client.post("/api/v1/auth/tokens", &json!({ "name": "short", "expires_at": expires })).await;
    let short = server.with_token(short.expect(201)["token"].as_str().unwrap());
    let long = client.post("/api/v1/auth/tokens", &json!({ "name": "long" })).await;
    let long_body = long.expect(201).clone();
    let long = server.with_token(long_body["token"].as_str().unwrap());
    short.get("/api/v1/auth/me").await.expect(200);

    client.delete(&format!("/api/v1/auth/tokens/{}", long_body["id"].as_str().unwrap())).await.expect(204);
    assert_eq!(long.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");

    server.clock.advance(Duration::hours(2));
    assert_eq!(short.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
}

#[tokio::test]
async fn default_token_is_created_once_then_reused() {
    let server = TestServer::start().await;
    let (client, _) = server.signup("alice@example.com").await;
    let first = client.get("/api/v1/auth/tokens/default").await;
    let first = first.expect(200).clone();
    let secret = first["token"].as_str().expect("secret on first request");
    assert!(secret.starts_with("gh_pat_"));
    assert_eq!(first["is_default"], true);
    let again = client.get("/api/v1/auth/tokens/default").await;
    let again = again.expect(200);
    assert_eq!(again["id"], first["id"]);
    assert!(again.get("token").is_none());
    server.with_token(secret).get("/api/v1/auth/me").await.expect(200);
    // The token can read its own default.
    server.with_token(secret).get("/api/v1/auth/tokens/default").await.expect(200);
}

#[tokio::test]
async fn users_cannot_see_or_revoke_each_others_tokens() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    let (bob, _) = server.signup("bob@example.com").await;
    let token = alice.post("/api/v1/auth/tokens", &json!({ "name": "mine" })).await;
    let id = token.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(bob.delete(&format!("/api/v1/auth/tokens/{id}")).await.problem(404), "NOT_FOUND");
    assert_eq!(bob.get("/api/v1/auth/tokens").await.expect(200)["data"], json!([]));
    alice.get("/api/v1/auth/tokens").await.expect(200);
}

#[tokio::test]
async fn a_token_cannot_mint_tokens() {
    let server = TestServer::start().await;
    let (client, _) = server.signup("alice@example.com").await;
    let token = client.post("/api/v1/auth/tokens", &json!({ "name": "t" })).await;
    let pat = server.with_token(token.expect(201)["token"].as_str().unwrap());
    assert_eq!(
        pat.post("/api/v1/auth/tokens", &json!({ "name": "t2" })).await.problem(403),
        "SESSION_REQUIRED"
    );
}

#[tokio::test]
async fn token_endpoints_reject_bad_input() {
    let server = TestServer::start().await;
    let (client, _) = server.signup("alice@example.com").await;
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    for (case, body, field) in [
        ("missing name", json!({}), "name"),
        ("empty name", json!({ "name": "  " }), "name"),
        ("long name", json!({ "name": "n".repeat(101) }), "name"),
        ("name wrong type", json!({ "name": 1 }), "name"),
        ("expiry in the past", json!({ "name": "x", "expires_at": past }), "expires_at"),
        ("expiry not a time", json!({ "name": "x", "expires_at": "tomorrow" }), "expires_at"),
    ] {
        let resp = client.post("/api/v1/auth/tokens", &body).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    assert_eq!(client.delete("/api/v1/auth/tokens/not-a-uuid").await.problem(400), "VALIDATION_ERROR");
    assert_eq!(
        client.delete(&format!("/api/v1/auth/tokens/{}", uuid::Uuid::now_v7())).await.problem(404),
        "NOT_FOUND"
    );
    for (query, field) in [("limit=0", "limit"), ("limit=abc", "limit"), ("cursor=%%%", "cursor")] {
        let resp = client.get(&format!("/api/v1/auth/tokens?{query}")).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{query}");
        assert_eq!(resp.field(), Some(field), "{query}");
    }
    for fake in ["gh_pat_x", "gh_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        assert_eq!(server.with_token(fake).get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    }
}

#[tokio::test]
async fn token_lists_page_with_a_cursor() {
    let server = TestServer::start().await;
    let (client, _) = server.signup("alice@example.com").await;
    for i in 0..5 {
        client.post("/api/v1/auth/tokens", &json!({ "name": format!("t{i}") })).await.expect(201);
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/auth/tokens?limit=2&cursor={c}"),
            None => "/api/v1/auth/tokens?limit=2".to_string(),
        };
        let page = client.get(&path).await;
        let page = page.expect(200).clone();
        for t in page["data"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_string());
        }
        if page["has_more"] == false {
            assert!(page["next_cursor"].is_null());
            break;
        }
        cursor = Some(page["next_cursor"].as_str().unwrap().to_string());
    }
    assert_eq!(names, ["t0", "t1", "t2", "t3", "t4"]);
}
