//! Group-to-role mapping by pattern: a `re:` key maps every group whose whole name or external
//! id matches, for SCIM groups today and SSO group claims next, with the same limits as exact
//! keys on who may map what.

use guildhall_tests::{Client, TestServer};
use serde_json::{Value, json};

use crate::scim_users::{create_user, scim_org};

fn group_body(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": members,
    })
}

/// A directory user of the org: `(scim id, user id)`.
async fn directory_user(owner: &Client, org: &str, scim: &Client, email: &str) -> (String, String) {
    let scim_id = create_user(scim, email).await["id"].as_str().unwrap().to_string();
    let members = owner.get(&format!("/api/v1/orgs/{org}/members?email={email}")).await;
    let user_id = members.expect(200)["data"][0]["user_id"].as_str().unwrap().to_string();
    (scim_id, user_id)
}

async fn role_of(owner: &Client, org: &str, user_id: &str) -> String {
    owner.get(&format!("/api/v1/orgs/{org}/members/{user_id}")).await.expect(200)["role"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn map(owner: &Client, org: &str, group: &str, role: &str) -> guildhall_tests::Resp {
    owner
        .post(&format!("/api/v1/orgs/{org}/group-role-mappings"), &json!({ "group": group, "role": role }))
        .await
}

#[tokio::test]
async fn a_pattern_maps_every_group_whose_whole_name_matches() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let (early, early_user) = directory_user(&owner, &org, &scim, "early@example.com").await;
    // A group that exists before the mapping: its members get the role when the mapping is made.
    scim.post("/scim/v2/Groups", &group_body("eng-data", &[&early])).await.expect(201);
    assert_eq!(role_of(&owner, &org, &early_user).await, "member");
    let mapping = map(&owner, &org, "re:eng-.*", "admin").await;
    assert_eq!(mapping.expect(201)["group"], "re:eng-.*");
    assert_eq!(role_of(&owner, &org, &early_user).await, "admin");

    // Groups made afterwards match case-insensitively and on the whole name only.
    let (inside, inside_user) = directory_user(&owner, &org, &scim, "inside@example.com").await;
    let (outside, outside_user) = directory_user(&owner, &org, &scim, "outside@example.com").await;
    scim.post("/scim/v2/Groups", &group_body("ENG-Platform", &[&inside])).await.expect(201);
    scim.post("/scim/v2/Groups", &group_body("platform-eng-tools", &[&outside])).await.expect(201);
    assert_eq!(role_of(&owner, &org, &inside_user).await, "admin");
    assert_eq!(role_of(&owner, &org, &outside_user).await, "member", "the pattern is anchored");

    // An exact key and a pattern live in one table; the more privileged role wins.
    map(&owner, &org, "ENG-Platform", "member").await.expect(201);
    assert_eq!(role_of(&owner, &org, &inside_user).await, "admin");
    // The same pattern twice is the same mapping.
    assert_eq!(map(&owner, &org, "re:eng-.*", "member").await.problem(409), "MAPPING_EXISTS");

    // Removing the pattern gives its members back what their other groups map to.
    let listed = owner.get(&format!("/api/v1/orgs/{org}/group-role-mappings")).await;
    let pattern_id = listed.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["group"] == "re:eng-.*")
        .and_then(|m| m["id"].as_str())
        .unwrap()
        .to_string();
    let removed = owner.delete(&format!("/api/v1/orgs/{org}/group-role-mappings/{pattern_id}")).await;
    assert_eq!(removed.status, 204);
    assert_eq!(role_of(&owner, &org, &inside_user).await, "member");
    assert_eq!(role_of(&owner, &org, &early_user).await, "member");
}

#[tokio::test]
async fn a_pattern_that_is_not_a_bounded_regular_expression_is_refused_with_the_reason() {
    let server = TestServer::start().await;
    let (owner, org, _scim) = scim_org(&server, "owner@example.com").await;
    let cases = [
        ("re:", "empty"),
        ("re:(eng", "regular expression"),
        ("re:(\\w{50}){50}", "too large"),
        (&*format!("re:{}", "a".repeat(300)), "256"),
    ];
    for (group, reason) in cases {
        let resp = map(&owner, &org, group, "admin").await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{group}");
        assert!(resp.text.contains(reason), "{group}: {}", resp.text);
    }
    let wrong_type = owner
        .post(
            &format!("/api/v1/orgs/{org}/group-role-mappings"),
            &json!({ "group": ["re:.*"], "role": "admin" }),
        )
        .await;
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.text);
    let listed = owner.get(&format!("/api/v1/orgs/{org}/group-role-mappings")).await;
    assert_eq!(listed.expect(200)["data"], json!([]), "nothing refused was stored");
}

/// A catch-all pattern is a blanket grant: an admin may not use one to hand out a role above
/// their own, and a pattern of org A never touches org B's groups.
#[tokio::test]
async fn a_catch_all_pattern_neither_outranks_its_author_nor_reaches_another_org() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    let (member_scim, member_user) = directory_user(&owner, &org, &scim, "carol@example.com").await;
    scim.post("/scim/v2/Groups", &group_body("anything", &[&member_scim])).await.expect(201);

    // An admin cannot map `re:.*` to owner; to admin, which they hold, they can.
    let (invited, _) = server.member_of(&owner, &org, "second-admin@example.com", "admin").await;
    assert_eq!(map(&invited, &org, "re:.*", "owner").await.status, 403);
    assert_eq!(map(&invited, &org, "re:.*", "admin").await.status, 201);
    assert_eq!(role_of(&owner, &org, &member_user).await, "admin");

    let (owner_b, org_b, scim_b) = scim_org(&server, "owner-b@example.com").await;
    let (b_scim, b_user) = directory_user(&owner_b, &org_b, &scim_b, "bob@example.com").await;
    scim_b.post("/scim/v2/Groups", &group_body("anything", &[&b_scim])).await.expect(201);
    assert_eq!(role_of(&owner_b, &org_b, &b_user).await, "member");
    // Org B's owner cannot see or remove org A's pattern either.
    assert_eq!(owner_b.get(&format!("/api/v1/orgs/{org}/group-role-mappings")).await.status, 404);
}
