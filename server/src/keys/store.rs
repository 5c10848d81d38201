use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use guildhall_entities::signing_key;
use jsonwebtoken::{DecodingKey, EncodingKey};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::ExprTrait,
};
use serde::{Deserialize, Serialize};

use crate::{clock::SharedClock, crypto::MasterKey, db::Db, error::ApiError};

pub const ALG_ES256: &str = "ES256";

/// How often a node re-reads the key table, and at most how often an unknown `kid` triggers it.
const RELOAD_EVERY: Duration = Duration::from_secs(30);
const RELOAD_ON_MISS_AFTER: Duration = Duration::from_secs(2);

/// The public half of a key as a JWK (RFC 7517/7518).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

pub struct SigningKey {
    pub kid: String,
    pub key: EncodingKey,
}

#[derive(Default)]
pub struct KeySet {
    pub active: Option<Arc<SigningKey>>,
    pub verifying: HashMap<String, DecodingKey>,
    pub jwks: Vec<PublicJwk>,
}

pub struct KeyStore {
    db: Db,
    master: MasterKey,
    clock: SharedClock,
    /// How long a retired key keeps verifying: access TTL plus leeway.
    overlap: chrono::Duration,
    current: RwLock<(Arc<KeySet>, Instant)>,
}

impl KeyStore {
    pub fn new(db: Db, master: MasterKey, clock: SharedClock, overlap: chrono::Duration) -> Self {
        let stale = Instant::now().checked_sub(RELOAD_EVERY * 2).unwrap_or_else(Instant::now);
        Self { db, master, clock, overlap, current: RwLock::new((Arc::new(KeySet::default()), stale)) }
    }

    /// The master key, for other secrets sealed at rest (TOTP secrets).
    pub fn master_key(&self) -> &MasterKey {
        &self.master
    }

    /// Loads keys, creating the first one when the table holds no active key.
    pub async fn init(&self) -> Result<(), ApiError> {
        let set = self.load().await?;
        if set.active.is_none() {
            let now = self.clock.now();
            let model = new_key(&self.master, now)?;
            signing_key::Entity::insert(model).exec(&self.db).await?;
            tracing::info!("generated the first ES256 signing key");
        }
        self.reload().await
    }

    pub async fn reload(&self) -> Result<(), ApiError> {
        let set = self.load().await?;
        if let Ok(mut guard) = self.current.write() {
            *guard = (Arc::new(set), Instant::now());
        }
        Ok(())
    }

    async fn load(&self) -> Result<KeySet, ApiError> {
        let cutoff = self.clock.now() - self.overlap;
        let rows = signing_key::Entity::find()
            .filter(signing_key::Column::RetiredAt.is_null().or(signing_key::Column::RetiredAt.gt(cutoff)))
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let mut set = KeySet::default();
        for row in rows {
            let jwk: PublicJwk = serde_json::from_str(&row.public_jwk).map_err(ApiError::internal)?;
            let decoding = DecodingKey::from_ec_components(&jwk.x, &jwk.y).map_err(ApiError::internal)?;
            if row.retired_at.is_none() && set.active.is_none() {
                let der = self
                    .master
                    .open(row.kid.as_bytes(), &row.private_key_sealed)
                    .map_err(ApiError::internal)?;
                set.active =
                    Some(Arc::new(SigningKey { kid: row.kid.clone(), key: EncodingKey::from_ec_der(&der) }));
            }
            set.verifying.insert(row.kid.clone(), decoding);
            set.jwks.push(jwk);
        }
        Ok(set)
    }

    /// The keys as of now, re-read from the database when they are older than the reload period.
    pub async fn current(&self) -> Result<Arc<KeySet>, ApiError> {
        let (set, loaded) = self.snapshot();
        if loaded.elapsed() >= RELOAD_EVERY {
            self.reload().await?;
            return Ok(self.snapshot().0);
        }
        Ok(set)
    }

    fn snapshot(&self) -> (Arc<KeySet>, Instant) {
        match self.current.read() {
            Ok(guard) => (guard.0.clone(), guard.1),
            Err(poisoned) => {
                let guard = poisoned.into_inner();
                (guard.0.clone(), guard.1)
            }
        }
    }

    /// Finds the verification key for `kid`, re-reading keys once if another node rotated.
    pub async fn verifying_key(&self, kid: &str) -> Result<Option<DecodingKey>, ApiError> {
        let set = self.current().await?;
        if let Some(key) = set.verifying.get(kid) {
            return Ok(Some(key.clone()));
        }
        let (_, loaded) = self.snapshot();
        if loaded.elapsed() >= RELOAD_ON_MISS_AFTER {
            self.reload().await?;
            return Ok(self.snapshot().0.verifying.get(kid).cloned());
        }
        Ok(None)
    }

    pub async fn active(&self) -> Result<Arc<SigningKey>, ApiError> {
        self.current()
            .await?
            .active
            .clone()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no active signing key")))
    }

    /// Retires the active key and makes a new one, inside the caller's transaction.
    /// Returns the new key's id. Call [`KeyStore::reload`] after commit.
    pub async fn rotate<C: ConnectionTrait>(&self, tx: &C) -> Result<String, ApiError> {
        let now = self.clock.now();
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::RetiredAt, sea_orm::sea_query::Expr::value(now))
            .filter(signing_key::Column::RetiredAt.is_null())
            .exec(tx)
            .await?;
        let model = new_key(&self.master, now)?;
        let kid = match &model.kid {
            Set(kid) => kid.clone(),
            _ => String::new(),
        };
        signing_key::Entity::insert(model).exec(tx).await?;
        Ok(kid)
    }
}

fn new_key(master: &MasterKey, now: DateTime<Utc>) -> Result<signing_key::ActiveModel, ApiError> {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(ApiError::internal)?;
    let pkcs8 = pair.to_pkcs8v1().map_err(ApiError::internal)?;
    // An uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
    let point = pair.public_key().as_ref();
    let (x, y) = match (point.get(1..33), point.get(33..65)) {
        (Some(x), Some(y)) if point.len() == 65 => (x, y),
        _ => return Err(ApiError::internal(anyhow::anyhow!("unexpected P-256 public key encoding"))),
    };
    let kid = uuid::Uuid::now_v7().simple().to_string();
    let jwk = PublicJwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: URL_SAFE_NO_PAD.encode(x),
        y: URL_SAFE_NO_PAD.encode(y),
        kid: kid.clone(),
        use_: "sig".into(),
        alg: ALG_ES256.into(),
    };
    let sealed = master.seal(kid.as_bytes(), pkcs8.as_ref()).map_err(ApiError::internal)?;
    Ok(signing_key::ActiveModel {
        kid: Set(kid),
        alg: Set(ALG_ES256.into()),
        private_key_sealed: Set(sealed),
        public_jwk: Set(serde_json::to_string(&jwk).map_err(ApiError::internal)?),
        created_at: Set(now),
        retired_at: Set(None),
    })
}
