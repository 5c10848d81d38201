//! SCIM tokens: issued per org, rotation keeps the previous one for 24 hours, revocation is
//! immediate, and SCIM tokens work only under /scim/v2 (with SCIM-format errors).

use chrono::Duration;
use guildhall_tests::TestServer;
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

const CONFIG: &str = "/scim/v2/ServiceProviderConfig";

#[tokio::test]
async fn a_scim_token_reaches_scim_and_nothing_else() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let issued = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let issued = issued.expect(201).clone();
    let secret = issued["token"].as_str().unwrap();
    assert!(secret.starts_with("gh_scim_"));
    assert_eq!(issued["scim_base_url"], json!(format!("{}/scim/v2", server.base)));
    assert_eq!(issued["previous_token_valid_until"], Value::Null);

    let scim = server.with_token(secret);
    let config = scim.get(CONFIG).await;
    assert_eq!(config.status, 200);
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    assert_eq!(config.body["schemas"][0], "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig");
    assert_eq!(config.body["authenticationSchemes"][0]["type"], "oauthbearertoken");
    // Not a credential for the management API.
    assert_eq!(scim.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    assert_eq!(scim.get(&format!("/api/v1/orgs/{org}")).await.problem(401), "INVALID_TOKEN");
    // And a user's token is not a SCIM credential; errors there speak SCIM.
    let denied = owner.get(CONFIG).await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.header("content-type"), Some("application/scim+json"));
    assert_eq!(denied.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(denied.body["status"], "401");
    let missing = server.anon().get(CONFIG).await;
    assert_eq!((missing.status.as_u16(), missing.body["status"].as_str()), (401, Some("401")));
    let unknown = scim.get("/scim/v2/Nothing").await;
    assert_eq!((unknown.status.as_u16(), unknown.body["status"].as_str()), (404, Some("404")));
}

#[tokio::test]
async fn rotation_keeps_the_old_token_for_a_day_and_audits_its_use() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let first = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let old = server.with_token(first.expect(201)["token"].as_str().unwrap());
    let second = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let second = second.expect(201).clone();
    assert!(second["previous_token_valid_until"].is_string());
    let new = server.with_token(second["token"].as_str().unwrap());
    old.get(CONFIG).await.expect(200);
    new.get(CONFIG).await.expect(200);
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=scim.*")).await;
    let actions: Vec<Value> =
        log.expect(200)["data"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(
        actions,
        [json!("scim.token.legacy_used"), json!("scim.token.rotated"), json!("scim.token.created")]
    );
    let legacy = &log.body["data"][0];
    assert_eq!(legacy["actor"]["type"], "scim");

    server.clock.advance(Duration::hours(25));
    assert_eq!(old.get(CONFIG).await.status, 401);
    new.get(CONFIG).await.expect(200);
}

#[tokio::test]
async fn revoking_ends_every_scim_token_at_once() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let a = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let a = server.with_token(a.expect(201)["token"].as_str().unwrap());
    let b = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let b = server.with_token(b.expect(201)["token"].as_str().unwrap());
    owner.delete(&format!("/api/v1/orgs/{org}/scim/token")).await.expect(204);
    assert_eq!(a.get(CONFIG).await.status, 401);
    assert_eq!(b.get(CONFIG).await.status, 401);
    for fake in ["gh_scim_nope", "gh_scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Bearer"] {
        assert_eq!(server.with_token(fake).get(CONFIG).await.status, 401, "{fake}");
    }
}

#[tokio::test]
async fn only_scim_managers_of_the_org_issue_tokens() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    assert_eq!(member.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await.problem(403), "FORBIDDEN");
    assert_eq!(member.delete(&format!("/api/v1/orgs/{org}/scim/token")).await.problem(403), "FORBIDDEN");
    let (mallory, _) = server.signup("mallory@example.com").await;
    assert_eq!(mallory.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await.problem(404), "NOT_FOUND");
    assert_eq!(mallory.delete(&format!("/api/v1/orgs/{org}/scim/token")).await.problem(404), "NOT_FOUND");
}
