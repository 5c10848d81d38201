//! OIDC sign-in end to end: a real issuer served in-process (discovery, JWKS, authorization and
//! token endpoints, RS256 ID tokens), the server's login redirect, callback and code exchange
//! over HTTP, and each check the callback makes, attacked one at a time.

use std::sync::Arc;

use base64::Engine;
use guildhall_server::clock::Clock;
use guildhall_tests::{
    Client, TestServer,
    browser::{Browser, Hop, urlencode},
    oidc_issuer::{IdpUser, OidcIssuer, Tamper},
};
use serde_json::{Value, json};

pub const RETURN_TO: &str = "https://app.example.test/sso/done";

pub async fn sso_server() -> TestServer {
    TestServer::start_with(|c| {
        c.outbound.allow_private_networks = true;
        c.outbound.allow_http = true;
        c.sso.return_urls = vec![RETURN_TO.to_string()];
    })
    .await
}

pub struct World {
    pub server: TestServer,
    pub owner: Client,
    pub org: String,
    pub idp: OidcIssuer,
    pub provider: String,
}

/// A server, an owner whose org verified `example.com`, a live issuer and an OIDC provider for it.
pub async fn world(extra: Value) -> World {
    let server = sso_server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();
    server.verify_domain(&owner, &org, "example.com").await;
    let clock = server.clock.clone();
    let idp = OidcIssuer::start(Arc::new(move || clock.now().timestamp())).await;
    let mut provider = json!({
        "kind": "oidc",
        "name": "Okta",
        "domains": ["example.com"],
        "oidc": {
            "discovery_url": idp.discovery_url(),
            "client_id": idp.client_id,
            "client_secret": idp.client_secret,
            "groups_claim": "groups",
        },
    });
    if let (Some(target), Some(extra)) = (provider.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    let created = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &provider).await;
    let provider = created.expect(201)["id"].as_str().unwrap().to_string();
    World { server, owner, org, idp, provider }
}

impl World {
    fn login_url(&self) -> String {
        self.server.url(&format!(
            "/api/v1/auth/sso/login?provider_id={}&return_to={}&state=app-state-1",
            self.provider,
            urlencode(RETURN_TO)
        ))
    }

    /// Starts a sign-in and lets the IdP answer: the browser stands before our callback.
    async fn to_callback(&self, browser: &mut Browser) -> String {
        let start = browser.get(&self.login_url()).await;
        assert_eq!(start.status, 302, "{}", start.text);
        assert!(start.location().starts_with(&self.idp.issuer), "{}", start.location());
        let at_idp = browser.get(start.location()).await;
        assert_eq!(at_idp.status, 302, "{}", at_idp.text);
        at_idp.location().to_string()
    }

    /// A whole sign-in as `user`: the callback's answer.
    pub async fn sign_in(&self, user: IdpUser) -> Hop {
        self.idp.sign_in_as(user);
        let mut browser = Browser::new();
        let callback = self.to_callback(&mut browser).await;
        browser.get(&callback).await
    }

    /// A whole sign-in as `user`, exchanged for tokens.
    pub async fn tokens(&self, user: IdpUser) -> Value {
        let hop = self.sign_in(user).await;
        assert_eq!(hop.status, 303, "{}", hop.text);
        assert!(hop.location().starts_with(RETURN_TO), "{}", hop.location());
        assert_eq!(hop.location_param("state").as_deref(), Some("app-state-1"));
        let code = hop.location_param("code").expect("code");
        let exchanged = self.server.anon().post("/api/v1/auth/sso/exchange", &json!({ "code": code })).await;
        exchanged.expect(200).clone()
    }

    async fn activity(&self, failed: bool) -> Vec<Value> {
        let path = format!("/api/v1/orgs/{}/sso/activity?failed={failed}", self.org);
        self.owner.get(&path).await.expect(200)["data"].as_array().unwrap().clone()
    }
}

fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

#[tokio::test]
async fn an_employee_signs_in_through_the_orgs_idp_and_lands_in_the_org_with_the_mapped_role() {
    let w = world(json!({})).await;
    let mappings = format!("/api/v1/orgs/{}/group-role-mappings", w.org);
    w.owner.post(&mappings, &json!({ "group": "Engineering Admins", "role": "admin" })).await.expect(201);
    w.owner.post(&mappings, &json!({ "group": "re:support-.*", "role": "member" })).await.expect(201);

    let tokens =
        w.tokens(IdpUser::new("okta|alice", "Alice@Example.com").groups(&["Engineering Admins"])).await;
    assert_eq!(tokens["org"]["id"], w.org.as_str());
    assert_eq!(tokens["org"]["role"], "admin");
    assert_eq!(tokens["user"]["email"], "alice@example.com");
    let access = tokens["access_token"].as_str().unwrap();
    let claims = claims(access);
    assert_eq!(claims["amr"], json!(["sso"]));
    assert_eq!(claims["sso_provider_id"], w.provider.as_str());
    assert_eq!(claims["org_role"], "admin");
    let me = w.server.with_token(access).get("/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["user"]["email"], "alice@example.com");

    // PKCE and the configured client authentication reached the IdP.
    let token_request = w.idp.token_requests().pop().unwrap();
    assert!(token_request.code_verifier.as_deref().is_some_and(|v| v.len() >= 43));
    assert_eq!(format!("{:?}", token_request.client_auth), "Basic");

    // The refreshed pair still says how the session began.
    let refreshed = w
        .server
        .anon()
        .post("/api/v1/auth/refresh", &json!({ "refresh_token": tokens["refresh_token"] }))
        .await;
    let refreshed_claims = self::claims(refreshed.expect(200)["access_token"].as_str().unwrap());
    assert_eq!(refreshed_claims["amr"], json!(["sso"]));

    // A regex-mapped group, and no group at all: the default role.
    let bob = w.tokens(IdpUser::new("okta|bob", "bob@example.com").groups(&["support-emea"])).await;
    assert_eq!(bob["org"]["role"], "member");
    let carol = w.tokens(IdpUser::new("okta|carol", "carol@example.com")).await;
    assert_eq!(carol["org"]["role"], "member");

    // Signing in again is the same account, and the activity shows each sign-in.
    let again =
        w.tokens(IdpUser::new("okta|alice", "alice@example.com").groups(&["Engineering Admins"])).await;
    assert_eq!(again["user"]["id"], tokens["user"]["id"]);
    let activity = w.activity(false).await;
    assert_eq!(activity.len(), 4, "{activity:?}");
    assert_eq!(activity[0]["action"], "sso.login");
    assert_eq!(activity[0]["details"]["method"], "oidc");
}

#[tokio::test]
async fn each_forged_or_misdirected_id_token_is_refused_with_its_reason_and_audited() {
    let w = world(json!({})).await;
    let user = || IdpUser::new("okta|dave", "dave@example.com");
    for (tamper, reason) in [
        (Tamper::WrongIssuer, "issuer_mismatch"),
        (Tamper::WrongAudience, "audience_mismatch"),
        (Tamper::Expired, "expired"),
        (Tamper::WrongNonce, "nonce_mismatch"),
        (Tamper::UnknownKid, "invalid_signature"),
        (Tamper::AlgNone, "unsupported_algorithm"),
        (Tamper::HmacWithPublicKey, "unsupported_algorithm"),
        (Tamper::WrongIssParam, "issuer_mismatch"),
        // Discovery promises `iss` (RFC 9207): a response without it may come from another IdP.
        (Tamper::NoIssParam, "issuer_mismatch"),
        (Tamper::GroupsOverage, "groups_overage"),
        (Tamper::IdpError("access_denied"), "idp_error"),
    ] {
        w.idp.tamper(tamper);
        let hop = w.sign_in(user()).await;
        assert!(hop.status.is_client_error(), "{tamper:?}: {} {}", hop.status, hop.text);
        assert_eq!(hop.reason(), reason, "{tamper:?}: {}", hop.text);
        assert_eq!(hop.body["code"], format!("SSO_{}", reason.to_uppercase()));
    }
    let failures = w.activity(true).await;
    assert_eq!(failures.len(), 11);
    assert_eq!(failures[0]["details"]["reason"], "idp_error");
    // None of them made an account or a member.
    let members = w.owner.get(&format!("/api/v1/orgs/{}/members", w.org)).await;
    assert!(!members.text.contains("dave@example.com"), "{}", members.text);
    // And the untampered sign-in works.
    assert_eq!(w.sign_in(user()).await.status, 303);
}

#[tokio::test]
async fn a_callback_replayed_forged_or_opened_in_another_browser_is_refused() {
    let w = world(json!({})).await;
    w.idp.sign_in_as(IdpUser::new("okta|erin", "erin@example.com"));
    let mut browser = Browser::new();
    let callback = w.to_callback(&mut browser).await;

    // Login CSRF: the victim's browser is handed the attacker's callback URL.
    let mut other = Browser::new();
    assert_eq!(other.get(&callback).await.reason(), "browser_mismatch");
    // An unknown state.
    let forged = callback.replace("state=", "state=x");
    assert_eq!(browser.get(&forged).await.reason(), "unknown_login");
    // The real browser finishes once; a replay is refused.
    assert_eq!(browser.get(&callback).await.status, 303);
    assert_eq!(browser.get(&callback).await.reason(), "login_replayed");
    // No state at all.
    let bare = w.server.url("/api/v1/auth/sso/oidc/callback?code=abc");
    assert_eq!(browser.get(&bare).await.reason(), "invalid_request");
    // A sign-in left too long expires.
    w.idp.sign_in_as(IdpUser::new("okta|erin", "erin@example.com"));
    let mut late = Browser::new();
    let callback = w.to_callback(&mut late).await;
    w.server.clock.advance(chrono::Duration::minutes(11));
    assert_eq!(late.get(&callback).await.reason(), "unknown_login");
}

#[tokio::test]
async fn a_rotated_idp_key_is_fetched_again_once_and_signs_in() {
    let w = world(json!({})).await;
    w.tokens(IdpUser::new("okta|fay", "fay@example.com")).await;
    let fetched = w.idp.jwks_fetches();
    w.idp.rotate_key();
    w.tokens(IdpUser::new("okta|fay", "fay@example.com")).await;
    assert_eq!(w.idp.jwks_fetches(), fetched + 1);
}

#[tokio::test]
async fn an_idp_never_signs_anyone_in_outside_the_orgs_verified_domains() {
    let w = world(json!({})).await;
    // Someone else's account, at a domain the org has not verified.
    let (_victim, _) = w.server.signup("victim@elsewhere.test").await;
    let hop = w.sign_in(IdpUser::new("okta|mallory", "victim@elsewhere.test")).await;
    assert_eq!(hop.reason(), "domain_not_verified");
    // Nobody was linked or created: the victim still signs in with their password alone.
    assert_eq!(w.server.login("victim@elsewhere.test", guildhall_tests::PASSWORD).await.status, 200);

    // The nOAuth mistake: once linked, a subject stays its account whatever email it claims later.
    let first = w.tokens(IdpUser::new("okta|gus", "gus@example.com")).await;
    let (_, owner_body) = (0, w.owner.get("/api/v1/auth/me").await.body);
    let owner_id = owner_body["user"]["id"].clone();
    let later = w.tokens(IdpUser::new("okta|gus", "owner@example.com")).await;
    assert_eq!(later["user"]["id"], first["user"]["id"]);
    assert_ne!(later["user"]["id"], owner_id);
    // An unverified email claim is not an address.
    let hop = w.sign_in(IdpUser::new("okta|hal", "hal@example.com").unverified()).await;
    assert_eq!(hop.reason(), "missing_email");
}

#[tokio::test]
async fn an_orgs_idp_cannot_sign_in_as_the_instance_admin() {
    // The instance admin's address is in the org's verified domain; its IdP still never speaks
    // for that account (instance-wide power must not follow one org's IdP).
    let w = world(json!({ "sso_required": true })).await;
    let hop = w.sign_in(IdpUser::new("okta|impostor", "owner@example.com")).await;
    assert_eq!(hop.reason(), "account_not_eligible", "{}", hop.text);
    assert_eq!(hop.body["code"], "SSO_ACCOUNT_NOT_ELIGIBLE");
    // Nor can the org lock its instance admin out of password sign-in by requiring SSO.
    w.server.login("owner@example.com", guildhall_tests::PASSWORD).await.expect(200);
    let failed = w.activity(true).await;
    assert_eq!(failed[0]["details"]["reason"], "account_not_eligible");
}

#[tokio::test]
async fn a_provider_of_org_a_never_signs_anyone_into_org_b() {
    let w = world(json!({})).await;
    // Org B verifies its own domain; org A's provider asserts an address there.
    let (b_owner, body) = w.server.signup("boss@b.example.org").await;
    let org_b = body["org"]["id"].as_str().unwrap().to_string();
    w.owner
        .post(&format!("/api/v1/orgs/{org_b}/email-domains"), &json!({ "domain": "b.example.org" }))
        .await
        .expect(404);
    b_owner
        .post(&format!("/api/v1/orgs/{org_b}/email-domains"), &json!({ "domain": "b.example.org" }))
        .await
        .expect(201);
    let hop = w.sign_in(IdpUser::new("okta|intruder", "boss@b.example.org")).await;
    assert_eq!(hop.reason(), "domain_not_verified");
    // A code from org A's sign-in only ever opens org A.
    let tokens = w.tokens(IdpUser::new("okta|ida", "ida@example.com")).await;
    assert_eq!(tokens["org"]["id"], w.org.as_str());
    let into_b = w
        .server
        .with_token(tokens["access_token"].as_str().unwrap())
        .get(&format!("/api/v1/orgs/{org_b}"))
        .await;
    assert_eq!(into_b.status, 404);
    // Org B's admin cannot see org A's provider or its activity.
    let path = format!("/api/v1/orgs/{}/sso/activity", w.org);
    assert_eq!(b_owner.get(&path).await.status, 404);
}

#[tokio::test]
async fn without_jit_only_existing_members_sign_in_and_a_full_org_admits_nobody() {
    let w = world(json!({ "jit": false })).await;
    assert_eq!(w.sign_in(IdpUser::new("okta|new", "newcomer@example.com")).await.reason(), "not_a_member");
    // An existing member signs in (linked by the verified address).
    let (_member, _) = w.server.member_of(&w.owner, &w.org, "member@example.com", "member").await;
    let tokens = w.tokens(IdpUser::new("okta|member", "member@example.com")).await;
    assert_eq!(tokens["user"]["email"], "member@example.com");

    // With JIT on, `max_users` still holds.
    let w = world(json!({})).await;
    w.owner.patch(&format!("/api/v1/orgs/{}", w.org), &json!({ "max_users": 1 })).await.expect(200);
    assert_eq!(w.sign_in(IdpUser::new("okta|extra", "extra@example.com")).await.reason(), "org_full");
}

#[tokio::test]
async fn sso_required_turns_password_sign_in_away_and_names_the_way_in() {
    let w = world(json!({ "sso_required": true })).await;
    let (_, _) = w.server.member_of(&w.owner, &w.org, "jo@example.com", "member").await;
    let refused = w.server.login("jo@example.com", guildhall_tests::PASSWORD).await;
    assert_eq!(refused.problem(403), "SSO_REQUIRED");
    assert!(refused.text.contains(&w.provider), "{}", refused.text);
    // A wrong password still says only that.
    assert_eq!(
        w.server.login("jo@example.com", "wrong password here").await.problem(401),
        "INVALID_CREDENTIALS"
    );
    // Through the IdP, the same person signs in.
    let tokens = w.tokens(IdpUser::new("okta|jo", "jo@example.com")).await;
    assert_eq!(tokens["user"]["email"], "jo@example.com");
}

#[tokio::test]
async fn sign_in_starts_by_email_domain_or_org_and_returns_only_where_allowed() {
    let w = world(json!({})).await;
    let mut browser = Browser::new();
    let by_email = browser.get(&w.server.url("/api/v1/auth/sso/login?email=Someone@Example.com")).await;
    assert_eq!(by_email.status, 302, "{}", by_email.text);
    assert!(by_email.location().starts_with(&w.idp.issuer));
    let slug =
        w.owner.get(&format!("/api/v1/orgs/{}", w.org)).await.body["slug"].as_str().unwrap().to_string();
    let by_org = browser.get(&w.server.url(&format!("/api/v1/auth/sso/login?org={slug}"))).await;
    assert_eq!(by_org.status, 302, "{}", by_org.text);
    for (query, status, code) in [
        ("email=someone@unknown.test", 404, "SSO_NOT_CONFIGURED"),
        ("org=no-such-org", 404, "SSO_NOT_CONFIGURED"),
        ("provider_id=not-a-uuid", 400, "VALIDATION_ERROR"),
        ("", 400, "VALIDATION_ERROR"),
    ] {
        let hop = browser.get(&w.server.url(&format!("/api/v1/auth/sso/login?{query}"))).await;
        assert_eq!(
            (hop.status.as_u16(), hop.body["code"].as_str()),
            (status, Some(code)),
            "{query}: {}",
            hop.text
        );
    }
    for evil in [
        "https://evil.example/sso/done",
        "https://app.example.test.evil.example/sso/done",
        "https://app.example.test/sso/done-elsewhere",
        "https://user@app.example.test/sso/done",
        "http://app.example.test/sso/done",
        "javascript:alert(1)",
    ] {
        let url = w.server.url(&format!(
            "/api/v1/auth/sso/login?provider_id={}&return_to={}",
            w.provider,
            urlencode(evil)
        ));
        let hop = browser.get(&url).await;
        assert_eq!(hop.status, 400, "{evil}: {}", hop.text);
    }
    let below = format!("{RETURN_TO}/deeper?x=1");
    let url = w.server.url(&format!(
        "/api/v1/auth/sso/login?provider_id={}&return_to={}",
        w.provider,
        urlencode(&below)
    ));
    assert_eq!(browser.get(&url).await.status, 302);
    // A disabled provider starts nothing.
    w.owner
        .post_empty(&format!("/api/v1/orgs/{}/sso/providers/{}/disable", w.org, w.provider))
        .await
        .expect(200);
    let hop = browser.get(&w.login_url()).await;
    assert_eq!(hop.body["code"], "SSO_PROVIDER_DISABLED");
}

#[tokio::test]
async fn a_code_is_exchanged_once_within_a_minute() {
    let w = world(json!({})).await;
    w.idp.sign_in_as(IdpUser::new("okta|kim", "kim@example.com"));
    let exchange = |code: String| {
        let anon = w.server.anon();
        async move { anon.post("/api/v1/auth/sso/exchange", &json!({ "code": code })).await }
    };
    let hop = w.sign_in(IdpUser::new("okta|kim", "kim@example.com")).await;
    let code = hop.location_param("code").unwrap();
    exchange(code.clone()).await.expect(200);
    assert_eq!(exchange(code).await.problem(401), "INVALID_SSO_CODE");
    let hop = w.sign_in(IdpUser::new("okta|kim", "kim@example.com")).await;
    let late = hop.location_param("code").unwrap();
    w.server.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(exchange(late).await.problem(401), "INVALID_SSO_CODE");
    for bad in
        [json!({ "code": "nope" }), json!({ "code": 5 }), json!({}), json!({ "code": "x".repeat(100_000) })]
    {
        let resp = w.server.anon().post("/api/v1/auth/sso/exchange", &bad).await;
        assert!(resp.status.is_client_error(), "{bad}: {}", resp.status);
    }
}

#[tokio::test]
async fn one_client_cannot_flood_the_login_table_by_starting_sign_ins() {
    let server = TestServer::start_with(|c| {
        c.outbound.allow_private_networks = true;
        c.outbound.allow_http = true;
        c.sso.return_urls = vec![RETURN_TO.to_string()];
        c.sso.login_starts_per_minute = 5;
    })
    .await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();
    server.verify_domain(&owner, &org, "example.com").await;
    let idp = OidcIssuer::start_now().await;
    let provider = json!({ "kind": "oidc", "name": "Okta", "domains": ["example.com"], "oidc": {
        "discovery_url": idp.discovery_url(), "client_id": idp.client_id, "client_secret": idp.client_secret } });
    let provider = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &provider).await;
    let provider = provider.expect(201)["id"].as_str().unwrap().to_string();
    let url = server.url(&format!("/api/v1/auth/sso/login?provider_id={provider}"));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(Browser::new().get(&url).await.status.as_u16());
    }
    assert_eq!(statuses, [302, 302, 302, 302, 302, 429, 429, 429]);
    let limited = Browser::new().get(&url).await;
    assert_eq!(limited.body["code"], "SSO_LOGIN_RATE_LIMITED", "{}", limited.text);
    // The refused starts wrote nothing; the rest of the server still answers.
    server.anon().get("/healthz").await.expect(200);
}
