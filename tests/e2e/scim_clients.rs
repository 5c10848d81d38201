//! The forms Microsoft Entra ID and Okta send, each accepted as the client sends it. Test names
//! say which client a form comes from.

use guildhall_tests::TestServer;
use serde_json::json;

use crate::scim_users::{ENTERPRISE, USER, create_user, patch, scim_org, user_body};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

#[tokio::test]
async fn entra_patches_with_capitalized_ops_string_booleans_and_dotted_keys() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "entra@example.com").await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    let manager = create_user(&scim, "boss@example.com").await;
    let manager_id = manager["id"].as_str().unwrap();
    let ops = patch(json!([
        { "op": "Replace", "path": "active", "value": "False" },
        { "op": "Add", "value": {
            "name.givenName": "Entra",
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Entra User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales",
        } },
        { "op": "Add", "path": "emails[type eq \"work\"].value", "value": "entra.work@example.com" },
        { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100" },
        { "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": { "value": manager_id } },
    ]));
    let patched = scim.patch(&path, &ops).await;
    let patched = patched.expect(200);
    assert_eq!(patched["active"], false);
    assert_eq!(patched["name"]["givenName"], "Entra");
    assert_eq!(patched["displayName"], "Entra User");
    assert_eq!(patched[ENTERPRISE]["department"], "Sales");
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], json!(manager_id));
    assert_eq!(patched["emails"][0]["value"], "entra.work@example.com");
    assert_eq!(patched["phoneNumbers"][0], json!({ "type": "mobile", "value": "+1 555 0100" }));
    let back = patch(json!([{ "op": "replace", "value": { "active": "True" } }]));
    assert_eq!(scim.patch(&path, &back).await.expect(200)["active"], true);
}

#[tokio::test]
async fn entra_probes_by_user_name_and_external_id() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "probe@example.com").await;
    let by_name = scim.get("/scim/v2/Users?filter=userName+eq+%22probe%40example.com%22").await;
    assert_eq!(by_name.expect(200)["Resources"][0]["id"], user["id"]);
    let by_external = scim.get("/scim/v2/Users?filter=externalId%20eq%20%22ext-probe@example.com%22").await;
    assert_eq!(by_external.expect(200)["totalResults"], 1);
    // Nothing matches: an empty list, not an error.
    let none = scim.get("/scim/v2/Users?filter=userName%20eq%20%22nobody%40example.com%22").await;
    let none = none.expect(200);
    assert_eq!(
        (none["totalResults"].as_u64(), none["Resources"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
    // externalId is case-exact.
    let cased = scim.get("/scim/v2/Users?filter=externalId%20eq%20%22EXT-probe@example.com%22").await;
    assert_eq!(cased.expect(200)["totalResults"], 0);
}

#[tokio::test]
async fn entra_removes_group_members_by_value_list() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let a = create_user(&scim, "a@example.com").await["id"].as_str().unwrap().to_string();
    let b = create_user(&scim, "b@example.com").await["id"].as_str().unwrap().to_string();
    let body = json!({ "schemas": [GROUP], "displayName": "G", "members": [{ "value": a }, { "value": b }] });
    let group = scim.post("/scim/v2/Groups", &body).await.expect(201).clone();
    let path = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
    let remove = patch(json!([{ "op": "Remove", "path": "members", "value": [{ "value": a }] }]));
    assert_eq!(scim.patch(&path, &remove).await.status, 204);
    let members = scim.get(&path).await.expect(200)["members"].clone();
    assert_eq!(members.as_array().map(|m| m.len()), Some(1));
    assert_eq!(members[0]["value"], json!(b));
}

#[tokio::test]
async fn okta_finds_groups_by_display_name_and_empties_them() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let a = create_user(&scim, "a@example.com").await["id"].as_str().unwrap().to_string();
    let body = json!({ "schemas": [GROUP], "displayName": "Okta Group", "members": [{ "value": a }] });
    let group = scim.post("/scim/v2/Groups", &body).await.expect(201).clone();
    let found = scim.get("/scim/v2/Groups?filter=displayName%20eq%20%22okta%20group%22").await;
    assert_eq!(found.expect(200)["Resources"][0]["id"], group["id"]);
    let path = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
    let empty = patch(json!([{ "op": "replace", "path": "members", "value": [] }]));
    assert_eq!(scim.patch(&path, &empty).await.status, 204);
    assert!(scim.get(&path).await.expect(200).get("members").is_none());
}

#[tokio::test]
async fn okta_sends_a_password_that_is_never_kept() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut body = user_body("pw@example.com");
    body["password"] = json!("Okta-Sent-1!");
    let user = scim.post("/scim/v2/Users", &body).await.expect(201).clone();
    assert!(user.get("password").is_none());
    assert_eq!(server.login("pw@example.com", "Okta-Sent-1!").await.status, 401);
    let _ = USER;
}

#[tokio::test]
async fn okta_puts_groups_with_member_display_names() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let a = create_user(&scim, "a@example.com").await["id"].as_str().unwrap().to_string();
    let group = scim.post("/scim/v2/Groups", &json!({ "schemas": [GROUP], "displayName": "Okta" })).await;
    let path = format!("/scim/v2/Groups/{}", group.expect(201)["id"].as_str().unwrap());
    let body = json!({
        "schemas": [GROUP],
        "id": "ignored",
        "displayName": "Okta Renamed",
        "members": [{ "value": a, "display": "a@example.com" }],
    });
    let put = scim.put(&path, &body).await;
    let put = put.expect(200);
    assert_eq!(put["displayName"], "Okta Renamed");
    assert_eq!(
        put["members"],
        json!([{ "value": a, "$ref": format!("{}/scim/v2/Users/{a}", server.base), "type": "User" }])
    );
}

#[tokio::test]
async fn entra_documented_create_user_with_roles_is_accepted() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    // learn.microsoft.com, "Develop and plan provisioning for a SCIM endpoint": Create User.
    let body = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{
            "primary": true,
            "type": "work",
            "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
        }],
        "meta": {
            "resourceType": "User"
        },
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName"
        },
        "roles": []
    });
    let created = scim.post("/scim/v2/Users", &body).await;
    let user = created.expect(201).clone();
    assert_eq!(user["userName"], body["userName"]);
    assert_eq!(user["externalId"], body["externalId"]);
    assert_eq!(user["emails"], body["emails"]);
    assert_eq!(user["name"], body["name"]);
    assert_eq!(user["active"], true);
    // An empty list is unassigned (RFC 7644 §3.5.2), so it is not returned.
    assert!(user.get("roles").is_none(), "{user}");
    assert_eq!(user["schemas"], json!([USER]));
    // Entra then finds the user by the matching attribute.
    let found = scim
        .get("/scim/v2/Users?filter=userName+eq+%22Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1%22")
        .await;
    assert_eq!(found.expect(200)["Resources"][0]["id"], user["id"]);
    // A role assigned later is kept.
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    let role =
        patch(json!([{ "op": "Add", "path": "roles", "value": [{ "value": "Writer", "primary": "True" }] }]));
    let patched = scim.patch(&path, &role).await;
    assert_eq!(patched.expect(200)["roles"], json!([{ "value": "Writer", "primary": true }]));
}

#[tokio::test]
async fn entra_group_create_with_adscim_extension_urn_is_accepted() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    // learn.microsoft.com, "Develop and plan provisioning for a SCIM endpoint": Create Group.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {
            "resourceType": "Group"
        }
    });
    let created = scim.post("/scim/v2/Groups", &body).await;
    let group = created.expect(201).clone();
    assert_eq!(group["schemas"], json!([GROUP]));
    assert_eq!(group["displayName"], "displayName");
    assert_eq!(group["externalId"], body["externalId"]);
    let fetched = scim.get(&format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap())).await;
    assert_eq!(fetched.expect(200), &group);
}

#[tokio::test]
async fn okta_documented_create_user_is_accepted() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    // developer.okta.com, "SCIM 2.0 protocol reference": Create the user.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Test.User@okta.local",
        "name": {
            "givenName": "Test",
            "familyName": "User"
        },
        "emails": [{
            "primary": true,
            "value": "Test.User@okta.local",
            "type": "work"
        }],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    let created = scim.post("/scim/v2/Users", &body).await;
    let user = created.expect(201).clone();
    for key in ["userName", "name", "emails", "displayName", "locale", "externalId", "active"] {
        assert_eq!(user[key], body[key], "{key}");
    }
    assert!(user.get("password").is_none() && user.get("groups").is_none(), "{user}");
    let fetched = scim.get(&format!("/scim/v2/Users/{}", user["id"].as_str().unwrap())).await;
    assert_eq!(fetched.expect(200), &user);
}
