//! Webhooks over HTTP to a real receiver on loopback: signed delivery of org, member,
//! invitation and SCIM events, the retry schedule (driven by the injected clock), Retry-After,
//! 410, disabling after persistent failure, test pings, replay, secret rotation, SSRF refusal,
//! tenant isolation and bad input.

use chrono::{DateTime, Duration, Utc};
use guildhall_tests::{
    Client, TestServer,
    receiver::{Receiver, Reply},
};
use serde_json::{Value, json};

use crate::scim_users::create_user;

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

/// A server that may call loopback http targets, polling often, with a short timeout.
async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.outbound.allow_private_networks = true;
        c.outbound.allow_http = true;
        c.webhooks.poll_interval_ms = 20;
        c.webhooks.timeout_seconds = 1;
    })
    .await
}

/// An owner acting through a personal API token (no expiry), for tests that move the clock by
/// days, past any session's life.
async fn lasting_owner(server: &TestServer) -> (Client, String) {
    let (owner, body) = server.signup("owner@example.com").await;
    let pat = owner.post("/api/v1/auth/tokens", &json!({ "name": "webhook tests" })).await;
    let token = pat.expect(201)["token"].as_str().unwrap().to_string();
    (server.with_token(&token), org_of(&body))
}

/// Creates an endpoint for `url` and returns `(id, secret)`.
async fn subscribe(client: &Client, org: &str, url: &str, types: Value) -> (String, String) {
    let created = client
        .post(&format!("/api/v1/orgs/{org}/webhooks"), &json!({ "url": url, "event_types": types }))
        .await;
    let body = created.expect(201);
    assert_eq!(body["enabled"], json!(true));
    (body["id"].as_str().unwrap().to_string(), body["secret"].as_str().unwrap().to_string())
}

async fn rename(client: &Client, org: &str, name: &str) {
    client.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": name })).await.expect(200);
}

async fn deliveries(client: &Client, org: &str, hook: &str) -> Vec<Value> {
    let page = client.get(&format!("/api/v1/orgs/{org}/webhooks/{hook}/deliveries?limit=200")).await;
    page.expect(200)["data"].as_array().unwrap().clone()
}

/// Waits until the endpoint's delivery of `event_type` satisfies `done`, and returns it.
async fn delivery_when(
    client: &Client,
    org: &str,
    hook: &str,
    event_type: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let all = deliveries(client, org, hook).await;
        if let Some(d) = all.iter().find(|d| d["event_type"] == event_type && done(d)) {
            return d.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "delivery of {event_type} never got there: {all:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn org_member_invitation_and_scim_changes_arrive_signed() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    let (_hook, secret) = subscribe(&owner, &org, &receiver.url, json!(["*"])).await;

    rename(&owner, &org, "Renamed").await;
    let (_bob, bob_id) = server.member_of(&owner, &org, "bob@example.com", "member").await;
    owner
        .patch(&format!("/api/v1/orgs/{org}/members/{bob_id}"), &json!({ "role": "admin" }))
        .await
        .expect(200);
    let issued = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let scim = server.with_token(issued.expect(201)["token"].as_str().unwrap());
    create_user(&scim, "ann@elsewhere.test").await;

    let all = receiver
        .wait_for_types(&[
            "webhook.created",
            "org.updated",
            "invitation.created",
            "invitation.accepted",
            "member.role_changed",
            "scim.token.created",
            "scim.user.created",
        ])
        .await;
    assert!(all.iter().all(|r| r.signed_with(&secret)), "every delivery is signed");
    let changed = all.iter().find(|r| r.event_type() == "member.role_changed").unwrap();
    assert_eq!(
        changed.body["data"],
        json!({ "user_id": bob_id, "role": { "from": "member", "to": "admin" } })
    );
    // The body is the Events API's object, and `webhook-id` is the event's id.
    let listed = owner.get(&format!("/api/v1/orgs/{org}/events?types=member.role_changed")).await;
    assert_eq!(listed.expect(200)["data"][0], changed.body);
    assert_eq!(changed.id, changed.body["id"].as_str().unwrap());
    let timestamp: i64 = changed.timestamp.parse().unwrap();
    assert!((Utc::now().timestamp() - timestamp).abs() < 120, "timestamp is the send time in seconds");
}

#[tokio::test]
async fn failures_retry_on_the_schedule_with_the_same_id() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    receiver.reply_with([Reply::status(500), Reply::slow(std::time::Duration::from_secs(3))]);
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["org.updated"])).await;
    rename(&owner, &org, "Renamed").await;

    let first = delivery_when(&owner, &org, &hook, "org.updated", |d| d["attempts"] == json!(1)).await;
    assert_eq!((first["status"].as_str(), first["response_status"].as_i64()), (Some("pending"), Some(500)));
    let wait = time(&first["next_attempt_at"]) - time(&first["updated_at"]);
    assert!(
        wait >= Duration::seconds(5) && wait <= Duration::milliseconds(5600),
        "first retry after 5 s: {wait}"
    );

    server.clock.advance(Duration::seconds(6));
    let second = delivery_when(&owner, &org, &hook, "org.updated", |d| d["attempts"] == json!(2)).await;
    assert!(second["error"].as_str().unwrap().contains("timed out"), "{second}");
    let wait = time(&second["next_attempt_at"]) - time(&second["updated_at"]);
    assert!(wait >= Duration::minutes(5) && wait <= Duration::minutes(6), "second retry after 5 min: {wait}");

    server.clock.advance(Duration::minutes(6));
    let third = delivery_when(&owner, &org, &hook, "org.updated", |d| d["status"] == "succeeded").await;
    assert_eq!((third["attempts"].as_i64(), third["response_status"].as_i64()), (Some(3), Some(200)));
    let got: Vec<_> = receiver.received().into_iter().filter(|r| r.event_type() == "org.updated").collect();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.id == got[0].id), "one webhook-id across retries");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    receiver.reply_with([Reply::status(429).header("retry-after", "120")]);
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["org.*"])).await;
    rename(&owner, &org, "Renamed").await;
    let first = delivery_when(&owner, &org, &hook, "org.updated", |d| d["attempts"] == json!(1)).await;
    let wait = time(&first["next_attempt_at"]) - time(&first["updated_at"]);
    assert!(wait >= Duration::seconds(119) && wait <= Duration::seconds(121), "{wait}");
    server.clock.advance(Duration::seconds(60));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 1, "not before Retry-After");
    server.clock.advance(Duration::seconds(61));
    delivery_when(&owner, &org, &hook, "org.updated", |d| d["status"] == "succeeded").await;
}

#[tokio::test]
async fn gone_disables_the_endpoint_at_once() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    receiver.reply_with([Reply::status(410)]);
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["org.updated"])).await;
    rename(&owner, &org, "Renamed").await;
    let gone = delivery_when(&owner, &org, &hook, "org.updated", |d| d["status"] == "failed").await;
    assert_eq!(gone["response_status"], json!(410));
    let endpoint = owner.get(&format!("/api/v1/orgs/{org}/webhooks/{hook}")).await;
    let endpoint = endpoint.expect(200);
    assert_eq!(
        (endpoint["enabled"].as_bool(), endpoint["disabled_reason"].as_str()),
        (Some(false), Some("gone"))
    );
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=webhook.disabled")).await;
    assert_eq!(log.expect(200)["data"][0]["details"]["reason"], json!("gone"));
    rename(&owner, &org, "Again").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 1, "a disabled endpoint receives nothing");
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_audited() {
    let server = server().await;
    let (owner, org) = lasting_owner(&server).await;
    let receiver = Receiver::start().await;
    receiver.reply_with((0..20).map(|_| Reply::status(500)));
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["org.updated"])).await;
    rename(&owner, &org, "One").await;
    delivery_when(&owner, &org, &hook, "org.updated", |d| d["attempts"] == json!(1)).await;
    let failing = owner.get(&format!("/api/v1/orgs/{org}/webhooks/{hook}")).await;
    assert!(failing.expect(200)["failing_since"].is_string());

    server.clock.advance(Duration::hours(121));
    rename(&owner, &org, "Two").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let endpoint = owner.get(&format!("/api/v1/orgs/{org}/webhooks/{hook}")).await;
        if endpoint.body["enabled"] == json!(false) {
            assert_eq!(endpoint.body["disabled_reason"], json!("failing"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never disabled: {}", endpoint.text);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=webhook.disabled")).await;
    let entry = &log.expect(200)["data"][0];
    assert_eq!(
        (entry["details"]["reason"].as_str(), entry["actor"]["type"].as_str()),
        (Some("failing"), Some("system"))
    );
    // What was still queued for it is failed, not left pending forever.
    let all = deliveries(&owner, &org, &hook).await;
    assert!(all.iter().all(|d| d["status"] != "pending"), "{all:?}");
}

#[tokio::test]
async fn a_test_ping_is_signed_and_reports_the_outcome() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    let (hook, secret) = subscribe(&owner, &org, &receiver.url, json!(["member.*"])).await;
    let ok = owner.post_empty(&format!("/api/v1/orgs/{org}/webhooks/{hook}/test")).await;
    let ok = ok.expect(200).clone();
    assert_eq!((ok["ok"].as_bool(), ok["response_status"].as_u64()), (Some(true), Some(200)), "{ok}");
    let ping = receiver.wait_for_type("webhook.ping").await;
    assert!(ping.signed_with(&secret));
    assert_eq!(ping.body["data"]["webhook_id"], json!(hook));

    receiver.reply_with([Reply::status(503)]);
    let failed = owner.post_empty(&format!("/api/v1/orgs/{org}/webhooks/{hook}/test")).await;
    let failed = failed.expect(200);
    assert_eq!((failed["ok"].as_bool(), failed["response_status"].as_u64()), (Some(false), Some(503)));
}

#[tokio::test]
async fn replay_requeues_what_the_endpoint_missed_while_off() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["org.updated"])).await;
    let path = format!("/api/v1/orgs/{org}/webhooks/{hook}");
    owner.patch(&path, &json!({ "enabled": false })).await.expect(200);
    let since = Utc::now() - Duration::seconds(1);
    rename(&owner, &org, "While off").await;
    rename(&owner, &org, "Still off").await;
    owner.patch(&path, &json!({ "enabled": true })).await.expect(200);
    rename(&owner, &org, "Back").await;
    receiver.wait_for(1).await;

    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let replay = owner.post_empty(&format!("{path}/replay?since={since}")).await;
    assert_eq!(replay.expect(200)["queued"], json!(3), "{}", replay.text);
    let all = receiver.wait_for(4).await;
    let names: Vec<&str> = all.iter().map(|r| r.body["data"]["name"]["to"].as_str().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| **n == "Back").count(), 2, "{names:?}");
    assert!(names.contains(&"While off") && names.contains(&"Still off"), "{names:?}");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_previous_one_for_a_day() {
    let server = server().await;
    let (owner, org) = lasting_owner(&server).await;
    let receiver = Receiver::start().await;
    let (hook, old) = subscribe(&owner, &org, &receiver.url, json!(["org.updated"])).await;
    let rotated = owner.post_empty(&format!("/api/v1/orgs/{org}/webhooks/{hook}/rotate-secret")).await;
    let rotated = rotated.expect(200).clone();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_valid_until"].is_string());
    let shown = owner.get(&format!("/api/v1/orgs/{org}/webhooks/{hook}")).await;
    assert!(shown.expect(200).get("secret").is_none(), "the secret is never shown again");

    rename(&owner, &org, "During overlap").await;
    let during = receiver.wait_for(1).await.remove(0);
    assert_eq!(during.signature.split(' ').count(), 2);
    assert!(during.signed_with(&old) && during.signed_with(&new));

    server.clock.advance(Duration::hours(25));
    rename(&owner, &org, "After overlap").await;
    let after = receiver.wait_for(2).await.remove(1);
    assert_eq!(after.signature.split(' ').count(), 1);
    assert!(after.signed_with(&new) && !after.signed_with(&old));
}

#[tokio::test]
async fn private_and_loopback_targets_are_refused_unless_allowed() {
    let server = TestServer::start_with(|c| {
        c.outbound.allow_http = true;
        c.webhooks.poll_interval_ms = 20;
    })
    .await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().unwrap().trim_end_matches("/hook").to_string();
    for url in [
        receiver.url.clone(),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "http://10.0.0.1/hook".to_string(),
        "http://192.168.1.1/hook".to_string(),
        "http://0.0.0.0/hook".to_string(),
    ] {
        let resp = owner.post(&format!("/api/v1/orgs/{org}/webhooks"), &json!({ "url": url })).await;
        assert_eq!((resp.problem(400), resp.field()), ("VALIDATION_ERROR".to_string(), Some("url")), "{url}");
    }
    let https_only = TestServer::start().await;
    let (owner2, body2) = https_only.signup("owner@example.com").await;
    let resp = owner2
        .post(
            &format!("/api/v1/orgs/{}/webhooks", org_of(&body2)),
            &json!({ "url": "http://example.com/hook" }),
        )
        .await;
    assert_eq!(resp.problem(400), "VALIDATION_ERROR");
    rename(&owner, &org, "Renamed").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty(), "nothing reached the loopback target");
}

#[tokio::test]
async fn org_as_endpoint_never_receives_org_bs_events() {
    let server = server().await;
    let (alice, a) = server.signup("alice@example.com").await;
    let (bob, b) = server.signup("bob@example.com").await;
    let (a, b) = (org_of(&a), org_of(&b));
    let receiver = Receiver::start().await;
    subscribe(&alice, &a, &receiver.url, json!(["org.updated"])).await;
    rename(&bob, &b, "Bob's").await;
    rename(&alice, &a, "Alice's").await;
    let got = receiver.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let got_now = receiver.received();
    assert_eq!(got_now.len(), 1, "{got:?}");
    assert_eq!(got_now[0].body["org_id"], json!(a));
}

#[tokio::test]
async fn a_token_from_org_a_never_reads_or_changes_org_bs_webhooks() {
    let server = server().await;
    let (alice, a) = server.signup("alice@example.com").await;
    let (bob, b) = server.signup("bob@example.com").await;
    let (a, b) = (org_of(&a), org_of(&b));
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&bob, &b, &receiver.url, json!(["*"])).await;
    // Through Alice's own org path, Bob's endpoint is just not there.
    for resp in [
        alice.get(&format!("/api/v1/orgs/{a}/webhooks/{hook}")).await,
        alice.patch(&format!("/api/v1/orgs/{a}/webhooks/{hook}"), &json!({ "enabled": false })).await,
        alice.delete(&format!("/api/v1/orgs/{a}/webhooks/{hook}")).await,
        alice.post_empty(&format!("/api/v1/orgs/{a}/webhooks/{hook}/rotate-secret")).await,
        alice.post_empty(&format!("/api/v1/orgs/{a}/webhooks/{hook}/test")).await,
        alice.get(&format!("/api/v1/orgs/{a}/webhooks/{hook}/deliveries")).await,
        alice
            .post_empty(&format!("/api/v1/orgs/{a}/webhooks/{hook}/replay?since=2026-01-01T00:00:00Z"))
            .await,
        alice.get(&format!("/api/v1/orgs/{b}/webhooks")).await,
        alice.get(&format!("/api/v1/orgs/{b}/webhooks/{hook}")).await,
    ] {
        assert_eq!(resp.problem(404), "NOT_FOUND", "{}", resp.text);
    }
    let listed = alice.get(&format!("/api/v1/orgs/{a}/webhooks")).await;
    assert_eq!(listed.expect(200)["data"], json!([]));
    let mine = bob.get(&format!("/api/v1/orgs/{b}/webhooks/{hook}")).await;
    assert_eq!(mine.expect(200)["enabled"], json!(true));
    assert!(receiver.received().iter().all(|r| r.event_type() != "webhook.ping"));
}

#[tokio::test]
async fn a_member_cannot_manage_webhooks_or_learn_a_secret() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["*"])).await;
    let (member, _) = server.member_of(&owner, &org, "bob@example.com", "member").await;
    for resp in [
        member.get(&format!("/api/v1/orgs/{org}/webhooks")).await,
        member.post(&format!("/api/v1/orgs/{org}/webhooks"), &json!({ "url": receiver.url })).await,
        member.post_empty(&format!("/api/v1/orgs/{org}/webhooks/{hook}/rotate-secret")).await,
        member.delete(&format!("/api/v1/orgs/{org}/webhooks/{hook}")).await,
    ] {
        assert_eq!(resp.problem(403), "FORBIDDEN", "{}", resp.text);
    }
}

#[tokio::test]
async fn webhooks_reject_bad_input() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/webhooks");
    let long_url = format!("https://example.com/{}", "a".repeat(2100));
    for (case, body, field) in [
        ("no url", json!({}), "url"),
        ("empty url", json!({ "url": "" }), "url"),
        ("not a url", json!({ "url": "hook me" }), "url"),
        ("a file url", json!({ "url": "file:///etc/passwd" }), "url"),
        ("credentials in the url", json!({ "url": "http://u:p@example.com/" }), "url"),
        ("an oversized url", json!({ "url": long_url }), "url"),
        ("a url that is a number", json!({ "url": 42 }), "url"),
        (
            "an unknown event type",
            json!({ "url": "http://example.com/", "event_types": ["nope"] }),
            "event_types",
        ),
        ("no event types", json!({ "url": "http://example.com/", "event_types": [] }), "event_types"),
        (
            "types as a string",
            json!({ "url": "http://example.com/", "event_types": "member.*" }),
            "event_types",
        ),
        (
            "an oversized description",
            json!({ "url": "http://example.com/", "description": "d".repeat(513) }),
            "description",
        ),
        ("an unknown field", json!({ "url": "http://example.com/", "secret": "mine" }), "secret"),
    ] {
        let resp = owner.post(&path, &body).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}: {}", resp.text);
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    let not_json = owner.post_raw(&path, "application/json", "{").await;
    not_json.problem(400);
    let huge =
        owner.post_raw(&path, "application/json", format!(r#"{{"url":"{}"}}"#, "a".repeat(70_000))).await;
    assert_eq!(huge.problem(413), "PAYLOAD_TOO_LARGE");
    let missing = owner.get(&format!("{path}/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(missing.problem(404), "NOT_FOUND");
    let not_an_id = owner.get(&format!("{path}/not-an-id")).await;
    not_an_id.problem(400);
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["*"])).await;
    for (case, query) in
        [("a bad time", "?since=yesterday"), ("no time", ""), ("the future", "?since=2999-01-01T00:00:00Z")]
    {
        let resp = owner.post_empty(&format!("{path}/{hook}/replay{query}")).await;
        resp.problem(400);
        let _ = case;
    }
    let retry = owner.post_empty(&format!("{path}/{hook}/deliveries/{}/retry", uuid::Uuid::now_v7())).await;
    assert_eq!(retry.problem(404), "NOT_FOUND");
}

#[tokio::test]
async fn a_webhook_manager_without_event_access_cannot_read_the_stream_through_a_webhook() {
    let server = server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "hooks", "name": "Hooks", "permissions": ["org:read", "webhooks:manage"] }),
        )
        .await
        .expect(201);
    let (manager, _) = server.member_of(&owner, &org, "mallory@example.com", "hooks").await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["org.updated"])).await;
    let path = format!("/api/v1/orgs/{org}/webhooks");
    for resp in [
        // A new endpoint, or pointing an existing one elsewhere or at more types, would hand
        // them the events they may not read.
        manager.post(&path, &json!({ "url": receiver.url, "event_types": ["*"] })).await,
        manager.patch(&format!("{path}/{hook}"), &json!({ "event_types": ["*"] })).await,
        manager.patch(&format!("{path}/{hook}"), &json!({ "url": "http://example.com/mine" })).await,
        manager.post_empty(&format!("{path}/{hook}/replay?since=2026-01-01T00:00:00Z")).await,
    ] {
        assert_eq!(resp.problem(403), "FORBIDDEN", "{}", resp.text);
    }
    assert_eq!(manager.get(&format!("/api/v1/orgs/{org}/events")).await.problem(403), "FORBIDDEN");
    // What they may do: see and test endpoints, without ever seeing a secret.
    let listed = manager.get(&path).await;
    assert!(listed.expect(200)["data"][0].get("secret").is_none());
    manager.post_empty(&format!("{path}/{hook}/test")).await.expect(200);
    let shown = owner.get(&format!("{path}/{hook}")).await;
    assert_eq!(shown.expect(200)["event_types"], json!(["org.updated"]));
}

#[tokio::test]
async fn finished_deliveries_go_with_the_event_retention() {
    let server = server().await;
    let (owner, org) = lasting_owner(&server).await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&owner, &org, &receiver.url, json!(["org.updated"])).await;
    rename(&owner, &org, "Renamed").await;
    delivery_when(&owner, &org, &hook, "org.updated", |d| d["status"] == "succeeded").await;
    let purge = || {
        let state = &server.server.state;
        guildhall_tests::guildhall_server::webhooks::worker::purge_finished(state, state.clock.now())
    };
    assert_eq!(purge().await.unwrap(), 0, "kept within the retention");
    server.clock.advance(Duration::days(31));
    assert_eq!(purge().await.unwrap(), 1);
    assert!(deliveries(&owner, &org, &hook).await.is_empty());
}
