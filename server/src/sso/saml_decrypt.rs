//! Encrypted assertions (SAML core 2.0 §2.3.4, XML Encryption 1.1): the IdP encrypts the
//! assertion with a fresh content key and wraps that key with the provider's SP certificate.
//!
//! samael's `EncryptedAssertion::decrypt` is not used: it hands back a re-parsed struct (the
//! verifier needs the decrypted bytes, to check their signature), panics on some malformed
//! input, accepts RSA PKCS#1 v1.5 key transport and knows only AES-128. xmlsec's decryption is
//! not exposed by samael's bindings. So the cryptography is aws-lc-rs's, under a strict profile:
//! - key transport RSA-OAEP only (`xmlenc#rsa-oaep-mgf1p` with SHA-1, `xmlenc11#rsa-oaep` with
//!   matching SHA-1 or SHA-256 digest and MGF1), no OAEP parameters; PKCS#1 v1.5 is refused
//!   (Bleichenbacher);
//! - content AES-128/256 in GCM or CBC, the cipher value inline (no `CipherReference`);
//! - one `EncryptedAssertion`, a direct child of the `Response`, and no plain assertion beside
//!   it; its `EncryptedKey` inside the `EncryptedData`'s `KeyInfo` or beside it.
//!
//! Every failure to decrypt answers one reason with one detail, and a key that does not unwrap
//! is replaced by a random one so the content decryption runs regardless: no padding or key
//! oracle (Jager and Somorovsky's attack on XML Encryption's CBC). The caller must also answer
//! alike anything that fails before the decrypted assertion's signature is verified.

use aws_lc_rs::{
    aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey},
    cipher::{AES_128, AES_256, DecryptingKey, DecryptionContext, UnboundCipherKey},
    iv::FixedLength,
    rand::{SecureRandom, SystemRandom},
    rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm},
};
use base64::Engine;
use roxmltree::{Document, Node};

use super::{
    reason::{Reason, Rejection},
    sp_key::SpKey,
};

const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";

const ELEMENT_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#Element";
const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const MGF1_SHA1: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
const MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";

/// Wrapped keys tried at most (an IdP encrypting to several recipients lists one per key).
const MAX_ENCRYPTED_KEYS: usize = 4;
/// The decrypted assertion, at most (the whole response is capped at 512 KiB already).
const MAX_PLAINTEXT: usize = 512 * 1024;

/// The one detail of every decryption failure.
pub const UNDECRYPTABLE: &str =
    "the encrypted assertion does not decrypt, with this provider's SP key, to an assertion its IdP signed";

#[derive(Clone, Copy)]
enum Content {
    Gcm(&'static aws_lc_rs::aead::Algorithm),
    /// The algorithm and its key length.
    Cbc(&'static aws_lc_rs::cipher::Algorithm, usize),
}

impl Content {
    fn of(uri: &str) -> Option<Self> {
        Some(match uri {
            "http://www.w3.org/2009/xmlenc11#aes128-gcm" => Self::Gcm(&AES_128_GCM),
            "http://www.w3.org/2009/xmlenc11#aes256-gcm" => Self::Gcm(&AES_256_GCM),
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Self::Cbc(&AES_128, 16),
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Self::Cbc(&AES_256, 32),
            _ => return None,
        })
    }

    fn key_len(self) -> usize {
        match self {
            Self::Gcm(algorithm) => algorithm.key_len(),
            Self::Cbc(_, len) => len,
        }
    }

    /// `None` on any failure: wrong key, altered ciphertext, bad padding.
    fn decrypt(self, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        match self {
            // IV (12) || ciphertext || tag (16).
            Self::Gcm(algorithm) => {
                let (iv, sealed) = data.split_at_checked(12)?;
                if sealed.len() < 16 {
                    return None;
                }
                let key = LessSafeKey::new(UnboundKey::new(algorithm, key).ok()?);
                let nonce = Nonce::try_assume_unique_for_key(iv).ok()?;
                let mut buffer = sealed.to_vec();
                let plain = key.open_in_place(nonce, Aad::empty(), &mut buffer).ok()?.len();
                buffer.truncate(plain);
                Some(buffer)
            }
            // IV (16) || ciphertext, padded as XML Encryption says: the last byte counts the
            // padding bytes (1..=16), whose other values are arbitrary (ISO 10126).
            Self::Cbc(algorithm, _) => {
                let (iv, blocks) = data.split_at_checked(16)?;
                if blocks.is_empty() || blocks.len() % 16 != 0 {
                    return None;
                }
                let iv = FixedLength::<16>::try_from(iv).ok()?;
                let key = DecryptingKey::cbc(UnboundCipherKey::new(algorithm, key).ok()?).ok()?;
                let mut buffer = blocks.to_vec();
                key.decrypt(&mut buffer, DecryptionContext::Iv128(iv)).ok()?;
                let pad = usize::from(*buffer.last()?);
                if pad == 0 || pad > 16 {
                    return None;
                }
                buffer.truncate(buffer.len().checked_sub(pad)?);
                Some(buffer)
            }
        }
    }
}

fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.has_tag_name((ns, name))
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(*c, ns, name))
}

fn malformed(detail: &str) -> Rejection {
    Rejection::new(Reason::MalformedResponse, detail)
}

fn unsupported(detail: String) -> Rejection {
    Rejection::new(Reason::UnsupportedAlgorithm, detail)
}

fn undecryptable() -> Rejection {
    Rejection::new(Reason::DecryptionFailed, UNDECRYPTABLE)
}

/// The base64 of a `CipherData/CipherValue` (no `CipherReference`).
fn cipher_value(parent: Node<'_, '_>) -> Result<Vec<u8>, Rejection> {
    let data =
        child(parent, XENC_NS, "CipherData").ok_or_else(|| malformed("encrypted data without CipherData"))?;
    if child(data, XENC_NS, "CipherReference").is_some() {
        return Err(malformed("a CipherReference is refused: the cipher value must be inline"));
    }
    let value = child(data, XENC_NS, "CipherValue")
        .ok_or_else(|| malformed("encrypted data without a CipherValue"))?;
    let text: String = value
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .flat_map(str::chars)
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|_| malformed("a CipherValue is not base64"))
}

fn algorithm<'a>(node: Node<'a, '_>) -> Result<&'a str, Rejection> {
    child(node, XENC_NS, "EncryptionMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or_else(|| malformed("encrypted data without an EncryptionMethod"))
}

/// The OAEP variant an `EncryptedKey` names, if we allow it.
fn key_transport(encrypted_key: Node<'_, '_>) -> Result<&'static OaepAlgorithm, Rejection> {
    let uri = algorithm(encrypted_key)?;
    let method =
        child(encrypted_key, XENC_NS, "EncryptionMethod").ok_or_else(|| malformed("no EncryptionMethod"))?;
    if child(method, XENC_NS, "OAEPparams").is_some() {
        return Err(unsupported("RSA-OAEP with OAEPparams (a label) is not supported".into()));
    }
    let digest = child(method, DS_NS, "DigestMethod").and_then(|d| d.attribute("Algorithm")).unwrap_or(SHA1);
    let mgf = child(method, XENC11_NS, "MGF").and_then(|m| m.attribute("Algorithm")).unwrap_or(MGF1_SHA1);
    match (uri, digest, mgf) {
        (RSA_OAEP_MGF1P, SHA1, _) => Ok(&OAEP_SHA1_MGF1SHA1),
        (RSA_OAEP, SHA1, MGF1_SHA1) => Ok(&OAEP_SHA1_MGF1SHA1),
        (RSA_OAEP, SHA256, MGF1_SHA256) => Ok(&OAEP_SHA256_MGF1SHA256),
        (RSA_1_5, _, _) => Err(unsupported(
            "key transport RSA PKCS#1 v1.5 (rsa-1_5) is refused; configure the IdP for RSA-OAEP".into(),
        )),
        (RSA_OAEP_MGF1P | RSA_OAEP, _, _) => {
            Err(unsupported("RSA-OAEP is allowed with SHA-1 or SHA-256 for both digest and MGF1".into()))
        }
        (other, _, _) => Err(unsupported(format!("key transport {other} is not supported"))),
    }
}

/// The response with its one `EncryptedAssertion` replaced by the decrypted assertion, and the
/// response's own signature (which covered the encrypted form) removed, so that the decrypted
/// assertion must carry its own signature. `None` when nothing is encrypted.
pub fn open(
    doc: &Document<'_>,
    root: Node<'_, '_>,
    xml: &str,
    key: Option<&SpKey>,
) -> Result<Option<String>, Rejection> {
    let mut encrypted = doc.descendants().filter(|n| is(*n, ASSERTION_NS, "EncryptedAssertion"));
    let enc = match (encrypted.next(), encrypted.next()) {
        (None, _) => return Ok(None),
        (Some(one), None) => one,
        (Some(_), Some(_)) => return Err(malformed("the response holds several encrypted assertions")),
    };
    if enc.parent_element() != Some(root) {
        return Err(malformed("the encrypted assertion is not a direct child of the Response"));
    }
    if doc.descendants().any(|n| is(n, ASSERTION_NS, "Assertion")) {
        return Err(malformed("the response holds a plain assertion beside an encrypted one"));
    }
    let mut data_elements = enc.children().filter(|c| is(*c, XENC_NS, "EncryptedData"));
    let data = match (data_elements.next(), data_elements.next()) {
        (Some(one), None) => one,
        _ => return Err(malformed("an EncryptedAssertion must hold exactly one EncryptedData")),
    };
    if data.attribute("Type").is_some_and(|t| t != ELEMENT_TYPE) {
        return Err(malformed("the EncryptedData does not encrypt an element"));
    }
    let content_uri = algorithm(data)?;
    let content = Content::of(content_uri).ok_or_else(|| {
        unsupported(format!("content encryption {content_uri} is not supported (AES-GCM or AES-CBC)"))
    })?;
    let ciphertext = cipher_value(data)?;
    let inline = child(data, DS_NS, "KeyInfo")
        .into_iter()
        .flat_map(|info| info.children().filter(|c| is(*c, XENC_NS, "EncryptedKey")));
    let beside = enc.children().filter(|c| is(*c, XENC_NS, "EncryptedKey"));
    let wrapped: Vec<Node> = inline.chain(beside).collect();
    if wrapped.is_empty() {
        return Err(malformed("the encrypted assertion carries no EncryptedKey"));
    }
    if wrapped.len() > MAX_ENCRYPTED_KEYS {
        return Err(malformed("the encrypted assertion carries too many EncryptedKeys"));
    }
    let transports = wrapped
        .iter()
        .map(|k| Ok((key_transport(*k)?, cipher_value(*k)?)))
        .collect::<Result<Vec<_>, Rejection>>()?;
    let key = key.ok_or_else(undecryptable)?;

    // The content key: the first wrapped key that unwraps to the right length, else a random
    // one (so decryption runs, and fails, the same way whatever went wrong).
    let unwrapped = transports
        .iter()
        .filter_map(|(oaep, wrapped)| key.decrypt_oaep(oaep, wrapped))
        .find(|k| k.len() == content.key_len());
    let unwrapped_ok = unwrapped.is_some();
    let content_key = match unwrapped {
        Some(k) => k,
        None => {
            let mut random = vec![0; content.key_len()];
            SystemRandom::new().fill(&mut random).map_err(|_| undecryptable())?;
            random
        }
    };
    let plain = content.decrypt(&content_key, &ciphertext).ok_or_else(undecryptable)?;
    if !unwrapped_ok || plain.len() > MAX_PLAINTEXT {
        return Err(undecryptable());
    }
    let plain = String::from_utf8(plain).map_err(|_| undecryptable())?;
    let mut assertion = plain.trim();
    if let Some(rest) = assertion.strip_prefix("<?xml") {
        assertion = rest.split_once("?>").map(|(_, a)| a.trim_start()).ok_or_else(undecryptable)?;
    }

    // Splice, from the end so earlier ranges stay valid.
    let mut cuts = vec![(enc.range(), assertion)];
    if let Some(signature) = child(root, DS_NS, "Signature") {
        cuts.push((signature.range(), ""));
    }
    cuts.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut out = xml.to_string();
    for (range, with) in cuts {
        if out.get(range.clone()).is_none() {
            return Err(malformed("the response cannot be spliced"));
        }
        out.replace_range(range, with);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(inner: &str) -> String {
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="{ASSERTION_NS}" xmlns:xenc="{XENC_NS}" xmlns:ds="{DS_NS}" ID="r" Version="2.0">{inner}</samlp:Response>"#
        )
    }

    fn encrypted(content: &str, transport: &str, cipher_data: &str) -> String {
        format!(
            r#"<saml:EncryptedAssertion><xenc:EncryptedData Type="{ELEMENT_TYPE}"><xenc:EncryptionMethod Algorithm="{content}"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{transport}"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>{cipher_data}</xenc:EncryptedData></saml:EncryptedAssertion>"#
        )
    }

    const CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
    const VALUE: &str = "<xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData>";

    fn open_xml(xml: &str, key: Option<&SpKey>) -> Result<Option<String>, Rejection> {
        let doc = Document::parse(xml).unwrap();
        open(&doc, doc.root_element(), xml, key)
    }

    fn reason(xml: &str) -> Reason {
        open_xml(xml, None).unwrap_err().reason
    }

    #[test]
    fn a_response_in_the_clear_is_left_alone() {
        assert_eq!(open_xml(&response("<saml:Assertion ID=\"a\"/>"), None).unwrap(), None);
    }

    #[test]
    fn the_shape_and_algorithms_are_checked_before_any_key_is_used() {
        let one = encrypted(CBC, RSA_OAEP_MGF1P, VALUE);
        assert_eq!(reason(&response(&format!("{one}{one}"))), Reason::MalformedResponse);
        assert_eq!(reason(&response(&format!("{one}<saml:Assertion ID=\"a\"/>"))), Reason::MalformedResponse);
        assert_eq!(
            reason(&response(&format!("<samlp:Extensions>{one}</samlp:Extensions>"))),
            Reason::MalformedResponse
        );
        let reference =
            "<xenc:CipherData><xenc:CipherReference URI=\"http://127.0.0.1/x\"/></xenc:CipherData>";
        assert_eq!(reason(&response(&encrypted(CBC, RSA_OAEP_MGF1P, reference))), Reason::MalformedResponse);
        assert_eq!(reason(&response(&encrypted(CBC, RSA_1_5, VALUE))), Reason::UnsupportedAlgorithm);
        let des = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";
        assert_eq!(reason(&response(&encrypted(des, RSA_OAEP_MGF1P, VALUE))), Reason::UnsupportedAlgorithm);
        // Well-formed, but no key to open it with.
        assert_eq!(reason(&response(&one)), Reason::DecryptionFailed);
    }

    #[test]
    fn garbage_under_a_real_key_fails_like_everything_else() {
        let key = SpKey::generate(uuid::Uuid::nil(), chrono::Utc::now()).unwrap();
        let xml = response(&encrypted(CBC, RSA_OAEP_MGF1P, VALUE));
        let refused = open_xml(&xml, Some(&key)).unwrap_err();
        assert_eq!(refused, Rejection::new(Reason::DecryptionFailed, UNDECRYPTABLE));
        for data in [&[][..], &[0; 16], &[0; 33], &[0; 48]] {
            assert_eq!(Content::Cbc(&AES_256, 32).decrypt(&[7; 32], data).filter(|p| p.is_empty()), None);
            assert!(Content::Gcm(&AES_128_GCM).decrypt(&[7; 16], data).is_none());
        }
    }
}
