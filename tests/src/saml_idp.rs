//! A test SAML identity provider: a fresh RSA key and self-signed certificate, and signed
//! responses (plus named signature-wrapping and tampering attacks) made by
//! `tests/sso/saml_idp.py` with signxml, an implementation independent of ours.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use openssl::{
    asn1::Asn1Time,
    bn::BigNum,
    hash::MessageDigest,
    pkey::PKey,
    rsa::Rsa,
    x509::{X509Builder, X509NameBuilder},
};
use serde_json::{Map, Value, json};

pub const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub const PERSISTENT_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
/// What every forged assertion in the attack corpus claims to be.
pub const FORGED_NAME_ID: &str = "admin@attacker.example";

pub struct SamlIdp {
    pub entity_id: String,
    pub cert_pem: String,
    key_pem: String,
}

/// Every attack `saml_idp.py` knows, with the reason (`Reason::as_str`) the verifier must give.
pub fn attacks() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sibling_before", "malformed_response"),
        ("sibling_after", "malformed_response"),
        ("wrapper", "malformed_response"),
        ("extensions", "malformed_response"),
        ("duplicate_id", "malformed_response"),
        ("in_signature_object", "malformed_response"),
        ("comment_in_nameid", "malformed_response"),
        ("attribute_changed", "invalid_signature"),
        ("nameid_changed", "invalid_signature"),
        ("dtd_xxe", "forbidden_dtd"),
        ("other_key", "invalid_signature"),
    ]
}

impl SamlIdp {
    /// A fresh RSA-2048 key and a self-signed certificate valid for a year.
    pub fn new(entity_id: &str) -> Self {
        let rsa = Rsa::generate(2048).expect("RSA key");
        let key = PKey::from_rsa(rsa).expect("key");
        let mut name = X509NameBuilder::new().expect("name");
        name.append_entry_by_text("CN", "Guildhall test IdP").expect("CN");
        let name = name.build();
        let mut cert = X509Builder::new().expect("x509");
        cert.set_version(2).expect("version");
        let serial = BigNum::from_u32(rand_serial()).and_then(|b| b.to_asn1_integer()).expect("serial");
        cert.set_serial_number(&serial).expect("serial");
        cert.set_subject_name(&name).expect("subject");
        cert.set_issuer_name(&name).expect("issuer");
        cert.set_pubkey(&key).expect("pubkey");
        cert.set_not_before(&Asn1Time::days_from_now(0).expect("time")).expect("not before");
        cert.set_not_after(&Asn1Time::days_from_now(365).expect("time")).expect("not after");
        cert.sign(&key, MessageDigest::sha256()).expect("self-sign");
        let cert_pem = String::from_utf8(cert.build().to_pem().expect("pem")).expect("utf-8");
        let key_pem = String::from_utf8(key.private_key_to_pem_pkcs8().expect("pem")).expect("utf-8");
        Self { entity_id: entity_id.to_string(), cert_pem, key_pem }
    }

    /// The base64 `SAMLResponse` form value for `spec`, signed with this IdP's key.
    pub fn response(&self, spec: &ResponseSpec) -> String {
        run_script(&self.request(spec))
    }

    /// `n` responses for `spec` in one run of the script (Python's start-up paid once), each with
    /// fresh Response and Assertion IDs, so each can be spent once at the ACS.
    pub fn responses(&self, spec: &ResponseSpec, n: usize) -> Vec<String> {
        let mut request = self.request(spec);
        request["count"] = json!(n);
        let out = run_script(&request);
        let responses: Vec<String> = out.lines().map(str::to_string).collect();
        assert_eq!(responses.len(), n, "saml_idp.py printed {} responses, not {n}", responses.len());
        responses
    }

    /// The JSON request `saml_idp.py` reads for `spec`.
    fn request(&self, spec: &ResponseSpec) -> Value {
        let attributes: Map<String, Value> =
            spec.attributes.iter().map(|(name, values)| (name.clone(), json!(values))).collect();
        let mut request = json!({
            "key_pem": self.key_pem,
            "cert_pem": self.cert_pem,
            "issuer": spec.issuer.clone().unwrap_or_else(|| self.entity_id.clone()),
            "audience": spec.audience,
            "recipient": spec.recipient,
            "destination": spec.destination,
            "in_response_to": spec.in_response_to,
            "name_id": spec.name_id,
            "name_id_format": spec.name_id_format,
            "attributes": attributes,
            "issue_instant": spec.issue_instant,
            "not_before": spec.not_before,
            "not_on_or_after": spec.not_on_or_after,
            "sign": spec.sign,
            "status": spec.status,
            "signature_algorithm": spec.signature_algorithm,
            "digest_algorithm": spec.digest_algorithm,
            "attack": spec.attack,
            "encrypt": spec.encrypt,
        });
        if let Some(issuer) = &spec.response_issuer {
            request["response_issuer"] = json!(issuer);
        }
        request
    }
}

/// Checks the signature of an HTTP-Redirect AuthnRequest URL with `cert_pem`, independently
/// (Python's `cryptography`): `{"valid", "sig_alg", "request_id"}`.
pub fn verify_redirect(url: &str, cert_pem: &str) -> Value {
    let out = run_script(&json!({"op": "verify_redirect", "url": url, "cert_pem": cert_pem}));
    serde_json::from_str(&out).expect("verify_redirect prints JSON")
}

/// Runs `saml_idp.py` on `request` and returns what it printed.
fn run_script(request: &Value) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/sso/saml_idp.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the SAML tests");
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("write the request");
    let out = child.wait_with_output().expect("saml_idp.py ran");
    assert!(
        out.status.success(),
        "saml_idp.py failed (install signxml and lxml: `python3 -m pip install signxml lxml`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("base64 output")
}

fn rand_serial() -> u32 {
    uuid::Uuid::new_v4().as_u128() as u32 & 0x7fff_ffff
}

/// What the test IdP puts in a response. `new` gives a valid, assertion-signed response for the
/// SP, valid from a minute before `now` for five minutes; change fields or use the builders.
#[derive(Clone, Debug)]
pub struct ResponseSpec {
    /// The assertion's (and response's) issuer; `None` is the IdP's entity id.
    pub issuer: Option<String>,
    /// Only the Response's Issuer, when it must differ from the assertion's.
    pub response_issuer: Option<String>,
    pub audience: String,
    pub recipient: String,
    /// `None` leaves Destination out.
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub name_id: String,
    pub name_id_format: String,
    pub attributes: Vec<(String, Vec<String>)>,
    /// Unix seconds.
    pub issue_instant: i64,
    pub not_before: i64,
    pub not_on_or_after: i64,
    /// "assertion" | "response" | "both" | "none".
    pub sign: &'static str,
    /// A status code URI; `None` is Success.
    pub status: Option<String>,
    pub signature_algorithm: Option<String>,
    pub digest_algorithm: Option<String>,
    /// A name from `attacks()`.
    pub attack: Option<String>,
    /// Encrypt the (signed) assertion: `{"cert_pem", "content", "transport", "key_placement",
    /// "tamper"}`, see `saml_idp.py`.
    pub encrypt: Option<Value>,
}

impl ResponseSpec {
    pub fn new(sp_entity_id: &str, acs_url: &str, now: DateTime<Utc>) -> Self {
        let now = now.timestamp();
        Self {
            issuer: None,
            response_issuer: None,
            audience: sp_entity_id.to_string(),
            recipient: acs_url.to_string(),
            destination: Some(acs_url.to_string()),
            in_response_to: None,
            name_id: "alice@example.com".into(),
            name_id_format: EMAIL_FORMAT.into(),
            attributes: vec![
                ("email".into(), vec!["alice@example.com".into()]),
                ("groups".into(), vec!["Engineering".into(), "Everyone".into()]),
            ],
            issue_instant: now,
            not_before: now - 60,
            not_on_or_after: now + 300,
            sign: "assertion",
            status: None,
            signature_algorithm: None,
            digest_algorithm: None,
            attack: None,
            encrypt: None,
        }
    }

    /// Encrypts the assertion to `cert_pem` (the SP's certificate) with `content` (`aes256-cbc`,
    /// `aes128-gcm`, ...) and key `transport` (`rsa-oaep-mgf1p`, `rsa-oaep-sha256`, `rsa-1_5`).
    pub fn encrypted_to(mut self, cert_pem: &str, content: &str, transport: &str) -> Self {
        self.encrypt = Some(json!({"cert_pem": cert_pem, "content": content, "transport": transport}));
        self
    }

    /// Sets one more field of the encryption (`key_placement`, `tamper`).
    pub fn encryption(mut self, field: &str, value: Value) -> Self {
        if let Some(encrypt) = self.encrypt.as_mut() {
            encrypt[field] = value;
        }
        self
    }

    pub fn sign(mut self, what: &'static str) -> Self {
        self.sign = what;
        self
    }

    pub fn attack(mut self, attack: &str) -> Self {
        self.attack = Some(attack.to_string());
        self
    }

    pub fn name_id(mut self, name_id: &str, format: &str) -> Self {
        self.name_id = name_id.to_string();
        self.name_id_format = format.to_string();
        self
    }

    pub fn in_response_to(mut self, id: &str) -> Self {
        self.in_response_to = Some(id.to_string());
        self
    }

    /// Replaces all attributes.
    pub fn attributes(mut self, attributes: &[(&str, &[&str])]) -> Self {
        self.attributes = attributes
            .iter()
            .map(|(name, values)| (name.to_string(), values.iter().map(|v| v.to_string()).collect()))
            .collect();
        self
    }

    /// Valid from `not_before` until `not_on_or_after` (unix seconds), issued at `not_before`.
    pub fn valid(mut self, not_before: i64, not_on_or_after: i64) -> Self {
        self.issue_instant = not_before;
        self.not_before = not_before;
        self.not_on_or_after = not_on_or_after;
        self
    }

    /// Signed with RSA-SHA1 and a SHA-1 digest.
    pub fn sha1(mut self) -> Self {
        self.signature_algorithm = Some(RSA_SHA1.into());
        self.digest_algorithm = Some(SHA1.into());
        self
    }
}
