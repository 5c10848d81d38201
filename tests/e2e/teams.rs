//! Teams: CRUD, membership, permissions, tenant isolation and bad input.

use chrono::Duration;
use guildhall_entities::{team, team_member};
use guildhall_tests::{Client, Resp, TestServer};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

fn user_of(body: &Value) -> String {
    body["user"]["id"].as_str().unwrap().to_string()
}

async fn create_team(client: &Client, org: &str, body: Value) -> Value {
    client.post(&format!("/api/v1/orgs/{org}/teams"), &body).await.expect(201).clone()
}

/// `PUT .../teams/{team}/members/{user}`, which takes no body.
async fn put_member(client: &Client, org: &str, team: &str, user: &str) -> Resp {
    client.send(Method::PUT, &format!("/api/v1/orgs/{org}/teams/{team}/members/{user}"), None).await
}

async fn team_audit(client: &Client, org: &str) -> Vec<Value> {
    let log = client.get(&format!("/api/v1/orgs/{org}/audit-logs?action=team.*&limit=200")).await;
    log.expect(200)["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn owners_create_list_rename_and_delete_teams() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/teams");

    let created = create_team(&owner, &org, json!({ "name": "  Platform ", "external_id": "00g1" })).await;
    assert_eq!(
        (created["name"].as_str(), created["external_id"].as_str(), created["member_count"].as_u64()),
        (Some("Platform"), Some("00g1"), Some(0))
    );
    assert_eq!(created["created_at"], created["updated_at"]);
    let id = created["id"].as_str().unwrap().to_string();
    let support = create_team(&owner, &org, json!({ "name": "Support" })).await;
    assert_eq!(support["external_id"], Value::Null);
    create_team(&owner, &org, json!({ "name": "Platform Ops" })).await;

    let list = owner.get(&path).await;
    let names: Vec<Value> =
        list.expect(200)["data"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, [json!("Platform"), json!("Support"), json!("Platform Ops")]);
    let filtered = owner.get(&format!("{path}?name=PLATFORM")).await;
    assert_eq!(filtered.expect(200)["data"].as_array().unwrap().len(), 2);
    let literal = owner.get(&format!("{path}?name=%25")).await;
    assert_eq!(literal.expect(200)["data"], json!([]));
    let first = owner.get(&format!("{path}?limit=2")).await;
    let first = first.expect(200).clone();
    assert_eq!((first["data"].as_array().unwrap().len(), first["has_more"].as_bool()), (2, Some(true)));
    let rest = owner.get(&format!("{path}?limit=2&cursor={}", first["next_cursor"].as_str().unwrap())).await;
    let rest = rest.expect(200).clone();
    assert_eq!(rest["data"][0]["name"], "Platform Ops");
    assert_eq!((rest["has_more"].as_bool(), rest["next_cursor"].clone()), (Some(false), Value::Null));

    server.clock.advance(Duration::minutes(5));
    let renamed = owner.patch(&format!("{path}/{id}"), &json!({ "name": "Infrastructure" })).await;
    let renamed = renamed.expect(200).clone();
    assert_eq!(
        (renamed["name"].as_str(), renamed["external_id"].as_str()),
        (Some("Infrastructure"), Some("00g1"))
    );
    assert_ne!(renamed["updated_at"], created["updated_at"]);
    assert_eq!(renamed["created_at"], created["created_at"]);
    let cleared = owner.patch(&format!("{path}/{id}"), &json!({ "external_id": null })).await;
    assert_eq!(cleared.expect(200)["external_id"], Value::Null);
    // Sending the current name changes nothing and records nothing.
    let same = owner.patch(&format!("{path}/{id}"), &json!({ "name": "Infrastructure" })).await;
    assert_eq!(same.expect(200)["name"], "Infrastructure");
    let fetched = owner.get(&format!("{path}/{id}")).await;
    let fetched = fetched.expect(200).clone();
    assert_eq!((fetched["name"].as_str(), fetched["members"].clone()), (Some("Infrastructure"), json!([])));
    assert_eq!(fetched["external_id"], Value::Null);

    owner.delete(&format!("{path}/{id}")).await.expect(204);
    assert_eq!(owner.get(&format!("{path}/{id}")).await.problem(404), "NOT_FOUND");
    assert_eq!(owner.delete(&format!("{path}/{id}")).await.problem(404), "NOT_FOUND");
    assert_eq!(owner.get(&path).await.expect(200)["data"].as_array().unwrap().len(), 2);

    let entries: Vec<Value> =
        team_audit(&owner, &org).await.into_iter().filter(|e| e["target"]["id"] == id).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["team.deleted", "team.updated", "team.updated", "team.created"]);
    assert_eq!(entries[0]["target"], json!({ "type": "team", "id": id }));
    assert_eq!(entries[0]["details"]["name"], "Infrastructure");
    assert_eq!(
        entries[1]["details"],
        json!({ "team_id": id, "external_id": { "from": "00g1", "to": null } })
    );
    assert_eq!(
        entries[2]["details"],
        json!({ "team_id": id, "name": { "from": "Platform", "to": "Infrastructure" } })
    );
    assert_eq!(entries[3]["details"], json!({ "team_id": id, "name": "Platform", "external_id": "00g1" }));
    assert_eq!(entries[3]["actor"]["id"], body["user"]["id"]);
}

#[tokio::test]
async fn adding_a_member_is_idempotent_and_counted() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let owner_id = user_of(&body);
    let (_, bob) = server.member_of(&owner, &org, "bob@example.com", "member").await;
    let team = create_team(&owner, &org, json!({ "name": "Platform" })).await;
    let team = team["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/orgs/{org}/teams/{team}");

    server.clock.advance(Duration::minutes(1));
    let added = put_member(&owner, &org, &team, &bob).await;
    let added = added.expect(201).clone();
    assert_eq!(
        (added["user_id"].as_str(), added["email"].as_str()),
        (Some(bob.as_str()), Some("bob@example.com"))
    );
    server.clock.advance(Duration::minutes(1));
    let again = put_member(&owner, &org, &team, &bob).await;
    assert_eq!(again.expect(200), &added, "the second PUT returns the same membership");
    put_member(&owner, &org, &team, &owner_id).await.expect(201);

    let fetched = owner.get(&path).await;
    let fetched = fetched.expect(200).clone();
    assert_eq!(fetched["member_count"], 2);
    let emails: Vec<Value> =
        fetched["members"].as_array().unwrap().iter().map(|m| m["email"].clone()).collect();
    assert_eq!(emails, [json!("bob@example.com"), json!("owner@example.com")]);
    assert_eq!(fetched["members"][0], added);
    assert_ne!(fetched["updated_at"], fetched["created_at"], "membership changes touch the team");
    let list = owner.get(&format!("/api/v1/orgs/{org}/teams")).await;
    assert_eq!(list.expect(200)["data"][0]["member_count"], 2);

    owner.delete(&format!("{path}/members/{bob}")).await.expect(204);
    assert_eq!(owner.delete(&format!("{path}/members/{bob}")).await.problem(404), "NOT_FOUND");
    let fetched = owner.get(&path).await;
    assert_eq!(fetched.expect(200)["member_count"], 1);
    // Bob is still a member of the org.
    owner.get(&format!("/api/v1/orgs/{org}/members/{bob}")).await.expect(200);

    let actions: Vec<Value> = team_audit(&owner, &org).await.iter().map(|e| e["action"].clone()).collect();
    assert_eq!(
        actions,
        [
            json!("team.member_removed"),
            json!("team.member_added"),
            json!("team.member_added"),
            json!("team.created")
        ]
    );
    let removed = &team_audit(&owner, &org).await[0];
    assert_eq!(removed["details"], json!({ "team_id": team, "user_id": bob, "email": "bob@example.com" }));
    assert_eq!(removed["target"], json!({ "type": "team", "id": team }));
}

#[tokio::test]
async fn only_members_of_the_org_join_its_teams() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (_, stranger) = server.signup("stranger@example.com").await;
    let team = create_team(&owner, &org, json!({ "name": "Platform" })).await;
    let team = team["id"].as_str().unwrap().to_string();
    for (case, user) in
        [("a user of another org", user_of(&stranger)), ("no user", uuid::Uuid::now_v7().to_string())]
    {
        let resp = put_member(&owner, &org, &team, &user).await;
        assert_eq!(
            (resp.problem(400).as_str(), resp.field()),
            ("VALIDATION_ERROR", Some("user_id")),
            "{case}"
        );
        assert_eq!(resp.body["errors"][0]["message"], "is not a member of this org", "{case}");
    }
    let missing = put_member(&owner, &org, &uuid::Uuid::now_v7().to_string(), &user_of(&body)).await;
    assert_eq!(missing.problem(404), "NOT_FOUND");
    let fetched = owner.get(&format!("/api/v1/orgs/{org}/teams/{team}")).await;
    assert_eq!(fetched.expect(200)["member_count"], 0);
}

#[tokio::test]
async fn leaving_the_org_leaves_its_teams_only() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (other_owner, other_body) = server.signup("other@example.com").await;
    let other_org = org_of(&other_body);
    let (bob_client, bob) = server.member_of(&owner, &org, "bob@example.com", "member").await;
    server.invite_and_accept(&other_owner, &bob_client, &other_org, "bob@example.com", "member").await;
    let (carol_client, carol) = server.member_of(&owner, &org, "carol@example.com", "member").await;

    let mut teams = Vec::new();
    for name in ["One", "Two"] {
        let team = create_team(&owner, &org, json!({ "name": name })).await;
        let team = team["id"].as_str().unwrap().to_string();
        put_member(&owner, &org, &team, &bob).await.expect(201);
        put_member(&owner, &org, &team, &carol).await.expect(201);
        teams.push(team);
    }
    let theirs = create_team(&other_owner, &other_org, json!({ "name": "One" })).await;
    let theirs = theirs["id"].as_str().unwrap().to_string();
    put_member(&other_owner, &other_org, &theirs, &bob).await.expect(201);

    owner.delete(&format!("/api/v1/orgs/{org}/members/{bob}")).await.expect(204);
    carol_client.delete(&format!("/api/v1/orgs/{org}/members/{carol}")).await.expect(204);
    for team in &teams {
        let fetched = owner.get(&format!("/api/v1/orgs/{org}/teams/{team}")).await;
        let fetched = fetched.expect(200).clone();
        assert_eq!((fetched["member_count"].clone(), fetched["members"].clone()), (json!(0), json!([])));
    }
    // Bob's place in the other org's team is untouched.
    let kept = other_owner.get(&format!("/api/v1/orgs/{other_org}/teams/{theirs}")).await;
    assert_eq!(kept.expect(200)["members"][0]["user_id"], json!(bob));
    // And a former member cannot be put back into a team.
    let resp = put_member(&owner, &org, &teams[0], &bob).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("user_id")));
}

#[tokio::test]
async fn team_names_are_unique_per_org_ignoring_case() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/teams");
    let platform = create_team(&owner, &org, json!({ "name": "Platform" })).await;
    let platform = platform["id"].as_str().unwrap().to_string();
    let support = create_team(&owner, &org, json!({ "name": "Support" })).await;
    let support = support["id"].as_str().unwrap().to_string();

    for name in ["Platform", "PLATFORM", " platform "] {
        let resp = owner.post(&path, &json!({ "name": name })).await;
        assert_eq!(resp.problem(409), "TEAM_EXISTS", "{name}");
    }
    let rename = owner.patch(&format!("{path}/{support}"), &json!({ "name": "platform" })).await;
    assert_eq!(rename.problem(409), "TEAM_EXISTS");
    // A team may change the case of its own name.
    let recased = owner.patch(&format!("{path}/{platform}"), &json!({ "name": "PLATFORM" })).await;
    assert_eq!(recased.expect(200)["name"], "PLATFORM");
    // Another org may use the same name.
    let (other, other_body) = server.signup("other@example.com").await;
    create_team(&other, &org_of(&other_body), json!({ "name": "Platform" })).await;

    let names: Vec<Value> = owner.get(&path).await.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, [json!("PLATFORM"), json!("Support")]);
}

#[tokio::test]
async fn members_see_teams_but_only_teams_write_changes_them() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (member, member_id) = server.member_of(&owner, &org, "member@example.com", "member").await;
    let team = create_team(&owner, &org, json!({ "name": "Platform" })).await;
    let team = team["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/orgs/{org}/teams");

    member.get(&path).await.expect(200);
    member.get(&format!("{path}/{team}")).await.expect(200);
    for resp in [
        member.post(&path, &json!({ "name": "Mine" })).await,
        member.patch(&format!("{path}/{team}"), &json!({ "name": "Mine" })).await,
        put_member(&member, &org, &team, &member_id).await,
        member.delete(&format!("{path}/{team}/members/{member_id}")).await,
        member.delete(&format!("{path}/{team}")).await,
    ] {
        assert_eq!(resp.problem(403), "FORBIDDEN", "{}", resp.text);
    }

    // A custom role with `teams:write` manages teams.
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "lead", "name": "Team lead", "permissions": ["members:read", "teams:write"] }),
        )
        .await
        .expect(201);
    let (lead, _) = server.member_of(&owner, &org, "lead@example.com", "lead").await;
    create_team(&lead, &org, json!({ "name": "Leads" })).await;
    put_member(&lead, &org, &team, &member_id).await.expect(201);

    let fetched = owner.get(&format!("{path}/{team}")).await;
    let fetched = fetched.expect(200).clone();
    assert_eq!((fetched["name"].as_str(), fetched["member_count"].as_u64()), (Some("Platform"), Some(1)));
}

#[tokio::test]
async fn other_orgs_teams_are_not_found() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let owner_id = user_of(&body);
    let (outsider, outsider_body) = server.signup("outsider@example.com").await;
    let outsider_org = org_of(&outsider_body);
    let outsider_id = user_of(&outsider_body);
    let team = create_team(&owner, &org, json!({ "name": "Platform" })).await;
    let team = team["id"].as_str().unwrap().to_string();
    put_member(&owner, &org, &team, &owner_id).await.expect(201);
    let theirs = create_team(&outsider, &outsider_org, json!({ "name": "Theirs" })).await;
    let theirs = theirs["id"].as_str().unwrap().to_string();
    put_member(&outsider, &outsider_org, &theirs, &outsider_id).await.expect(201);

    // A user of another org: every teams route of this org is not found.
    let base = format!("/api/v1/orgs/{org}/teams");
    for (case, resp) in [
        ("list", outsider.get(&base).await),
        ("create", outsider.post(&base, &json!({ "name": "Sneaky" })).await),
        ("get", outsider.get(&format!("{base}/{team}")).await),
        ("update", outsider.patch(&format!("{base}/{team}"), &json!({ "name": "Sneaky" })).await),
        ("delete", outsider.delete(&format!("{base}/{team}")).await),
        ("add member", put_member(&outsider, &org, &team, &outsider_id).await),
        ("remove member", outsider.delete(&format!("{base}/{team}/members/{owner_id}")).await),
    ] {
        assert_eq!(resp.problem(404), "NOT_FOUND", "{case}");
    }

    // This org's owner naming the other org's team under this org: not found either.
    for (case, resp) in [
        ("get", owner.get(&format!("{base}/{theirs}")).await),
        ("update", owner.patch(&format!("{base}/{theirs}"), &json!({ "name": "Mine now" })).await),
        ("delete", owner.delete(&format!("{base}/{theirs}")).await),
        ("add member", put_member(&owner, &org, &theirs, &owner_id).await),
        ("remove member", owner.delete(&format!("{base}/{theirs}/members/{outsider_id}")).await),
    ] {
        assert_eq!(resp.problem(404), "NOT_FOUND", "{case}");
    }
    // Nor can the owner reach it under the other org's path.
    let resp = owner.get(&format!("/api/v1/orgs/{outsider_org}/teams/{theirs}")).await;
    assert_eq!(resp.problem(404), "NOT_FOUND");

    let list = owner.get(&base).await;
    let list = list.expect(200).clone();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        (list["data"][0]["name"].as_str(), list["data"][0]["member_count"].as_u64()),
        (Some("Platform"), Some(1))
    );
    let kept = outsider.get(&format!("/api/v1/orgs/{outsider_org}/teams/{theirs}")).await;
    let kept = kept.expect(200).clone();
    assert_eq!(
        (kept["name"].as_str(), kept["members"][0]["user_id"].clone()),
        (Some("Theirs"), json!(outsider_id))
    );
    assert_eq!(
        outsider.get(&format!("/api/v1/orgs/{outsider_org}/teams")).await.expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn team_endpoints_reject_bad_input() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let owner_id = user_of(&body);
    let path = format!("/api/v1/orgs/{org}/teams");
    let team = create_team(&owner, &org, json!({ "name": "Platform", "external_id": "00g1" })).await;
    let id = team["id"].as_str().unwrap().to_string();

    for (case, req, field) in [
        ("missing name", json!({}), "name"),
        ("empty name", json!({ "name": "" }), "name"),
        ("blank name", json!({ "name": "   " }), "name"),
        ("long name", json!({ "name": "n".repeat(101) }), "name"),
        ("control character", json!({ "name": "a\u{7}b" }), "name"),
        ("name not a string", json!({ "name": 5 }), "name"),
        ("name null", json!({ "name": null }), "name"),
        ("unknown field", json!({ "name": "Ops", "colour": "red" }), "colour"),
        ("long external_id", json!({ "name": "Ops", "external_id": "x".repeat(256) }), "external_id"),
        ("blank external_id", json!({ "name": "Ops", "external_id": "" }), "external_id"),
        ("external_id not a string", json!({ "name": "Ops", "external_id": 7 }), "external_id"),
        ("not an object", json!(["Ops"]), "body"),
    ] {
        let resp = owner.post(&path, &req).await;
        assert_eq!(
            (resp.problem(400).as_str(), resp.field()),
            ("VALIDATION_ERROR", Some(field)),
            "{case}: {}",
            resp.text
        );
    }
    let resp = owner.post_raw(&path, "application/json", "{\"name\": ").await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("body")));

    for (case, req, field) in [
        ("empty name", json!({ "name": "" }), "name"),
        ("long name", json!({ "name": "n".repeat(101) }), "name"),
        ("name not a string", json!({ "name": ["Ops"] }), "name"),
        ("unknown field", json!({ "members": [] }), "members"),
        ("long external_id", json!({ "external_id": "x".repeat(256) }), "external_id"),
        ("external_id not a string", json!({ "external_id": false }), "external_id"),
    ] {
        let resp = owner.patch(&format!("{path}/{id}"), &req).await;
        assert_eq!(
            (resp.problem(400).as_str(), resp.field()),
            ("VALIDATION_ERROR", Some(field)),
            "{case}: {}",
            resp.text
        );
    }

    let some_id = uuid::Uuid::now_v7();
    for (case, resp, field) in [
        ("get", owner.get(&format!("{path}/not-a-uuid")).await, "id"),
        ("update", owner.patch(&format!("{path}/not-a-uuid"), &json!({ "name": "Ops" })).await, "id"),
        ("delete", owner.delete(&format!("{path}/123")).await, "id"),
        ("add member, team", put_member(&owner, &org, "nope", &owner_id).await, "id"),
        ("add member, user", put_member(&owner, &org, &id, "nope").await, "user_id"),
        ("remove member, team", owner.delete(&format!("{path}/nope/members/{some_id}")).await, "id"),
        ("remove member, user", owner.delete(&format!("{path}/{id}/members/nope")).await, "user_id"),
    ] {
        assert_eq!(
            (resp.problem(400).as_str(), resp.field()),
            ("VALIDATION_ERROR", Some(field)),
            "{case}: {}",
            resp.text
        );
    }

    let long_name = format!("name={}", "n".repeat(101));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=many", "limit"),
        ("cursor=zz", "cursor"),
        (long_name.as_str(), "name"),
    ] {
        let resp = owner.get(&format!("{path}?{query}")).await;
        assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some(field)), "{query}");
    }

    // Nothing changed.
    let list = owner.get(&path).await;
    let list = list.expect(200).clone();
    assert_eq!(list["data"], json!([team]));
    let actions: Vec<Value> = team_audit(&owner, &org).await.iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("team.created")]);
}

#[tokio::test]
async fn concurrent_puts_add_a_member_once() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let owner_id = user_of(&body);
    let team = create_team(&owner, &org, json!({ "name": "Platform" })).await;
    let team = team["id"].as_str().unwrap().to_string();
    let mut puts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (owner, org, team, owner_id) = (owner.clone(), org.clone(), team.clone(), owner_id.clone());
        puts.spawn(async move { put_member(&owner, &org, &team, &owner_id).await.status.as_u16() });
    }
    let mut statuses = puts.join_all().await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201]);
    let fetched = owner.get(&format!("/api/v1/orgs/{org}/teams/{team}")).await;
    assert_eq!(fetched.expect(200)["member_count"], 1);
    let added = team_audit(&owner, &org).await.iter().filter(|e| e["action"] == "team.member_added").count();
    assert_eq!(added, 1);
}

#[tokio::test]
async fn deleting_an_org_or_a_user_takes_their_team_rows_along() {
    let server = TestServer::start().await;
    // The first user is an instance admin.
    let (owner, body) = server.signup("owner@example.com").await;
    let home = org_of(&body);
    let created = owner.post("/api/v1/orgs", &json!({ "name": "Second" })).await;
    let second = created.expect(201)["org"]["id"].as_str().unwrap().to_string();
    let (bob_client, bob) = server.member_of(&owner, &home, "bob@example.com", "member").await;
    server.invite_and_accept(&owner, &bob_client, &second, "bob@example.com", "member").await;
    let mut teams = Vec::new();
    for org in [&home, &second] {
        let team = create_team(&owner, org, json!({ "name": "Platform" })).await;
        let team = team["id"].as_str().unwrap().to_string();
        put_member(&owner, org, &team, &bob).await.expect(201);
        teams.push(team);
    }

    owner.delete(&format!("/api/v1/orgs/{second}")).await.expect(204);
    let second_id: uuid::Uuid = second.parse().unwrap();
    let left =
        team::Entity::find().filter(team::Column::OrgId.eq(second_id)).count(server.db()).await.unwrap();
    let members =
        team_member::Entity::find().filter(team_member::Column::OrgId.eq(second_id)).count(server.db()).await;
    assert_eq!((left, members.unwrap()), (0, 0));

    owner.delete(&format!("/api/v1/users/{bob}")).await.expect(204);
    let fetched = owner.get(&format!("/api/v1/orgs/{home}/teams/{}", teams[0])).await;
    let fetched = fetched.expect(200).clone();
    assert_eq!((fetched["member_count"].clone(), fetched["members"].clone()), (json!(0), json!([])));
}
