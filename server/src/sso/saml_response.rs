//! Verifying a SAML 2.0 `Response` (HTTP-POST binding) from an org's IdP.
//!
//! Invariants: nothing is read from a document before its structure rules out signature
//! wrapping (one assertion, a direct child of the response; unique IDs; each signature a direct
//! child of what it signs and referencing exactly that); only the configured certificates are
//! keys (never `KeyInfo`); and every identity fact is read from the bytes xmlsec digested (its
//! pre-digest output), cross-checked by ID against the assertion the structure checks saw.

use std::collections::{BTreeMap, HashSet};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use roxmltree::{Document, Node};
use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode};

use super::{
    reason::{Reason, Rejection},
    saml_decrypt,
    sp_key::SpKey,
};

pub const MAX_RESPONSE_BYTES: usize = 512 * 1024;
const MAX_ATTRIBUTE_VALUES: usize = 1000;
const MAX_ATTRIBUTE_VALUE_BYTES: usize = 1024;
/// How much of a value a rejection's detail quotes.
const QUOTE_CHARS: usize = 120;

const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const EMAIL_NAME_ID: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

/// Signature methods we accept; the digest URIs are samael's (`AllowedSignatureAlgorithm::digest_uri`).
const SIGNATURE_ALGORITHMS: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// Where Okta, Entra, ADFS and Google put the email address when NameID is not one.
const EMAIL_ATTRIBUTES: &[&str] = &[
    "email",
    "mail",
    "emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
];
const GROUPS_ATTRIBUTES: &[&str] =
    &["groups", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", "memberOf"];
/// Entra sends this instead of the groups when a user is in too many (the "overage" claim).
const GROUPS_OVERAGE: &str = "http://schemas.microsoft.com/claims/groups.link";

/// Unverified routing facts (which provider is this for?): never trusted beyond choosing the
/// provider whose certificates then verify the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peek {
    pub issuer: Option<String>,
    pub audiences: Vec<String>,
    pub in_response_to: Option<String>,
}

/// What the configured provider requires of a response.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    pub idp_entity_id: &'a str,
    /// PEM; empty => rejected (verification is never skipped).
    pub certificates: &'a [String],
    /// The required `Audience`.
    pub sp_entity_id: &'a str,
    /// The required `Recipient`, and `Destination` when present.
    pub acs_url: &'a str,
    pub now: DateTime<Utc>,
    pub clock_skew: Duration,
    pub email_attribute: Option<&'a str>,
    pub groups_attribute: Option<&'a str>,
    /// Decrypts an `EncryptedAssertion`; without it, encrypted assertions fail to decrypt.
    pub decryption_key: Option<&'a SpKey>,
    /// Refuse assertions that came in the clear.
    pub require_encrypted: bool,
}

#[derive(Debug, Clone)]
pub struct VerifiedAssertion {
    pub assertion_id: String,
    pub issuer: String,
    /// From the bearer `SubjectConfirmationData`, else from the `Response` (they must agree).
    pub in_response_to: Option<String>,
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub session_index: Option<String>,
    /// Until when the assertion id must be remembered against replay (latest NotOnOrAfter + skew).
    pub replay_until: DateTime<Utc>,
}

fn reject(reason: Reason, detail: impl Into<String>) -> Rejection {
    Rejection::new(reason, detail)
}

fn malformed(detail: impl Into<String>) -> Rejection {
    reject(Reason::MalformedResponse, detail)
}

/// A value quoted in a detail: at most `QUOTE_CHARS` characters.
fn quote(value: &str) -> String {
    if value.chars().count() <= QUOTE_CHARS {
        format!("\"{value}\"")
    } else {
        format!("\"{}…\"", value.chars().take(QUOTE_CHARS).collect::<String>())
    }
}

/// base64 (standard, whitespace allowed) of the `SAMLResponse` form field -> UTF-8 XML, capped.
pub fn decode_post(saml_response: &str) -> Result<String, Rejection> {
    let max_encoded = MAX_RESPONSE_BYTES.div_ceil(3) * 4;
    // Line breaks every 64 or 76 characters are common; twice the cap leaves room for them.
    if saml_response.len() > 2 * max_encoded {
        return Err(reject(Reason::InvalidRequest, "SAMLResponse is larger than 512 KiB"));
    }
    let compact: String = saml_response.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(reject(Reason::InvalidRequest, "SAMLResponse is empty"));
    }
    if compact.len() > max_encoded {
        return Err(reject(Reason::InvalidRequest, "SAMLResponse is larger than 512 KiB"));
    }
    let bytes = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
        .decode(compact.as_bytes())
        .map_err(|_| reject(Reason::InvalidRequest, "SAMLResponse is not base64"))?;
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(reject(Reason::InvalidRequest, "SAMLResponse is larger than 512 KiB"));
    }
    String::from_utf8(bytes).map_err(|_| malformed("the SAML response is not UTF-8 text"))
}

/// Parses without ever letting a DTD through: the raw text is checked first, so neither
/// roxmltree nor (later) libxml2 sees an entity declaration.
fn parse(xml: &str) -> Result<Document<'_>, Rejection> {
    if xml.len() > MAX_RESPONSE_BYTES {
        return Err(malformed("the SAML response is larger than 512 KiB"));
    }
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(reject(Reason::ForbiddenDtd, "the SAML response carries a DTD or entity declaration"));
    }
    let options = roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() };
    Document::parse_with_options(xml, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => {
            reject(Reason::ForbiddenDtd, "the SAML response carries a DTD or entity declaration")
        }
        other => malformed(format!("the SAML response is not well-formed XML: {other}")),
    })
}

fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.has_tag_name((ns, name))
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(*c, ns, name))
}

fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is(*c, ns, name))
}

/// At most one `name` child.
fn single<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Result<Option<Node<'a, 'i>>, Rejection> {
    let mut found = node.children().filter(|c| is(*c, ns, name));
    let first = found.next();
    if found.next().is_some() {
        return Err(malformed(format!("{} holds several {name} elements", node.tag_name().name())));
    }
    Ok(first)
}

/// The whole text of an element that must hold only text. A comment or an element inside it is
/// refused: canonicalization drops comments, so `alice@example.com<!---->.evil.com` verifies
/// while a reader of the first text node would see another name.
fn plain_text(node: Node<'_, '_>) -> Result<String, Rejection> {
    let mut text = String::new();
    for c in node.children() {
        if c.is_text() {
            text.push_str(c.text().unwrap_or_default());
        } else {
            return Err(malformed(format!(
                "{} holds a comment or markup besides text",
                node.tag_name().name()
            )));
        }
    }
    Ok(text.trim().to_string())
}

fn root_response<'a, 'i>(doc: &'a Document<'i>) -> Result<Node<'a, 'i>, Rejection> {
    let root = doc.root_element();
    if !is(root, PROTOCOL_NS, "Response") {
        return Err(malformed(format!(
            "the document is a {}, not a SAML protocol Response",
            quote(root.tag_name().name())
        )));
    }
    Ok(root)
}

/// Unverified routing facts: the issuer (the response's, else the assertion's), the audiences
/// and `InResponseTo`. Only for choosing the provider whose certificates then verify the document.
pub fn peek(xml: &str) -> Result<Peek, Rejection> {
    let doc = parse(xml)?;
    let root = root_response(&doc)?;
    let assertion = child(root, ASSERTION_NS, "Assertion");
    let issuer = child(root, ASSERTION_NS, "Issuer")
        .or_else(|| assertion.and_then(|a| child(a, ASSERTION_NS, "Issuer")))
        .and_then(|i| plain_text(i).ok())
        .filter(|i| !i.is_empty());
    let audiences = doc
        .descendants()
        .filter(|n| is(*n, ASSERTION_NS, "Audience"))
        .filter_map(|n| plain_text(n).ok())
        .filter(|a| !a.is_empty())
        .collect();
    let in_response_to = root.attribute("InResponseTo").map(str::to_string).or_else(|| {
        doc.descendants()
            .find(|n| is(*n, ASSERTION_NS, "SubjectConfirmationData"))
            .and_then(|n| n.attribute("InResponseTo"))
            .map(str::to_string)
    });
    Ok(Peek { issuer, audiences, in_response_to })
}

/// Verifies a decoded SAML response against one provider's settings; see the module doc. An
/// encrypted assertion is decrypted first (`saml_decrypt`) and must then carry its own
/// signature; until that signature has verified, every failure of an encrypted response answers
/// `decryption_failed` alike, so the answers are no decryption oracle.
pub fn verify(xml: &str, expect: &Expectations<'_>) -> Result<VerifiedAssertion, Rejection> {
    let doc = parse(xml)?;
    let root = root_response(&doc)?;
    if expect.certificates.is_empty() {
        return Err(reject(
            Reason::InvalidSignature,
            "the provider has no signing certificate configured, so nothing can be verified",
        ));
    }
    match saml_decrypt::open(&doc, root, xml, expect.decryption_key)? {
        Some(decrypted) => {
            verify_document(&decrypted, expect, true).map_err(|rejection| match rejection.reason {
                Reason::MalformedResponse
                | Reason::ForbiddenDtd
                | Reason::Unsigned
                | Reason::InvalidSignature
                | Reason::UnsupportedAlgorithm => {
                    tracing::debug!(%rejection, "a decrypted assertion was refused");
                    reject(Reason::DecryptionFailed, saml_decrypt::UNDECRYPTABLE)
                }
                _ => rejection,
            })
        }
        None if expect.require_encrypted => Err(reject(
            Reason::EncryptionRequired,
            "this provider requires encrypted assertions; the IdP sent one in the clear",
        )),
        None => verify_document(xml, expect, false),
    }
}

/// The checks of [`verify`] on a document whose assertion is in the clear (`decrypted`: it was
/// encrypted, and the response's own signature was taken away with the encrypted form).
fn verify_document(
    xml: &str,
    expect: &Expectations<'_>,
    decrypted: bool,
) -> Result<VerifiedAssertion, Rejection> {
    let doc = parse(xml)?;
    let root = root_response(&doc)?;
    if root.attribute("Version") != Some("2.0") {
        return Err(malformed("the Response is not SAML version 2.0"));
    }
    check_status(root)?;
    let assertion = check_structure(&doc, root)?;
    let response_signature = child(root, DS_NS, "Signature");
    let assertion_signature = child(assertion, DS_NS, "Signature");
    if response_signature.is_none() && assertion_signature.is_none() {
        return Err(reject(Reason::Unsigned, "neither the assertion nor the response is signed"));
    }
    if decrypted && assertion_signature.is_none() {
        return Err(reject(Reason::Unsigned, "an encrypted assertion must carry its own signature"));
    }
    // Values that c14n would read differently than we do are refused before the signature check.
    for node in assertion.descendants().chain(root.children()) {
        if is(node, ASSERTION_NS, "NameID")
            || is(node, ASSERTION_NS, "AttributeValue")
            || is(node, ASSERTION_NS, "Issuer")
            || is(node, ASSERTION_NS, "Audience")
        {
            plain_text(node)?;
        }
    }

    let predigest = verify_signature(xml, expect.certificates)?;
    let signed_doc = Document::parse(&predigest)
        .map_err(|e| malformed(format!("the signed content cannot be read back: {e}")))?;
    let signed_root = signed_doc.root_element();
    // What xmlsec digested must be what the structure checks saw: the response when it carries
    // a signature, else the assertion; the same element, by its unique ID.
    let (expected, expected_id) = match response_signature {
        Some(_) => ((PROTOCOL_NS, "Response"), root.attribute("ID")),
        None => ((ASSERTION_NS, "Assertion"), assertion.attribute("ID")),
    };
    if !is(signed_root, expected.0, expected.1) || signed_root.attribute("ID") != expected_id {
        return Err(malformed("the signed element is not the one the response presents"));
    }
    let signed = if is(signed_root, ASSERTION_NS, "Assertion") {
        signed_root
    } else {
        let mut found = children(signed_root, ASSERTION_NS, "Assertion");
        match (found.next(), found.next()) {
            (Some(one), None) => one,
            _ => return Err(malformed("the signed response does not hold exactly one assertion")),
        }
    };
    if signed.attribute("ID") != assertion.attribute("ID") {
        return Err(malformed("the signed assertion is not the one the response presents"));
    }
    read_assertion(root, signed, expect)
}

/// The top-level status must be Success; otherwise the IdP's codes and message go in the detail.
fn check_status(root: Node<'_, '_>) -> Result<(), Rejection> {
    let status =
        single(root, PROTOCOL_NS, "Status")?.ok_or_else(|| malformed("the Response has no Status"))?;
    let code = child(status, PROTOCOL_NS, "StatusCode")
        .ok_or_else(|| malformed("the Response has no StatusCode"))?;
    let value = code.attribute("Value").unwrap_or_default();
    if value == SUCCESS {
        return Ok(());
    }
    let short = |uri: &str| uri.rsplit(':').next().unwrap_or(uri).to_string();
    let mut detail = format!("the IdP answered {}", quote(&short(value)));
    if let Some(sub) = child(code, PROTOCOL_NS, "StatusCode").and_then(|s| s.attribute("Value")) {
        detail.push_str(&format!(" ({})", quote(&short(sub))));
    }
    if let Some(message) = child(status, PROTOCOL_NS, "StatusMessage").and_then(|m| plain_text(m).ok())
        && !message.is_empty()
    {
        detail.push_str(&format!(": {}", quote(&message)));
    }
    Err(reject(Reason::StatusNotSuccess, detail))
}

/// Rules out signature wrapping before any signature is checked; returns the one assertion.
fn check_structure<'a, 'i>(doc: &'a Document<'i>, root: Node<'a, 'i>) -> Result<Node<'a, 'i>, Rejection> {
    let encrypted = ["EncryptedAssertion", "EncryptedID", "EncryptedAttribute"];
    if doc.descendants().any(|n| encrypted.iter().any(|e| is(n, ASSERTION_NS, e))) {
        return Err(malformed("encrypted identifiers or attributes inside an assertion are not supported"));
    }
    let assertions: Vec<Node> = doc.descendants().filter(|n| is(*n, ASSERTION_NS, "Assertion")).collect();
    let assertion = match assertions.as_slice() {
        [one] => *one,
        [] => return Err(malformed("the response holds no assertion")),
        more => {
            return Err(malformed(format!(
                "the response holds {} assertions; exactly one is allowed",
                more.len()
            )));
        }
    };
    if assertion.parent_element() != Some(root) {
        return Err(malformed("the assertion is not a direct child of the Response"));
    }
    if assertion.attribute("Version") != Some("2.0") {
        return Err(malformed("the assertion is not SAML version 2.0"));
    }

    let mut ids = HashSet::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        for attribute in node.attributes() {
            let is_id = match attribute.namespace() {
                None => matches!(attribute.name(), "ID" | "Id" | "id"),
                Some(ns) => ns == XML_NS && attribute.name() == "id",
            };
            if is_id && !ids.insert(attribute.value()) {
                return Err(malformed(format!("the ID {} occurs more than once", quote(attribute.value()))));
            }
        }
    }

    let mut signed_parents = HashSet::new();
    for signature in doc.descendants().filter(|n| is(*n, DS_NS, "Signature")) {
        let parent = signature
            .parent_element()
            .filter(|p| *p == root || *p == assertion)
            .ok_or_else(|| malformed("a Signature is neither on the Response nor on the assertion"))?;
        if !signed_parents.insert(parent.id()) {
            return Err(malformed(format!("the {} carries several signatures", parent.tag_name().name())));
        }
        check_signature(signature, parent)?;
    }
    Ok(assertion)
}

/// One signature's shape: a single reference to exactly its parent, only the enveloped and
/// exclusive-c14n transforms, no `Object`, and allowed algorithms.
fn check_signature(signature: Node<'_, '_>, parent: Node<'_, '_>) -> Result<(), Rejection> {
    if signature.descendants().any(|n| is(n, DS_NS, "Object")) {
        return Err(malformed("a Signature carries an Object"));
    }
    let signed_info =
        single(signature, DS_NS, "SignedInfo")?.ok_or_else(|| malformed("a Signature has no SignedInfo"))?;
    let c14n = child(signed_info, DS_NS, "CanonicalizationMethod").and_then(|c| c.attribute("Algorithm"));
    if !matches!(c14n, Some(EXC_C14N | EXC_C14N_WITH_COMMENTS)) {
        return Err(reject(
            Reason::UnsupportedAlgorithm,
            format!(
                "canonicalization {} is not allowed (exclusive c14n only)",
                quote(c14n.unwrap_or("none"))
            ),
        ));
    }
    let method = child(signed_info, DS_NS, "SignatureMethod").and_then(|m| m.attribute("Algorithm"));
    if !SIGNATURE_ALGORITHMS.iter().any(|a| Some(a.signature_uri()) == method) {
        return Err(reject(
            Reason::UnsupportedAlgorithm,
            format!("signature method {} is not allowed", quote(method.unwrap_or("none"))),
        ));
    }
    let mut references = children(signed_info, DS_NS, "Reference");
    let reference = match (references.next(), references.next()) {
        (Some(one), None) => one,
        _ => return Err(malformed("a Signature must hold exactly one Reference")),
    };
    let id = parent.attribute("ID").filter(|id| !id.is_empty());
    let id = id.ok_or_else(|| malformed(format!("a signed {} has no ID", parent.tag_name().name())))?;
    if reference.attribute("URI") != Some(format!("#{id}").as_str()) {
        return Err(malformed(format!(
            "a Signature on the {} references something else than it",
            parent.tag_name().name()
        )));
    }
    if let Some(transforms) = single(reference, DS_NS, "Transforms")? {
        for transform in transforms.children().filter(|c| c.is_element()) {
            let algorithm = transform.attribute("Algorithm");
            if !is(transform, DS_NS, "Transform")
                || !matches!(algorithm, Some(ENVELOPED | EXC_C14N | EXC_C14N_WITH_COMMENTS))
            {
                return Err(malformed(format!(
                    "transform {} is not allowed (enveloped-signature and exclusive c14n only)",
                    quote(algorithm.unwrap_or("none"))
                )));
            }
            if transform.children().any(|c| c.is_element() && !is(c, EXC_C14N_NS, "InclusiveNamespaces")) {
                return Err(malformed("a Transform carries parameters other than InclusiveNamespaces"));
            }
        }
    }
    let digest = child(reference, DS_NS, "DigestMethod").and_then(|d| d.attribute("Algorithm"));
    if !SIGNATURE_ALGORITHMS.iter().any(|a| Some(a.digest_uri()) == digest) {
        return Err(reject(
            Reason::UnsupportedAlgorithm,
            format!("digest method {} is not allowed", quote(digest.unwrap_or("none"))),
        ));
    }
    Ok(())
}

fn der_of(pem: &str) -> Result<CertificateDer, Rejection> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes())
        .map_err(|_| reject(Reason::InvalidSignature, "a configured certificate is not PEM"))?;
    Ok(CertificateDer::from(parsed.contents))
}

/// xmlsec checks every signature in the document with one configured certificate at a time
/// (`KeyInfo` is ignored: the key is set on the context, and no key manager is attached), and
/// hands back the canonical bytes it digested: the response when signed, else the assertion.
fn verify_signature(xml: &str, certificates: &[String]) -> Result<String, Rejection> {
    for pem in certificates {
        let der = der_of(pem)?;
        let verified = Crypto::reduce_xml_to_signed_with_allowed_algorithms(
            xml,
            std::slice::from_ref(&der),
            ReduceMode::PreDigest,
            Some(SIGNATURE_ALGORITHMS),
        );
        if let Ok(predigest) = verified {
            return Ok(predigest);
        }
    }
    let count = certificates.len();
    Err(reject(
        Reason::InvalidSignature,
        format!(
            "the signature does not verify with the configured certificate{}",
            if count == 1 { String::new() } else { format!("s ({count})") }
        ),
    ))
}

fn instant(node: Node<'_, '_>, name: &str) -> Result<Option<DateTime<Utc>>, Rejection> {
    let Some(value) = node.attribute(name) else { return Ok(None) };
    DateTime::parse_from_rfc3339(value.trim()).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| {
        malformed(format!("{}@{name} is not a date and time: {}", node.tag_name().name(), quote(value)))
    })
}

/// Identity and conditions, read only from the signed assertion (`signed`); `root` is the
/// (possibly unsigned) response, consulted only for checks that can refuse.
fn read_assertion(
    root: Node<'_, '_>,
    signed: Node<'_, '_>,
    expect: &Expectations<'_>,
) -> Result<VerifiedAssertion, Rejection> {
    let now = expect.now;
    let skew = expect.clock_skew;

    let issuer = single(signed, ASSERTION_NS, "Issuer")?
        .map(plain_text)
        .transpose()?
        .ok_or_else(|| malformed("the assertion has no Issuer"))?;
    if issuer != expect.idp_entity_id {
        return Err(reject(
            Reason::IssuerMismatch,
            format!("the assertion was issued by {}, not by {}", quote(&issuer), quote(expect.idp_entity_id)),
        ));
    }
    if let Some(response_issuer) = single(root, ASSERTION_NS, "Issuer")?.map(plain_text).transpose()?
        && response_issuer != expect.idp_entity_id
    {
        return Err(reject(
            Reason::IssuerMismatch,
            format!(
                "the response was issued by {}, not by {}",
                quote(&response_issuer),
                quote(expect.idp_entity_id)
            ),
        ));
    }

    let conditions = single(signed, ASSERTION_NS, "Conditions")?.ok_or_else(|| {
        reject(Reason::AudienceMismatch, "the assertion has no Conditions naming its audience")
    })?;
    if let Some(not_before) = instant(conditions, "NotBefore")?
        && not_before - skew > now
    {
        return Err(reject(
            Reason::NotYetValid,
            format!("the assertion is valid from {}", not_before.to_rfc3339()),
        ));
    }
    let conditions_until = instant(conditions, "NotOnOrAfter")?;
    if let Some(until) = conditions_until
        && until + skew <= now
    {
        return Err(reject(Reason::Expired, format!("the assertion expired at {}", until.to_rfc3339())));
    }
    let mut restrictions = 0;
    for condition in conditions.children().filter(|c| c.is_element()) {
        if is(condition, ASSERTION_NS, "AudienceRestriction") {
            restrictions += 1;
            let mut audiences = children(condition, ASSERTION_NS, "Audience");
            if !audiences.any(|a| plain_text(a).is_ok_and(|a| a == expect.sp_entity_id)) {
                return Err(reject(
                    Reason::AudienceMismatch,
                    format!("the assertion is not meant for {}", quote(expect.sp_entity_id)),
                ));
            }
        } else if !is(condition, ASSERTION_NS, "OneTimeUse")
            && !is(condition, ASSERTION_NS, "ProxyRestriction")
        {
            // SAML core 2.5.1.5: an unknown condition makes the assertion indeterminate.
            return Err(malformed(format!("unknown condition {}", quote(condition.tag_name().name()))));
        }
    }
    if restrictions == 0 {
        return Err(reject(Reason::AudienceMismatch, "the assertion names no audience"));
    }

    let subject = single(signed, ASSERTION_NS, "Subject")?
        .ok_or_else(|| reject(Reason::MissingSubject, "the assertion has no Subject"))?;
    let confirmation = bearer_confirmation(subject, expect)?;
    let response_in_response_to = root.attribute("InResponseTo");
    if let (Some(a), Some(b)) = (confirmation.in_response_to.as_deref(), response_in_response_to)
        && a != b
    {
        return Err(malformed("the response and its assertion answer different requests (InResponseTo)"));
    }
    if let Some(destination) = root.attribute("Destination")
        && destination != expect.acs_url
    {
        return Err(reject(
            Reason::RecipientMismatch,
            format!("the response is addressed to {}, not to {}", quote(destination), quote(expect.acs_url)),
        ));
    }

    let name_id_node = single(subject, ASSERTION_NS, "NameID")?
        .ok_or_else(|| reject(Reason::MissingSubject, "the assertion has no NameID"))?;
    let name_id = plain_text(name_id_node)?;
    if name_id.is_empty() {
        return Err(reject(Reason::MissingSubject, "the assertion's NameID is empty"));
    }
    let name_id_format = name_id_node.attribute("Format").map(str::to_string);

    let attributes = attributes(signed)?;
    let email = match expect.email_attribute {
        Some(name) => first_value(&attributes, name),
        None if name_id_format.as_deref() == Some(EMAIL_NAME_ID) => Some(name_id.clone()),
        None => EMAIL_ATTRIBUTES.iter().find_map(|name| well_known(&attributes, name).into_iter().next()),
    };
    let mut groups: Vec<String> = match expect.groups_attribute {
        Some(name) => attributes.get(name).cloned().unwrap_or_default(),
        None => GROUPS_ATTRIBUTES.iter().flat_map(|name| well_known(&attributes, name)).collect(),
    };
    groups.retain(|g| !g.is_empty());
    let mut seen = HashSet::new();
    groups.retain(|g| seen.insert(g.clone()));
    if groups.is_empty() && attributes.contains_key(GROUPS_OVERAGE) {
        return Err(reject(
            Reason::GroupsOverage,
            "the IdP says the user is in too many groups to list them (groups.link)",
        ));
    }

    let session_index = children(signed, ASSERTION_NS, "AuthnStatement")
        .find_map(|s| s.attribute("SessionIndex"))
        .map(str::to_string);
    let latest =
        conditions_until.map_or(confirmation.not_on_or_after, |c| c.max(confirmation.not_on_or_after));
    Ok(VerifiedAssertion {
        assertion_id: signed.attribute("ID").unwrap_or_default().to_string(),
        issuer,
        in_response_to: confirmation.in_response_to.or(response_in_response_to.map(str::to_string)),
        name_id,
        name_id_format,
        email,
        groups,
        attributes,
        session_index,
        replay_until: latest + skew,
    })
}

struct Confirmation {
    in_response_to: Option<String>,
    not_on_or_after: DateTime<Utc>,
}

/// A bearer confirmation for our ACS that has not run out (SAML profiles 4.1.4.2); the first
/// problem found is reported when none qualifies.
fn bearer_confirmation(subject: Node<'_, '_>, expect: &Expectations<'_>) -> Result<Confirmation, Rejection> {
    let mut problem = None;
    for confirmation in children(subject, ASSERTION_NS, "SubjectConfirmation") {
        if confirmation.attribute("Method") != Some(BEARER) {
            continue;
        }
        match bearer_data(confirmation, expect) {
            Ok(found) => return Ok(found),
            Err(e) => {
                problem.get_or_insert(e);
            }
        }
    }
    Err(problem.unwrap_or_else(|| malformed("the assertion has no bearer SubjectConfirmation")))
}

fn bearer_data(confirmation: Node<'_, '_>, expect: &Expectations<'_>) -> Result<Confirmation, Rejection> {
    let data = single(confirmation, ASSERTION_NS, "SubjectConfirmationData")?
        .ok_or_else(|| malformed("the bearer SubjectConfirmation has no SubjectConfirmationData"))?;
    let recipient = data.attribute("Recipient").unwrap_or_default();
    if recipient != expect.acs_url {
        return Err(reject(
            Reason::RecipientMismatch,
            format!("the assertion's Recipient is {}, not {}", quote(recipient), quote(expect.acs_url)),
        ));
    }
    let until = instant(data, "NotOnOrAfter")?
        .ok_or_else(|| malformed("the bearer SubjectConfirmationData has no NotOnOrAfter"))?;
    if until + expect.clock_skew <= expect.now {
        return Err(reject(
            Reason::Expired,
            format!("the assertion's subject confirmation expired at {}", until.to_rfc3339()),
        ));
    }
    if let Some(not_before) = instant(data, "NotBefore")?
        && not_before - expect.clock_skew > expect.now
    {
        return Err(reject(
            Reason::NotYetValid,
            format!("the subject confirmation is valid from {}", not_before.to_rfc3339()),
        ));
    }
    Ok(Confirmation {
        in_response_to: data.attribute("InResponseTo").map(str::to_string),
        not_on_or_after: until,
    })
}

/// Every attribute's values, by name, with limits on count and size.
fn attributes(signed: Node<'_, '_>) -> Result<BTreeMap<String, Vec<String>>, Rejection> {
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut count = 0;
    for statement in children(signed, ASSERTION_NS, "AttributeStatement") {
        for attribute in children(statement, ASSERTION_NS, "Attribute") {
            let name = attribute.attribute("Name").unwrap_or_default().trim();
            if name.is_empty() {
                return Err(malformed("an Attribute has no Name"));
            }
            let values = attributes.entry(name.to_string()).or_default();
            for value in children(attribute, ASSERTION_NS, "AttributeValue") {
                count += 1;
                if count > MAX_ATTRIBUTE_VALUES {
                    return Err(malformed(format!(
                        "the assertion carries more than {MAX_ATTRIBUTE_VALUES} attribute values"
                    )));
                }
                let text = plain_text(value)?;
                if text.len() > MAX_ATTRIBUTE_VALUE_BYTES {
                    return Err(malformed(format!(
                        "attribute {} has a value longer than 1 KiB",
                        quote(name)
                    )));
                }
                if value.attribute((XSI_NS, "nil")).is_some_and(|n| n == "true" || n == "1") {
                    continue;
                }
                values.push(text);
            }
        }
    }
    Ok(attributes)
}

fn first_value(attributes: &BTreeMap<String, Vec<String>>, name: &str) -> Option<String> {
    attributes.get(name)?.iter().find(|v| !v.is_empty()).cloned()
}

/// The non-empty values of a well-known attribute, its name compared without regard to case.
fn well_known(attributes: &BTreeMap<String, Vec<String>>, name: &str) -> Vec<String> {
    attributes
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, values)| values.iter().filter(|v| !v.is_empty()).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expectations(certificates: &[String]) -> Expectations<'_> {
        Expectations {
            idp_entity_id: "https://idp.example.com",
            certificates,
            sp_entity_id: "https://sp.example.com/metadata",
            acs_url: "https://sp.example.com/acs",
            now: Utc::now(),
            clock_skew: Duration::seconds(120),
            email_attribute: None,
            groups_attribute: None,
            decryption_key: None,
            require_encrypted: false,
        }
    }

    const UNSIGNED: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="r1" Version="2.0"><saml:Issuer>https://idp.example.com</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="a1" Version="2.0"><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject><saml:Conditions><saml:AudienceRestriction><saml:Audience>https://sp.example.com/metadata</saml:Audience></saml:AudienceRestriction></saml:Conditions></saml:Assertion></samlp:Response>"#;

    #[test]
    fn decode_post_accepts_wrapped_base64_and_refuses_junk_and_oversize() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(UNSIGNED);
        let wrapped: Vec<String> =
            encoded.as_bytes().chunks(76).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
        assert_eq!(decode_post(&wrapped.join("\r\n")).unwrap(), UNSIGNED);
        assert_eq!(decode_post("not base64!").unwrap_err().reason, Reason::InvalidRequest);
        assert_eq!(decode_post("  ").unwrap_err().reason, Reason::InvalidRequest);
        let huge = base64::engine::general_purpose::STANDARD.encode(vec![b'a'; MAX_RESPONSE_BYTES + 1]);
        assert_eq!(decode_post(&huge).unwrap_err().reason, Reason::InvalidRequest);
        let latin1 = base64::engine::general_purpose::STANDARD.encode([0x3c, 0xe9, 0x3e]);
        assert_eq!(decode_post(&latin1).unwrap_err().reason, Reason::MalformedResponse);
    }

    #[test]
    fn peek_reads_routing_facts_without_verifying() {
        let peeked = peek(UNSIGNED).unwrap();
        assert_eq!(peeked.issuer.as_deref(), Some("https://idp.example.com"));
        assert_eq!(peeked.audiences, vec!["https://sp.example.com/metadata".to_string()]);
        assert_eq!(peeked.in_response_to, None);
    }

    #[test]
    fn unsigned_or_certificate_less_or_dtd_documents_are_refused() {
        let certs = vec!["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string()];
        assert_eq!(verify(UNSIGNED, &expectations(&certs)).unwrap_err().reason, Reason::Unsigned);
        assert_eq!(verify(UNSIGNED, &expectations(&[])).unwrap_err().reason, Reason::InvalidSignature);
        let dtd = format!("<!DOCTYPE r [<!ENTITY x \"y\">]>{UNSIGNED}");
        assert_eq!(verify(&dtd, &expectations(&certs)).unwrap_err().reason, Reason::ForbiddenDtd);
        assert_eq!(peek(&dtd).unwrap_err().reason, Reason::ForbiddenDtd);
    }

    #[test]
    fn two_assertions_or_a_nested_one_are_malformed() {
        let certs = vec![String::new()];
        let a = r#"<saml:Assertion ID="a2" Version="2.0"/>"#;
        let two = UNSIGNED.replace("</samlp:Response>", &format!("{a}</samlp:Response>"));
        let e = verify(&two, &expectations(&certs)).unwrap_err();
        assert_eq!(e.reason, Reason::MalformedResponse, "{e}");
        let nested = UNSIGNED
            .replace("<saml:Assertion ID=\"a1\"", "<x:W xmlns:x=\"urn:x\"><saml:Assertion ID=\"a1\"")
            .replace("</saml:Assertion>", "</saml:Assertion></x:W>");
        assert_eq!(verify(&nested, &expectations(&certs)).unwrap_err().reason, Reason::MalformedResponse);
        let dup = UNSIGNED.replace("ID=\"a1\"", "ID=\"r1\"");
        assert_eq!(verify(&dup, &expectations(&certs)).unwrap_err().reason, Reason::MalformedResponse);
    }

    #[test]
    fn a_failed_status_names_its_code() {
        let failed = UNSIGNED.replace(
            "status:Success\"/>",
            "status:Responder\"><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:AuthnFailed\"/></samlp:StatusCode><samlp:StatusMessage>no</samlp:StatusMessage>",
        );
        let e = verify(&failed, &expectations(&[String::new()])).unwrap_err();
        assert_eq!(e.reason, Reason::StatusNotSuccess);
        assert!(e.detail.contains("Responder") && e.detail.contains("AuthnFailed"), "{}", e.detail);
    }

    /// `UNSIGNED` with a signature on the assertion; `edit` changes the signature's text.
    fn with_signature(edit: impl Fn(String) -> String) -> String {
        let signature = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#a1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="xs"/></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>"##;
        let issuer = "<saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject>";
        UNSIGNED.replacen(
            issuer,
            &format!(
                "<saml:Issuer>https://idp.example.com</saml:Issuer>{}<saml:Subject>",
                edit(signature.to_string())
            ),
            1,
        )
    }

    #[test]
    fn signature_shapes_are_checked_before_any_cryptography() {
        let certs = vec![String::new()];
        let reason = |xml: String| verify(&xml, &expectations(&certs)).unwrap_err().reason;
        // The well-shaped signature passes the shape checks (and fails on the unreadable certificate).
        assert_eq!(reason(with_signature(|s| s)), Reason::InvalidSignature);
        type Edit = fn(String) -> String;
        let cases: [(&str, Edit, Reason); 7] = [
            (
                "reference to another element",
                |s| s.replace("URI=\"#a1\"", "URI=\"#r1\""),
                Reason::MalformedResponse,
            ),
            ("whole-document reference", |s| s.replace("URI=\"#a1\"", "URI=\"\""), Reason::MalformedResponse),
            (
                "two references",
                |s| s.replace("</ds:SignedInfo>", "<ds:Reference URI=\"#a1\"/></ds:SignedInfo>"),
                Reason::MalformedResponse,
            ),
            (
                "XPath transform",
                |s| s.replace("2000/09/xmldsig#enveloped-signature", "TR/1999/REC-xpath-19991116"),
                Reason::MalformedResponse,
            ),
            (
                "an Object",
                |s| s.replace("</ds:Signature>", "<ds:Object/></ds:Signature>"),
                Reason::MalformedResponse,
            ),
            (
                "SHA-1",
                |s| s.replace("2001/04/xmldsig-more#rsa-sha256", "2000/09/xmldsig#rsa-sha1"),
                Reason::UnsupportedAlgorithm,
            ),
            (
                "inclusive c14n",
                |s| s.replacen("2001/10/xml-exc-c14n#", "TR/2001/REC-xml-c14n-20010315", 1),
                Reason::UnsupportedAlgorithm,
            ),
        ];
        for (case, edit, expected) in cases {
            assert_eq!(reason(with_signature(edit)), expected, "{case}");
        }
        // A signature anywhere but on the Response or the assertion.
        let nested = with_signature(|s| s).replace(
            "<saml:Subject>",
            "<saml:Subject><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>",
        );
        assert_eq!(reason(nested), Reason::MalformedResponse);
        // A comment inside NameID.
        let comment =
            with_signature(|s| s).replace("alice@example.com", "alice@example.com<!---->.evil.example");
        assert_eq!(reason(comment), Reason::MalformedResponse);
    }
}
