//! Password hashing with argon2id. Hashes run on the blocking pool, at most a bounded number at
//! once so a burst of logins cannot exhaust memory (each hash holds `memory_kib`). A dummy hash
//! is verified for unknown emails so that login takes the same time either way.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version, password_hash::PasswordHasher as _,
};
use tokio::sync::Semaphore;

use crate::{config::PasswordConfig, error::ApiError};

pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(config: &PasswordConfig) -> anyhow::Result<Self> {
        let params = Params::new(config.memory_kib, config.iterations, config.parallelism, None)
            .map_err(|e| anyhow::anyhow!("passwords: {e}"))?;
        let permits = match config.max_concurrent_hashes {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let dummy_hash = hash_with(&params, "guildhall-timing-equalizer")?;
        Ok(Self { params, permits: Arc::new(Semaphore::new(permits)), dummy_hash })
    }

    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        // The permit moves into the blocking task: a cancelled request must not free it while
        // its hash still runs.
        let permit = self.permits.clone().acquire_owned().await.map_err(ApiError::internal)?;
        let params = self.params.clone();
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_with(&params, &password)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
    }

    /// Verifies `password` against `hash`, or against the dummy hash when there is none.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(ApiError::internal)?;
        let (hash, real) = match hash {
            Some(h) => (h.to_string(), true),
            None => (self.dummy_hash.clone(), false),
        };
        let password = password.to_string();
        let matched = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            Ok::<_, anyhow::Error>(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        Ok(real && matched)
    }
}

pub fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let config =
            PasswordConfig { memory_kib: 64, iterations: 1, parallelism: 1, max_concurrent_hashes: 2 };
        let hasher = PasswordHasher::new(&config).unwrap();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("guildhall-timing-equalizer", None).await.unwrap());
    }
}
