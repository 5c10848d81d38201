//! SP-initiated sign-in: the `AuthnRequest` we send the browser to the IdP with (HTTP-Redirect
//! binding, SAML bindings 3.4: raw DEFLATE, then base64, then URL encoding). Unsigned, as our
//! metadata says (`AuthnRequestsSigned="false"`); its ID comes back as `InResponseTo`.

use std::io::Write;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};

use super::escape;
use crate::error::ApiError;

const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `_` and 32 hex digits; remember it to match the response's `InResponseTo`.
    pub id: String,
    /// The IdP's SSO URL with `SAMLRequest` and `RelayState` added to its query.
    pub redirect_url: String,
}

/// Builds the request and the URL that carries it.
pub fn authn_request(
    sso_url: &str,
    sp_entity_id: &str,
    acs_url: &str,
    name_id_format_uri: &str,
    authn_context_class_ref: Option<&str>,
    relay_state: &str,
    now: DateTime<Utc>,
) -> Result<AuthnRequest, ApiError> {
    let id = format!("_{}", uuid::Uuid::new_v4().simple());
    let xml = authn_request_xml(
        &id,
        sso_url,
        sp_entity_id,
        acs_url,
        name_id_format_uri,
        authn_context_class_ref,
        now,
    );
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(xml.as_bytes()).map_err(ApiError::internal)?;
    let deflated = deflater.finish().map_err(ApiError::internal)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);

    let mut url = url::Url::parse(sso_url)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("the provider's SSO URL cannot be parsed: {e}")))?;
    url.query_pairs_mut().append_pair("SAMLRequest", &encoded).append_pair("RelayState", relay_state);
    Ok(AuthnRequest { id, redirect_url: url.to_string() })
}

fn authn_request_xml(
    id: &str,
    sso_url: &str,
    sp_entity_id: &str,
    acs_url: &str,
    name_id_format_uri: &str,
    authn_context_class_ref: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let requested_context = authn_context_class_ref.map_or(String::new(), |class| {
        format!(
            r#"<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#,
            escape(class)
        )
    });
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="{PROTOCOL_NS}" xmlns:saml="{ASSERTION_NS}" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="{POST_BINDING}"><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy Format="{format}" AllowCreate="true"/>{requested_context}</samlp:AuthnRequest>"#,
        id = escape(id),
        instant = now.to_rfc3339_opts(SecondsFormat::Secs, true),
        destination = escape(sso_url),
        acs = escape(acs_url),
        issuer = escape(sp_entity_id),
        format = escape(name_id_format_uri),
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
        let request = authn_request(
            "https://idp.example.com/sso?tenant=a&b=1",
            "https://sp.example.com/metadata/1?x=<&>",
            "https://sp.example.com/acs",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"),
            "relay+state/=&",
            now,
        )
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
        let request = authn_request(
            "https://idp.example.com/sso",
            "sp",
            "https://sp.example.com/acs",
            "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            None,
            "r",
            Utc::now(),
        )
        .unwrap();
        assert!(request.redirect_url.starts_with("https://idp.example.com/sso?SAMLRequest="));
        let (xml, relay, _) = inflate(&request.redirect_url);
        assert_eq!(relay, "r");
        assert!(!xml.contains("RequestedAuthnContext"));
        let other =
            authn_request("https://idp.example.com/sso", "sp", "a", "f", None, "r", Utc::now()).unwrap();
        assert_ne!(request.id, other.id);
    }
}
