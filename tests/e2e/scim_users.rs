//! SCIM Users over HTTP: the lifecycle (a user is an org membership), uniqueness, suspension,
//! versions, projection, and the org's provisioning rules.

use guildhall_tests::{Client, PASSWORD, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An org with an owner and a SCIM client for it: `(owner, org id, scim)`.
pub async fn scim_org(server: &TestServer, owner_email: &str) -> (Client, String, Client) {
    let (owner, body) = server.signup(owner_email).await;
    let org = body["org"]["id"].as_str().expect("org id").to_string();
    let issued = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let token = issued.expect(201)["token"].as_str().expect("token").to_string();
    (owner, org, server.with_token(&token))
}

pub fn user_body(user_name: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": { "givenName": "Barbara", "familyName": "Jensen" },
        "emails": [{ "value": user_name, "type": "work", "primary": true }],
        "displayName": "Babs Jensen",
        "active": true,
        "externalId": format!("ext-{user_name}"),
    })
}

pub async fn create_user(scim: &Client, user_name: &str) -> Value {
    let resp = scim.post("/scim/v2/Users", &user_body(user_name)).await;
    resp.expect(201).clone()
}

pub fn patch(ops: Value) -> Value {
    json!({ "schemas": [PATCH_OP], "Operations": ops })
}

fn scim_type(resp: &guildhall_tests::Resp, status: u16) -> String {
    assert_eq!(resp.status.as_u16(), status, "{}", resp.text);
    assert_eq!(resp.header("content-type"), Some("application/scim+json"), "{}", resp.text);
    assert_eq!(resp.body["status"], json!(status.to_string()), "{}", resp.text);
    resp.body["scimType"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_user_lives_from_post_to_delete() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let created = scim.post("/scim/v2/Users", &user_body("bjensen@example.com")).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("content-type"), Some("application/scim+json"));
    let user = created.body.clone();
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), Some(format!("{}/scim/v2/Users/{id}", server.base).as_str()));
    assert_eq!(created.header("etag"), user["meta"]["version"].as_str());
    assert_eq!(user["schemas"], json!([USER]));
    assert_eq!(user["userName"], "bjensen@example.com");
    assert_eq!(user["name"]["givenName"], "Barbara");
    assert_eq!(user["active"], true);
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(user.get("password").is_none());

    // The org gained a member with the default role; the account has no password.
    let members = owner.get(&format!("/api/v1/orgs/{org}/members")).await;
    let emails: Vec<&str> =
        members.expect(200)["data"].as_array().unwrap().iter().filter_map(|m| m["email"].as_str()).collect();
    assert!(emails.contains(&"bjensen@example.com"), "{emails:?}");
    assert_eq!(server.login("bjensen@example.com", PASSWORD).await.status, 401);

    let fetched = scim.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(fetched.expect(200), &user);

    let listed = scim.get("/scim/v2/Users?filter=userName%20eq%20%22BJENSEN@example.com%22").await;
    let listed = listed.expect(200);
    assert_eq!(listed["totalResults"], 1);
    assert_eq!(listed["Resources"][0]["id"], json!(id));

    let gone = scim.delete(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(scim_type(&scim.get(&format!("/scim/v2/Users/{id}")).await, 404), "");
    let members = owner.get(&format!("/api/v1/orgs/{org}/members")).await;
    assert_eq!(members.expect(200)["data"].as_array().unwrap().len(), 1);
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=scim.user.*")).await;
    let actions: Vec<(&str, &str)> = log.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"]["type"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(actions, vec![("scim.user.deleted", "scim"), ("scim.user.created", "scim")]);
}

#[tokio::test]
async fn user_names_are_unique_per_org_ignoring_case() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    create_user(&scim, "dup@example.com").await;
    let again = scim.post("/scim/v2/Users", &user_body("DUP@example.com")).await;
    assert_eq!(scim_type(&again, 409), "uniqueness");
    // Another org may use the same userName (and the same person).
    let (_, _, other) = scim_org(&server, "owner2@example.com").await;
    create_user(&other, "dup@example.com").await;
}

#[tokio::test]
async fn versions_guard_writes_and_save_reads() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "etag@example.com").await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    let version = user["meta"]["version"].as_str().unwrap().to_string();
    let cached = scim.send_json_with(Method::GET, &path, None, &[("if-none-match", &version)]).await;
    assert_eq!(cached.status, 304);
    let change = patch(json!([{ "op": "replace", "path": "title", "value": "Boss" }]));
    let stale = scim.send_json_with(Method::PATCH, &path, Some(&change), &[("if-match", "W/\"0000\"")]).await;
    assert_eq!(scim_type(&stale, 412), "");
    let ok = scim.send_json_with(Method::PATCH, &path, Some(&change), &[("if-match", &version)]).await;
    let updated = ok.expect(200).clone();
    assert_eq!(updated["title"], "Boss");
    assert_ne!(updated["meta"]["version"].as_str().unwrap(), version);
    let fresh = scim.send_json_with(Method::GET, &path, None, &[("if-none-match", &version)]).await;
    assert_eq!(fresh.status, 200);
    let delete = scim.send_json_with(Method::DELETE, &path, None, &[("if-match", &version)]).await;
    assert_eq!(delete.status, 412);
}
