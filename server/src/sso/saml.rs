//! SAML provider settings: the IdP's entity id, SSO URL and signing certificates, typed in or
//! imported from its metadata; certificate details for the admin; our SP metadata.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::escape;
use super::types::{CertificateInfo, SamlInput};
use crate::{error::ApiError, outbound::Outbound};

pub const DEFAULT_CLOCK_SKEW_SECONDS: u32 = 120;
const MAX_CLOCK_SKEW_SECONDS: u32 = 600;
/// Certificates at once: the current one and the next, with room to spare for a rollover.
pub const MAX_CERTIFICATES: usize = 5;
const MAX_PEM: usize = 16 * 1024;
pub const MAX_METADATA: usize = 1024 * 1024;
/// A certificate expiring this soon is flagged.
const EXPIRY_WARNING_DAYS: i64 = 30;

const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

pub const EMAIL_NAME_ID: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// NameID formats an admin may ask for, by short name; `emailAddress` is the default.
pub const NAME_ID_FORMATS: &[(&str, &str)] = &[
    ("emailAddress", EMAIL_NAME_ID),
    ("persistent", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
    ("unspecified", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"),
    ("transient", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"),
];

/// What is stored for a SAML provider.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SamlSettings {
    pub idp_entity_id: String,
    pub sso_url: String,
    /// PEM, in the order given; any of them may sign.
    pub certificates: Vec<String>,
    pub metadata_url: Option<String>,
    pub name_id_format: String,
    pub email_attribute: Option<String>,
    pub groups_attribute: Option<String>,
    pub clock_skew_seconds: u32,
    pub authn_context_class_ref: Option<String>,
    pub allow_idp_initiated: bool,
    /// Sign our AuthnRequests with the provider's SP key.
    #[serde(default)]
    pub sign_authn_requests: bool,
    /// Refuse assertions that are not encrypted to the provider's SP key.
    #[serde(default)]
    pub require_encrypted_assertions: bool,
}

/// What an IdP's metadata says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    pub sso_url: Option<String>,
    pub certificates: Vec<String>,
    /// `WantAuthnRequestsSigned="true"` on its IDPSSODescriptor.
    pub want_authn_requests_signed: bool,
}

fn field(name: &str) -> String {
    format!("saml.{name}")
}

fn text(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    super::setting(field(name), value)
}

/// A URL the browser is sent to: https (http only where the instance allows it), no credentials.
pub fn browser_url(outbound: &Outbound, field: &str, value: &str) -> Result<String, ApiError> {
    let url = url::Url::parse(value).map_err(|e| ApiError::validation(field, format!("not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if outbound.allows_http() => {}
        _ => return Err(ApiError::validation(field, "must be an https URL")),
    }
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::validation(field, "must name a host and carry no credentials"));
    }
    Ok(url.to_string())
}

/// Checks what the admin sent, with `imported` (parsed from the IdP's metadata) filling in
/// what was not given explicitly.
pub fn settings(
    outbound: &Outbound,
    input: SamlInput,
    imported: Option<IdpMetadata>,
) -> Result<SamlSettings, ApiError> {
    let imported = imported.unwrap_or_default();
    let idp_entity_id = text("idp_entity_id", input.idp_entity_id)?
        .or(Some(imported.entity_id).filter(|e| !e.is_empty()))
        .ok_or_else(|| ApiError::validation(field("idp_entity_id"), "is required (or import metadata)"))?;
    let sso_url = text("sso_url", input.sso_url)?
        .or(imported.sso_url)
        .ok_or_else(|| ApiError::validation(field("sso_url"), "is required (or import metadata)"))?;
    let sso_url = browser_url(outbound, &field("sso_url"), &sso_url)?;
    let certificates = match input.certificates {
        Some(given) => given,
        None => imported.certificates,
    };
    if certificates.is_empty() {
        return Err(ApiError::validation(
            field("certificates"),
            "at least one IdP signing certificate is required: without one nothing could be verified",
        ));
    }
    if certificates.len() > MAX_CERTIFICATES {
        return Err(ApiError::validation(field("certificates"), format!("at most {MAX_CERTIFICATES}")));
    }
    let certificates = certificates
        .into_iter()
        .enumerate()
        .map(|(i, pem)| {
            normalize_pem(&pem).map_err(|why| ApiError::validation(format!("saml.certificates[{i}]"), why))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let name_id_format = input.name_id_format.unwrap_or_else(|| "emailAddress".into());
    if !NAME_ID_FORMATS.iter().any(|(short, _)| *short == name_id_format) {
        let names: Vec<&str> = NAME_ID_FORMATS.iter().map(|(s, _)| *s).collect();
        return Err(ApiError::validation(
            field("name_id_format"),
            format!("must be one of {}", names.join(", ")),
        ));
    }
    let clock_skew_seconds = input.clock_skew_seconds.unwrap_or(DEFAULT_CLOCK_SKEW_SECONDS);
    if clock_skew_seconds > MAX_CLOCK_SKEW_SECONDS {
        return Err(ApiError::validation(
            field("clock_skew_seconds"),
            format!("at most {MAX_CLOCK_SKEW_SECONDS}"),
        ));
    }
    Ok(SamlSettings {
        idp_entity_id,
        sso_url,
        certificates,
        metadata_url: input.metadata_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
        name_id_format,
        email_attribute: text("email_attribute", input.email_attribute)?,
        groups_attribute: text("groups_attribute", input.groups_attribute)?,
        clock_skew_seconds,
        authn_context_class_ref: text("authn_context_class_ref", input.authn_context_class_ref)?,
        allow_idp_initiated: input.allow_idp_initiated.unwrap_or(false),
        sign_authn_requests: input.sign_authn_requests.unwrap_or(imported.want_authn_requests_signed),
        require_encrypted_assertions: input.require_encrypted_assertions.unwrap_or(false),
    })
}

/// One X.509 certificate as PEM, re-encoded from its DER (so stray text around it goes).
fn normalize_pem(pem: &str) -> Result<String, String> {
    if pem.len() > MAX_PEM {
        return Err(format!("is larger than {MAX_PEM} bytes"));
    }
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes())
        .map_err(|_| "is not a PEM certificate (-----BEGIN CERTIFICATE-----)".to_string())?;
    if parsed.label != "CERTIFICATE" {
        return Err(format!("holds a {}, not a CERTIFICATE", parsed.label));
    }
    let der = parsed.contents;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|_| "is not a valid X.509 certificate".to_string())?;
    let key = cert.public_key().parsed().map_err(|_| "has a public key that cannot be read".to_string())?;
    match key {
        x509_parser::public_key::PublicKey::RSA(rsa) if rsa.key_size() < 2048 => {
            return Err(format!("has a {}-bit RSA key; at least 2048 bits are required", rsa.key_size()));
        }
        x509_parser::public_key::PublicKey::RSA(_) | x509_parser::public_key::PublicKey::EC(_) => {}
        _ => return Err("must hold an RSA or EC public key".into()),
    }
    Ok(pem_of(&der))
}

fn pem_of(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// What an admin sees of a stored certificate.
pub fn certificate_info(pem: &str, now: DateTime<Utc>) -> Option<CertificateInfo> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&parsed.contents).ok()?;
    let validity = cert.validity();
    let not_before = DateTime::from_timestamp(validity.not_before.timestamp(), 0)?;
    let not_after = DateTime::from_timestamp(validity.not_after.timestamp(), 0)?;
    let fingerprint: Vec<String> =
        Sha256::digest(&parsed.contents).iter().map(|b| format!("{b:02X}")).collect();
    Some(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sha256_fingerprint: fingerprint.join(":"),
        not_before,
        not_after,
        expired: not_after <= now,
        expires_soon: not_after > now && not_after - now <= Duration::days(EXPIRY_WARNING_DAYS),
        pem: pem.to_string(),
    })
}

/// Reads an IdP's metadata (an `EntityDescriptor`, or an `EntitiesDescriptor` holding exactly
/// one IdP): its entity id, the HTTP-Redirect SSO URL and the signing certificates. A DTD or
/// entity declaration is refused, whatever it declares.
pub fn parse_metadata(xml: &str) -> Result<IdpMetadata, String> {
    if xml.len() > MAX_METADATA {
        return Err(format!("is larger than {MAX_METADATA} bytes"));
    }
    let options = roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(xml, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => "holds a DTD, which is refused".to_string(),
        other => format!("is not well-formed XML: {other}"),
    })?;
    let idps: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name((MD_NS, "EntityDescriptor")))
        .filter(|n| n.children().any(|c| c.has_tag_name((MD_NS, "IDPSSODescriptor"))))
        .collect();
    let entity = match idps.as_slice() {
        [one] => *one,
        [] => {
            return Err(
                "describes no identity provider (no EntityDescriptor with an IDPSSODescriptor)".into()
            );
        }
        _ => return Err("describes several identity providers; upload the one to use".into()),
    };
    let entity_id = entity.attribute("entityID").map(str::trim).filter(|e| !e.is_empty());
    let entity_id = entity_id.ok_or("has an EntityDescriptor without an entityID")?.to_string();
    let idp = entity
        .children()
        .find(|c| c.has_tag_name((MD_NS, "IDPSSODescriptor")))
        .ok_or("has no IDPSSODescriptor")?;
    let want_authn_requests_signed =
        matches!(idp.attribute("WantAuthnRequestsSigned").map(str::trim), Some("true" | "1"));
    let sso_url = idp
        .children()
        .filter(|c| c.has_tag_name((MD_NS, "SingleSignOnService")))
        .find(|c| c.attribute("Binding") == Some(REDIRECT_BINDING))
        .and_then(|c| c.attribute("Location"))
        .map(|l| l.trim().to_string());
    let mut certificates = Vec::new();
    for key in idp.children().filter(|c| c.has_tag_name((MD_NS, "KeyDescriptor"))) {
        if key.attribute("use").is_some_and(|u| u != "signing") {
            continue;
        }
        for cert in key.descendants().filter(|d| d.has_tag_name((DS_NS, "X509Certificate"))) {
            let b64: String =
                cert.text().unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|_| "has an X509Certificate that is not base64".to_string())?;
            let pem = pem_of(&der);
            if !certificates.contains(&pem) {
                certificates.push(pem);
            }
        }
    }
    Ok(IdpMetadata { entity_id, sso_url, certificates, want_authn_requests_signed })
}

/// Data encryption algorithms we decrypt, strongest first (see `saml_decrypt`).
const ENCRYPTION_METHODS: &[&str] = &[
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
];

/// What our SP metadata for one provider says.
pub struct SpMetadata<'a> {
    pub entity_id: &'a str,
    pub acs_url: &'a str,
    pub name_id_format: &'a str,
    /// The provider's SP certificate (DER, base64): for checking our signed requests and for
    /// encrypting assertions to us.
    pub certificate_base64: &'a str,
    pub authn_requests_signed: bool,
}

/// Our SP metadata for one provider: entity id, the ACS (HTTP-POST), the NameID format asked
/// for, that assertions must be signed, and our key for signatures and encryption.
pub fn sp_metadata(sp: &SpMetadata<'_>) -> String {
    let format =
        NAME_ID_FORMATS.iter().find(|(s, _)| *s == sp.name_id_format).map_or(EMAIL_NAME_ID, |(_, u)| u);
    let key_info = format!(
        r#"<ds:KeyInfo xmlns:ds="{DS_NS}"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"#,
        escape(sp.certificate_base64)
    );
    let methods: String = ENCRYPTION_METHODS
        .iter()
        .map(|m| format!("\n      <md:EncryptionMethod Algorithm=\"{m}\"/>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="{MD_NS}" entityID="{entity}">
  <md:SPSSODescriptor AuthnRequestsSigned="{signed}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      {key_info}
    </md:KeyDescriptor>
    <md:KeyDescriptor use="encryption">
      {key_info}{methods}
    </md:KeyDescriptor>
    <md:NameIDFormat>{format}</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#,
        entity = escape(sp.entity_id),
        acs = escape(sp.acs_url),
        format = escape(format),
        signed = sp.authn_requests_signed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="http://www.okta.com/exk1">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#;

    #[test]
    fn metadata_gives_the_entity_id_and_the_redirect_sso_url_and_skips_encryption_keys() {
        let parsed = parse_metadata(METADATA).unwrap();
        assert_eq!(parsed.entity_id, "http://www.okta.com/exk1");
        assert_eq!(parsed.sso_url.as_deref(), Some("https://idp.example.com/sso"));
        assert!(parsed.certificates.is_empty(), "the encryption key is not a signing certificate");
    }

    #[test]
    fn metadata_with_a_dtd_or_entities_is_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&e;"/>"#;
        assert!(parse_metadata(xxe).unwrap_err().contains("DTD"));
        assert!(parse_metadata("<x>").is_err());
        assert!(
            parse_metadata(
                "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"e\"/>"
            )
            .is_err()
        );
    }

    #[test]
    fn sp_metadata_escapes_what_it_embeds() {
        let xml = sp_metadata(&SpMetadata {
            entity_id: "https://h/x?a=1&b=\"2\"",
            acs_url: "https://h/acs",
            name_id_format: "persistent",
            certificate_base64: "AAAA",
            authn_requests_signed: true,
        });
        assert!(xml.contains("entityID=\"https://h/x?a=1&amp;b=&quot;2&quot;\""));
        assert!(xml.contains("nameid-format:persistent"));
        assert!(xml.contains("AuthnRequestsSigned=\"true\""));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let uses: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name((MD_NS, "KeyDescriptor")))
            .filter_map(|n| n.attribute("use"))
            .collect();
        assert_eq!(uses, ["signing", "encryption"]);
    }
}
