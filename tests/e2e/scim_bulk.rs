//! SCIM Bulk over HTTP (RFC 7644 §3.7): operations in order, each on its own, `bulkId`
//! references, `failOnErrors`, the advertised limits, and another org's resources out of reach.

use guildhall_tests::{Client, Resp, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::scim_users::{create_user, patch, scim_org, user_body};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn bulk_body(ops: Value) -> Value {
    json!({ "schemas": [BULK_REQUEST], "Operations": ops })
}

fn post_user(bulk_id: &str, user_name: &str) -> Value {
    json!({ "method": "POST", "path": "/Users", "bulkId": bulk_id, "data": user_body(user_name) })
}

/// Sends a bulk request as `application/scim+json`.
async fn bulk(scim: &Client, body: &Value) -> Resp {
    scim.send_json_with(Method::POST, "/scim/v2/Bulk", Some(body), &[]).await
}

/// Asserts a 200 BulkResponse and returns its operations.
fn results(resp: &Resp) -> Vec<Value> {
    assert_eq!(resp.header("content-type"), Some("application/scim+json"), "{}", resp.text);
    let body = resp.expect(200);
    assert_eq!(body["schemas"], json!([BULK_RESPONSE]), "{body}");
    body["Operations"].as_array().expect("Operations").clone()
}

fn statuses(ops: &[Value]) -> Vec<&str> {
    ops.iter().map(|op| op["status"].as_str().expect("status is a string")).collect()
}

/// Asserts a whole-request SCIM Error and returns its `scimType`.
fn scim_error(resp: &Resp, status: u16, case: &str) -> String {
    assert_eq!(resp.status.as_u16(), status, "{case}: {}", resp.text);
    assert_eq!(resp.header("content-type"), Some("application/scim+json"), "{case}: {}", resp.text);
    assert_eq!(resp.body["schemas"], json!([ERROR]), "{case}: {}", resp.text);
    assert_eq!(resp.body["status"], json!(status.to_string()), "{case}: {}", resp.text);
    resp.body["scimType"].as_str().unwrap_or_default().to_string()
}

async fn user_count(scim: &Client) -> u64 {
    scim.get("/scim/v2/Users").await.expect(200)["totalResults"].as_u64().expect("totalResults")
}

fn id_at(location: &Value) -> String {
    location.as_str().and_then(|l| l.rsplit('/').next()).expect("location").to_string()
}

#[tokio::test]
async fn rfc_bulk_creates_users_and_a_group_that_references_them_by_bulk_id() {
    let server = TestServer::start().await;
    let (owner, org, scim) = scim_org(&server, "owner@example.com").await;
    // RFC 7644 §3.7.2's shape: a user, then a group naming it by bulkId, then a change to the
    // user through `/Users/bulkId:...`.
    let body = bulk_body(json!([
        post_user("qwerty", "alice@example.com"),
        post_user("asdfgh", "bob@example.com"),
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "ytrewq",
            "data": {
                "schemas": [GROUP],
                "displayName": "Tour Guides",
                "members": [
                    { "type": "User", "value": "bulkId:qwerty" },
                    { "type": "User", "value": "bulkId:asdfgh" },
                ],
            },
        },
        {
            "method": "PATCH",
            "path": "/Users/bulkId:asdfgh",
            "data": patch(json!([{ "op": "replace", "path": "title", "value": "Guide" }])),
        },
    ]));
    let ops = results(&bulk(&scim, &body).await);
    assert_eq!(statuses(&ops), vec!["201", "201", "201", "200"], "{ops:?}");
    let methods: Vec<&str> = ops.iter().filter_map(|o| o["method"].as_str()).collect();
    assert_eq!(methods, vec!["POST", "POST", "POST", "PATCH"]);
    let bulk_ids: Vec<&str> = ops.iter().filter_map(|o| o["bulkId"].as_str()).collect();
    assert_eq!(bulk_ids, vec!["qwerty", "asdfgh", "ytrewq"]);
    assert!(ops.iter().all(|o| o.get("response").is_none()), "{ops:?}");

    let alice = id_at(&ops[0]["location"]);
    let bob = id_at(&ops[1]["location"]);
    let group = id_at(&ops[2]["location"]);
    assert_eq!(ops[0]["location"], json!(format!("{}/scim/v2/Users/{alice}", server.base)));
    assert_eq!(ops[2]["location"], json!(format!("{}/scim/v2/Groups/{group}", server.base)));
    assert_eq!(ops[3]["location"], ops[1]["location"]);

    // A version is the resource's as the operation left it (alice's changed since: her
    // `groups` now name the group).
    let fetched = scim.get(&format!("/scim/v2/Users/{alice}")).await;
    assert_eq!(fetched.expect(200)["groups"][0]["value"], json!(group));
    assert!(ops[0]["version"].as_str().is_some_and(|v| v.starts_with("W/")), "{}", ops[0]);
    let fetched = scim.get(&format!("/scim/v2/Users/{bob}")).await;
    let fetched = fetched.expect(200);
    assert_eq!(fetched["title"], "Guide");
    assert_eq!(ops[3]["version"], fetched["meta"]["version"]);
    let fetched = scim.get(&format!("/scim/v2/Groups/{group}")).await;
    let fetched = fetched.expect(200);
    assert_eq!(ops[2]["version"], fetched["meta"]["version"]);
    let mut members: Vec<&str> =
        fetched["members"].as_array().unwrap().iter().filter_map(|m| m["value"].as_str()).collect();
    members.sort_unstable();
    let mut expected = vec![alice.as_str(), bob.as_str()];
    expected.sort_unstable();
    assert_eq!(members, expected);

    // Each operation was audited as its single request would have been.
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=scim.*")).await;
    let mut actions: Vec<&str> =
        log.expect(200)["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    actions.retain(|a| a.starts_with("scim.user.") || a.starts_with("scim.group."));
    assert_eq!(
        actions,
        vec!["scim.user.updated", "scim.group.created", "scim.user.created", "scim.user.created"]
    );
}

#[tokio::test]
async fn rfc_bulk_failing_operation_in_the_middle_does_not_undo_the_others() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let existing = create_user(&scim, "existing@example.com").await;
    let existing_id = existing["id"].as_str().unwrap();
    let version = existing["meta"]["version"].as_str().unwrap();
    let body = bulk_body(json!([
        post_user("a", "first@example.com"),
        // The same userName again: 409 uniqueness.
        post_user("dup", "FIRST@example.com"),
        post_user("c", "third@example.com"),
        // A stale version: 412, as If-Match would give.
        {
            "method": "PATCH",
            "path": format!("/Users/{existing_id}"),
            "version": "W/\"stale\"",
            "data": patch(json!([{ "op": "replace", "path": "title", "value": "Never" }])),
        },
        // The current version passes.
        {
            "method": "PATCH",
            "path": format!("/Users/{existing_id}"),
            "version": version,
            "data": patch(json!([{ "op": "replace", "path": "title", "value": "Current" }])),
        },
        // A reference to the failed POST: that operation fails, nothing else.
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "g",
            "data": { "schemas": [GROUP], "displayName": "G", "members": [{ "value": "bulkId:dup" }] },
        },
        { "method": "DELETE", "path": "/Users/bulkId:c" },
        // An id that names nothing.
        { "method": "DELETE", "path": "/Users/00000000-0000-0000-0000-000000000000" },
    ]));
    let ops = results(&bulk(&scim, &body).await);
    assert_eq!(statuses(&ops), vec!["201", "409", "201", "412", "200", "409", "204", "404"], "{ops:?}");

    let dup = &ops[1];
    assert_eq!(dup["bulkId"], "dup");
    assert!(dup.get("location").is_none(), "a failed POST has no location: {dup}");
    assert_eq!(dup["response"]["schemas"], json!([ERROR]));
    assert_eq!(dup["response"]["status"], "409");
    assert_eq!(dup["response"]["scimType"], "uniqueness");
    assert_eq!(ops[3]["response"]["status"], "412");
    assert_eq!(ops[3]["location"], json!(format!("{}/scim/v2/Users/{existing_id}", server.base)));
    assert_eq!(ops[5]["response"]["scimType"], "invalidValue");
    assert!(ops[5]["response"]["detail"].as_str().unwrap().contains("bulkId:dup"), "{}", ops[5]);
    assert_eq!(ops[7]["response"]["status"], "404");
    assert!(ops[6].get("version").is_none(), "a DELETE leaves no version: {}", ops[6]);

    // The operations that succeeded stand.
    let first = id_at(&ops[0]["location"]);
    assert_eq!(scim.get(&format!("/scim/v2/Users/{first}")).await.status, 200);
    let third = id_at(&ops[2]["location"]);
    assert_eq!(scim.get(&format!("/scim/v2/Users/{third}")).await.status, 404);
    let changed = scim.get(&format!("/scim/v2/Users/{existing_id}")).await;
    assert_eq!(changed.expect(200)["title"], "Current");
    assert_eq!(user_count(&scim).await, 2);
    let groups = scim.get("/scim/v2/Groups").await;
    assert_eq!(groups.expect(200)["totalResults"], 0);
}

#[tokio::test]
async fn rfc_fail_on_errors_stops_after_the_limit() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let missing = "/Users/00000000-0000-0000-0000-000000000000";
    let body = json!({
        "schemas": [BULK_REQUEST],
        "failOnErrors": 2,
        "Operations": [
            post_user("u1", "one@example.com"),
            { "method": "DELETE", "path": missing },
            post_user("u2", "two@example.com"),
            { "method": "DELETE", "path": missing },
            post_user("u3", "three@example.com"),
            { "method": "DELETE", "path": missing },
        ],
    });
    let ops = results(&bulk(&scim, &body).await);
    // Only what ran is reported; the run stopped at the second error.
    assert_eq!(statuses(&ops), vec!["201", "404", "201", "404"], "{ops:?}");
    assert_eq!(user_count(&scim).await, 2);
    let three = scim.get("/scim/v2/Users?filter=userName%20eq%20%22three@example.com%22").await;
    assert_eq!(three.expect(200)["totalResults"], 0);

    // Without failOnErrors every operation runs.
    let body = bulk_body(json!([
        { "method": "DELETE", "path": missing },
        { "method": "DELETE", "path": missing },
        post_user("u3", "three@example.com"),
    ]));
    let ops = results(&bulk(&scim, &body).await);
    assert_eq!(statuses(&ops), vec!["404", "404", "201"], "{ops:?}");
}

#[tokio::test]
async fn rfc_bulk_too_many_operations_is_too_large() {
    // A body limit large enough that only the operation count is past its limit.
    let server = TestServer::start_with(|c| c.max_body_bytes = 4 << 20).await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let config = scim.get("/scim/v2/ServiceProviderConfig").await;
    let max = config.expect(200)["bulk"]["maxOperations"].as_u64().unwrap();
    let ops: Vec<Value> =
        (0..=max).map(|i| post_user(&format!("u{i}"), &format!("u{i}@example.com"))).collect();
    let resp = bulk(&scim, &bulk_body(Value::Array(ops))).await;
    assert_eq!(scim_error(&resp, 413, "too many"), "tooLarge");
    assert!(resp.body["detail"].as_str().unwrap().contains("maxOperations"), "{}", resp.text);
    assert_eq!(user_count(&scim).await, 0);

    // Exactly the limit is accepted.
    let ops: Vec<Value> = (0..max).map(|_| json!({ "method": "DELETE", "path": "/Groups/nope" })).collect();
    let ops = results(&bulk(&scim, &bulk_body(Value::Array(ops))).await);
    assert_eq!(ops.len() as u64, max);
}

#[tokio::test]
async fn rfc_bulk_payload_too_large() {
    for (body_limit, advertised) in [(4 << 20, 1 << 20), (16 * 1024, 16 * 1024)] {
        let server = TestServer::start_with(|c| c.max_body_bytes = body_limit).await;
        let (_, _, scim) = scim_org(&server, "owner@example.com").await;
        let config = scim.get("/scim/v2/ServiceProviderConfig").await;
        assert_eq!(config.expect(200)["bulk"]["maxPayloadSize"], json!(advertised), "limit {body_limit}");
        let mut user = user_body("big@example.com");
        user["title"] = json!("x".repeat(advertised));
        let body = bulk_body(json!([{ "method": "POST", "path": "/Users", "bulkId": "big", "data": user }]));
        let resp = bulk(&scim, &body).await;
        assert_eq!(scim_error(&resp, 413, "payload"), "tooLarge", "limit {body_limit}");
        assert!(resp.body["detail"].as_str().unwrap().contains("maxPayloadSize"), "{}", resp.text);
        assert_eq!(user_count(&scim).await, 0);
    }
}

#[tokio::test]
async fn bulk_cannot_touch_another_orgs_users() {
    let server = TestServer::start().await;
    let (_, _, scim_a) = scim_org(&server, "owner-a@example.com").await;
    let (_, _, scim_b) = scim_org(&server, "owner-b@example.com").await;
    let theirs = create_user(&scim_b, "theirs@example.com").await;
    let their_id = theirs["id"].as_str().unwrap();
    let group = scim_b.post("/scim/v2/Groups", &json!({ "schemas": [GROUP], "displayName": "B team" })).await;
    let group = group.expect(201).clone();
    let group_id = group["id"].as_str().unwrap();
    let body = bulk_body(json!([
        {
            "method": "PATCH",
            "path": format!("/Users/{their_id}"),
            "data": patch(json!([{ "op": "replace", "path": "active", "value": false }])),
        },
        { "method": "PUT", "path": format!("/Users/{their_id}"), "data": user_body("taken@example.com") },
        { "method": "DELETE", "path": format!("/Users/{their_id}") },
        {
            "method": "PATCH",
            "path": format!("/Groups/{group_id}"),
            "data": patch(json!([{ "op": "replace", "path": "displayName", "value": "Mine" }])),
        },
        { "method": "DELETE", "path": format!("/Groups/{group_id}") },
        // A's own group cannot take B's user as a member either.
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "g",
            "data": { "schemas": [GROUP], "displayName": "A team", "members": [{ "value": their_id }] },
        },
    ]));
    let ops = results(&bulk(&scim_a, &body).await);
    let codes = statuses(&ops);
    assert_eq!(codes[..5], ["404", "404", "404", "404", "404"], "{ops:?}");
    assert!(codes[5].starts_with('4'), "{ops:?}");
    // Nothing changed in B.
    let after = scim_b.get(&format!("/scim/v2/Users/{their_id}")).await;
    assert_eq!(after.expect(200), &theirs);
    let after = scim_b.get(&format!("/scim/v2/Groups/{group_id}")).await;
    assert_eq!(after.expect(200)["displayName"], "B team");
    assert_eq!(after.body["meta"]["version"], group["meta"]["version"]);
    assert_eq!(user_count(&scim_a).await, 0);
}

#[tokio::test]
async fn bulk_rejects_malformed_requests() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let ok_user = post_user("u1", "u1@example.com");
    for (case, body, scim_type) in [
        ("not an object", json!([ok_user]), "invalidSyntax"),
        ("no schemas", json!({ "Operations": [ok_user] }), "invalidSyntax"),
        ("wrong schema", json!({ "schemas": [GROUP], "Operations": [ok_user] }), "invalidSyntax"),
        ("no Operations", json!({ "schemas": [BULK_REQUEST] }), "invalidSyntax"),
        ("Operations not an array", json!({ "schemas": [BULK_REQUEST], "Operations": {} }), "invalidSyntax"),
        (
            "unknown method",
            bulk_body(json!([ok_user, { "method": "GET", "path": "/Users" }])),
            "invalidValue",
        ),
        (
            "bad path",
            bulk_body(json!([ok_user, { "method": "DELETE", "path": "/Schemas/x" }])),
            "invalidValue",
        ),
        (
            "POST without bulkId",
            bulk_body(
                json!([ok_user, { "method": "POST", "path": "/Users", "data": user_body("x@example.com") }]),
            ),
            "invalidValue",
        ),
        (
            "POST to an id",
            bulk_body(json!([ok_user, { "method": "POST", "path": "/Users/x", "bulkId": "b", "data": {} }])),
            "invalidValue",
        ),
        (
            "PATCH without data",
            bulk_body(json!([ok_user, { "method": "PATCH", "path": "/Users/x" }])),
            "invalidValue",
        ),
        ("duplicate bulkId", bulk_body(json!([ok_user, ok_user])), "invalidValue"),
        (
            "failOnErrors not a number",
            json!({ "schemas": [BULK_REQUEST], "failOnErrors": "x", "Operations": [ok_user] }),
            "invalidValue",
        ),
    ] {
        let resp = bulk(&scim, &body).await;
        assert_eq!(scim_error(&resp, 400, case), scim_type, "{case}");
    }
    let resp = scim.post_raw("/scim/v2/Bulk", "application/scim+json", "{\"schemas\": [").await;
    assert_eq!(scim_error(&resp, 400, "broken JSON"), "invalidSyntax");
    // A malformed request runs none of its operations, the valid first one included.
    assert_eq!(user_count(&scim).await, 0);
    // Plain application/json is accepted too.
    let ops = results(&scim.post("/scim/v2/Bulk", &bulk_body(json!([ok_user]))).await);
    assert_eq!(statuses(&ops), vec!["201"]);
    // Without a SCIM token: 401 before the body is read.
    let resp = server.anon().post("/scim/v2/Bulk", &bulk_body(json!([ok_user]))).await;
    scim_error(&resp, 401, "no token");
}

#[tokio::test]
async fn service_provider_config_advertises_bulk() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let config = scim.get("/scim/v2/ServiceProviderConfig").await;
    // The test server's body limit (64 KiB) is below the bulk limit, so it is the one advertised.
    assert_eq!(
        config.expect(200)["bulk"],
        json!({ "supported": true, "maxOperations": 1000, "maxPayloadSize": 64 * 1024 })
    );
}
