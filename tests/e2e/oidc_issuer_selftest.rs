//! The test IdP (`guildhall_tests::oidc_issuer`) driven by hand with plain HTTP, and its ID tokens
//! checked with jsonwebtoken: it must be a correct issuer, and each tamper must carry exactly
//! its defect, or the sign-in tests built on it prove nothing.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use guildhall_tests::oidc_issuer::{
    ClientAuth, IdpUser, OVERAGE_ENDPOINT, OidcIssuer, Tamper, WRONG_AUDIENCE, WRONG_ISSUER, WRONG_NONCE,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/sso/callback?provider=p1";

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn alice() -> IdpUser {
    IdpUser::new("alice-sub", "alice@example.com").groups(&["eng", "ops"]).claim("name", json!("Alice"))
}

/// One relying-party attempt: what it sends to /authorize and must send back to /token.
struct Attempt {
    state: String,
    nonce: String,
    verifier: String,
}

impl Attempt {
    fn new() -> Self {
        let r = || uuid::Uuid::new_v4().simple().to_string();
        Self { state: r(), nonce: r(), verifier: format!("{}{}", r(), r()) }
    }

    fn challenge(&self) -> String {
        URL_SAFE_NO_PAD
            .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.verifier.as_bytes()))
    }

    fn params(&self, idp: &OidcIssuer) -> Vec<(&'static str, String)> {
        vec![
            ("response_type", "code".into()),
            ("client_id", idp.client_id.clone()),
            ("redirect_uri", REDIRECT.into()),
            ("scope", "openid email groups".into()),
            ("state", self.state.clone()),
            ("nonce", self.nonce.clone()),
            ("code_challenge", self.challenge()),
            ("code_challenge_method", "S256".into()),
        ]
    }
}

async fn authorize_with(idp: &OidcIssuer, params: &[(&str, String)]) -> reqwest::Response {
    http().get(format!("{}/authorize?{}", idp.issuer, encode(params))).send().await.unwrap()
}

/// Authorizes and returns the redirect's query parameters.
async fn authorize(idp: &OidcIssuer, attempt: &Attempt) -> BTreeMap<String, String> {
    let resp = authorize_with(idp, &attempt.params(idp)).await;
    assert_eq!(resp.status(), 302, "{:?}", resp.text().await);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("http://127.0.0.1:9/sso/callback?provider=p1&"), "{location}");
    let url = reqwest::Url::parse(&location).unwrap();
    url.query_pairs().into_owned().collect()
}

#[derive(Clone, Copy)]
enum Auth {
    Basic,
    Post,
}

async fn redeem(idp: &OidcIssuer, code: &str, verifier: &str, auth: Auth) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.to_string()),
        ("redirect_uri", REDIRECT.to_string()),
        ("code_verifier", verifier.to_string()),
    ];
    let mut req = http().post(format!("{}/token", idp.issuer));
    match auth {
        Auth::Basic => req = req.basic_auth(&idp.client_id, Some(&idp.client_secret)),
        Auth::Post => {
            form.push(("client_id", idp.client_id.clone()));
            form.push(("client_secret", idp.client_secret.clone()));
        }
    }
    let resp = post_form(req, &form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `application/x-www-form-urlencoded` (this crate's reqwest has neither `query` nor `form`).
fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k.as_ref(), v.as_ref());
    }
    out.finish()
}

fn post_form<K: AsRef<str>, V: AsRef<str>>(
    req: reqwest::RequestBuilder,
    pairs: &[(K, V)],
) -> reqwest::RequestBuilder {
    req.header("content-type", "application/x-www-form-urlencoded").body(encode(pairs))
}

/// A full sign-in; returns the token response and the attempt.
async fn sign_in(idp: &OidcIssuer, auth: Auth) -> (Value, Attempt) {
    let attempt = Attempt::new();
    let query = authorize(idp, &attempt).await;
    let (status, body) = redeem(idp, &query["code"], &attempt.verifier, auth).await;
    assert_eq!(status, 200, "{body}");
    (body, attempt)
}

/// A sign-in under `tamper`; returns the ID token, the access token and the attempt.
async fn tampered(idp: &OidcIssuer, tamper: Tamper) -> (String, String, Attempt) {
    idp.tamper(tamper);
    let (body, attempt) = sign_in(idp, Auth::Basic).await;
    (body["id_token"].as_str().unwrap().into(), body["access_token"].as_str().unwrap().into(), attempt)
}

/// The decoded header and claims, unverified.
fn parts(jwt: &str) -> (Value, Value, String) {
    let mut it = jwt.split('.');
    let mut json = || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let (header, claims) = (json(), json());
    (header, claims, it.next().unwrap().to_string())
}

async fn jwks(idp: &OidcIssuer) -> Vec<Value> {
    let body: Value = http().get(format!("{}/jwks", idp.issuer)).send().await.unwrap().json().await.unwrap();
    body["keys"].as_array().unwrap().clone()
}

async fn userinfo(idp: &OidcIssuer, access_token: &str) -> (u16, Value) {
    let resp = http().get(format!("{}/userinfo", idp.issuer)).bearer_auth(access_token).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// Verifies an RS256 token as a relying party would: the key named by kid in /jwks, iss, aud, exp.
fn verify(idp: &OidcIssuer, keys: &[Value], jwt: &str) -> Result<Value, ErrorKind> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.into_kind())?;
    let jwk = keys
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .ok_or(ErrorKind::InvalidKeyFormat)?;
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&idp.issuer]);
    validation.set_audience(&[&idp.client_id]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(jwt, &key, &validation).map(|t| t.claims).map_err(|e| e.into_kind())
}

#[tokio::test]
async fn oidc_issuer_discovery_names_itself_its_endpoints_and_what_it_supports() {
    let idp = OidcIssuer::start_now().await;
    assert_eq!(idp.discovery_url(), format!("{}/.well-known/openid-configuration", idp.issuer));
    let doc: Value = http().get(idp.discovery_url()).send().await.unwrap().json().await.unwrap();
    let base = &idp.issuer;
    assert_eq!(doc["issuer"], json!(base));
    assert_eq!(doc["authorization_endpoint"], json!(format!("{base}/authorize")));
    assert_eq!(doc["token_endpoint"], json!(format!("{base}/token")));
    assert_eq!(doc["jwks_uri"], json!(format!("{base}/jwks")));
    assert_eq!(doc["userinfo_endpoint"], json!(format!("{base}/userinfo")));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], json!(true));
    assert!(doc["scopes_supported"].as_array().unwrap().contains(&json!("openid")));
    assert!(doc["claims_supported"].as_array().unwrap().contains(&json!("groups")));

    assert_eq!(idp.jwks_fetches(), 0);
    let keys = jwks(&idp).await;
    assert_eq!(idp.jwks_fetches(), 1);
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!((&key["kty"], &key["use"], &key["alg"]), (&json!("RSA"), &json!("sig"), &json!("RS256")));
    assert_eq!(key["kid"], json!(idp.current_kid()));
    assert_eq!(key["e"], json!("AQAB"));
    assert_eq!(URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap().len(), 256, "RSA-2048");
}

#[tokio::test]
async fn oidc_issuer_code_flow_with_basic_auth_yields_an_id_token_that_verifies_against_jwks() {
    let idp = OidcIssuer::start_now().await;
    idp.sign_in_as(alice());
    let attempt = Attempt::new();
    let query = authorize(&idp, &attempt).await;
    assert_eq!(query["state"], attempt.state);
    assert_eq!(query["iss"], idp.issuer);
    assert!(!query["code"].is_empty());
    assert_eq!(query["provider"], "p1", "the redirect_uri's own query is kept");
    let seen = idp.authorize_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["code_challenge"], attempt.challenge());

    let (status, body) = redeem(&idp, &query["code"], &attempt.verifier, Auth::Basic).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    let access_token = body["access_token"].as_str().unwrap();
    let id_token = body["id_token"].as_str().unwrap();

    let (header, _, _) = parts(id_token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], json!(idp.current_kid()));
    let claims = verify(&idp, &jwks(&idp).await, id_token).expect("the ID token verifies");
    let now = chrono::Utc::now().timestamp();
    assert_eq!(claims["sub"], "alice-sub");
    assert_eq!(claims["aud"], json!(idp.client_id));
    assert_eq!(claims["nonce"], json!(attempt.nonce));
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["groups"], json!(["eng", "ops"]));
    assert_eq!(claims["name"], "Alice");
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now - iat).abs() <= 5, "iat {iat} now {now}");
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 300);
    let at_hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    assert_eq!(claims["at_hash"], json!(URL_SAFE_NO_PAD.encode(&at_hash.as_ref()[..16])));

    let requests = idp.token_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].client_auth, ClientAuth::Basic);
    assert_eq!(requests[0].client_id.as_deref(), Some(idp.client_id.as_str()));
    assert_eq!(requests[0].code_verifier.as_deref(), Some(attempt.verifier.as_str()));
    assert_eq!(requests[0].redirect_uri.as_deref(), Some(REDIRECT));
    assert_eq!((requests[0].status, requests[0].error.as_deref()), (200, None));

    let (status, info) = userinfo(&idp, access_token).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], "alice-sub");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["groups"], json!(["eng", "ops"]));
    assert_eq!(info["name"], "Alice");
    assert_eq!(userinfo(&idp, "not-a-token").await.0, 401);
    assert_eq!(idp.userinfo_fetches(), 2);
}

#[tokio::test]
async fn oidc_issuer_accepts_client_secret_post_and_records_it() {
    let idp = OidcIssuer::start_now().await;
    idp.sign_in_as(alice());
    let (body, _) = sign_in(&idp, Auth::Post).await;
    assert!(verify(&idp, &jwks(&idp).await, body["id_token"].as_str().unwrap()).is_ok());
    let requests = idp.token_requests();
    assert_eq!(requests[0].client_auth, ClientAuth::Post);
    assert_eq!(requests[0].form["client_secret"], idp.client_secret);
}

#[tokio::test]
async fn oidc_issuer_refuses_a_wrong_verifier_a_reused_code_and_a_wrong_redirect_uri() {
    let idp = OidcIssuer::start_now().await;
    idp.sign_in_as(alice());

    let attempt = Attempt::new();
    let code = authorize(&idp, &attempt).await["code"].clone();
    let (status, body) = redeem(&idp, &code, &Attempt::new().verifier, Auth::Basic).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")), "{body}");
    let (status, _) = redeem(&idp, &code, &attempt.verifier, Auth::Basic).await;
    assert_eq!(status, 400, "a code presented once is spent, even by a failed exchange");

    let attempt = Attempt::new();
    let code = authorize(&idp, &attempt).await["code"].clone();
    assert_eq!(redeem(&idp, &code, &attempt.verifier, Auth::Basic).await.0, 200);
    let (status, body) = redeem(&idp, &code, &attempt.verifier, Auth::Post).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")), "reuse: {body}");

    let attempt = Attempt::new();
    let code = authorize(&idp, &attempt).await["code"].clone();
    let req =
        http().post(format!("{}/token", idp.issuer)).basic_auth(&idp.client_id, Some(&idp.client_secret));
    let resp = post_form(
        req,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ("code_verifier", &attempt.verifier),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let errors: Vec<_> = idp.token_requests().iter().map(|r| (r.status, r.error.clone())).collect();
    assert_eq!(errors[0], (400, Some("invalid_grant".into())));
    assert_eq!(errors.len(), 5);
}

#[tokio::test]
async fn oidc_issuer_refuses_unauthenticated_clients_and_malformed_authorization_requests() {
    let idp = OidcIssuer::start_now().await;
    idp.sign_in_as(alice());
    let attempt = Attempt::new();
    let code = authorize(&idp, &attempt).await["code"].clone();
    let token = |form: Vec<(&'static str, String)>| {
        let url = format!("{}/token", idp.issuer);
        async move { post_form(http().post(url), &form).send().await.unwrap() }
    };
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.clone()),
        ("redirect_uri", REDIRECT.into()),
        ("code_verifier", attempt.verifier.clone()),
    ];
    let resp = token(form.clone()).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client");
    form.push(("client_id", idp.client_id.clone()));
    form.push(("client_secret", "wrong".into()));
    let resp = token(form.clone()).await;
    assert_eq!(resp.status(), 401);
    let req = http().post(format!("{}/token", idp.issuer)).basic_auth(&idp.client_id, Some("wrong"));
    let resp = post_form(req, &form[..4]).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let auths: Vec<_> = idp.token_requests().iter().map(|r| r.client_auth).collect();
    assert_eq!(auths, [ClientAuth::None, ClientAuth::Post, ClientAuth::Basic]);
    // Failed client authentication leaves the code usable.
    assert_eq!(redeem(&idp, &code, &attempt.verifier, Auth::Post).await.0, 200);

    let good = Attempt::new().params(&idp);
    let without = |name: &str| good.iter().filter(|(k, _)| *k != name).cloned().collect::<Vec<_>>();
    let with = |name: &str, value: &str| {
        good.iter()
            .map(|(k, v)| (*k, if *k == name { value.to_string() } else { v.clone() }))
            .collect::<Vec<_>>()
    };
    let cases = [
        ("no code_challenge", without("code_challenge"), "invalid_request"),
        ("no challenge method", without("code_challenge_method"), "invalid_request"),
        ("plain challenge", with("code_challenge_method", "plain"), "invalid_request"),
        ("no state", without("state"), "invalid_request"),
        ("no nonce", without("nonce"), "invalid_request"),
        ("no redirect_uri", without("redirect_uri"), "invalid_request"),
        ("unknown client", with("client_id", "someone-else"), "unauthorized_client"),
        ("token response type", with("response_type", "token"), "unsupported_response_type"),
        ("no openid scope", with("scope", "email"), "invalid_scope"),
    ];
    for (what, params, error) in cases {
        let resp = authorize_with(&idp, &params).await;
        assert_eq!(resp.status(), 400, "{what}");
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], error, "{what}");
    }
}

#[tokio::test]
async fn oidc_issuer_tampered_authorization_responses_drop_or_falsify_iss_or_carry_an_error() {
    let idp = OidcIssuer::start_now().await;
    let attempt = Attempt::new();
    let query = authorize(&idp, &attempt).await;
    assert_eq!(query["error"], "login_required", "nobody signed in yet: {query:?}");
    idp.sign_in_as(alice());

    idp.tamper(Tamper::NoIssParam);
    let query = authorize(&idp, &attempt).await;
    assert!(query.contains_key("code") && !query.contains_key("iss"), "{query:?}");
    let query = authorize(&idp, &attempt).await;
    assert_eq!(query["iss"], idp.issuer, "a tamper applies once");

    idp.tamper(Tamper::WrongIssParam);
    let query = authorize(&idp, &attempt).await;
    assert_eq!(query["iss"], WRONG_ISSUER);
    assert!(query.contains_key("code"));

    idp.tamper(Tamper::IdpError("access_denied"));
    let query = authorize(&idp, &attempt).await;
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], attempt.state);
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn oidc_issuer_tampered_id_tokens_fail_verification_for_their_own_reason() {
    let idp = OidcIssuer::start_now().await;
    idp.sign_in_as(alice());
    let keys = jwks(&idp).await;

    let (jwt, _, _) = tampered(&idp, Tamper::WrongIssuer).await;
    assert_eq!(verify(&idp, &keys, &jwt), Err(ErrorKind::InvalidIssuer));
    assert_eq!(parts(&jwt).1["iss"], WRONG_ISSUER);

    let (jwt, _, _) = tampered(&idp, Tamper::WrongAudience).await;
    assert_eq!(verify(&idp, &keys, &jwt), Err(ErrorKind::InvalidAudience));
    assert_eq!(parts(&jwt).1["aud"], WRONG_AUDIENCE);

    let (jwt, _, _) = tampered(&idp, Tamper::Expired).await;
    assert_eq!(verify(&idp, &keys, &jwt), Err(ErrorKind::ExpiredSignature));
    let claims = parts(&jwt).1;
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);

    let (jwt, _, attempt) = tampered(&idp, Tamper::WrongNonce).await;
    let claims = verify(&idp, &keys, &jwt).expect("only the nonce is wrong");
    assert_eq!(claims["nonce"], WRONG_NONCE);
    assert_ne!(claims["nonce"], json!(attempt.nonce));

    let (jwt, _, _) = tampered(&idp, Tamper::UnknownKid).await;
    let (header, _, _) = parts(&jwt);
    assert_eq!(header["alg"], "RS256");
    let kid = header["kid"].as_str().unwrap();
    let published = jwks(&idp).await;
    assert!(published.iter().all(|k| k["kid"] != kid), "{kid} is not published");
    for key in &published {
        let mut alias = key.clone();
        alias["kid"] = json!(kid);
        assert_eq!(
            verify(&idp, &[alias], &jwt),
            Err(ErrorKind::InvalidSignature),
            "no published key signed it"
        );
    }

    let (jwt, _, _) = tampered(&idp, Tamper::AlgNone).await;
    let (header, claims, signature) = parts(&jwt);
    assert_eq!(header, json!({ "alg": "none" }));
    assert_eq!(signature, "");
    assert_eq!(claims["nonce"].as_str().map(str::len), Some(32), "the claims are otherwise right");

    let (jwt, _, _) = tampered(&idp, Tamper::HmacWithPublicKey).await;
    let (header, _, _) = parts(&jwt);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], json!(idp.current_kid()));
    // The HMAC key is the PEM a naive relying party would make from the published JWK.
    let jwk = &jwks(&idp).await[0];
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let spki = aws_lc_rs::encoding::AsDer::as_der(&aws_lc_rs::rsa::PublicKeyComponents { n, e }).unwrap();
    let b64 = STANDARD.encode(spki.as_ref());
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"));
    assert_eq!(pem, idp.public_key_pem());
    let mut hs256 = Validation::new(Algorithm::HS256);
    hs256.set_audience(&[&idp.client_id]);
    jsonwebtoken::decode::<Value>(&jwt, &DecodingKey::from_secret(pem.as_bytes()), &hs256)
        .expect("HS256 keyed with the PEM bytes verifies");
    assert_eq!(verify(&idp, &keys, &jwt), Err(ErrorKind::InvalidAlgorithm));

    let (jwt, access, _) = tampered(&idp, Tamper::GroupsOverage).await;
    let claims = verify(&idp, &keys, &jwt).unwrap();
    assert!(claims.get("groups").is_none());
    assert_eq!(claims["_claim_names"], json!({ "groups": "src1" }));
    assert_eq!(claims["_claim_sources"]["src1"]["endpoint"], OVERAGE_ENDPOINT);
    assert!(userinfo(&idp, &access).await.1.get("groups").is_none());

    let (jwt, access, _) = tampered(&idp, Tamper::GroupsOnlyInUserinfo).await;
    let claims = verify(&idp, &keys, &jwt).unwrap();
    assert!(claims.get("groups").is_none() && claims.get("_claim_names").is_none());
    assert_eq!(userinfo(&idp, &access).await.1["groups"], json!(["eng", "ops"]));

    let (body, _) = sign_in(&idp, Auth::Basic).await;
    let claims = verify(&idp, &keys, body["id_token"].as_str().unwrap()).expect("tampers reset");
    assert_eq!(claims["groups"], json!(["eng", "ops"]));
}

#[tokio::test]
async fn oidc_issuer_a_tamper_armed_after_the_code_applies_to_the_token() {
    let idp = OidcIssuer::start_now().await;
    idp.sign_in_as(alice());
    let attempt = Attempt::new();
    let code = authorize(&idp, &attempt).await["code"].clone();
    idp.tamper(Tamper::WrongAudience);
    let (_, body) = redeem(&idp, &code, &attempt.verifier, Auth::Basic).await;
    assert_eq!(parts(body["id_token"].as_str().unwrap()).1["aud"], WRONG_AUDIENCE);
}

#[tokio::test]
async fn oidc_issuer_rotation_signs_with_a_new_key_published_beside_the_old() {
    let idp = OidcIssuer::start_now().await;
    idp.sign_in_as(alice());
    let old_keys = jwks(&idp).await;
    let old_kid = idp.current_kid();
    idp.rotate_key();
    assert_ne!(idp.current_kid(), old_kid);
    let (body, _) = sign_in(&idp, Auth::Basic).await;
    let jwt = body["id_token"].as_str().unwrap();
    assert_eq!(parts(jwt).0["kid"], json!(idp.current_kid()));
    assert_eq!(verify(&idp, &old_keys, jwt), Err(ErrorKind::InvalidKeyFormat), "unknown to a stale JWKS");
    let keys = jwks(&idp).await;
    let kids: Vec<_> = keys.iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect();
    assert_eq!(kids, [old_kid, idp.current_kid()]);
    verify(&idp, &keys, jwt).expect("verifies after one refetch");
    assert_eq!(idp.jwks_fetches(), 2);
}

#[tokio::test]
async fn oidc_issuer_stamps_tokens_with_the_clock_it_is_given() {
    let clock = Arc::new(AtomicI64::new(1_000_000));
    let now = clock.clone();
    let idp = OidcIssuer::start(Arc::new(move || now.load(Ordering::SeqCst))).await;
    idp.sign_in_as(IdpUser { sub: "bob".into(), ..IdpUser::default() });
    let (body, _) = sign_in(&idp, Auth::Post).await;
    let claims = parts(body["id_token"].as_str().unwrap()).1;
    assert_eq!((claims["iat"].as_i64(), claims["exp"].as_i64()), (Some(1_000_000), Some(1_000_300)));
    assert!(claims.get("email").is_none());
    assert_eq!(claims["email_verified"], false);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&idp, access).await.0, 200);
    clock.store(1_000_301, Ordering::SeqCst);
    assert_eq!(userinfo(&idp, access).await.0, 401, "the access token expired on the given clock");
}
