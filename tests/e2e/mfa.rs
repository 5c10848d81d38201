//! TOTP enrolment, sign-in with a second factor, recovery codes, and `require_mfa`.

use chrono::Duration;
use guildhall_entities::audit_log;
use guildhall_tests::{Client, PASSWORD, Resp, TestServer, guildhall_server::clock::Clock};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use totp_rs::Totp;

/// An authenticator app, set up from the key URI the server handed out.
struct Authenticator(Totp);

impl Authenticator {
    /// The code the app shows at the server's (injected) time.
    fn code(&self, server: &TestServer) -> String {
        self.0.generate(u64::try_from(server.clock.now().timestamp()).unwrap()).to_string()
    }
}

/// An account's confirmed authenticator, its recovery codes and the code that confirmed it.
struct Enrolled {
    app: Authenticator,
    recovery_codes: Vec<String>,
    confirming_code: String,
}

/// Enrols and confirms an authenticator for `client`'s account.
async fn enrol(server: &TestServer, client: &Client) -> Enrolled {
    let started = client.post_empty("/api/v1/auth/mfa/totp").await;
    let started = started.expect(200).clone();
    let uri = started["otpauth_uri"].as_str().unwrap();
    let app = Authenticator(Totp::from_url(uri).unwrap());
    assert_eq!(app.0.secret().to_base32(), started["secret"].as_str().unwrap());
    let confirming_code = app.code(server);
    let confirmed = client.post("/api/v1/auth/mfa/totp/confirm", &json!({ "code": confirming_code })).await;
    let recovery_codes = confirmed.expect(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    Enrolled { app, recovery_codes, confirming_code }
}

/// A correct password for an account with MFA: the `mfa_token`, and no tokens yet.
async fn password_step(server: &TestServer, email: &str) -> String {
    let resp = server.login(email, PASSWORD).await;
    let body = resp.expect(200);
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(body["access_token"].is_null() && body["refresh_token"].is_null(), "{body}");
    assert_eq!(body["user"]["email"], email);
    let token = body["mfa_token"].as_str().unwrap();
    assert!(token.starts_with("gh_mfa_"), "{token}");
    token.to_string()
}

async fn second_step(server: &TestServer, mfa_token: &str, code: &str) -> Resp {
    server.anon().post("/api/v1/auth/login/mfa", &json!({ "mfa_token": mfa_token, "code": code })).await
}

/// Moves to the next 30-second step, so the app shows a code not yet used.
fn next_step(server: &TestServer) {
    server.clock.advance(Duration::seconds(30));
}

async fn audited(server: &TestServer, action: &str) -> u64 {
    audit_log::Entity::find().filter(audit_log::Column::Action.eq(action)).count(server.db()).await.unwrap()
}

#[tokio::test]
async fn totp_enrolment_and_login_with_real_codes() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    let started = alice.post_empty("/api/v1/auth/mfa/totp").await;
    let started = started.expect(200);
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Guildhall:alice%40example.com?secret="), "{uri}");
    assert!(uri.contains("issuer=Guildhall"), "{uri}");
    assert_eq!(started["secret"].as_str().unwrap().len(), 32, "160 bits of base32");
    // Restarting an unconfirmed enrolment hands out a new secret.
    let Enrolled { app, recovery_codes: codes, .. } = enrol(&server, &alice).await;
    assert_ne!(app.0.secret().to_base32(), started["secret"].as_str().unwrap());
    assert_eq!(codes.len(), 10);
    assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
    let again = alice.post_empty("/api/v1/auth/mfa/totp").await;
    assert_eq!(again.problem(409), "MFA_ALREADY_ENROLLED");
    assert_eq!(audited(&server, "mfa.totp_enrolled").await, 1);

    alice.post_empty("/api/v1/auth/logout").await.expect(204);
    let mfa_token = password_step(&server, "alice@example.com").await;
    next_step(&server);
    let signed_in = second_step(&server, &mfa_token, &app.code(&server)).await;
    let signed_in = signed_in.expect(200);
    assert_eq!(signed_in["token_type"], "Bearer");
    assert_eq!(signed_in["org"]["role"], "owner");
    let me = server.with_token(signed_in["access_token"].as_str().unwrap()).get("/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["user"]["email"], "alice@example.com");
    let refreshed = server
        .anon()
        .post("/api/v1/auth/refresh", &json!({ "refresh_token": signed_in["refresh_token"] }))
        .await;
    refreshed.expect(200);
}

#[tokio::test]
async fn a_wrong_code_does_not_confirm_an_enrolment() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    assert_eq!(
        alice.post("/api/v1/auth/mfa/totp/confirm", &json!({ "code": "123456" })).await.problem(409),
        "MFA_NOT_ENROLLING"
    );
    alice.post_empty("/api/v1/auth/mfa/totp").await.expect(200);
    for code in ["000000", "ABCD-EFGH-JKLM"] {
        let wrong = alice.post("/api/v1/auth/mfa/totp/confirm", &json!({ "code": code })).await;
        assert_eq!(
            (wrong.problem(400).as_str(), wrong.field()),
            ("INVALID_MFA_CODE", Some("code")),
            "{code}"
        );
    }
    // Nothing was confirmed: the password alone still signs in.
    let login = server.login("alice@example.com", PASSWORD).await;
    let login = login.expect(200);
    assert_eq!(login["mfa_required"], false);
    assert!(login["access_token"].is_string());
}

#[tokio::test]
async fn recovery_code_signs_in_once() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    let codes = enrol(&server, &alice).await.recovery_codes;
    // Typed the way people type: lowercase, without dashes.
    let typed = codes[0].to_lowercase().replace('-', "");
    let mfa_token = password_step(&server, "alice@example.com").await;
    second_step(&server, &mfa_token, &typed).await.expect(200);
    assert_eq!(audited(&server, "mfa.recovery_code_used").await, 1);

    let mfa_token = password_step(&server, "alice@example.com").await;
    let reused = second_step(&server, &mfa_token, &codes[0]).await;
    assert_eq!(reused.problem(401), "INVALID_MFA_CODE");
    // The same challenge still takes another, unused code.
    second_step(&server, &mfa_token, &codes[1]).await.expect(200);
}

#[tokio::test]
async fn totp_code_cannot_be_replayed() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    let Enrolled { app, confirming_code, .. } = enrol(&server, &alice).await;
    // The code that confirmed the enrolment is spent, though still within its step.
    let mfa_token = password_step(&server, "alice@example.com").await;
    assert_eq!(second_step(&server, &mfa_token, &confirming_code).await.problem(401), "INVALID_MFA_CODE");

    next_step(&server);
    let code = app.code(&server);
    second_step(&server, &mfa_token, &code).await.expect(200);
    let mfa_token = password_step(&server, "alice@example.com").await;
    assert_eq!(second_step(&server, &mfa_token, &code).await.problem(401), "INVALID_MFA_CODE");
    // Nor does an older step's code work once a newer one was accepted.
    assert_eq!(second_step(&server, &mfa_token, &confirming_code).await.problem(401), "INVALID_MFA_CODE");
    next_step(&server);
    second_step(&server, &mfa_token, &app.code(&server)).await.expect(200);
}

#[tokio::test]
async fn mfa_token_dies_after_too_many_wrong_codes() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    let app = enrol(&server, &alice).await.app;
    let mfa_token = password_step(&server, "alice@example.com").await;
    for attempt in 1..=5 {
        let wrong = second_step(&server, &mfa_token, "000000").await;
        assert_eq!(wrong.problem(401), "INVALID_MFA_CODE", "attempt {attempt}");
        // Past the growing pauses that wrong codes earn, like wrong passwords.
        server.clock.advance(Duration::seconds(20));
    }
    let dead = second_step(&server, &mfa_token, &app.code(&server)).await;
    assert_eq!(dead.problem(401), "INVALID_MFA_TOKEN");
    // The wrong codes were failed sign-ins from this address: five lock it for a while.
    assert_eq!(server.login("alice@example.com", PASSWORD).await.problem(429), "ACCOUNT_LOCKED");
    server.clock.advance(Duration::minutes(16));
    let mfa_token = password_step(&server, "alice@example.com").await;
    second_step(&server, &mfa_token, &app.code(&server)).await.expect(200);
}

#[tokio::test]
async fn mfa_token_is_single_use() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    let Enrolled { app, recovery_codes: codes, .. } = enrol(&server, &alice).await;
    let mfa_token = password_step(&server, "alice@example.com").await;
    next_step(&server);
    second_step(&server, &mfa_token, &app.code(&server)).await.expect(200);
    next_step(&server);
    let again = second_step(&server, &mfa_token, &app.code(&server)).await;
    assert_eq!(again.problem(401), "INVALID_MFA_TOKEN");
    assert_eq!(second_step(&server, &mfa_token, &codes[0]).await.problem(401), "INVALID_MFA_TOKEN");

    // It is short-lived, and a made-up one is nothing.
    let expiring = password_step(&server, "alice@example.com").await;
    server.clock.advance(Duration::minutes(6));
    assert_eq!(second_step(&server, &expiring, &app.code(&server)).await.problem(401), "INVALID_MFA_TOKEN");
    let made_up = format!("gh_mfa_{}", "A".repeat(43));
    assert_eq!(second_step(&server, &made_up, &app.code(&server)).await.problem(401), "INVALID_MFA_TOKEN");
    assert_eq!(second_step(&server, "not-a-token", "123456").await.problem(401), "INVALID_MFA_TOKEN");
}

#[tokio::test]
async fn org_requiring_mfa_issues_no_token_without_mfa() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();
    let (member, member_body) = server.signup("member@example.com").await;
    let own_org = member_body["org"]["id"].as_str().unwrap().to_string();
    server.invite_and_accept(&owner, &member, &org, "member@example.com", "admin").await;
    let selected = member.post_empty(&format!("/api/v1/orgs/{org}/select")).await;
    let selected = selected.expect(200).clone();
    let member = server.with_token(selected["access_token"].as_str().unwrap());
    let pat = member.post("/api/v1/auth/tokens", &json!({ "name": "laptop" })).await;
    let pat = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    let accounts = format!("/api/v1/orgs/{org}/service-accounts");
    let bot = owner.post(&accounts, &json!({ "name": "deployer", "role": "member" })).await;
    let bot_id = bot.expect(201)["id"].as_str().unwrap().to_string();
    let bot = owner.post(&format!("{accounts}/{bot_id}/tokens"), &json!({ "name": "ci" })).await;
    let bot = server.with_token(bot.expect(201)["token"].as_str().unwrap());

    // An owner without an authenticator cannot lock themself out by requiring one.
    let require = json!({ "auth_settings": { "require_mfa": true } });
    let refused = owner.patch(&format!("/api/v1/orgs/{org}"), &require).await;
    assert_eq!(refused.problem(409), "MFA_ENROLMENT_REQUIRED");
    enrol(&server, &owner).await;
    let patched = owner.patch(&format!("/api/v1/orgs/{org}"), &require).await;
    assert_eq!(patched.expect(200)["effective_auth_settings"]["require_mfa"], true);

    // Without a second factor: no acting in the org, no switching into it, no new tokens for it.
    let org_path = format!("/api/v1/orgs/{org}");
    assert_eq!(member.get(&org_path).await.problem(403), "MFA_REQUIRED");
    assert_eq!(member.post_empty(&format!("{org_path}/select")).await.problem(403), "MFA_REQUIRED");
    assert_eq!(
        member.post("/api/v1/auth/tokens", &json!({ "name": "x" })).await.problem(403),
        "MFA_REQUIRED"
    );
    assert_eq!(member.get("/api/v1/auth/tokens/default").await.problem(403), "MFA_REQUIRED");
    assert_eq!(pat.get(&org_path).await.problem(403), "MFA_REQUIRED");
    // The owner passed MFA in this session when enrolling.
    owner.get(&org_path).await.expect(200);
    // Service accounts have no second factor and keep working.
    bot.get(&org_path).await.expect(200);
    // Signing in or refreshing lands in an org that does not require MFA.
    let login = server.login("member@example.com", PASSWORD).await;
    assert_eq!(login.expect(200)["org"]["id"], own_org.as_str());
    let refreshed = server
        .anon()
        .post("/api/v1/auth/refresh", &json!({ "refresh_token": selected["refresh_token"] }))
        .await;
    assert_eq!(refreshed.expect(200)["org"]["id"], own_org.as_str());

    // Enrolling works from the same session, which then counts as having passed MFA.
    let app = enrol(&server, &member).await.app;
    member.get(&org_path).await.expect(200);
    member.post("/api/v1/auth/tokens", &json!({ "name": "after mfa" })).await.expect(201);
    pat.get(&org_path).await.expect(200);
    let switched = member.post_empty(&format!("{org_path}/select")).await;
    let switched = server.with_token(switched.expect(200)["access_token"].as_str().unwrap());
    switched.get(&org_path).await.expect(200);

    // A sign-in with the second factor starts in the org again.
    let mfa_token = password_step(&server, "member@example.com").await;
    next_step(&server);
    let signed_in = second_step(&server, &mfa_token, &app.code(&server)).await;
    let signed_in = signed_in.expect(200);
    assert_eq!(signed_in["org"]["id"], org.as_str());
    server.with_token(signed_in["access_token"].as_str().unwrap()).get(&org_path).await.expect(200);
}

#[tokio::test]
async fn an_instance_requiring_mfa_lets_new_accounts_in_without_an_org_to_enrol() {
    let (server, admin) = TestServer::with_admin().await;
    admin.patch("/api/v1/instance/settings", &json!({ "require_mfa": true })).await.expect(200);
    let (newcomer, body) = server.signup("newcomer@example.com").await;
    assert_eq!(body["org"], Value::Null, "{body}");
    assert_eq!(newcomer.get("/api/v1/auth/me").await.expect(200)["org"], Value::Null);
    assert_eq!(
        newcomer.post("/api/v1/orgs", &json!({ "name": "Another" })).await.problem(403),
        "MFA_REQUIRED"
    );
    enrol(&server, &newcomer).await;
    newcomer.post("/api/v1/orgs", &json!({ "name": "Another" })).await.expect(201);
}

#[tokio::test]
async fn mfa_endpoints_reject_bad_input() {
    let server = TestServer::start().await;
    let (alice, _) = server.signup("alice@example.com").await;
    alice.post_empty("/api/v1/auth/mfa/totp").await.expect(200);
    let confirm = "/api/v1/auth/mfa/totp/confirm";
    let finish = "/api/v1/auth/login/mfa";
    let long = "1".repeat(1000);
    let long_token = format!("gh_mfa_{}", "a".repeat(5000));
    for (case, path, body, field) in [
        ("missing code", confirm, json!({}), "code"),
        ("code as a number", confirm, json!({ "code": 123_456 }), "code"),
        ("null code", confirm, json!({ "code": null }), "code"),
        ("empty code", confirm, json!({ "code": "  " }), "code"),
        ("oversized code", confirm, json!({ "code": long }), "code"),
        ("unknown field", confirm, json!({ "code": "123456", "remember": true }), "remember"),
        ("missing token", finish, json!({ "code": "123456" }), "mfa_token"),
        ("token as a number", finish, json!({ "mfa_token": 5, "code": "123456" }), "mfa_token"),
        ("oversized token", finish, json!({ "mfa_token": long_token, "code": "123456" }), "mfa_token"),
        ("empty token", finish, json!({ "mfa_token": "", "code": "123456" }), "mfa_token"),
        ("missing code", finish, json!({ "mfa_token": "gh_mfa_x" }), "code"),
        ("code as a list", finish, json!({ "mfa_token": "gh_mfa_x", "code": ["1"] }), "code"),
        ("oversized code", finish, json!({ "mfa_token": "gh_mfa_x", "code": long }), "code"),
    ] {
        let client = if path == confirm { alice.clone() } else { server.anon() };
        let resp = client.post(path, &body).await;
        assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some(field)), "{case}");
    }
    for path in [confirm, finish] {
        let resp = alice.post_raw(path, "application/json", "{not json").await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{path}");
        let resp = alice.post_raw(path, "application/json", "[]").await;
        assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("body")), "{path}");
        let huge = json!({ "code": "1".repeat(70 * 1024) }).to_string();
        assert_eq!(alice.post_raw(path, "application/json", huge).await.problem(413), "PAYLOAD_TOO_LARGE");
    }
    // Enrolment needs a signed-in session.
    assert_eq!(server.anon().post_empty("/api/v1/auth/mfa/totp").await.problem(401), "UNAUTHENTICATED");
    let pat = alice.post("/api/v1/auth/tokens", &json!({ "name": "ci" })).await;
    let pat = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    assert_eq!(pat.post_empty("/api/v1/auth/mfa/totp").await.problem(403), "SESSION_REQUIRED");
}
