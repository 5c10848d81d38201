//! SAML response verification as a component: responses signed by an independent
//! implementation (signxml), the signature-wrapping and tampering corpus, and the condition
//! checks. The ACS endpoint tests reuse the same support (`guildhall_tests::saml_idp`).

use chrono::{Duration, Utc};
use guildhall_server::sso::{
    reason::Reason,
    saml_response::{Expectations, MAX_RESPONSE_BYTES, VerifiedAssertion, decode_post, peek, verify},
};
use guildhall_tests::saml_idp::{
    EMAIL_FORMAT, FORGED_NAME_ID, PERSISTENT_FORMAT, ResponseSpec, SamlIdp, attacks,
};

const IDP: &str = "http://www.okta.com/exk1a2b3c4d5e6f7g8";
const SP: &str = "https://guildhall.test/api/v1/auth/sso/saml/metadata/0195b6a4-6a4e-7c1e-9d7e-2f1f5f0b9a11";
const ACS: &str = "https://guildhall.test/api/v1/auth/sso/saml/acs";

fn expect(certificates: &[String]) -> Expectations<'_> {
    Expectations {
        idp_entity_id: IDP,
        certificates,
        sp_entity_id: SP,
        acs_url: ACS,
        now: Utc::now(),
        clock_skew: Duration::seconds(120),
        email_attribute: None,
        groups_attribute: None,
        decryption_key: None,
        require_encrypted: false,
    }
}

fn spec() -> ResponseSpec {
    ResponseSpec::new(SP, ACS, Utc::now())
}

fn check(idp: &SamlIdp, spec: &ResponseSpec, expect: &Expectations<'_>) -> Result<VerifiedAssertion, Reason> {
    let xml = decode_post(&idp.response(spec)).map_err(|r| r.reason)?;
    verify(&xml, expect).map_err(|r| {
        assert!(!r.detail.is_empty() && r.detail.len() < 400, "detail is short and present: {}", r.detail);
        r.reason
    })
}

fn refused(idp: &SamlIdp, spec: &ResponseSpec, expect: &Expectations<'_>) -> Reason {
    match check(idp, spec, expect) {
        Ok(v) => panic!("accepted, as {:?}, a response that must be refused: {spec:?}", v.name_id),
        Err(reason) => reason,
    }
}

#[test]
fn an_assertion_signed_response_gives_the_identity() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let b64 = idp.response(&spec().in_response_to("_0123456789abcdef0123456789abcdef"));
    let xml = decode_post(&b64).unwrap();
    let routing = peek(&xml).unwrap();
    assert_eq!(routing.issuer.as_deref(), Some(IDP));
    assert_eq!(routing.audiences, vec![SP.to_string()]);
    assert_eq!(routing.in_response_to.as_deref(), Some("_0123456789abcdef0123456789abcdef"));

    let now = Utc::now();
    let v = verify(&xml, &expect(&certs)).unwrap();
    assert_eq!(v.issuer, IDP);
    assert_eq!(v.name_id, "alice@example.com");
    assert_eq!(v.name_id_format.as_deref(), Some(EMAIL_FORMAT));
    assert_eq!(v.email.as_deref(), Some("alice@example.com"));
    assert_eq!(v.groups, vec!["Engineering".to_string(), "Everyone".to_string()]);
    assert_eq!(v.attributes["groups"], vec!["Engineering".to_string(), "Everyone".to_string()]);
    assert_eq!(v.in_response_to.as_deref(), Some("_0123456789abcdef0123456789abcdef"));
    assert!(v.assertion_id.starts_with("id") && xml.contains(&format!("ID=\"{}\"", v.assertion_id)));
    assert!(v.session_index.as_deref().is_some_and(|s| s.starts_with('_')));
    // Five minutes of validity plus the two minutes of skew.
    let until = v.replay_until - now;
    assert!(until > Duration::seconds(400) && until <= Duration::seconds(421), "{until}");
}

#[test]
fn a_response_signed_whole_or_twice_verifies_too() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    for what in ["response", "both"] {
        let v = check(&idp, &spec().sign(what), &expect(&certs)).unwrap_or_else(|r| panic!("{what}: {r}"));
        assert_eq!(v.name_id, "alice@example.com", "{what}");
        assert_eq!(v.groups.len(), 2, "{what}");
    }
}

#[test]
fn every_attack_in_the_corpus_is_refused_for_its_reason() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let mut wrong = Vec::new();
    for (attack, reason) in attacks() {
        match check(&idp, &spec().attack(attack), &expect(&certs)) {
            Ok(v) => wrong.push(format!("{attack}: ACCEPTED as {}", v.name_id)),
            Err(got) if got.as_str() != reason => wrong.push(format!("{attack}: {got}, expected {reason}")),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn wrapping_attacks_on_a_response_signed_document_are_refused_too() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    for attack in ["sibling_before", "extensions", "wrapper", "nameid_changed"] {
        let reason = refused(&idp, &spec().sign("response").attack(attack), &expect(&certs));
        assert!(matches!(reason, Reason::MalformedResponse | Reason::InvalidSignature), "{attack}: {reason}");
    }
    let forged = refused(&idp, &spec().sign("both").attack("sibling_after"), &expect(&certs));
    assert_eq!(forged, Reason::MalformedResponse);
    assert_ne!(FORGED_NAME_ID, "alice@example.com");
}

#[test]
fn unsigned_sha1_and_foreign_keys_are_refused() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    assert_eq!(refused(&idp, &spec().sign("none"), &expect(&certs)), Reason::Unsigned);
    assert_eq!(refused(&idp, &spec().sha1(), &expect(&certs)), Reason::UnsupportedAlgorithm);
    assert_eq!(refused(&idp, &spec().sign("response").sha1(), &expect(&certs)), Reason::UnsupportedAlgorithm);
    assert_eq!(refused(&idp, &spec().attack("other_key"), &expect(&certs)), Reason::InvalidSignature);
    let stranger = SamlIdp::new(IDP);
    assert_eq!(refused(&stranger, &spec(), &expect(&certs)), Reason::InvalidSignature);
}

#[test]
fn no_configured_certificate_means_nothing_verifies() {
    let idp = SamlIdp::new(IDP);
    assert_eq!(refused(&idp, &spec(), &expect(&[])), Reason::InvalidSignature);
}

#[test]
fn certificate_rollover_accepts_either_configured_certificate() {
    let old = SamlIdp::new(IDP);
    let new = SamlIdp::new(IDP);
    let both = [old.cert_pem.clone(), new.cert_pem.clone()];
    assert_eq!(check(&old, &spec(), &expect(&both)).unwrap().name_id, "alice@example.com");
    assert_eq!(check(&new, &spec().sign("both"), &expect(&both)).unwrap().name_id, "alice@example.com");
    let only_new = [new.cert_pem.clone()];
    check(&new, &spec(), &expect(&only_new)).unwrap();
    assert_eq!(refused(&old, &spec(), &expect(&only_new)), Reason::InvalidSignature);
}

#[test]
fn validity_window_with_clock_skew() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let now = Utc::now().timestamp();
    assert_eq!(refused(&idp, &spec().valid(now - 900, now - 300), &expect(&certs)), Reason::Expired);
    assert_eq!(refused(&idp, &spec().valid(now + 300, now + 900), &expect(&certs)), Reason::NotYetValid);
    // A minute ahead or a minute past is within the two minutes of skew.
    check(&idp, &spec().valid(now + 60, now + 600), &expect(&certs)).unwrap();
    check(&idp, &spec().valid(now - 600, now - 60), &expect(&certs)).unwrap();
}

#[test]
fn audience_recipient_destination_and_issuer_must_be_ours() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let mut s = spec();
    s.audience = "https://other-sp.example/metadata".into();
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::AudienceMismatch);

    let mut s = spec();
    s.recipient = "https://other-sp.example/acs".into();
    s.destination = Some(ACS.into());
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::RecipientMismatch);

    let mut s = spec();
    s.destination = Some("https://other-sp.example/acs".into());
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::RecipientMismatch);
    // Destination is optional.
    let mut s = spec();
    s.destination = None;
    check(&idp, &s, &expect(&certs)).unwrap();

    let mut s = spec();
    s.issuer = Some("http://www.okta.com/someone-else".into());
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::IssuerMismatch);
    let mut s = spec();
    s.response_issuer = Some("http://www.okta.com/someone-else".into());
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::IssuerMismatch);
}

#[test]
fn a_status_other_than_success_is_reported_with_its_code() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let mut s = spec();
    s.status = Some("urn:oasis:names:tc:SAML:2.0:status:Responder".into());
    let xml = decode_post(&idp.response(&s)).unwrap();
    let rejection = verify(&xml, &expect(&certs)).unwrap_err();
    assert_eq!(rejection.reason, Reason::StatusNotSuccess);
    assert!(rejection.detail.contains("Responder"), "{}", rejection.detail);
}

#[test]
fn entra_groups_overage_is_refused() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let s = spec().attributes(&[
        ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", &["alice@example.com"]),
        (
            "http://schemas.microsoft.com/claims/groups.link",
            &["https://graph.windows.net/t/users/u/getMemberObjects"],
        ),
    ]);
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::GroupsOverage);
}

#[test]
fn okta_and_entra_attribute_names_are_picked_up_without_configuration() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let entra = spec().name_id("3f2c5b9e-aaaa-bbbb-cccc-0123456789ab", PERSISTENT_FORMAT).attributes(&[
        ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", &["Alice@Example.com"]),
        (
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            &["0b1c-group-id", "9f8e-group-id"],
        ),
    ]);
    let v = check(&idp, &entra, &expect(&certs)).unwrap();
    assert_eq!(v.name_id, "3f2c5b9e-aaaa-bbbb-cccc-0123456789ab");
    assert_eq!(v.email.as_deref(), Some("Alice@Example.com"));
    assert_eq!(v.groups, vec!["0b1c-group-id".to_string(), "9f8e-group-id".to_string()]);

    let okta = spec()
        .name_id("00u1abcd", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
        .attributes(&[("email", &["bob@example.com"]), ("memberOf", &["Admins"])]);
    let v = check(&idp, &okta, &expect(&certs)).unwrap();
    assert_eq!(v.email.as_deref(), Some("bob@example.com"));
    assert_eq!(v.groups, vec!["Admins".to_string()]);

    // Configured names win over the well-known ones.
    let custom = spec().name_id("00u1abcd", PERSISTENT_FORMAT).attributes(&[
        ("email", &["ignored@example.com"]),
        ("workEmail", &["carol@example.com"]),
        ("groups", &["ignored"]),
        ("roles", &["Admins", "Staff"]),
    ]);
    let mut e = expect(&certs);
    e.email_attribute = Some("workEmail");
    e.groups_attribute = Some("roles");
    let v = check(&idp, &custom, &e).unwrap();
    assert_eq!(v.email.as_deref(), Some("carol@example.com"));
    assert_eq!(v.groups, vec!["Admins".to_string(), "Staff".to_string()]);
}

#[test]
fn too_many_or_too_long_attribute_values_are_refused() {
    let idp = SamlIdp::new(IDP);
    let certs = [idp.cert_pem.clone()];
    let mut s = spec();
    s.attributes = vec![("groups".into(), (0..1001).map(|i| format!("g{i}")).collect())];
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::MalformedResponse);
    let mut s = spec();
    s.attributes = vec![("department".into(), vec!["x".repeat(1025)])];
    assert_eq!(refused(&idp, &s, &expect(&certs)), Reason::MalformedResponse);
}

#[test]
fn decode_post_refuses_oversized_and_non_base64_input() {
    assert_eq!(decode_post("%%% not base64 %%%").unwrap_err().reason, Reason::InvalidRequest);
    assert_eq!(decode_post("").unwrap_err().reason, Reason::InvalidRequest);
    let oversized = "QUFB".repeat(MAX_RESPONSE_BYTES / 3 + 1);
    assert_eq!(decode_post(&oversized).unwrap_err().reason, Reason::InvalidRequest);
    let idp = SamlIdp::new(IDP);
    let b64 = idp.response(&spec());
    let wrapped: String =
        b64.as_bytes().chunks(76).map(|c| format!("{}\r\n", String::from_utf8_lossy(c))).collect();
    assert_eq!(decode_post(&wrapped).unwrap(), decode_post(&b64).unwrap());
}
