//! The Events API: every change of an org, in commit order, by cursor; the event catalog; and
//! who may read them.

use guildhall_tests::{Client, TestServer};
use serde_json::{Value, json};

use crate::scim_users::{create_user, scim_org};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

async fn events(client: &Client, org: &str, query: &str) -> Value {
    client.get(&format!("/api/v1/orgs/{org}/events{query}")).await.expect(200).clone()
}

fn types_of(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn events_page_through_every_change_in_commit_order() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Renamed" })).await.expect(200);
    owner.post(&format!("/api/v1/orgs/{org}/teams"), &json!({ "name": "Platform" })).await.expect(201);
    let (_bob, _) = server.member_of(&owner, &org, "bob@example.com", "member").await;

    let all = events(&owner, &org, "").await;
    let types = types_of(&all);
    assert_eq!(
        types,
        [
            "org.created",
            "org.updated",
            "team.created",
            "invitation.created",
            "invitation.accepted",
            "org.selected"
        ],
        "{all}"
    );
    let first = &all["data"][0];
    assert_eq!(first["org_id"], json!(org));
    assert_eq!(first["version"], json!(1));
    assert!(first["timestamp"].is_string() && first["id"].is_string());
    assert_eq!(all["data"][1]["data"]["name"], json!({ "from": "owner's organization", "to": "Renamed" }));
    assert_eq!(all["has_more"], json!(false));

    // Two at a time, the same events in the same order.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = events(&owner, &org, &format!("?limit=2&after={after}")).await;
        seen.extend(types_of(&page));
        after = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] == json!(false) {
            break;
        }
    }
    assert_eq!(seen, types);

    // Polling from the end finds nothing new, then exactly what came after.
    let idle = events(&owner, &org, &format!("?after={after}")).await;
    assert_eq!(
        (idle["data"].as_array().unwrap().len(), idle["next_cursor"].as_str()),
        (0, Some(after.as_str()))
    );
    owner.post(&format!("/api/v1/orgs/{org}/teams"), &json!({ "name": "Support" })).await.expect(201);
    let next = events(&owner, &org, &format!("?after={after}")).await;
    assert_eq!(types_of(&next), ["team.created"]);
    assert_eq!(next["data"][0]["data"]["name"], json!("Support"));
}

#[tokio::test]
async fn event_ids_are_the_audit_entries_and_types_filter_by_pattern() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    server.member_of(&owner, &org, "bob@example.com", "member").await;
    owner.post(&format!("/api/v1/orgs/{org}/teams"), &json!({ "name": "Platform" })).await.expect(201);

    let invitations = events(&owner, &org, "?types=invitation.*").await;
    assert_eq!(types_of(&invitations), ["invitation.created", "invitation.accepted"]);
    let some = events(&owner, &org, "?types=team.created,%20org.created").await;
    assert_eq!(types_of(&some), ["org.created", "team.created"]);
    let everything = events(&owner, &org, "?types=*").await;
    assert_eq!(everything["data"].as_array().unwrap().len(), 5);

    // The audit log and the event stream tell the same story with the same ids.
    let audit = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=team.created")).await;
    let entry = &audit.expect(200)["data"][0];
    let event = some["data"].as_array().unwrap().iter().find(|e| e["type"] == "team.created").unwrap();
    assert_eq!(entry["id"], event["id"]);
    assert_eq!(entry["details"], event["data"]);
}

#[tokio::test]
async fn directory_changes_are_events_too() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    create_user(&scim, "ann@elsewhere.test").await;
    let page = events(&owner, &org, "?types=scim.*").await;
    assert_eq!(types_of(&page), ["scim.token.created", "scim.user.created"]);
    assert_eq!(page["data"][1]["data"]["user_name"], json!("ann@elsewhere.test"));
}

#[tokio::test]
async fn the_catalog_describes_every_event_with_a_schema() {
    let server = TestServer::start().await;
    let catalog = server.anon().get("/api/v1/event-types").await;
    let list = catalog.expect(200)["data"].as_array().unwrap().clone();
    let names: Vec<&str> = list.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "names are unique");
    for expected in [
        "member.added",
        "member.role_changed",
        "member.removed",
        "invitation.created",
        "org.updated",
        "scim.user.created",
        "webhook.disabled",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let added = list.iter().find(|t| t["name"] == "member.added").unwrap();
    assert_eq!(added["delivered"], json!(true));
    let signup = list.iter().find(|t| t["name"] == "user.signed_up").unwrap();
    assert_eq!(
        signup["delivered"],
        json!(false),
        "instance-level changes stay in the instance's audit chain"
    );
    assert_eq!(added["schema"]["type"], json!("object"));
    for field in ["user_id", "email", "role"] {
        assert!(added["schema"]["properties"][field].is_object(), "{field}: {added}");
    }
    // Nested payloads stand alone: no dangling references.
    let changed = list.iter().find(|t| t["name"] == "member.role_changed").unwrap();
    assert_eq!(
        changed["schema"]["properties"]["role"]["properties"]["to"]["type"],
        json!("string"),
        "{changed}"
    );
    assert!(list.iter().all(|t| !t["description"].as_str().unwrap().is_empty()));
}

#[tokio::test]
async fn events_reject_bad_input() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    for (case, query, field) in [
        ("a forged cursor", "?after=bm90LWEtY3Vyc29y", "after"),
        ("a cursor that is not base64", "?after=%%%", "after"),
        ("an unknown type", "?types=nothing.happened", "types"),
        ("a pattern that covers nothing", "?types=membr.*", "types"),
        ("a partial-word pattern", "?types=member.add*", "types"),
        ("an instance-level type", "?types=user.signed_up", "types"),
        ("a zero limit", "?limit=0", "limit"),
        ("a huge limit", "?limit=501", "limit"),
    ] {
        let resp = owner.get(&format!("/api/v1/orgs/{org}/events{query}")).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    let wrong_type = owner.get(&format!("/api/v1/orgs/{org}/events?limit=many")).await;
    wrong_type.problem(400);
    let long = "member.*,".repeat(100);
    let resp = owner.get(&format!("/api/v1/orgs/{org}/events?types={long}")).await;
    assert_eq!((resp.problem(400), resp.field()), ("VALIDATION_ERROR".to_string(), Some("types")));
}

#[tokio::test]
async fn a_token_from_org_a_never_reads_org_b_events() {
    let server = TestServer::start().await;
    let (alice, a) = server.signup("alice@example.com").await;
    let (_bob, b) = server.signup("bob@example.com").await;
    let (a, b) = (org_of(&a), org_of(&b));
    alice.get(&format!("/api/v1/orgs/{a}/events")).await.expect(200);
    assert_eq!(alice.get(&format!("/api/v1/orgs/{b}/events")).await.problem(404), "NOT_FOUND");
}

#[tokio::test]
async fn a_member_without_events_read_cannot_read_the_stream() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (member, _) = server.member_of(&owner, &org, "bob@example.com", "member").await;
    assert_eq!(member.get(&format!("/api/v1/orgs/{org}/events")).await.problem(403), "FORBIDDEN");
    // A custom role with only `events:read` reads it.
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "integrations", "name": "Integrations", "permissions": ["org:read", "events:read"] }),
        )
        .await
        .expect(201);
    let (reader, _) = server.member_of(&owner, &org, "carol@example.com", "integrations").await;
    reader.get(&format!("/api/v1/orgs/{org}/events")).await.expect(200);
}
