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

#[tokio::test]
async fn deactivation_suspends_the_membership_and_reactivation_restores_it() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    // Bob signed up on his own and joined the org as an admin; the directory adopts him.
    let (bob, bob_id) = server.member_of(&owner, &org, "bob@example.com", "admin").await;
    let team = owner.post(&format!("/api/v1/orgs/{org}/teams"), &json!({ "name": "Ops" })).await;
    let team_id = team.expect(201)["id"].as_str().unwrap().to_string();
    owner.put(&format!("/api/v1/orgs/{org}/teams/{team_id}/members/{bob_id}"), &json!({})).await.expect(201);
    bob.get(&format!("/api/v1/orgs/{org}")).await.expect(200);
    let user = create_user(&scim, "bob@example.com").await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    assert_eq!(user["groups"][0]["display"], "Ops");

    let off = scim.patch(&path, &patch(json!([{ "op": "replace", "path": "active", "value": false }]))).await;
    assert_eq!(off.expect(200)["active"], false);
    // The session in that org is gone, and signing in again does not reach it.
    assert_eq!(bob.get(&format!("/api/v1/orgs/{org}")).await.status, 401);
    let login = server.login("bob@example.com", PASSWORD).await;
    let fresh = server.with_token(login.expect(200)["access_token"].as_str().unwrap());
    assert_eq!(fresh.get(&format!("/api/v1/orgs/{org}")).await.status, 404);
    let filtered = scim.get("/scim/v2/Users?filter=active%20eq%20false").await;
    assert_eq!(filtered.expect(200)["totalResults"], 1);

    let on = scim.patch(&path, &patch(json!([{ "op": "replace", "value": { "active": true } }]))).await;
    assert_eq!(on.expect(200)["active"], true);
    let member = owner.get(&format!("/api/v1/orgs/{org}/members/{bob_id}")).await;
    assert_eq!(member.expect(200)["role"], "admin");
    let team = owner.get(&format!("/api/v1/orgs/{org}/teams/{team_id}")).await;
    assert!(team.expect(200).to_string().contains(&bob_id));
    let selected = fresh.post_empty(&format!("/api/v1/orgs/{org}/select")).await;
    selected.expect(200);
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=scim.user.*")).await;
    let actions: Vec<&str> =
        log.expect(200)["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, vec!["scim.user.reactivated", "scim.user.deactivated", "scim.user.created"]);
}

#[tokio::test]
async fn directory_managed_members_cannot_be_removed_through_the_org_api() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "managed@example.com").await;
    let members = owner.get(&format!("/api/v1/orgs/{org}/members?email=managed@example.com")).await;
    let user_id = members.expect(200)["data"][0]["user_id"].as_str().unwrap().to_string();
    let removed = owner.delete(&format!("/api/v1/orgs/{org}/members/{user_id}")).await;
    assert_eq!(removed.problem(409), "DIRECTORY_MANAGED");
    scim.delete(&format!("/scim/v2/Users/{}", user["id"].as_str().unwrap())).await;
    // The directory created the account and it had no other org: it is gone too.
    let admin_view = owner.get(&format!("/api/v1/orgs/{org}/members/{user_id}")).await;
    assert_eq!(admin_view.status, 404);
}

#[tokio::test]
async fn put_replaces_and_okta_deactivates_with_put() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "okta@example.com").await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    let mut body = user_body("okta@example.com");
    body["active"] = json!(false);
    body["name"] = json!({ "givenName": "Okta" });
    body["id"] = json!("ignored");
    body["password"] = json!("Sup3r-secret!");
    let replaced = scim.put(&path, &body).await;
    let replaced = replaced.expect(200);
    assert_eq!(replaced["active"], false);
    assert_eq!(replaced["name"], json!({ "givenName": "Okta" }));
    assert_eq!(replaced["id"], user["id"]);
    assert!(replaced.get("password").is_none());
    let taken = create_user(&scim, "other@example.com").await;
    let mut clash = user_body("OKTA@example.com");
    clash["emails"] = json!([{ "value": "other@example.com", "primary": true }]);
    let clash = scim.put(&format!("/scim/v2/Users/{}", taken["id"].as_str().unwrap()), &clash).await;
    assert_eq!(scim_type(&clash, 409), "uniqueness");
}

#[tokio::test]
async fn the_orgs_domains_and_seat_limit_apply_to_provisioning() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    owner
        .post(&format!("/api/v1/orgs/{org}/email-domains"), &json!({ "domain": "example.com" }))
        .await
        .expect(201);
    let outsider = scim.post("/scim/v2/Users", &user_body("eve@evil.test")).await;
    assert_eq!(scim_type(&outsider, 400), "invalidValue");
    assert!(outsider.body["detail"].as_str().unwrap().contains("evil.test"), "{}", outsider.text);
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "max_users": 2 })).await.expect(200);
    create_user(&scim, "one@example.com").await;
    let full = scim.post("/scim/v2/Users", &user_body("two@example.com")).await;
    assert_eq!(full.status, 409, "{}", full.text);
    assert!(full.body["detail"].as_str().unwrap().contains("limited to 2"), "{}", full.text);
}

#[tokio::test]
async fn a_user_without_an_email_gets_one_when_the_directory_sends_it() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    // RFC 7643 requires only userName; the account waits for a real address.
    let plain = scim.post("/scim/v2/Users", &json!({ "schemas": [USER], "userName": "plain" })).await;
    let plain = plain.expect(201).clone();
    let path = format!("/scim/v2/Users/{}", plain["id"].as_str().unwrap());
    let members = owner.get(&format!("/api/v1/orgs/{org}/members")).await;
    assert!(members.text.contains("@directory.invalid"), "{}", members.text);
    owner
        .post(&format!("/api/v1/orgs/{org}/email-domains"), &json!({ "domain": "example.com" }))
        .await
        .expect(201);
    let outside = patch(
        json!([{ "op": "add", "path": "emails", "value": [{ "value": "plain@elsewhere.test", "primary": true }] }]),
    );
    assert_eq!(scim_type(&scim.patch(&path, &outside).await, 400), "invalidValue");
    let inside = patch(
        json!([{ "op": "add", "path": "emails", "value": [{ "value": "plain@example.com", "primary": true }] }]),
    );
    scim.patch(&path, &inside).await.expect(200);
    let members = owner.get(&format!("/api/v1/orgs/{org}/members?email=plain@example.com")).await;
    assert_eq!(members.expect(200)["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn attributes_and_excluded_attributes_shape_every_read() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut body = user_body("shape@example.com");
    body[ENTERPRISE] = json!({ "department": "Tour", "employeeNumber": "701984" });
    body["schemas"] = json!([USER, ENTERPRISE]);
    let user = scim.post("/scim/v2/Users", &body).await.expect(201).clone();
    let id = user["id"].as_str().unwrap();
    assert_eq!(user[ENTERPRISE]["department"], "Tour");
    let only = scim.get(&format!("/scim/v2/Users/{id}?attributes=userName,name.givenName")).await;
    let only = only.expect(200);
    assert_eq!(only["userName"], "shape@example.com");
    assert_eq!(only["name"], json!({ "givenName": "Barbara" }));
    assert_eq!(only["id"], json!(id));
    assert!(only.get("emails").is_none() && only.get("displayName").is_none(), "{only}");
    let without =
        scim.get(&format!("/scim/v2/Users/{id}?excludedAttributes=emails,{ENTERPRISE}:department")).await;
    let without = without.expect(200);
    assert!(without.get("emails").is_none());
    assert_eq!(without[ENTERPRISE], json!({ "employeeNumber": "701984" }));
    let listed = scim.get("/scim/v2/Users?attributes=userName").await;
    assert_eq!(listed.expect(200)["Resources"][0].as_object().unwrap().len(), 3, "{}", listed.text);
}

#[tokio::test]
async fn removing_active_unassigns_it_and_lifts_a_deactivation() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut body = user_body("flip@example.com");
    body["active"] = json!(false);
    let user = scim.post("/scim/v2/Users", &body).await.expect(201).clone();
    assert_eq!(user["active"], false);
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    let title = scim.patch(&path, &patch(json!([{ "op": "add", "path": "title", "value": "x" }]))).await;
    assert_eq!(title.expect(200)["active"], false);
    let removed = scim.patch(&path, &patch(json!([{ "op": "remove", "path": "active" }]))).await;
    let removed = removed.expect(200);
    assert!(removed.get("active").is_none(), "{removed}");
    let listed = scim.get("/scim/v2/Users?filter=active%20eq%20true").await;
    assert_eq!(listed.expect(200)["totalResults"], 1);
}

#[tokio::test]
async fn concurrent_creates_in_one_org_all_land() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    // Each create inserts rows that reference the org and then extends the org's audit chain;
    // on PostgreSQL those locks once deadlocked under concurrency.
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..24 {
        let scim = scim.clone();
        creates.spawn(async move {
            scim.post("/scim/v2/Users", &user_body(&format!("c{i}@example.com"))).await.status.as_u16()
        });
    }
    let statuses = creates.join_all().await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(scim.get("/scim/v2/Users?count=0").await.expect(200)["totalResults"], 24);
}

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const CUSTOM: &str = "urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User";

/// RFC 7643 §8.2's full user, with `entitlements` and `roles` (which the example leaves out)
/// and a shortened, still valid, base64 certificate.
fn rfc_full_user() -> Value {
    json!({
        "schemas": [USER],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara",
            "middleName": "Jane",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "III"
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "emails": [
            { "value": "bjensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
        ],
        "addresses": [
            {
                "type": "work",
                "streetAddress": "100 Universal City Plaza",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                "primary": true
            },
            {
                "type": "home",
                "streetAddress": "456 Hollywood Blvd",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"
            }
        ],
        "phoneNumbers": [
            { "value": "555-555-5555", "type": "work" },
            { "value": "555-555-4444", "type": "mobile" }
        ],
        "ims": [{ "value": "someaimhandle", "type": "aim" }],
        "photos": [
            { "value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo" },
            { "value": "https://photos.example.com/profilephoto/72930000000Ccne/T", "type": "thumbnail" }
        ],
        "userType": "Employee",
        "title": "Tour Guide",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "password": "t1meMa$heen",
        "groups": [{
            "value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "$ref": "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
            "display": "Tour Guides"
        }],
        "entitlements": [{ "value": "premium", "type": "license", "primary": true }],
        "roles": [{ "value": "Tour Guide", "display": "Guide", "type": "job" }],
        "x509Certificates": [{ "value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx" }],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"a330bc54f0671c9\"",
            "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
        }
    })
}

/// A team of the org, made through SCIM, holding `members` (SCIM user ids): its id.
async fn team_with(scim: &Client, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    let body = json!({ "schemas": [GROUP], "displayName": name, "members": members });
    scim.post("/scim/v2/Groups", &body).await.expect(201)["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn rfc_full_user_round_trips_every_core_attribute() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let body = rfc_full_user();
    let created = scim.post("/scim/v2/Users", &body).await.expect(201).clone();
    let id = created["id"].as_str().unwrap().to_string();
    assert_ne!(id, body["id"].as_str().unwrap(), "the server sets the id");
    let team = team_with(&scim, "Tour Guides", &[&id]).await;
    let fetched = scim.get(&format!("/scim/v2/Users/{id}")).await.expect(200).clone();
    let sent = body.as_object().unwrap();
    for (key, value) in
        sent.iter().filter(|(k, _)| !["schemas", "id", "meta", "password", "groups"].contains(&k.as_str()))
    {
        assert_eq!(&fetched[key], value, "{key}");
        assert_eq!(&created[key], value, "{key} in the POST response");
    }
    assert_eq!(fetched["schemas"], json!([USER]));
    assert!(fetched.get("password").is_none());
    assert!(created.get("groups").is_none(), "{created}");
    assert_eq!(
        fetched["groups"],
        json!([{
            "value": team,
            "$ref": format!("{}/scim/v2/Groups/{team}", server.base),
            "display": "Tour Guides",
            "type": "direct"
        }])
    );
    // Every attribute the RFC lists can be asked for by name.
    let only =
        scim.get(&format!("/scim/v2/Users/{id}?attributes=ims.value,x509Certificates,roles.value")).await;
    let only = only.expect(200);
    assert_eq!(only["ims"], json!([{ "value": "someaimhandle" }]));
    assert_eq!(only["roles"], json!([{ "value": "Tour Guide" }]));
    assert_eq!(only["x509Certificates"], body["x509Certificates"]);
    assert!(only.get("photos").is_none(), "{only}");
}

#[tokio::test]
async fn rfc_read_only_groups_in_a_request_is_ignored() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut body = user_body("ro@example.com");
    let claimed = json!([{ "value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Admins" }]);
    body["groups"] = claimed.clone();
    let user = scim.post("/scim/v2/Users", &body).await.expect(201).clone();
    assert!(user.get("groups").is_none(), "{user}");
    let id = user["id"].as_str().unwrap().to_string();
    let path = format!("/scim/v2/Users/{id}");
    let team = team_with(&scim, "Real", &[&id]).await;
    // PUT replaces the resource, yet neither adds nor clears the memberships it cannot write.
    for groups in [claimed, json!([])] {
        body["groups"] = groups;
        let put = scim.put(&path, &body).await;
        let put = put.expect(200);
        assert_eq!(put["groups"].as_array().map(Vec::len), Some(1), "{put}");
        assert_eq!(put["groups"][0]["value"], json!(team));
    }
    let by_team = scim.get(&format!("/scim/v2/Groups/{team}")).await;
    assert_eq!(by_team.expect(200)["members"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn rfc_unknown_extension_attributes_are_ignored() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut body = user_body("ext@example.com");
    body["schemas"] = json!([USER, ENTERPRISE, CUSTOM]);
    body[CUSTOM] = json!({ "badgeNumber": "42", "nested": { "x": 1 } });
    body[format!("{CUSTOM}:shift")] = json!("night");
    body[ENTERPRISE] = json!({ "department": "Tour" });
    let user = scim.post("/scim/v2/Users", &body).await.expect(201).clone();
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    for user in [user.clone(), scim.get(&path).await.expect(200).clone()] {
        assert_eq!(user["schemas"], json!([USER, ENTERPRISE]));
        assert_eq!(user[ENTERPRISE], json!({ "department": "Tour" }));
        assert!(!user.to_string().contains("badgeNumber") && !user.to_string().contains("night"), "{user}");
    }
    let add = patch(json!([{ "op": "add", "value": { CUSTOM: { "badgeNumber": "43" }, "title": "Guide" } }]));
    let patched = scim.patch(&path, &add).await;
    let patched = patched.expect(200);
    assert_eq!(patched["title"], "Guide");
    assert!(patched.get(CUSTOM).is_none(), "{patched}");
    // An unknown attribute of a schema Guildhall serves is still refused.
    body["shoeSize"] = json!(42);
    let refused = scim.put(&path, &body).await;
    assert_eq!(scim_type(&refused, 400), "invalidValue");
}

#[tokio::test]
async fn rfc_body_without_the_core_urn_is_refused() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let adscim = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
    for (case, path, schemas) in [
        ("enterprise only", "/scim/v2/Users", json!([ENTERPRISE])),
        ("unknown extension only", "/scim/v2/Users", json!([CUSTOM])),
        ("empty", "/scim/v2/Users", json!([])),
        ("a group's", "/scim/v2/Users", json!([GROUP, CUSTOM])),
        ("adscim only", "/scim/v2/Groups", json!([adscim])),
    ] {
        let body = json!({ "schemas": schemas, "userName": "nocore@example.com", "displayName": "No core" });
        let refused = scim.post(path, &body).await;
        assert_eq!(scim_type(&refused, 400), "invalidSyntax", "{case}: {}", refused.text);
    }
    let listed = scim.get("/scim/v2/Users?count=0").await;
    assert_eq!(listed.expect(200)["totalResults"], 0);
}

#[tokio::test]
async fn manager_display_name_is_filled_from_the_same_org_only() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut boss = user_body("boss@example.com");
    boss["displayName"] = json!("Big Boss");
    let boss = scim.post("/scim/v2/Users", &boss).await.expect(201).clone();
    let boss_id = boss["id"].as_str().unwrap().to_string();
    let mut body = user_body("report@example.com");
    body["schemas"] = json!([USER, ENTERPRISE]);
    // A client's displayName is read-only and ignored; the server's comes from the manager.
    body[ENTERPRISE] = json!({ "manager": { "value": boss_id, "displayName": "Someone Else" } });
    let report = scim.post("/scim/v2/Users", &body).await.expect(201).clone();
    let path = format!("/scim/v2/Users/{}", report["id"].as_str().unwrap());
    let expected = json!({
        "value": boss_id,
        "$ref": format!("{}/scim/v2/Users/{boss_id}", server.base),
        "displayName": "Big Boss"
    });
    assert_eq!(report[ENTERPRISE]["manager"], expected);
    assert_eq!(scim.get(&path).await.expect(200)[ENTERPRISE]["manager"], expected);
    let listed = scim.get("/scim/v2/Users?filter=userName%20eq%20%22report@example.com%22").await;
    assert_eq!(listed.expect(200)["Resources"][0][ENTERPRISE]["manager"], expected);
    // The manager's rename shows on the next read.
    let boss_path = format!("/scim/v2/Users/{boss_id}");
    let rename = patch(json!([{ "op": "replace", "path": "displayName", "value": "Bigger Boss" }]));
    scim.patch(&boss_path, &rename).await.expect(200);
    let renamed = scim.get(&path).await;
    assert_eq!(renamed.expect(200)[ENTERPRISE]["manager"]["displayName"], "Bigger Boss");
    // Another org naming the same id sees no name: ids are looked up in the reader's org only.
    let (_, _, other) = scim_org(&server, "owner2@example.com").await;
    let mut stranger = user_body("stranger@example.com");
    stranger[ENTERPRISE] = json!({ "manager": boss_id });
    let stranger = other.post("/scim/v2/Users", &stranger).await.expect(201).clone();
    assert_eq!(stranger[ENTERPRISE]["manager"]["value"], json!(boss_id));
    assert!(stranger[ENTERPRISE]["manager"].get("displayName").is_none(), "{stranger}");
    let fetched = other.get(&format!("/scim/v2/Users/{}", stranger["id"].as_str().unwrap())).await;
    assert!(fetched.expect(200)[ENTERPRISE]["manager"].get("displayName").is_none());
    // A PATCH pointing at the manager answers with the name at once.
    let (_, _, third) = scim_org(&server, "owner3@example.com").await;
    let local_boss = create_user(&third, "lb@example.com").await["id"].as_str().unwrap().to_string();
    let worker = create_user(&third, "w@example.com").await;
    let set = patch(
        json!([{ "op": "add", "path": format!("{ENTERPRISE}:manager"), "value": { "value": local_boss } }]),
    );
    let set = third.patch(&format!("/scim/v2/Users/{}", worker["id"].as_str().unwrap()), &set).await;
    assert_eq!(set.expect(200)[ENTERPRISE]["manager"]["displayName"], "Babs Jensen");
}

/// Okta and Entra ID push users many at a time; concurrent writes are committed together.
/// Each request still gets its own answer: a duplicate in the crowd is refused with 409 and
/// costs no other create its user, and the audit chain and event stream stay whole and ordered.
#[tokio::test]
async fn rfc_concurrent_creates_get_their_own_answers_and_a_duplicate_among_them_costs_no_other_its_user() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let mut names: Vec<String> = (0..40).map(|i| format!("racer{i}@example.com")).collect();
    names.insert(20, "racer7@example.com".into());
    let mut tasks = tokio::task::JoinSet::new();
    for name in names {
        let scim = scim.clone();
        tasks.spawn(async move {
            let resp = scim.post("/scim/v2/Users", &user_body(&name)).await;
            (name, resp.status.as_u16(), resp.body)
        });
    }
    let mut created = std::collections::HashMap::new();
    let mut refused = 0;
    while let Some(joined) = tasks.join_next().await {
        let (name, status, body) = joined.expect("task");
        match status {
            201 => {
                assert_eq!(body["userName"], json!(name), "{body}");
                assert!(created.insert(name, body["id"].as_str().expect("id").to_string()).is_none());
            }
            409 => {
                assert_eq!(name, "racer7@example.com");
                assert_eq!(body["scimType"], "uniqueness", "{body}");
                refused += 1;
            }
            other => panic!("{name}: HTTP {other}: {body}"),
        }
    }
    assert_eq!((created.len(), refused), (40, 1));
    for (name, id) in &created {
        let fetched = scim.get(&format!("/scim/v2/Users/{id}")).await;
        assert_eq!(fetched.expect(200)["userName"], json!(name));
    }
    let listed = scim.get("/scim/v2/Users?count=100").await;
    assert_eq!(listed.expect(200)["totalResults"], 40);

    let verify = owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await;
    assert_eq!(verify.expect(200)["valid"], true, "{}", verify.text);
    let events = owner.get(&format!("/api/v1/orgs/{org}/events?types=scim.user.created&limit=500")).await;
    let events = events.expect(200)["data"].as_array().expect("events").clone();
    assert_eq!(events.len(), 40);
    let ids: std::collections::HashSet<&str> =
        events.iter().filter_map(|e| e["data"]["scim_id"].as_str()).collect();
    assert_eq!(ids.len(), 40);
    assert!(created.values().all(|id| ids.contains(id.as_str())));
}

/// Writes of different orgs land in one batch when they arrive together; each org's records
/// must still go to its own audit chain and event stream, never the other's.
#[tokio::test]
async fn concurrent_writes_of_two_orgs_share_a_batch_but_never_each_others_records() {
    let server = TestServer::start().await;
    let (owner_a, org_a, scim_a) = scim_org(&server, "owner@a.example").await;
    let (owner_b, org_b, scim_b) = scim_org(&server, "owner@b.example").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        for (scim, org) in [(scim_a.clone(), "a"), (scim_b.clone(), "b")] {
            tasks.spawn(async move {
                let resp = scim.post("/scim/v2/Users", &user_body(&format!("user{i}@{org}.example"))).await;
                assert_eq!(resp.status, 201, "{}", resp.text);
                (org, resp.body["id"].as_str().expect("id").to_string())
            });
        }
    }
    let mut ids = std::collections::HashMap::<&str, std::collections::HashSet<String>>::new();
    while let Some(joined) = tasks.join_next().await {
        let (org, id) = joined.expect("task");
        ids.entry(org).or_default().insert(id);
    }
    for (owner, org, scim, mine) in [(&owner_a, &org_a, &scim_a, "a"), (&owner_b, &org_b, &scim_b, "b")] {
        let verify = owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await;
        assert_eq!(verify.expect(200)["valid"], true, "{}", verify.text);
        let events = owner.get(&format!("/api/v1/orgs/{org}/events?types=scim.user.created&limit=500")).await;
        let seen: std::collections::HashSet<String> = events.expect(200)["data"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["data"]["scim_id"].as_str().map(str::to_string))
            .collect();
        assert_eq!(&seen, &ids[mine], "org {mine} saw exactly its own creates");
        let listed = scim.get("/scim/v2/Users?count=100").await;
        assert_eq!(listed.expect(200)["totalResults"], 20);
    }
}
