//! SAML sign-in end to end: responses signed by an independent signer (signxml: RSA-SHA256,
//! exclusive c14n) posted to the ACS over HTTP after the server's own AuthnRequest redirect, and
//! every check of the ACS attacked: signature wrapping in six placements, tampering after
//! signing, other keys, SHA-1, time, audience, recipient, issuer, replay and DTDs.

use std::io::Read;

use base64::Engine;
use guildhall_server::clock::Clock;
use guildhall_tests::{
    Client, TestServer,
    browser::{Browser, Hop, urlencode},
    saml_idp::{FORGED_NAME_ID, ResponseSpec, SamlIdp, attacks},
};
use serde_json::{Value, json};

use crate::sso_oidc::{RETURN_TO, sso_server};

const IDP_ENTITY: &str = "http://www.okta.com/exk-test";

struct World {
    server: TestServer,
    owner: Client,
    org: String,
    idp: SamlIdp,
    provider: String,
}

async fn world(saml_extra: Value) -> World {
    let server = sso_server().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().unwrap().to_string();
    server.verify_domain(&owner, &org, "example.com").await;
    let idp = SamlIdp::new(IDP_ENTITY);
    let mut saml = json!({
        "idp_entity_id": IDP_ENTITY,
        "sso_url": "http://127.0.0.1:9/app/sso/saml",
        "certificates": [idp.cert_pem],
    });
    if let (Some(target), Some(extra)) = (saml.as_object_mut(), saml_extra.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    let body = json!({ "kind": "saml", "name": "Okta", "domains": ["example.com"], "saml": saml });
    let created = owner.post(&format!("/api/v1/orgs/{org}/sso/providers"), &body).await;
    let created = created.expect(201).clone();
    let provider = created["id"].as_str().unwrap().to_string();
    World { server, owner, org, idp, provider }
}

/// A started sign-in: the browser, the RelayState and the AuthnRequest's ID.
struct Pending {
    browser: Browser,
    relay_state: String,
    request_id: String,
}

impl World {
    fn sp_entity_id(&self) -> String {
        self.server.url(&format!("/api/v1/auth/sso/saml/metadata/{}", self.provider))
    }

    fn acs(&self) -> String {
        self.server.url("/api/v1/auth/sso/saml/acs")
    }

    fn spec(&self) -> ResponseSpec {
        ResponseSpec::new(&self.sp_entity_id(), &self.acs(), self.server.clock.now())
    }

    async fn start(&self) -> Pending {
        let mut browser = Browser::new();
        let url = self.server.url(&format!(
            "/api/v1/auth/sso/login?provider_id={}&return_to={}&state=app-7",
            self.provider,
            urlencode(RETURN_TO)
        ));
        let hop = browser.get(&url).await;
        assert_eq!(hop.status, 302, "{}", hop.text);
        assert!(hop.location().starts_with("http://127.0.0.1:9/app/sso/saml?"), "{}", hop.location());
        let relay_state = hop.location_param("RelayState").expect("RelayState");
        let request = hop.location_param("SAMLRequest").expect("SAMLRequest");
        let deflated = base64::engine::general_purpose::STANDARD.decode(request).unwrap();
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(&deflated[..]).read_to_string(&mut xml).unwrap();
        assert!(xml.contains(&format!("AssertionConsumerServiceURL=\"{}\"", self.acs())), "{xml}");
        assert!(xml.contains(&self.sp_entity_id()), "{xml}");
        let id_at = xml.find(" ID=\"").unwrap() + 5;
        let request_id = xml[id_at..].split('"').next().unwrap().to_string();
        Pending { browser, relay_state, request_id }
    }

    async fn post(&self, browser: &mut Browser, response: &str, relay_state: Option<&str>) -> Hop {
        let mut fields = vec![("SAMLResponse", response)];
        if let Some(relay) = relay_state {
            fields.push(("RelayState", relay));
        }
        browser.post_form(&self.acs(), &fields).await
    }

    /// A whole SP-initiated sign-in with the response `spec` makes (answering the request).
    async fn sign_in(&self, spec: ResponseSpec) -> Hop {
        let mut pending = self.start().await;
        let response = self.idp.response(&spec.in_response_to(&pending.request_id));
        self.post(&mut pending.browser, &response, Some(&pending.relay_state)).await
    }

    async fn exchange(&self, hop: &Hop) -> Value {
        assert_eq!(hop.status, 303, "{}", hop.text);
        assert!(hop.location().starts_with(RETURN_TO), "{}", hop.location());
        let code = hop.location_param("code").expect("code");
        let exchanged = self.server.anon().post("/api/v1/auth/sso/exchange", &json!({ "code": code })).await;
        exchanged.expect(200).clone()
    }
}

#[tokio::test]
async fn an_employee_signs_in_through_the_orgs_saml_idp_with_the_mapped_role() {
    let w = world(json!({})).await;
    let mappings = format!("/api/v1/orgs/{}/group-role-mappings", w.org);
    w.owner.post(&mappings, &json!({ "group": "Engineering", "role": "admin" })).await.expect(201);
    let hop = w.sign_in(w.spec()).await;
    assert_eq!(hop.location_param("state").as_deref(), Some("app-7"));
    let tokens = w.exchange(&hop).await;
    assert_eq!(tokens["user"]["email"], "alice@example.com");
    assert_eq!(tokens["org"]["id"], w.org.as_str());
    assert_eq!(tokens["org"]["role"], "admin");
    let payload = tokens["access_token"].as_str().unwrap().split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap();
    assert_eq!(claims["amr"], json!(["sso"]));
    assert_eq!(claims["sso_provider_id"], w.provider.as_str());
    // The org sees the sign-in, with its method.
    let activity = w.owner.get(&format!("/api/v1/orgs/{}/sso/activity", w.org)).await;
    assert_eq!(activity.expect(200)["data"][0]["details"]["method"], "saml");

    // A response signed as a whole (one assertion inside) is accepted too; persistent NameIDs
    // with the email in an Entra attribute name work without configuration.
    let spec = w
        .spec()
        .sign("response")
        .name_id("00u1abcd", guildhall_tests::saml_idp::PERSISTENT_FORMAT)
        .attributes(&[(
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            &["bo@example.com"],
        )]);
    let tokens = w.exchange(&w.sign_in(spec).await).await;
    assert_eq!(tokens["user"]["email"], "bo@example.com");
    assert_eq!(tokens["org"]["role"], "member");
}

#[tokio::test]
async fn signature_wrapping_tampering_and_foreign_keys_are_refused_at_the_acs() {
    let w = world(json!({})).await;
    for (attack, reason) in attacks() {
        let hop = w.sign_in(w.spec().attack(attack)).await;
        assert!(hop.status.is_client_error(), "{attack}: {} {}", hop.status, hop.text);
        assert_eq!(hop.reason(), reason, "{attack}: {}", hop.text);
    }
    // Signed as a whole response, wrapping is refused as well.
    for attack in ["sibling_before", "wrapper", "extensions"] {
        let hop = w.sign_in(w.spec().sign("response").attack(attack)).await;
        assert_eq!(hop.reason(), "malformed_response", "{attack}: {}", hop.text);
    }
    let now = w.server.clock.now().timestamp();
    let mut wrong_audience = w.spec();
    wrong_audience.audience = "https://someone-else.example/sp".into();
    let mut wrong_recipient = w.spec();
    wrong_recipient.recipient = "https://evil.example/acs".into();
    let mut wrong_issuer = w.spec();
    wrong_issuer.issuer = Some("http://www.okta.com/another-tenant".into());
    for (name, spec, reason) in [
        ("unsigned", w.spec().sign("none"), "unsigned"),
        ("sha1", w.spec().sha1(), "unsupported_algorithm"),
        ("expired", w.spec().valid(now - 900, now - 300), "expired"),
        ("not yet valid", w.spec().valid(now + 600, now + 900), "not_yet_valid"),
        ("wrong audience", wrong_audience, "audience_mismatch"),
        ("wrong recipient", wrong_recipient, "recipient_mismatch"),
        ("wrong issuer", wrong_issuer, "issuer_mismatch"),
    ] {
        let hop = w.sign_in(spec).await;
        assert_eq!(hop.reason(), reason, "{name}: {}", hop.text);
    }
    // Nothing forged ever became an account; every refusal is in the org's activity.
    let members = w.owner.get(&format!("/api/v1/orgs/{}/members", w.org)).await;
    assert!(!members.text.contains(FORGED_NAME_ID), "{}", members.text);
    let failed = w.owner.get(&format!("/api/v1/orgs/{}/sso/activity?failed=true&limit=200", w.org)).await;
    assert_eq!(failed.expect(200)["data"].as_array().unwrap().len(), attacks().len() + 3 + 7);
    // Malformed posts get a clear 400.
    let mut browser = Browser::new();
    for body in ["not base64!", "PGZvbz4=", ""] {
        let hop = w.post(&mut browser, body, None).await;
        assert_eq!(hop.status, 400, "{body}: {}", hop.text);
    }
    let hop = browser.post_form(&w.acs(), &[("RelayState", "x")]).await;
    assert_eq!(hop.reason(), "invalid_request");
    let big = "A".repeat(800_000);
    assert!(w.post(&mut browser, &big, None).await.status.is_client_error());
}

#[tokio::test]
async fn a_response_signs_in_once_and_answers_only_its_own_request() {
    let w = world(json!({ "allow_idp_initiated": true })).await;
    // SP-initiated: the same post again finds its sign-in finished.
    let mut pending = w.start().await;
    let response = w.idp.response(&w.spec().in_response_to(&pending.request_id));
    let first = w.post(&mut pending.browser, &response, Some(&pending.relay_state)).await;
    w.exchange(&first).await;
    let again = w.post(&mut pending.browser, &response, Some(&pending.relay_state)).await;
    assert_eq!(again.reason(), "login_replayed");
    // A response to another request than the one this sign-in sent.
    let mut pending = w.start().await;
    let other = w.idp.response(&w.spec().in_response_to("_not-this-request"));
    let hop = w.post(&mut pending.browser, &other, Some(&pending.relay_state)).await;
    assert_eq!(hop.reason(), "unknown_login");
    // IdP-initiated (allowed here): once, then the assertion id is remembered.
    let mut browser = Browser::new();
    let unsolicited = w.idp.response(&w.spec());
    let hop = w.post(&mut browser, &unsolicited, None).await;
    let tokens = w.exchange(&hop).await;
    assert_eq!(tokens["org"]["id"], w.org.as_str());
    assert_eq!(w.post(&mut browser, &unsolicited, None).await.reason(), "assertion_replayed");
}

#[tokio::test]
async fn idp_initiated_sign_in_is_refused_unless_the_provider_allows_it() {
    let w = world(json!({})).await;
    let mut browser = Browser::new();
    let hop = w.post(&mut browser, &w.idp.response(&w.spec()), None).await;
    assert_eq!(hop.reason(), "idp_initiated_not_allowed");
    // A response claiming to answer a request nobody here made.
    let hop = w.post(&mut browser, &w.idp.response(&w.spec().in_response_to("_forged")), None).await;
    assert_eq!(hop.reason(), "unknown_login");
}

#[tokio::test]
async fn certificates_roll_over_and_a_removed_one_no_longer_signs_anyone_in() {
    let w = world(json!({})).await;
    let next = SamlIdp::new(IDP_ENTITY);
    let path = format!("/api/v1/orgs/{}/sso/providers/{}", w.org, w.provider);
    let put = |certificates: Vec<String>| {
        json!({
            "kind": "saml", "name": "Okta", "domains": ["example.com"],
            "saml": { "idp_entity_id": IDP_ENTITY, "sso_url": "http://127.0.0.1:9/app/sso/saml", "certificates": certificates },
        })
    };
    w.owner.put(&path, &put(vec![w.idp.cert_pem.clone(), next.cert_pem.clone()])).await.expect(200);
    let spec = w.spec();
    for idp in [&w.idp, &next] {
        let mut pending = w.start().await;
        let response = idp.response(&spec.clone().in_response_to(&pending.request_id));
        let hop = w.post(&mut pending.browser, &response, Some(&pending.relay_state)).await;
        assert_eq!(hop.status, 303, "{}", hop.text);
    }
    w.owner.put(&path, &put(vec![next.cert_pem.clone()])).await.expect(200);
    let hop = w.sign_in(w.spec()).await;
    assert_eq!(hop.reason(), "invalid_signature");
}

#[tokio::test]
async fn a_saml_idp_speaks_only_for_its_orgs_verified_domains_and_its_own_provider() {
    let w = world(json!({})).await;
    let outsider =
        w.spec().name_id("ceo@other-company.test", guildhall_tests::saml_idp::EMAIL_FORMAT).attributes(&[]);
    assert_eq!(w.sign_in(outsider).await.reason(), "domain_not_verified");

    // Org B connects its own IdP; org A's IdP key cannot sign a response for org B's provider.
    let (b_owner, body) = w.server.signup("it@b-corp.test").await;
    let org_b = body["org"]["id"].as_str().unwrap().to_string();
    b_owner
        .post(&format!("/api/v1/orgs/{org_b}/email-domains"), &json!({ "domain": "b-corp.test" }))
        .await
        .expect(201);
    w.owner
        .post(
            &format!("/api/v1/orgs/{org_b}/email-domains/b-corp.test/verify"),
            &json!({ "method": "manual" }),
        )
        .await
        .expect(404);
    let b_idp = SamlIdp::new("https://b-corp.test/idp");
    let b_provider = b_owner
        .post(
            &format!("/api/v1/orgs/{org_b}/sso/providers"),
            &json!({
                "kind": "saml", "name": "B IdP", "domains": [],
                "saml": { "idp_entity_id": "https://b-corp.test/idp", "sso_url": "http://127.0.0.1:9/b", "certificates": [b_idp.cert_pem], "allow_idp_initiated": true },
            }),
        )
        .await;
    let b_provider = b_provider.expect(201)["id"].as_str().unwrap().to_string();
    let b_audience = w.server.url(&format!("/api/v1/auth/sso/saml/metadata/{b_provider}"));
    let mut forged = ResponseSpec::new(&b_audience, &w.acs(), w.server.clock.now());
    forged.issuer = Some("https://b-corp.test/idp".into());
    let mut browser = Browser::new();
    let hop = w.post(&mut browser, &w.idp.response(&forged), None).await;
    assert_eq!(hop.reason(), "invalid_signature", "{}", hop.text);
    // Org B's own IdP, serving no verified domain, signs nobody into org B either.
    let own = b_idp.response(&forged);
    let hop = w.post(&mut browser, &own, None).await;
    assert_eq!(hop.reason(), "domain_not_verified", "{}", hop.text);
}

#[tokio::test]
async fn unauthenticated_refusals_cannot_flood_an_orgs_audit_log() {
    // Anyone can post a response naming a provider; each refusal is answered, but the org's
    // audit chain takes at most a minute's budget of them.
    let w = world(json!({})).await;
    let unsolicited = w.idp.response(&w.spec());
    let mut browser = Browser::new();
    for _ in 0..70 {
        assert_eq!(w.post(&mut browser, &unsolicited, None).await.reason(), "idp_initiated_not_allowed");
    }
    let failed = w.owner.get(&format!("/api/v1/orgs/{}/sso/activity?failed=true&limit=200", w.org)).await;
    assert_eq!(failed.expect(200)["data"].as_array().unwrap().len(), 60);
    // The audit chain still verifies.
    let verified = w.owner.get(&format!("/api/v1/orgs/{}/audit-logs/verify", w.org)).await;
    assert_eq!(verified.expect(200)["valid"], true, "{}", verified.text);
}

impl World {
    /// Our SP certificate for the world's provider, as the admin sees it.
    async fn sp_certificate(&self, provider: &str) -> String {
        let view = self.owner.get(&format!("/api/v1/orgs/{}/sso/providers/{provider}", self.org)).await;
        let view = view.expect(200);
        assert_eq!(view["saml"]["sp_certificate"]["expired"], false, "{view}");
        view["saml"]["sp_certificate"]["pem"].as_str().expect("an SP certificate").to_string()
    }
}

#[tokio::test]
async fn an_idp_that_encrypts_assertions_signs_people_in_with_every_allowed_cipher() {
    let w = world(json!({})).await;
    let cert = w.sp_certificate(&w.provider).await;
    // Our metadata publishes that certificate for encryption (and signing).
    let metadata = w.server.anon().get(&format!("/api/v1/auth/sso/saml/metadata/{}", w.provider)).await;
    metadata.expect(200);
    let metadata = metadata.text.clone();
    let der_b64: String = cert.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(metadata.contains(&der_b64), "{metadata}");
    assert!(metadata.contains(r#"<md:KeyDescriptor use="encryption">"#), "{metadata}");
    assert!(metadata.contains("AuthnRequestsSigned=\"false\""), "{metadata}");

    for (content, transport, placement, sign) in [
        ("aes256-cbc", "rsa-oaep-mgf1p", "inline", "assertion"),
        ("aes128-cbc", "rsa-oaep-mgf1p", "beside", "assertion"),
        ("aes128-gcm", "rsa-oaep-sha256", "inline", "assertion"),
        ("aes256-gcm", "rsa-oaep-sha256", "beside", "both"),
    ] {
        let spec = w
            .spec()
            .sign(sign)
            .encrypted_to(&cert, content, transport)
            .encryption("key_placement", json!(placement));
        let hop = w.sign_in(spec).await;
        let tokens = w.exchange(&hop).await;
        assert_eq!(tokens["user"]["email"], "alice@example.com", "{content}/{transport}");
    }
    // An encrypted assertion is single-use like any other.
    let mut pending = w.start().await;
    let spec =
        w.spec().encrypted_to(&cert, "aes256-gcm", "rsa-oaep-mgf1p").in_response_to(&pending.request_id);
    let response = w.idp.response(&spec);
    w.exchange(&w.post(&mut pending.browser, &response, Some(&pending.relay_state)).await).await;
    let mut browser = Browser::new();
    assert_eq!(w.post(&mut browser, &response, None).await.reason(), "login_replayed");
}

#[tokio::test]
async fn encrypted_assertions_for_another_key_altered_unsigned_or_weakly_wrapped_are_refused_alike() {
    let w = world(json!({})).await;
    let cert = w.sp_certificate(&w.provider).await;
    // Another provider of the org has its own key: what is encrypted for it never opens here.
    let other = json!({ "kind": "saml", "name": "Other", "saml": {
        "idp_entity_id": IDP_ENTITY, "sso_url": "http://127.0.0.1:9/other", "certificates": [w.idp.cert_pem] } });
    let other = w.owner.post(&format!("/api/v1/orgs/{}/sso/providers", w.org), &other).await;
    let other = other.expect(201)["id"].as_str().unwrap().to_string();
    let other_cert = w.sp_certificate(&other).await;
    assert_ne!(other_cert, cert);

    let cases = [
        (
            "for another provider's key",
            w.spec().encrypted_to(&other_cert, "aes256-cbc", "rsa-oaep-mgf1p"),
            "decryption_failed",
        ),
        (
            "ciphertext altered (CBC)",
            w.spec().encrypted_to(&cert, "aes256-cbc", "rsa-oaep-mgf1p").encryption("tamper", json!(true)),
            "decryption_failed",
        ),
        (
            "ciphertext altered (GCM)",
            w.spec().encrypted_to(&cert, "aes128-gcm", "rsa-oaep-mgf1p").encryption("tamper", json!(true)),
            "decryption_failed",
        ),
        // Only the response was signed: once decrypted, the assertion is unsigned.
        (
            "inner assertion unsigned",
            w.spec().sign("response").encrypted_to(&cert, "aes256-gcm", "rsa-oaep-mgf1p"),
            "decryption_failed",
        ),
        (
            "nothing signed",
            w.spec().sign("none").encrypted_to(&cert, "aes256-gcm", "rsa-oaep-mgf1p"),
            "decryption_failed",
        ),
        (
            "signed by another key, then encrypted",
            w.spec().attack("other_key").encrypted_to(&cert, "aes256-gcm", "rsa-oaep-mgf1p"),
            "decryption_failed",
        ),
        (
            "PKCS#1 v1.5 key transport",
            w.spec().encrypted_to(&cert, "aes256-cbc", "rsa-1_5"),
            "unsupported_algorithm",
        ),
    ];
    for (name, spec, reason) in cases {
        let hop = w.sign_in(spec).await;
        assert!(hop.status.is_client_error(), "{name}: {} {}", hop.status, hop.text);
        assert_eq!(hop.reason(), reason, "{name}: {}", hop.text);
        if reason == "decryption_failed" {
            // One detail for every failure: the answer tells an attacker nothing more.
            assert_eq!(
                hop.body["detail"].as_str().map(|d| d.contains("does not decrypt")),
                Some(true),
                "{name}: {}",
                hop.text
            );
        }
    }
    let members = w.owner.get(&format!("/api/v1/orgs/{}/members", w.org)).await;
    assert!(!members.text.contains(FORGED_NAME_ID), "{}", members.text);

    // A provider that requires encryption refuses assertions in the clear.
    let url = format!("/api/v1/orgs/{}/sso/providers/{}", w.org, w.provider);
    let body = json!({ "kind": "saml", "name": "Okta", "domains": ["example.com"], "saml": {
        "idp_entity_id": IDP_ENTITY, "sso_url": "http://127.0.0.1:9/app/sso/saml",
        "certificates": [w.idp.cert_pem], "require_encrypted_assertions": true } });
    w.owner.put(&url, &body).await.expect(200);
    assert_eq!(w.sign_in(w.spec()).await.reason(), "encryption_required");
    let hop = w.sign_in(w.spec().encrypted_to(&cert, "aes256-gcm", "rsa-oaep-mgf1p")).await;
    w.exchange(&hop).await;
    // Replacing the configuration keeps the SP key (the IdP holds our certificate).
    assert_eq!(w.sp_certificate(&w.provider).await, cert);
}

#[tokio::test]
async fn signed_authn_requests_verify_with_the_certificate_our_metadata_publishes() {
    let w = world(json!({ "sign_authn_requests": true })).await;
    let metadata = w.server.anon().get(&format!("/api/v1/auth/sso/saml/metadata/{}", w.provider)).await;
    metadata.expect(200);
    let metadata = metadata.text.clone();
    assert!(metadata.contains("AuthnRequestsSigned=\"true\""), "{metadata}");
    let cert = w.sp_certificate(&w.provider).await;
    let mut browser = Browser::new();
    let url = w.server.url(&format!("/api/v1/auth/sso/login?provider_id={}", w.provider));
    let hop = browser.get(&url).await;
    assert_eq!(hop.status, 302, "{}", hop.text);
    // Checked independently (Python's cryptography over the raw query, bindings 3.4.4.1).
    let checked = guildhall_tests::saml_idp::verify_redirect(hop.location(), &cert);
    assert_eq!(checked["valid"], true, "{checked}");
    assert_eq!(checked["sig_alg"], "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
    // Altered on the way, it no longer verifies.
    let altered = hop.location().replacen("RelayState=", "RelayState=x", 1);
    assert_eq!(guildhall_tests::saml_idp::verify_redirect(&altered, &cert)["valid"], false);
    // The whole sign-in still works.
    let hop = w.sign_in(w.spec()).await;
    w.exchange(&hop).await;

    // An IdP whose metadata wants signed requests gets them without further configuration.
    let idp_metadata = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.net/meta">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/meta/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
        w.idp.cert_pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>()
    );
    let body = json!({ "kind": "saml", "name": "Meta", "saml": { "metadata_xml": idp_metadata } });
    let created = w.owner.post(&format!("/api/v1/orgs/{}/sso/providers", w.org), &body).await;
    assert_eq!(created.expect(201)["saml"]["sign_authn_requests"], true);
    // Unsigned by default otherwise: the world's first provider asked explicitly.
    let plain = world(json!({})).await;
    let hop = Browser::new()
        .get(&plain.server.url(&format!("/api/v1/auth/sso/login?provider_id={}", plain.provider)))
        .await;
    assert!(!hop.location().contains("Signature="), "{}", hop.location());
}
