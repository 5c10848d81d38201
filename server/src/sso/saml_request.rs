//! SP-initiated sign-in: the `AuthnRequest` we send the browser to the IdP with (HTTP-Redirect
//! binding, SAML bindings 3.4: raw DEFLATE, then base64, then URL encoding). Signed with the
//! provider's SP key when the IdP wants signed requests (bindings 3.4.4.1: the signature covers
//! `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as they appear in the URL, and travels as
//! `Signature`), otherwise unsigned; our metadata says which. Its ID comes back as `InResponseTo`.

use std::io::Write;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};

use super::{escape, sp_key::SpKey};
use crate::error::ApiError;

const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// The `SigAlg` of a signed redirect.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `_` and 32 hex digits; remember it to match the response's `InResponseTo`.
    pub id: String,
    /// The IdP's SSO URL with `SAMLRequest` and `RelayState` (and, when signed, `SigAlg` and
    /// `Signature`) added to its query.
    pub redirect_url: String,
}

/// What one request asks for.
pub struct Request<'a> {
    pub sso_url: &'a str,
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub name_id_format_uri: &'a str,
    pub authn_context_class_ref: Option<&'a str>,
    pub relay_state: &'a str,
    pub now: DateTime<Utc>,
    /// Sign the redirect with this key.
    pub signer: Option<&'a SpKey>,
}

fn url_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Builds the request and the URL that carries it.
pub fn authn_request(request: &Request<'_>) -> Result<AuthnRequest, ApiError> {
    let id = format!("_{}", uuid::Uuid::new_v4().simple());
    let xml = authn_request_xml(&id, request);
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(xml.as_bytes()).map_err(ApiError::internal)?;
    let deflated = deflater.finish().map_err(ApiError::internal)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);

    let mut saml_query =
        format!("SAMLRequest={}&RelayState={}", url_encode(&encoded), url_encode(request.relay_state));
    if let Some(key) = request.signer {
        saml_query.push_str(&format!("&SigAlg={}", url_encode(RSA_SHA256)));
        let signature = key.sign_rsa_sha256(saml_query.as_bytes())?;
        let signature = base64::engine::general_purpose::STANDARD.encode(signature);
        saml_query.push_str(&format!("&Signature={}", url_encode(&signature)));
    }
    let mut url = url::Url::parse(request.sso_url)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("the provider's SSO URL cannot be parsed: {e}")))?;
    let query = match url.query().filter(|q| !q.is_empty()) {
        Some(own) => format!("{own}&{saml_query}"),
        None => saml_query,
    };
    url.set_query(Some(&query));
    Ok(AuthnRequest { id, redirect_url: url.to_string() })
}

fn authn_request_xml(id: &str, request: &Request<'_>) -> String {
    let requested_context = request.authn_context_class_ref.map_or(String::new(), |class| {
        format!(
            r#"<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#,
            escape(class)
        )
    });
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="{PROTOCOL_NS}" xmlns:saml="{ASSERTION_NS}" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="{POST_BINDING}"><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy Format="{format}" AllowCreate="true"/>{requested_context}</samlp:AuthnRequest>"#,
        id = escape(id),
        instant = request.now.to_rfc3339_opts(SecondsFormat::Secs, true),
        destination = escape(request.sso_url),
        acs = escape(request.acs_url),
        issuer = escape(request.sp_entity_id),
        format = escape(request.name_id_format_uri),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn inflate(redirect_url: &str) -> (String, String, url::Url) {
        let url = url::Url::parse(redirect_url).unwrap();
        let param =
            |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap();
        let deflated = base64::engine::general_purpose::STANDARD.decode(param("SAMLRequest")).unwrap();
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(deflated.as_slice()).read_to_string(&mut xml).unwrap();
        let relay = param("RelayState");
        (xml, relay, url)
    }

    #[test]
    fn the_request_inflates_back_to_what_was_asked() {
        let now = DateTime::parse_from_rfc3339("2025-03-01T12:00:00Z").unwrap().with_timezone(&Utc);
        let request = authn_request(&Request {
            sso_url: "https://idp.example.com/sso?tenant=a&b=1",
            sp_entity_id: "https://sp.example.com/metadata/1?x=<&>",
            acs_url: "https://sp.example.com/acs",
            name_id_format_uri: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            authn_context_class_ref: Some(
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            ),
            relay_state: "relay+state/=&",
            now,
            signer: None,
        })
        .unwrap();
        assert_eq!(request.id.len(), 33);
        assert!(request.id.starts_with('_') && request.id[1..].chars().all(|c| c.is_ascii_hexdigit()));

        let (xml, relay, url) = inflate(&request.redirect_url);
        assert_eq!(relay, "relay+state/=&");
        let query: Vec<(String, String)> =
            url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let names: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["tenant", "b", "SAMLRequest", "RelayState"], "the IdP's own query is kept");
        assert_eq!(url.path(), "/sso");

        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((PROTOCOL_NS, "AuthnRequest")));
        assert_eq!(root.attribute("ID"), Some(request.id.as_str()));
        assert_eq!(root.attribute("Version"), Some("2.0"));
        assert_eq!(root.attribute("IssueInstant"), Some("2025-03-01T12:00:00Z"));
        assert_eq!(root.attribute("Destination"), Some("https://idp.example.com/sso?tenant=a&b=1"));
        assert_eq!(root.attribute("AssertionConsumerServiceURL"), Some("https://sp.example.com/acs"));
        assert_eq!(root.attribute("ProtocolBinding"), Some(POST_BINDING));
        let find = |ns: &str, name: &str| doc.descendants().find(|n| n.has_tag_name((ns, name))).unwrap();
        assert_eq!(find(ASSERTION_NS, "Issuer").text(), Some("https://sp.example.com/metadata/1?x=<&>"));
        let policy = find(PROTOCOL_NS, "NameIDPolicy");
        assert_eq!(
            policy.attribute("Format"),
            Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        );
        assert_eq!(policy.attribute("AllowCreate"), Some("true"));
        assert_eq!(find(PROTOCOL_NS, "RequestedAuthnContext").attribute("Comparison"), Some("exact"));
        assert_eq!(
            find(ASSERTION_NS, "AuthnContextClassRef").text(),
            Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
        );
    }

    #[test]
    fn without_a_query_or_an_authn_context() {
        let plain = |relay_state| Request {
            sso_url: "https://idp.example.com/sso",
            sp_entity_id: "sp",
            acs_url: "https://sp.example.com/acs",
            name_id_format_uri: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            authn_context_class_ref: None,
            relay_state,
            now: Utc::now(),
            signer: None,
        };
        let request = authn_request(&plain("r")).unwrap();
        assert!(request.redirect_url.starts_with("https://idp.example.com/sso?SAMLRequest="));
        let (xml, relay, _) = inflate(&request.redirect_url);
        assert_eq!(relay, "r");
        assert!(!xml.contains("RequestedAuthnContext"));
        let other = authn_request(&plain("r")).unwrap();
        assert_ne!(request.id, other.id);
        assert!(!request.redirect_url.contains("Signature="));
    }

    #[test]
    fn a_signed_request_signs_exactly_the_query_it_sends() {
        use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

        let key = SpKey::generate(uuid::Uuid::nil(), Utc::now()).unwrap();
        let request = authn_request(&Request {
            sso_url: "https://idp.example.com/sso?tenant=a",
            sp_entity_id: "sp",
            acs_url: "https://sp.example.com/acs",
            name_id_format_uri: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            authn_context_class_ref: None,
            relay_state: "r+/=",
            now: Utc::now(),
            signer: Some(&key),
        })
        .unwrap();
        let query = url::Url::parse(&request.redirect_url).unwrap().query().unwrap().to_string();
        let (signed, signature) = query.split_once("&Signature=").unwrap();
        let signed = signed.strip_prefix("tenant=a&").unwrap();
        assert!(signed.starts_with("SAMLRequest=") && signed.contains("&RelayState=r%2B%2F%3D&SigAlg="));
        let signature: String = url::form_urlencoded::parse(format!("s={signature}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let signature = base64::engine::general_purpose::STANDARD.decode(signature).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(key.certificate_pem().as_bytes()).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&pem.contents).unwrap();
        let public = UnparsedPublicKey::new(
            &RSA_PKCS1_2048_8192_SHA256,
            cert.public_key().subject_public_key.data.to_vec(),
        );
        public.verify(signed.as_bytes(), &signature).unwrap();
        assert!(public.verify(signed.replace("r%2B", "x%2B").as_bytes(), &signature).is_err());
    }
}
