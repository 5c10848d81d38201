//! A SAML provider's own key pair (we are the service provider): RSA 2048, made when the
//! provider is created (or, for a provider older than this, when first needed), the private key
//! sealed with the master key, the self-signed certificate published in our SP metadata. It
//! signs AuthnRequests for IdPs that want them signed (HTTP-Redirect binding) and decrypts the
//! key of encrypted assertions (RSA-OAEP). One key per provider: a key leaked by one org's
//! configuration never reads another org's assertions.

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::{OaepAlgorithm, OaepPrivateDecryptingKey, PrivateDecryptingKey},
    signature::{RSA_PKCS1_SHA256, RsaKeyPair},
};
use base64::Engine;
use chrono::{DateTime, Datelike, Utc};
use guildhall_entities::sso_provider;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{AppState, error::ApiError};

/// How long our SP certificate is valid: IdPs that check its dates (Entra) must not start
/// refusing it while the provider is in use; the key, not the date, is what matters here.
const VALID_YEARS: i32 = 10;

/// The sealing context of a provider's SP key: it opens only for its provider.
fn seal_context(id: Uuid) -> Vec<u8> {
    format!("sso-provider-sp-key:{id}").into_bytes()
}

/// An unsealed SP key and its certificate.
pub struct SpKey {
    pkcs8: Vec<u8>,
    certificate_pem: String,
}

/// What is stored: the sealed key and the certificate.
pub struct Sealed {
    pub key: Vec<u8>,
    pub certificate_pem: String,
}

impl std::fmt::Debug for SpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpKey").field("certificate_pem", &self.certificate_pem).finish_non_exhaustive()
    }
}

impl SpKey {
    /// A new key pair and a self-signed certificate naming the provider.
    pub fn generate(provider_id: Uuid, now: DateTime<Utc>) -> Result<Self, ApiError> {
        let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .map_err(ApiError::internal)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(ApiError::internal)?;
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::CommonName, format!("Guildhall SAML SP {provider_id}"));
        params.distinguished_name = name;
        let yesterday = now - chrono::Duration::days(1);
        let day = |d: DateTime<Utc>| (d.month() as u8, d.day() as u8);
        let (month, mday) = day(yesterday);
        params.not_before = rcgen::date_time_ymd(yesterday.year(), month, mday);
        let (month, mday) = day(now);
        // 28th at the latest, so the date exists in every month of the year it lands in.
        params.not_after = rcgen::date_time_ymd(now.year() + VALID_YEARS, month, mday.min(28));
        let certificate = params.self_signed(&key).map_err(ApiError::internal)?;
        Ok(Self { pkcs8: key.serialize_der(), certificate_pem: certificate.pem() })
    }

    pub fn seal(&self, state: &AppState, provider_id: Uuid) -> Result<Sealed, ApiError> {
        let key = state
            .keys
            .master_key()
            .seal(&seal_context(provider_id), &self.pkcs8)
            .map_err(ApiError::internal)?;
        Ok(Sealed { key, certificate_pem: self.certificate_pem.clone() })
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The certificate's DER in base64, as `ds:X509Certificate` carries it.
    pub fn certificate_base64(&self) -> Result<String, ApiError> {
        let (_, parsed) =
            x509_parser::pem::parse_x509_pem(self.certificate_pem.as_bytes()).map_err(ApiError::internal)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(parsed.contents))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>, ApiError> {
        let pair =
            RsaKeyPair::from_pkcs8(&self.pkcs8).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
        Ok(signature)
    }

    /// RSA-OAEP decryption of a wrapped content key; `None` when it does not decrypt (the caller
    /// answers every decryption failure alike).
    pub fn decrypt_oaep(&self, algorithm: &'static OaepAlgorithm, ciphertext: &[u8]) -> Option<Vec<u8>> {
        let key = PrivateDecryptingKey::from_pkcs8(&self.pkcs8).ok()?;
        let key = OaepPrivateDecryptingKey::new(key).ok()?;
        let mut plain = vec![0; key.min_output_size()];
        let len = key.decrypt(algorithm, ciphertext, &mut plain, None).ok()?.len();
        plain.truncate(len);
        Some(plain)
    }
}

/// Opens a provider's stored SP key.
fn open(state: &AppState, provider: &sso_provider::Model) -> Result<Option<SpKey>, ApiError> {
    let (Some(sealed), Some(certificate_pem)) = (&provider.sp_key, &provider.sp_certificate) else {
        return Ok(None);
    };
    let pkcs8 =
        state.keys.master_key().open(&seal_context(provider.id), sealed).map_err(ApiError::internal)?;
    Ok(Some(SpKey { pkcs8, certificate_pem: certificate_pem.clone() }))
}

/// The provider's SP key, made now if the provider predates SP keys. Two nodes racing to make
/// one both end with the key that was stored first.
pub async fn ensure_for(state: &AppState, provider: &sso_provider::Model) -> Result<SpKey, ApiError> {
    if let Some(key) = open(state, provider)? {
        return Ok(key);
    }
    let made = SpKey::generate(provider.id, state.clock.now())?;
    let sealed = made.seal(state, provider.id)?;
    sso_provider::Entity::update_many()
        .col_expr(sso_provider::Column::SpKey, Expr::value(sealed.key))
        .col_expr(sso_provider::Column::SpCertificate, Expr::value(sealed.certificate_pem))
        .filter(sso_provider::Column::Id.eq(provider.id))
        .filter(sso_provider::Column::SpKey.is_null())
        .exec(&state.writer)
        .await?;
    let stored = sso_provider::Entity::find_by_id(provider.id)
        .one(&state.writer)
        .await?
        .ok_or_else(ApiError::not_found)?;
    open(state, &stored)?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("the SP key was not stored")))
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_certificate_verifies() {
        let key = SpKey::generate(Uuid::nil(), Utc::now()).unwrap();
        let signature = key.sign_rsa_sha256(b"SAMLRequest=x&SigAlg=y").unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(key.certificate_pem().as_bytes()).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&pem.contents).unwrap();
        assert!(cert.subject().to_string().contains("Guildhall SAML SP"));
        let spki = cert.public_key().subject_public_key.data.to_vec();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki)
            .verify(b"SAMLRequest=x&SigAlg=y", &signature)
            .unwrap();
        assert!(key.decrypt_oaep(&aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1, b"junk").is_none());
    }
}
