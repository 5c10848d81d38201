//! SSO provider administration over HTTP: an org admin connects a SAML or OIDC identity
//! provider, sees what to give the IdP back, rolls certificates, and is stopped from what a
//! provider must never do (serve a domain the org does not own, confer a role above its
//! configurer, leak its secret, or reach another org).

use base64::Engine;
use guildhall_tests::{Client, TestServer};
use poem::{
    Route, Server, get, handler,
    listener::{Acceptor, Listener, TcpListener},
};
use serde_json::{Value, json};

/// A self-signed certificate (EC P-256) valid for `days` more days, as PEM, and its DER.
fn certificate(common_name: &str, days: i64) -> (String, Vec<u8>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let ymd = |at: chrono::DateTime<chrono::Utc>| {
        use chrono::Datelike;
        rcgen::date_time_ymd(at.year(), at.month() as u8, at.day() as u8)
    };
    let now = chrono::Utc::now();
    params.not_before = ymd(now - chrono::Duration::days(30));
    params.not_after = ymd(now + chrono::Duration::days(days));
    let cert = params.self_signed(&key).expect("certificate");
    (cert.pem(), cert.der().to_vec())
}

fn metadata_xml(entity_id: &str, sso_url: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>
{b64}
      </ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso_url}/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}

/// An owner whose org has verified `example.com`: `(owner, org id)`.
async fn org_with_domain(server: &TestServer, email: &str) -> (Client, String) {
    let (owner, body) = server.signup(email).await;
    let org = body["org"]["id"].as_str().expect("org id").to_string();
    server.verify_domain(&owner, &org, "example.com").await;
    (owner, org)
}

fn saml_body(name: &str, certificates: &[&str]) -> Value {
    json!({
        "kind": "saml",
        "name": name,
        "domains": ["example.com"],
        "saml": {
            "idp_entity_id": "https://idp.example.net/entity",
            "sso_url": "https://idp.example.net/sso",
            "certificates": certificates,
        },
    })
}

fn oidc_body(secret: Option<&str>) -> Value {
    let mut oidc = json!({
        "discovery_url": "https://login.example.net/.well-known/openid-configuration",
        "client_id": "guildhall-app",
        "groups_claim": "groups",
    });
    if let Some(secret) = secret {
        oidc["client_secret"] = json!(secret);
    }
    json!({ "kind": "oidc", "name": "Entra ID", "domains": ["example.com"], "oidc": oidc })
}

#[tokio::test]
async fn an_admin_connects_a_saml_idp_from_its_metadata_and_sees_what_to_give_it_back() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let (_, der) = certificate("idp.example.net", 365);
    let xml = metadata_xml("http://www.okta.com/exk42", "https://example.okta.com/app/sso/saml", &der);
    let body = json!({ "kind": "saml", "name": "Okta", "domains": ["Example.COM"], "saml": { "metadata_xml": xml } });
    let created = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &body).await;
    let provider = created.expect(201).clone();
    let id = provider["id"].as_str().unwrap().to_string();
    assert_eq!(provider["enabled"], true);
    assert_eq!(provider["jit"], true);
    assert_eq!(provider["default_role"], "member");
    assert_eq!(provider["domains"], json!(["example.com"]));
    let saml = &provider["saml"];
    assert_eq!(saml["idp_entity_id"], "http://www.okta.com/exk42");
    assert_eq!(saml["sso_url"], "https://example.okta.com/app/sso/saml", "the Redirect binding's location");
    assert_eq!(saml["clock_skew_seconds"], 120);
    assert_eq!(saml["allow_idp_initiated"], false);
    assert_eq!(saml["name_id_format"], "emailAddress");
    let cert = &saml["certificates"][0];
    assert!(cert["subject"].as_str().unwrap().contains("idp.example.net"), "{cert}");
    assert_eq!(cert["sha256_fingerprint"].as_str().unwrap().split(':').count(), 32);
    assert_eq!((cert["expired"].clone(), cert["expires_soon"].clone()), (json!(false), json!(false)));
    assert_eq!(saml["acs_url"], json!(format!("{}/api/v1/auth/sso/saml/acs", server.base)));
    let metadata_url = format!("{}/api/v1/auth/sso/saml/metadata/{id}", server.base);
    assert_eq!(saml["sp_entity_id"], json!(metadata_url));
    assert_eq!(saml["sp_metadata_url"], json!(metadata_url));

    // The IdP imports our metadata without credentials.
    let sp = server.anon().get(&format!("/api/v1/auth/sso/saml/metadata/{id}")).await;
    assert_eq!(sp.status, 200, "{}", sp.text);
    assert!(sp.header("content-type").unwrap_or_default().starts_with("application/samlmetadata+xml"));
    assert!(sp.text.contains(&format!("entityID=\"{metadata_url}\"")), "{}", sp.text);
    assert!(sp.text.contains(&format!("Location=\"{}/api/v1/auth/sso/saml/acs\"", server.base)));
    assert!(sp.text.contains("WantAssertionsSigned=\"true\""));
    let unknown =
        server.anon().get(&format!("/api/v1/auth/sso/saml/metadata/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(unknown.status, 404);

    let listed = owner.get(&format!("/api/v1/orgs/{org}/sso/providers")).await;
    assert_eq!(listed.expect(200)["data"][0]["id"], json!(id));
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=sso.provider_created")).await;
    assert_eq!(log.expect(200)["data"][0]["target"]["id"], json!(id), "{}", log.text);
}

#[tokio::test]
async fn metadata_is_fetched_from_a_url_through_the_guarded_client() {
    let (_, der) = certificate("idp.example.net", 365);
    let xml = metadata_xml(
        "https://adfs.example.net/adfs/services/trust",
        "https://adfs.example.net/adfs/ls",
        &der,
    );
    #[handler]
    fn metadata(poem::web::Data(xml): poem::web::Data<&String>) -> String {
        xml.clone()
    }
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind");
    let addr = *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).expect("address");
    let app = poem::EndpointExt::data(Route::new().at("/metadata", get(metadata)), xml);
    tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });
    let url = format!("http://{addr}/metadata");

    // By default the server refuses to fetch from a loopback address.
    let strict = TestServer::start().await;
    let (owner, org) = org_with_domain(&strict, "owner@example.com").await;
    let body = json!({ "kind": "saml", "name": "ADFS", "saml": { "metadata_url": url } });
    let refused = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &body).await;
    assert_eq!(refused.problem(400), "VALIDATION_ERROR");
    assert!(refused.text.contains("saml.metadata_url"), "{}", refused.text);

    let server = TestServer::start_with(|c| {
        c.outbound.allow_private_networks = true;
        c.outbound.allow_http = true;
    })
    .await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let created = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &body).await;
    let provider = created.expect(201).clone();
    assert_eq!(provider["saml"]["idp_entity_id"], "https://adfs.example.net/adfs/services/trust");
    assert_eq!(provider["saml"]["metadata_url"], json!(url));
    assert_eq!(provider["saml"]["certificates"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn certificates_roll_over_two_at_a_time_and_one_near_expiry_is_flagged() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let (old, _) = certificate("old.idp.example.net", 10);
    let (new, _) = certificate("new.idp.example.net", 700);
    let created = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &saml_body("IdP", &[&old])).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["saml"]["certificates"][0]["expires_soon"], true);

    let path = format!("/api/v1/orgs/{org}/sso/providers/{id}");
    let both = owner.put(&path, &saml_body("IdP", &[&old, &new])).await;
    let certs = both.expect(200)["saml"]["certificates"].as_array().unwrap().clone();
    assert_eq!(certs.len(), 2);
    assert_eq!(
        (certs[0]["expires_soon"].clone(), certs[1]["expires_soon"].clone()),
        (json!(true), json!(false))
    );
    let only_new = owner.put(&path, &saml_body("IdP", &[&new])).await;
    let certs = only_new.expect(200)["saml"]["certificates"].as_array().unwrap().clone();
    assert_eq!(certs.len(), 1);
    assert!(certs[0]["subject"].as_str().unwrap().contains("new.idp"));
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=sso.provider_updated")).await;
    assert_eq!(log.expect(200)["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_oidc_client_secret_is_write_only_and_never_leaves_the_server() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let secret = "s3cr3t-value-that-must-not-leak";
    let missing = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &oidc_body(None)).await;
    assert_eq!(missing.problem(400), "VALIDATION_ERROR");
    let created = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &oidc_body(Some(secret))).await;
    let provider = created.expect(201).clone();
    assert!(!created.text.contains(secret));
    let oidc = &provider["oidc"];
    assert_eq!(oidc["client_secret_set"], true);
    assert_eq!(oidc["scopes"], json!(["openid", "email", "profile"]));
    assert_eq!(oidc["token_auth_method"], "client_secret_basic");
    assert_eq!(oidc["redirect_uri"], json!(format!("{}/api/v1/auth/sso/oidc/callback", server.base)));
    let id = provider["id"].as_str().unwrap();
    let path = format!("/api/v1/orgs/{org}/sso/providers/{id}");

    // Replacing without a secret keeps the stored one.
    let mut renamed = oidc_body(None);
    renamed["name"] = json!("Entra ID (prod)");
    let replaced = owner.put(&path, &renamed).await;
    assert_eq!(replaced.expect(200)["oidc"]["client_secret_set"], true);
    assert_eq!(replaced.body["name"], "Entra ID (prod)");
    // A provider keeps its kind.
    let other_kind = owner.put(&path, &saml_body("x", &[&certificate("x", 30).0])).await;
    assert_eq!(other_kind.problem(400), "VALIDATION_ERROR");

    for read in [
        owner.get(&path).await,
        owner.get(&format!("/api/v1/orgs/{org}/sso/providers")).await,
        owner.get(&format!("/api/v1/orgs/{org}/audit-logs")).await,
        owner.get(&format!("/api/v1/orgs/{org}/events")).await,
    ] {
        assert_eq!(read.status, 200, "{}", read.text);
        assert!(!read.text.contains(secret), "the secret leaked: {}", read.text);
    }
}

#[tokio::test]
async fn bad_provider_configurations_get_a_clear_400_and_store_nothing() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let (pem, _) = certificate("idp.example.net", 365);
    let path = format!("/api/v1/orgs/{org}/sso/providers");
    let saml = |patch: Value| {
        let mut body = saml_body("IdP", &[&pem]);
        for (k, v) in patch.as_object().unwrap() {
            body["saml"][k] = v.clone();
        }
        body
    };
    let dtd = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#;
    let cases: Vec<(&str, Value)> = vec![
        ("unknown kind", json!({ "kind": "ldap", "name": "x" })),
        ("saml without its object", json!({ "kind": "saml", "name": "x", "oidc": { "client_id": "a" } })),
        ("both objects", json!({ "kind": "saml", "name": "x", "saml": {}, "oidc": {} })),
        ("empty name", json!({ "kind": "saml", "name": " ", "saml": {} })),
        ("long name", json!({ "kind": "saml", "name": "n".repeat(101), "saml": {} })),
        ("no certificate", saml(json!({ "certificates": [] }))),
        ("not a PEM", saml(json!({ "certificates": ["hello"] }))),
        (
            "a key, not a certificate",
            saml(json!({ "certificates": ["-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"] })),
        ),
        ("six certificates", saml(json!({ "certificates": [&pem, &pem, &pem, &pem, &pem, &pem] }))),
        ("http SSO URL", saml(json!({ "sso_url": "http://idp.example.net/sso" }))),
        ("javascript SSO URL", saml(json!({ "sso_url": "javascript:alert(1)" }))),
        ("clock skew", saml(json!({ "clock_skew_seconds": 9999 }))),
        ("negative skew", saml(json!({ "clock_skew_seconds": -1 }))),
        ("name id format", saml(json!({ "name_id_format": "x509" }))),
        ("DTD in metadata", json!({ "kind": "saml", "name": "x", "saml": { "metadata_xml": dtd } })),
        ("metadata not XML", json!({ "kind": "saml", "name": "x", "saml": { "metadata_xml": "{}" } })),
        ("unknown field", saml(json!({ "signing": "none" }))),
        ("domains not a list", json!({ "kind": "saml", "name": "x", "domains": "example.com", "saml": {} })),
        ("bad domain", json!({ "kind": "saml", "name": "x", "domains": ["not a domain"], "saml": {} })),
        (
            "oidc without openid",
            json!({ "kind": "oidc", "name": "x", "oidc": { "discovery_url": "https://i.example.net/.well-known/openid-configuration", "client_id": "a", "client_secret": "b", "scopes": ["email"] } }),
        ),
        (
            "oidc without endpoints",
            json!({ "kind": "oidc", "name": "x", "oidc": { "issuer": "https://i.example.net", "client_id": "a", "client_secret": "b" } }),
        ),
        (
            "oidc http discovery",
            json!({ "kind": "oidc", "name": "x", "oidc": { "discovery_url": "http://i.example.net/x", "client_id": "a", "client_secret": "b" } }),
        ),
        (
            "oidc loopback jwks",
            json!({ "kind": "oidc", "name": "x", "oidc": { "issuer": "https://i.example.net", "authorization_endpoint": "https://i.example.net/a", "token_endpoint": "https://i.example.net/t", "jwks_uri": "https://127.0.0.1/jwks", "client_id": "a", "client_secret": "b" } }),
        ),
        (
            "oidc auth method",
            json!({ "kind": "oidc", "name": "x", "oidc": { "discovery_url": "https://i.example.net/.well-known/openid-configuration", "client_id": "a", "client_secret": "b", "token_auth_method": "private_key_jwt" } }),
        ),
        (
            "unknown role",
            json!({ "kind": "saml", "name": "x", "default_role": "emperor", "saml": saml(json!({}))["saml"] }),
        ),
    ];
    for (what, body) in cases {
        let resp = owner.post(&path, &body).await;
        assert_eq!(resp.status, 400, "{what}: {}", resp.text);
        assert!(resp.body["code"].is_string(), "{what}: {}", resp.text);
    }
    let raw = owner.post_raw(&path, "application/json", b"{\"kind\": ".to_vec()).await;
    assert_eq!(raw.status, 400, "{}", raw.text);
    let huge = owner.post_raw(&path, "application/json", vec![b' '; 3 * 1024 * 1024]).await;
    assert_eq!(huge.status, 413, "{}", huge.text);
    assert_eq!(owner.get(&path).await.expect(200)["data"], json!([]));
    let bad_id = owner.get(&format!("{path}/not-a-uuid")).await;
    assert_eq!(bad_id.status, 400, "{}", bad_id.text);
}

#[tokio::test]
async fn a_provider_cannot_serve_a_domain_its_org_has_not_verified_or_another_provider_serves() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    // Another org (the instance admin's second) owns `other.test`.
    let other = owner.post("/api/v1/orgs", &json!({ "name": "Other" })).await;
    let other_org = other.expect(201)["org"]["id"].as_str().unwrap().to_string();
    server.verify_domain(&owner, &other_org, "other.test").await;
    let (pem, _) = certificate("idp", 365);
    let path = format!("/api/v1/orgs/{org}/sso/providers");
    for domain in ["unverified.test", "other.test"] {
        let mut body = saml_body("IdP", &[&pem]);
        body["domains"] = json!([domain]);
        let resp = owner.post(&path, &body).await;
        assert_eq!(resp.problem(400), "DOMAIN_NOT_VERIFIED", "{domain}");
    }
    // A subdomain of a verified domain is the org's too.
    let mut sub = saml_body("EU", &[&pem]);
    sub["domains"] = json!(["eu.example.com"]);
    owner.post(&path, &sub).await.expect(201);
    owner.post(&path, &saml_body("First", &[&pem])).await.expect(201);
    let second = owner.post(&path, &saml_body("Second", &[&pem])).await;
    assert_eq!(second.problem(409), "SSO_DOMAIN_TAKEN");
}

#[tokio::test]
async fn an_admin_cannot_configure_a_provider_that_makes_owners() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let (pem, _) = certificate("idp", 365);
    let path = format!("/api/v1/orgs/{org}/sso/providers");
    let mut owners = saml_body("Owners", &[&pem]);
    owners["default_role"] = json!("owner");
    assert_eq!(admin.post(&path, &owners).await.status, 403);
    // The owner may; the admin then cannot change, disable or remove that provider.
    let id = owner.post(&path, &owners).await.expect(201)["id"].as_str().unwrap().to_string();
    let mut tamed = saml_body("Owners", &[&pem]);
    tamed["default_role"] = json!("member");
    assert_eq!(admin.put(&format!("{path}/{id}"), &tamed).await.status, 403);
    assert_eq!(admin.post_empty(&format!("{path}/{id}/disable")).await.status, 403);
    assert_eq!(admin.delete(&format!("{path}/{id}")).await.status, 403);
    // A member has no `sso:manage` at all.
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    assert_eq!(member.get(&path).await.status, 403);
    assert_eq!(member.post(&path, &saml_body("x", &[&pem])).await.status, 403);
}

#[tokio::test]
async fn a_token_of_another_org_never_reaches_a_provider() {
    let server = TestServer::start().await;
    let (owner_a, org_a) = org_with_domain(&server, "owner@example.com").await;
    let (owner_b, body_b) = server.signup("owner@other.test").await;
    let org_b = body_b["org"]["id"].as_str().unwrap().to_string();
    let (pem, _) = certificate("idp", 365);
    let id = owner_a
        .post(&format!("/api/v1/orgs/{org_a}/sso/providers"), &saml_body("IdP", &[&pem]))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    for org in [&org_a, &org_b] {
        let path = format!("/api/v1/orgs/{org}/sso/providers/{id}");
        assert_eq!(owner_b.get(&path).await.status, 404);
        assert_eq!(owner_b.put(&path, &saml_body("Mine", &[&pem])).await.status, 404);
        assert_eq!(owner_b.post_empty(&format!("{path}/disable")).await.status, 404);
        assert_eq!(owner_b.delete(&path).await.status, 404);
    }
    assert_eq!(owner_b.get(&format!("/api/v1/orgs/{org_a}/sso/providers")).await.status, 404);
    let intact = owner_a.get(&format!("/api/v1/orgs/{org_a}/sso/providers/{id}")).await;
    assert_eq!(
        (intact.expect(200)["name"].clone(), intact.body["enabled"].clone()),
        (json!("IdP"), json!(true))
    );
}

#[tokio::test]
async fn a_provider_is_disabled_enabled_and_removed() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let (pem, _) = certificate("idp", 365);
    let path = format!("/api/v1/orgs/{org}/sso/providers");
    let id =
        owner.post(&path, &saml_body("IdP", &[&pem])).await.expect(201)["id"].as_str().unwrap().to_string();
    let disabled = owner.post_empty(&format!("{path}/{id}/disable")).await;
    assert_eq!(disabled.expect(200)["enabled"], false);
    let enabled = owner.post_empty(&format!("{path}/{id}/enable")).await;
    assert_eq!(enabled.expect(200)["enabled"], true);
    assert_eq!(owner.delete(&format!("{path}/{id}")).await.status, 204);
    assert_eq!(owner.get(&format!("{path}/{id}")).await.status, 404);
    let metadata = server.anon().get(&format!("/api/v1/auth/sso/saml/metadata/{id}")).await;
    assert_eq!(metadata.status, 404);
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=sso.*")).await;
    let actions: Vec<&str> =
        log.expect(200)["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for action in
        ["sso.provider_created", "sso.provider_disabled", "sso.provider_enabled", "sso.provider_deleted"]
    {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

/// A loopback stand-in for an IdP's published documents: `path -> (status, body)`.
async fn documents(routes: Vec<(&'static str, Value)>) -> String {
    use poem::{EndpointExt, IntoResponse, Request, Response, web::Json};
    let routes: std::collections::HashMap<String, Value> =
        routes.into_iter().map(|(p, v)| (p.to_string(), v)).collect();
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind");
    let addr = *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).expect("address");
    let base = format!("http://{addr}");
    let routes = std::sync::Arc::new(routes);
    let app = poem::endpoint::make(move |req: Request| {
        let routes = routes.clone();
        async move {
            match routes.get(req.uri().path()) {
                Some(body) => Json(body.clone()).into_response(),
                None => Response::builder().status(poem::http::StatusCode::NOT_FOUND).finish(),
            }
        }
    })
    .map_to_response();
    tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });
    base
}

const JWK: &str = r#"{"kty":"EC","crv":"P-256","use":"sig","kid":"k1",
    "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}"#;

#[tokio::test]
async fn the_test_checks_a_live_oidc_issuer_and_names_what_is_wrong() {
    let jwk: Value = serde_json::from_str(JWK).unwrap();
    // The issuer's own URL is only known once it listens: serve discovery documents that
    // point at a second server holding the keys.
    let keys = documents(vec![("/jwks", json!({ "keys": [jwk] })), ("/empty", json!({ "keys": [] }))]).await;
    let discovery = |issuer: &str| {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{keys}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    };
    let liar =
        documents(vec![("/.well-known/openid-configuration", discovery("https://evil.example"))]).await;
    // An issuer whose discovery names itself: its address is in the document it serves.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let honest_base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let honest_doc = discovery(&honest_base);
    let honest_addr = honest_base.trim_start_matches("http://").to_string();
    {
        use poem::{EndpointExt, web::Json};
        let doc = honest_doc.clone();
        let app = Route::new()
            .at(
                "/.well-known/openid-configuration",
                poem::endpoint::make(move |_| {
                    let doc = doc.clone();
                    async move { Json(doc) }
                }),
            )
            .map_to_response();
        let acceptor = TcpListener::bind(honest_addr).into_acceptor().await.expect("bind honest issuer");
        tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });
    }

    let server = TestServer::start_with(|c| {
        c.outbound.allow_private_networks = true;
        c.outbound.allow_http = true;
    })
    .await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let path = format!("/api/v1/orgs/{org}/sso/providers");
    let provider = |oidc: Value| json!({ "kind": "oidc", "name": "IdP", "oidc": oidc });
    let check = |id: String| {
        let owner = owner.clone();
        let path = path.clone();
        async move { owner.post_empty(&format!("{path}/{id}/test")).await.expect(200).clone() }
    };
    let create = |body: Value| {
        let owner = owner.clone();
        let path = path.clone();
        async move { owner.post(&path, &body).await.expect(201)["id"].as_str().unwrap().to_string() }
    };
    let secret = json!("s");
    let good = create(provider(json!({
        "discovery_url": format!("{honest_base}/.well-known/openid-configuration"),
        "client_id": "c", "client_secret": secret,
    })))
    .await;
    let answer = check(good).await;
    assert_eq!((answer["ok"].clone(), answer["reason"].clone()), (json!(true), json!("ok")), "{answer}");
    assert!(answer["details"].as_str().unwrap().contains("1 signing key"), "{answer}");

    let lying = create(provider(json!({
        "discovery_url": format!("{liar}/.well-known/openid-configuration"),
        "client_id": "c", "client_secret": secret,
    })))
    .await;
    assert_eq!(check(lying).await["reason"], "issuer_mismatch");

    let gone = create(provider(json!({
        "discovery_url": format!("{keys}/nothing/.well-known/openid-configuration"),
        "client_id": "c", "client_secret": secret,
    })))
    .await;
    assert_eq!(check(gone).await["reason"], "discovery_unreachable");

    let keyless = create(provider(json!({
        "issuer": honest_base, "authorization_endpoint": format!("{honest_base}/authorize"),
        "token_endpoint": format!("{honest_base}/token"), "jwks_uri": format!("{keys}/empty"),
        "client_id": "c", "client_secret": secret,
    })))
    .await;
    assert_eq!(check(keyless).await["reason"], "jwks_empty");
}

#[tokio::test]
async fn the_test_flags_an_expired_saml_certificate_and_is_rate_limited() {
    let server = TestServer::start().await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let (expired, _) = certificate("expired.idp", -1);
    let (valid, _) = certificate("valid.idp", 365);
    let path = format!("/api/v1/orgs/{org}/sso/providers");
    let created = owner.post(&path, &saml_body("IdP", &[&expired])).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["saml"]["certificates"][0]["expired"], true);
    let test = format!("{path}/{id}/test");
    let answer = owner.post_empty(&test).await.expect(200).clone();
    assert_eq!(
        (answer["ok"].clone(), answer["reason"].clone()),
        (json!(false), json!("certificate_expired"))
    );
    owner.put(&format!("{path}/{id}"), &saml_body("IdP", &[&valid])).await.expect(200);
    let answer = owner.post_empty(&test).await.expect(200).clone();
    assert_eq!(answer["reason"], "ok", "{answer}");

    // Another org's owner cannot test it; a member has no `sso:manage`.
    let (stranger, _) = server.signup("owner@other.test").await;
    assert_eq!(stranger.post_empty(&test).await.status, 404);
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    assert_eq!(member.post_empty(&test).await.status, 403);

    for _ in 0..4 {
        owner.post_empty(&test).await.expect(200);
    }
    let limited = owner.post_empty(&test).await;
    assert_eq!(limited.problem(429), "SSO_TEST_RATE_LIMITED");
    assert!(limited.header("retry-after").is_some());
}

#[tokio::test]
async fn metadata_at_a_url_is_fetched_again_and_a_new_certificate_is_picked_up() {
    use guildhall_tests::guildhall_server::sso::refresh;
    let (_, first) = certificate("first.idp.example.net", 365);
    let (_, second) = certificate("second.idp.example.net", 700);
    let entity = "https://idp.example.net/metadata";
    let served = std::sync::Arc::new(std::sync::Mutex::new(metadata_xml(
        entity,
        "https://idp.example.net/sso",
        &first,
    )));
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind");
    let addr = *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).expect("address");
    let source = served.clone();
    let app = poem::endpoint::make(move |_| {
        let xml = source.lock().unwrap().clone();
        async move { xml }
    });
    tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });

    let server = TestServer::start_with(|c| {
        c.outbound.allow_private_networks = true;
        c.outbound.allow_http = true;
    })
    .await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    // The clock moves by days here: a personal token outlasts the session's access token.
    let pat = owner.post("/api/v1/auth/tokens", &json!({ "name": "sso tests" })).await;
    let owner = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    let body =
        json!({ "kind": "saml", "name": "IdP", "saml": { "metadata_url": format!("http://{addr}/md") } });
    let created = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &body).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    let subjects = || async {
        let got = owner.get(&format!("/api/v1/orgs/{org}/sso/providers/{id}")).await;
        got.expect(200)["saml"]["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["subject"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(subjects().await.len(), 1);

    // The IdP announces its next certificate beside the current one.
    let both = metadata_xml(entity, "https://idp.example.net/sso", &first)
        .replace("</md:KeyDescriptor>", &format!(
            "</md:KeyDescriptor><md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
            base64::engine::general_purpose::STANDARD.encode(&second)
        ));
    *served.lock().unwrap() = both;
    let state = &server.server.state;
    // Fetched at creation: not due yet.
    assert_eq!(refresh::refresh_due(state).await.unwrap(), 0);
    assert_eq!(subjects().await.len(), 1);
    server.clock.advance(chrono::Duration::hours(13));
    assert_eq!(refresh::refresh_due(state).await.unwrap(), 1);
    let now = subjects().await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now[1].contains("second.idp"), "{now:?}");
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=sso.provider_updated")).await;
    let entry = log.expect(200)["data"][0].clone();
    assert_eq!(entry["actor"]["type"], "system", "{entry}");
    // Nothing new: nothing recorded.
    server.clock.advance(chrono::Duration::hours(13));
    assert_eq!(refresh::refresh_due(state).await.unwrap(), 0);

    // Metadata that now names another entity is not applied.
    *served.lock().unwrap() =
        metadata_xml("https://evil.example/entity", "https://evil.example/sso", &second);
    server.clock.advance(chrono::Duration::hours(13));
    assert_eq!(refresh::refresh_due(state).await.unwrap(), 0);
    assert_eq!(subjects().await.len(), 2);
}

/// An org admin configures URLs the server itself fetches (metadata, discovery, JWKS, token,
/// userinfo): none may point the server at loopback, private, link-local (cloud metadata) or
/// localhost addresses, and nothing is fetched from them.
#[tokio::test]
async fn sso_urls_cannot_point_the_server_at_private_or_cloud_metadata_addresses() {
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind");
    let addr = *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).expect("address");
    let app = poem::endpoint::make(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { "<x/>" }
    });
    tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(app).await });

    // http is allowed here, so what refuses is the address rule, not the scheme.
    let server = TestServer::start_with(|c| c.outbound.allow_http = true).await;
    let (owner, org) = org_with_domain(&server, "owner@example.com").await;
    let path = format!("/api/v1/orgs/{org}/sso/providers");
    let private = [
        format!("http://{addr}/metadata"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "https://10.0.0.7/metadata".to_string(),
        "https://[::1]/metadata".to_string(),
        "https://localhost./metadata".to_string(),
    ];
    for url in &private {
        let body = json!({ "kind": "saml", "name": "x", "saml": { "metadata_url": url } });
        let resp = owner.post(&path, &body).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{url}");
        assert!(resp.text.contains("saml.metadata_url"), "{url}: {}", resp.text);
    }
    let public = "https://idp.example.net";
    for field in ["discovery_url", "token_endpoint", "jwks_uri", "userinfo_endpoint"] {
        for url in &private {
            let mut oidc = json!({
                "issuer": public, "authorization_endpoint": format!("{public}/a"),
                "token_endpoint": format!("{public}/t"), "jwks_uri": format!("{public}/k"),
                "client_id": "c", "client_secret": "s",
            });
            oidc[field] = json!(url);
            let resp = owner.post(&path, &json!({ "kind": "oidc", "name": "x", "oidc": oidc })).await;
            assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{field} = {url}");
            assert!(resp.text.contains(&format!("oidc.{field}")), "{field}: {}", resp.text);
        }
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was fetched");
    assert_eq!(owner.get(&path).await.expect(200)["data"], json!([]));
}
