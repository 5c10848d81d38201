//! SCIM Groups over HTTP: teams with members, large member pushes, group-to-role mapping.

use guildhall_tests::TestServer;
use serde_json::{Value, json};

use crate::scim_users::{create_user, patch, scim_org};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn group_body(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    json!({ "schemas": [GROUP], "displayName": name, "members": members })
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| a.iter().filter_map(|m| m["value"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_group_is_a_team_with_members() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let alice = create_user(&scim, "alice@example.com").await;
    let alice_id = alice["id"].as_str().unwrap();
    let created = scim.post("/scim/v2/Groups", &group_body("Engineering", &[alice_id])).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let group = created.body.clone();
    let id = group["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), Some(format!("{}/scim/v2/Groups/{id}", server.base).as_str()));
    assert_eq!(group["members"][0]["value"], json!(alice_id));
    assert_eq!(group["members"][0]["type"], "User");
    assert_eq!(group["members"][0]["$ref"], json!(format!("{}/scim/v2/Users/{alice_id}", server.base)));
    // The org API shows the team; the user shows the group.
    let teams = owner.get(&format!("/api/v1/orgs/{org}/teams")).await;
    assert_eq!(teams.expect(200)["data"][0]["name"], "Engineering");
    let user = scim.get(&format!("/scim/v2/Users/{alice_id}")).await;
    assert_eq!(user.expect(200)["groups"][0]["value"], json!(id));
    let lean = scim.get(&format!("/scim/v2/Groups/{id}?excludedAttributes=members")).await;
    assert!(lean.expect(200).get("members").is_none());
    assert_eq!(lean.body["displayName"], "Engineering");
    let dup = scim.post("/scim/v2/Groups", &group_body("engineering", &[])).await;
    assert_eq!((dup.status.as_u16(), dup.body["scimType"].as_str()), (409, Some("uniqueness")));
    let unknown =
        scim.post("/scim/v2/Groups", &group_body("Ghosts", &["0190a7e2-0000-7000-8000-000000000000"])).await;
    assert_eq!((unknown.status.as_u16(), unknown.body["scimType"].as_str()), (400, Some("invalidValue")));
    let renamed = scim
        .put(
            &format!("/scim/v2/Groups/{id}"),
            &json!({ "schemas": [GROUP], "displayName": "Platform", "externalId": "e-1" }),
        )
        .await;
    let renamed = renamed.expect(200);
    assert_eq!((renamed["displayName"].as_str(), renamed.get("members")), (Some("Platform"), None));
    assert_eq!(scim.delete(&format!("/scim/v2/Groups/{id}")).await.status, 204);
    assert_eq!(scim.get(&format!("/scim/v2/Groups/{id}")).await.status, 404);
    // Alice stays in the org.
    assert_eq!(scim.get(&format!("/scim/v2/Users/{alice_id}")).await.status, 200);
}

#[tokio::test]
async fn member_patches_add_remove_and_replace_atomically() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut users = Vec::new();
    for i in 0..4 {
        users
            .push(create_user(&scim, &format!("u{i}@example.com")).await["id"].as_str().unwrap().to_string());
    }
    let group = scim.post("/scim/v2/Groups", &group_body("Team", &[])).await.expect(201).clone();
    let path = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
    let add = patch(
        json!([{ "op": "add", "path": "members", "value": [{ "value": users[0] }, { "value": users[1] }, { "value": users[2] }] }]),
    );
    assert_eq!(scim.patch(&path, &add).await.status, 204);
    let remove = patch(json!([{ "op": "remove", "path": format!("members[value eq \"{}\"]", users[0]) }]));
    assert_eq!(scim.patch(&path, &remove).await.status, 204);
    let members = ids(&scim.get(&path).await.expect(200)["members"]);
    assert_eq!(members, vec![users[1].clone(), users[2].clone()]);
    // One bad operation fails the request and changes nothing.
    let mixed = patch(json!([
        { "op": "add", "path": "members", "value": [{ "value": users[3] }] },
        { "op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z" },
    ]));
    let failed = scim.patch(&path, &mixed).await;
    assert_eq!(failed.status, 400, "{}", failed.text);
    assert_eq!(ids(&scim.get(&path).await.expect(200)["members"]), vec![users[1].clone(), users[2].clone()]);
    let unknown = patch(
        json!([{ "op": "add", "path": "members", "value": [{ "value": "0190a7e2-0000-7000-8000-000000000000" }] }]),
    );
    assert_eq!(scim.patch(&path, &unknown).await.body["scimType"], "invalidValue");
    let filtered =
        scim.get(&format!("/scim/v2/Groups?filter=members%5Bvalue%20eq%20%22{}%22%5D", users[1])).await;
    assert_eq!(filtered.expect(200)["totalResults"], 1);
}

#[tokio::test]
async fn hundreds_of_members_pushed_in_pieces_are_all_kept() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut users = Vec::new();
    for i in 0..400 {
        users.push(
            create_user(&scim, &format!("bulk{i}@example.com")).await["id"].as_str().unwrap().to_string(),
        );
    }
    let group = scim.post("/scim/v2/Groups", &group_body("All", &[])).await.expect(201).clone();
    let path = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
    let values: Vec<Value> = users.iter().map(|id| json!({ "value": id })).collect();
    // Pushed in two requests, as Okta does with large groups; the second repeats some.
    let first = patch(json!([{ "op": "add", "path": "members", "value": values[..250] }]));
    let second = patch(json!([{ "op": "add", "path": "members", "value": values[200..] }]));
    assert_eq!(scim.patch(&path, &first).await.status, 204);
    assert_eq!(scim.patch(&path, &second).await.status, 204);
    let mut members = ids(&scim.get(&path).await.expect(200)["members"]);
    members.sort();
    users.sort();
    assert_eq!(members, users);
}

#[tokio::test]
async fn mapped_groups_decide_the_role_of_directory_members() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "carol@example.com").await;
    let scim_id = user["id"].as_str().unwrap();
    let members = owner.get(&format!("/api/v1/orgs/{org}/members?email=carol@example.com")).await;
    let user_id = members.expect(200)["data"][0]["user_id"].as_str().unwrap().to_string();
    let role_of = |owner: &guildhall_tests::Client| {
        let url = format!("/api/v1/orgs/{org}/members/{user_id}");
        let owner = owner.clone();
        async move { owner.get(&url).await.expect(200)["role"].as_str().unwrap().to_string() }
    };
    let mapping = owner
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "Admins", "role": "admin" }),
        )
        .await;
    let mapping_id = mapping.expect(201)["id"].as_str().unwrap().to_string();
    let dup = owner
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": "ADMINS", "role": "member" }),
        )
        .await;
    assert_eq!(dup.problem(409), "MAPPING_EXISTS");
    let bad_role = owner
        .post(&format!("/api/v1/orgs/{org}/group-role-mappings"), &json!({ "group": "X", "role": "nope" }))
        .await;
    assert_eq!(bad_role.problem(400), "VALIDATION_ERROR");
    let group = scim.post("/scim/v2/Groups", &group_body("admins", &[scim_id])).await.expect(201).clone();
    assert_eq!(role_of(&owner).await, "admin");
    // The org API cannot override a role that follows the directory.
    let manual =
        owner.patch(&format!("/api/v1/orgs/{org}/members/{user_id}"), &json!({ "role": "member" })).await;
    assert_eq!(manual.problem(409), "DIRECTORY_MANAGED");
    let path = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
    let out = patch(json!([{ "op": "Remove", "path": "members", "value": [{ "value": scim_id }] }]));
    assert_eq!(scim.patch(&path, &out).await.status, 204);
    assert_eq!(role_of(&owner).await, "member");
    let back = patch(json!([{ "op": "add", "path": "members", "value": [{ "value": scim_id }] }]));
    scim.patch(&path, &back).await;
    assert_eq!(role_of(&owner).await, "admin");
    assert_eq!(
        owner.delete(&format!("/api/v1/orgs/{org}/group-role-mappings/{mapping_id}")).await.status,
        204
    );
    let listed = owner.get(&format!("/api/v1/orgs/{org}/group-role-mappings")).await;
    assert_eq!(listed.expect(200)["data"], json!([]));
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=scim.group.*")).await;
    assert!(log.expect(200)["data"].as_array().unwrap().iter().all(|e| e["actor"]["type"] == "scim"));
}

#[tokio::test]
async fn member_operations_apply_in_order_within_one_request() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let a = create_user(&scim, "a@example.com").await["id"].as_str().unwrap().to_string();
    let b = create_user(&scim, "b@example.com").await["id"].as_str().unwrap().to_string();
    let group = scim.post("/scim/v2/Groups", &group_body("Order", &[&b])).await.expect(201).clone();
    let path = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
    let version = group["meta"]["version"].clone();
    let ops = patch(json!([
        { "op": "add", "path": "members", "value": [{ "value": a }] },
        { "op": "remove", "path": format!("members[value eq \"{a}\"]") },
        { "op": "remove", "path": "members", "value": [{ "value": b }] },
        { "op": "add", "path": "members", "value": [{ "value": b }] },
        { "op": "remove", "path": "members", "value": [{ "value": "not-a-member" }] },
    ]));
    assert_eq!(scim.patch(&path, &ops).await.status, 204);
    let after = scim.get(&path).await.expect(200).clone();
    assert_eq!(ids(&after["members"]), vec![b.clone()]);
    // Nothing changed, so the version did not either.
    assert_eq!(after["meta"]["version"], version);
}

#[tokio::test]
async fn the_most_privileged_mapped_role_wins() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "dave@example.com").await;
    let scim_id = user["id"].as_str().unwrap();
    let members = owner.get(&format!("/api/v1/orgs/{org}/members?email=dave@example.com")).await;
    let user_id = members.expect(200)["data"][0]["user_id"].as_str().unwrap().to_string();
    let role = owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "auditor", "name": "Auditor", "permissions": ["audit:read", "members:read"] }),
        )
        .await;
    assert_eq!(role.status, 201, "{}", role.text);
    for (group, role) in [("Auditors", "auditor"), ("Admins", "admin"), ("ext-42", "member")] {
        let mapped = owner
            .post(
                &format!("/api/v1/orgs/{org}/group-role-mappings"),
                &json!({ "group": group, "role": role }),
            )
            .await;
        mapped.expect(201);
    }
    let role_now = || async {
        owner.get(&format!("/api/v1/orgs/{org}/members/{user_id}")).await.expect(200)["role"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // A group mapped by externalId counts like one mapped by name.
    let staff = json!({ "schemas": [GROUP], "displayName": "Staff", "externalId": "ext-42", "members": [{ "value": scim_id }] });
    scim.post("/scim/v2/Groups", &staff).await.expect(201);
    assert_eq!(role_now().await, "member");
    scim.post("/scim/v2/Groups", &group_body("auditors", &[scim_id])).await.expect(201);
    assert_eq!(role_now().await, "auditor");
    let admins = scim.post("/scim/v2/Groups", &group_body("ADMINS", &[scim_id])).await.expect(201).clone();
    assert_eq!(role_now().await, "admin");
    scim.delete(&format!("/scim/v2/Groups/{}", admins["id"].as_str().unwrap())).await;
    assert_eq!(role_now().await, "auditor");
}

#[tokio::test]
async fn role_mappings_stay_in_their_org_and_refuse_bad_input() {
    let server = TestServer::start().await;
    let (owner_a, org_a, _) = scim_org(&server, "a@example.com").await;
    let (owner_b, org_b, _) = scim_org(&server, "b@example.com").await;
    let mapping = owner_a
        .post(
            &format!("/api/v1/orgs/{org_a}/group-role-mappings"),
            &json!({ "group": "Admins", "role": "admin" }),
        )
        .await;
    let id = mapping.expect(201)["id"].as_str().unwrap().to_string();
    // Org B's owner reaches neither org A's list nor its mapping, by either path.
    assert_eq!(owner_b.get(&format!("/api/v1/orgs/{org_a}/group-role-mappings")).await.status, 404);
    assert_eq!(owner_b.delete(&format!("/api/v1/orgs/{org_a}/group-role-mappings/{id}")).await.status, 404);
    assert_eq!(owner_b.delete(&format!("/api/v1/orgs/{org_b}/group-role-mappings/{id}")).await.status, 404);
    let listed = owner_a.get(&format!("/api/v1/orgs/{org_a}/group-role-mappings")).await;
    assert_eq!(listed.expect(200)["data"].as_array().map(Vec::len), Some(1));
    let url = format!("/api/v1/orgs/{org_a}/group-role-mappings");
    let long = "g".repeat(300);
    let bad: Vec<(String, &str)> = vec![
        ("{nope".into(), "body"),
        (json!({ "group": "X" }).to_string(), "role"),
        (json!({ "group": 5, "role": "admin" }).to_string(), "group"),
        (json!({ "group": "X", "role": "admin", "extra": 1 }).to_string(), "extra"),
        (json!({ "group": long, "role": "admin" }).to_string(), "group"),
        (json!({ "group": "  ", "role": "admin" }).to_string(), "group"),
    ];
    for (body, field) in bad {
        let resp = owner_a.post_raw(&url, "application/json", body.clone()).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{body}");
        assert_eq!(resp.field(), Some(field), "{body}: {}", resp.text);
    }
    let bad_id = owner_a.delete(&format!("{url}/not-a-uuid")).await;
    assert_eq!(bad_id.status, 400);
    // Only owners may map a group to the owner role.
    let (admin, _) = server.member_of(&owner_a, &org_a, "admin@example.com", "admin").await;
    let owner_map = admin.post(&url, &json!({ "group": "Bosses", "role": "owner" })).await;
    assert_eq!(owner_map.status, 403, "{}", owner_map.text);
}
