use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use guildhall_tests::TestServer;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn payload_of(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn header_of(jwt: &str) -> Value {
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn foreign_es256_key() -> EncodingKey {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    EncodingKey::from_ec_der(pair.to_pkcs8v1().unwrap().as_ref())
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn unsigned(header: &Value, claims: &Value) -> String {
    format!("{}.{}.", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

#[tokio::test]
async fn access_tokens_carry_the_documented_claims() {
    let server = TestServer::start().await;
    let (_, body) = server.signup("alice@example.com").await;
    let token = body["access_token"].as_str().unwrap();
    let header = header_of(token);
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].is_string());
    let claims = payload_of(token);
    for claim in ["iss", "sub", "aud", "exp", "iat", "jti", "email", "org_id", "org_slug", "org_role", "sid"]
    {
        assert!(claims.get(claim).is_some(), "missing {claim}: {claims}");
    }
    assert_eq!(claims["iss"], server.base);
    assert_eq!(claims["aud"], "guildhall");
    assert_eq!(claims["sub"], body["user"]["id"]);
    assert_eq!(claims["org_id"], body["org"]["id"]);
    assert_eq!(claims["org_slug"], body["org"]["slug"]);
    assert_eq!(claims["org_role"], "owner");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
}

#[tokio::test]
async fn forged_and_broken_tokens_are_refused() {
    let server = TestServer::start().await;
    let (client, body) = server.signup("alice@example.com").await;
    client.get("/api/v1/auth/me").await.expect(200);
    let token = body["access_token"].as_str().unwrap();
    let kid = header_of(token)["kid"].as_str().unwrap().to_string();
    let mut claims = payload_of(token);

    let jwks = server.anon().get("/.well-known/jwks.json").await;
    let public_jwk = jwks.expect(200)["keys"][0].to_string();

    let (head, _, sig) = {
        let mut parts = token.split('.');
        (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
        )
    };
    claims["org_role"] = json!("admin");
    let tampered = format!("{head}.{}.{sig}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    claims["org_role"] = json!("owner");

    let cases = [
        ("garbage", "not-a-jwt".to_string()),
        ("tampered payload", tampered),
        ("wrong signature", sign(Algorithm::ES256, Some(&kid), &claims, &foreign_es256_key())),
        ("alg none", unsigned(&json!({ "alg": "none", "typ": "JWT", "kid": kid }), &claims)),
        ("alg none without kid", unsigned(&json!({ "alg": "none" }), &claims)),
        (
            "HS256 keyed with the public key",
            sign(Algorithm::HS256, Some(&kid), &claims, &EncodingKey::from_secret(public_jwk.as_bytes())),
        ),
        ("unknown kid", sign(Algorithm::ES256, Some("no-such-key"), &claims, &foreign_es256_key())),
        ("no kid", sign(Algorithm::ES256, None, &claims, &foreign_es256_key())),
        ("truncated", token[..token.len() - 10].to_string()),
    ];
    for (case, forged) in cases {
        let resp = server.with_token(&forged).get("/api/v1/auth/me").await;
        assert_eq!(resp.problem(401), "INVALID_TOKEN", "{case}");
    }
    // Malformed Authorization headers.
    for header in ["Basic abc", "Bearer", "bearer", ""] {
        let resp = server
            .http
            .get(server.url("/api/v1/auth/me"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{header:?}");
    }
}

#[tokio::test]
async fn expired_access_tokens_are_refused() {
    let server = TestServer::start().await;
    let (client, _) = server.signup("alice@example.com").await;
    server.clock.advance(Duration::seconds(900 + 31));
    assert_eq!(client.get("/api/v1/auth/me").await.problem(401), "TOKEN_EXPIRED");
}

#[tokio::test]
async fn tokens_from_another_deployment_are_refused() {
    let issuer = TestServer::start_with(|c| c.tokens.audience = "other-app".into()).await;
    let (_, body) = issuer.signup("alice@example.com").await;
    let verifier = TestServer::start().await;
    // A token from another deployment names a key this server does not have.
    let resp = verifier.with_token(body["access_token"].as_str().unwrap()).get("/api/v1/auth/me").await;
    assert_eq!(resp.problem(401), "INVALID_TOKEN");
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_publishes_both_keys_until_they_expire() {
    let server = TestServer::start().await;
    let (admin, body) = server.signup("admin@example.com").await;
    let old_kid = header_of(body["access_token"].as_str().unwrap())["kid"].clone();

    let rotated = admin.post_empty("/api/v1/admin/signing-keys/rotate").await;
    let new_kid = rotated.expect(200)["kid"].clone();
    assert_ne!(new_kid, old_kid);

    let jwks = server.anon().get("/.well-known/jwks.json").await;
    let kids: Vec<Value> =
        jwks.expect(200)["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid), "{kids:?}");
    // The old token still works; new tokens are signed with the new key.
    admin.get("/api/v1/auth/me").await.expect(200);
    let login = server.login("admin@example.com", guildhall_tests::PASSWORD).await;
    assert_eq!(header_of(login.expect(200)["access_token"].as_str().unwrap())["kid"], new_kid);

    // Once every token of the old key has expired, the key leaves the JWKS.
    server.clock.advance(Duration::seconds(900 + 31));
    server.server.state.keys.reload().await.unwrap();
    let jwks = server.anon().get("/.well-known/jwks.json").await;
    let kids: Vec<Value> =
        jwks.expect(200)["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
    assert_eq!(kids, vec![new_kid]);
}

#[tokio::test]
async fn only_instance_admins_rotate_keys() {
    let (server, _admin) = TestServer::with_admin().await;
    let (user, _) = server.signup("user@example.com").await;
    assert_eq!(user.post_empty("/api/v1/admin/signing-keys/rotate").await.problem(403), "FORBIDDEN");
    assert_eq!(
        server.anon().post_empty("/api/v1/admin/signing-keys/rotate").await.problem(401),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn jwks_is_cacheable_and_holds_only_public_material() {
    let server = TestServer::start().await;
    let resp = server.anon().get("/.well-known/jwks.json").await;
    assert!(resp.header("cache-control").unwrap().contains("max-age"));
    let key = &resp.expect(200)["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert!(key.get("d").is_none(), "private part leaked: {key}");
}
