use guildhall_tests::TestServer;
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_service_account_acts_in_its_org_with_its_role_through_its_token() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let base = format!("/api/v1/orgs/{org}/service-accounts");
    let created = owner.post(&base, &json!({ "name": "CI deployer", "role": "admin" })).await;
    let created = created.expect(201).clone();
    assert_eq!(
        (created["name"].as_str(), created["role"].as_str(), created["token_count"].as_u64()),
        (Some("CI deployer"), Some("admin"), Some(0))
    );
    let id = created["id"].as_str().unwrap().to_string();

    let token = owner.post(&format!("{base}/{id}/tokens"), &json!({ "name": "github actions" })).await;
    let token = token.expect(201).clone();
    let secret = token["token"].as_str().unwrap();
    assert!(secret.starts_with("gh_pat_"));
    let bot = server.with_token(secret);
    let me = bot.get("/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["org"]["role"], "admin");
    // It works in its org with its role, and its actions are attributed to it.
    bot.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Renamed by bot" })).await.expect(200);
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=org.updated")).await;
    assert_eq!(log.expect(200)["data"][0]["actor"], json!({ "type": "service_account", "id": id }));
    // It cannot sign in, mint its own tokens or create orgs.
    assert_eq!(
        bot.post("/api/v1/auth/tokens", &json!({ "name": "more" })).await.problem(403),
        "SESSION_REQUIRED"
    );
    assert_eq!(
        bot.post("/api/v1/orgs", &json!({ "name": "bot org" })).await.problem(403),
        "SESSION_REQUIRED"
    );

    // Listed apart from people; not counted as a person.
    let people = owner.get(&format!("/api/v1/orgs/{org}/members")).await;
    assert_eq!(people.expect(200)["data"].as_array().unwrap().len(), 1);
    let accounts = owner.get(&base).await;
    assert_eq!(accounts.expect(200)["data"][0]["token_count"], 1);
    let tokens = owner.get(&format!("{base}/{id}/tokens")).await;
    let tokens = tokens.expect(200);
    assert_eq!(tokens["data"][0]["name"], "github actions");
    assert!(tokens["data"][0].get("token").is_none());

    // Revoking the token, then deleting the account, stops it at once.
    let token_id = token["id"].as_str().unwrap();
    owner.delete(&format!("{base}/{id}/tokens/{token_id}")).await.expect(204);
    assert_eq!(bot.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    let second = owner.post(&format!("{base}/{id}/tokens"), &json!({ "name": "again" })).await;
    let bot = server.with_token(second.expect(201)["token"].as_str().unwrap());
    bot.get("/api/v1/auth/me").await.expect(200);
    owner.delete(&format!("{base}/{id}")).await.expect(204);
    assert_eq!(bot.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    assert_eq!(owner.get(&base).await.expect(200)["data"], json!([]));
}

#[tokio::test]
async fn service_accounts_follow_permissions_and_stay_in_their_org() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let base = format!("/api/v1/orgs/{org}/service-accounts");
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    assert_eq!(member.post(&base, &json!({ "name": "x", "role": "member" })).await.problem(403), "FORBIDDEN");
    assert_eq!(
        admin.post(&base, &json!({ "name": "x", "role": "owner" })).await.problem(403),
        "OWNER_REQUIRED"
    );
    let created = admin.post(&base, &json!({ "name": "reader", "role": "member" })).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    let token = admin.post(&format!("{base}/{id}/tokens"), &json!({ "name": "t" })).await;
    let bot = server.with_token(token.expect(201)["token"].as_str().unwrap());
    assert_eq!(
        bot.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "x" })).await.problem(403),
        "FORBIDDEN"
    );

    // Another org sees none of it, and the bot sees no other org.
    let (mallory, m_body) = server.signup("mallory@example.com").await;
    let m_org = org_of(&m_body);
    assert_eq!(mallory.get(&base).await.problem(404), "NOT_FOUND");
    assert_eq!(
        mallory.post(&format!("{base}/{id}/tokens"), &json!({ "name": "steal" })).await.problem(404),
        "NOT_FOUND"
    );
    assert_eq!(mallory.delete(&format!("{base}/{id}")).await.problem(404), "NOT_FOUND");
    let cross = mallory
        .post(&format!("/api/v1/orgs/{m_org}/service-accounts/{id}/tokens"), &json!({ "name": "steal" }))
        .await;
    assert_eq!(cross.problem(404), "NOT_FOUND");
    assert_eq!(bot.get(&format!("/api/v1/orgs/{m_org}")).await.problem(404), "NOT_FOUND");
    // A person's id is not a service account.
    let owner_id = body["user"]["id"].as_str().unwrap();
    assert_eq!(owner.delete(&format!("{base}/{owner_id}")).await.problem(404), "NOT_FOUND");
}

#[tokio::test]
async fn service_account_endpoints_reject_bad_input() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let base = format!("/api/v1/orgs/{org}/service-accounts");
    for (case, req, field) in [
        ("missing name", json!({ "role": "member" }), "name"),
        ("empty name", json!({ "name": " ", "role": "member" }), "name"),
        ("long name", json!({ "name": "n".repeat(101), "role": "member" }), "name"),
        ("unknown role", json!({ "name": "x", "role": "pilot" }), "role"),
        ("wrong type", json!({ "name": "x", "role": 3 }), "role"),
    ] {
        let resp = owner.post(&base, &req).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    assert_eq!(owner.get(&base).await.expect(200)["data"], json!([]));
    let resp = owner.post(&format!("{base}/nope/tokens"), &json!({ "name": "t" })).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("id")));
    let created = owner.post(&base, &json!({ "name": "x", "role": "member" })).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    let resp = owner.post(&format!("{base}/{id}/tokens"), &json!({ "name": "" })).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("name")));
    let resp = owner.delete(&format!("{base}/{id}/tokens/bad")).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("token_id")));
    assert_eq!(
        owner.delete(&format!("{base}/{id}/tokens/{}", uuid::Uuid::now_v7())).await.problem(404),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn deleting_the_org_deletes_its_service_accounts() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let home = org_of(&body);
    let created = owner.post("/api/v1/orgs", &json!({ "name": "Doomed" })).await;
    let created = created.expect(201).clone();
    let doomed = created["org"]["id"].as_str().unwrap().to_string();
    let in_doomed = server.with_token(created["access_token"].as_str().unwrap());
    let account = in_doomed
        .post(&format!("/api/v1/orgs/{doomed}/service-accounts"), &json!({ "name": "bot", "role": "member" }))
        .await;
    let id = account.expect(201)["id"].as_str().unwrap().to_string();
    let token = in_doomed
        .post(&format!("/api/v1/orgs/{doomed}/service-accounts/{id}/tokens"), &json!({ "name": "t" }))
        .await;
    let bot = server.with_token(token.expect(201)["token"].as_str().unwrap());
    bot.get("/api/v1/auth/me").await.expect(200);
    owner.delete(&format!("/api/v1/orgs/{doomed}")).await.expect(204);
    assert_eq!(bot.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    owner.get(&format!("/api/v1/orgs/{home}")).await.expect(200);
}
