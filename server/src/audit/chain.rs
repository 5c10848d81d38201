//! The hash chain: canonical content, hashing, the chain head, and verification.

use chrono::{DateTime, SubsecRound, Utc};
use guildhall_entities::{audit_anchor, audit_log, instance_settings, org};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;

pub const INSTANCE_CHAIN: &str = "instance";
const GENESIS: [u8; 32] = [0; 32];
const VERIFY_BATCH: u64 = 1000;

pub fn chain_of(org_id: Option<Uuid>) -> String {
    org_id.map_or_else(|| INSTANCE_CHAIN.to_string(), |id| id.to_string())
}

/// Both databases keep microseconds; hash what will be read back.
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// SHA-256(prev_hash || canonical JSON of the entry's content).
pub fn hash(prev: &[u8], e: &audit_log::Model) -> Vec<u8> {
    let canonical = serde_json::json!([
        e.id,
        e.chain,
        e.seq,
        e.org_id,
        e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.actor_type,
        e.actor_id,
        e.action,
        e.target_type,
        e.target_id,
        e.details,
        e.request_id,
        e.ip,
        e.user_agent,
    ]);
    let mut digest = Sha256::new();
    digest.update(prev);
    digest.update(canonical.to_string().as_bytes());
    digest.finalize().to_vec()
}

/// The last `(seq, hash)` of a chain, taking a row lock on PostgreSQL so concurrent writers to
/// one chain queue up (SQLite writers are already serialized by the write transaction). The
/// org's lock is `FOR NO KEY UPDATE`: it must not conflict with the `FOR KEY SHARE` locks that
/// inserting rows referencing the org takes earlier in the same transactions, or two writers
/// each holding one would deadlock.
pub async fn head<C: ConnectionTrait>(
    db: &C,
    chain: &str,
    org_id: Option<Uuid>,
) -> Result<(i64, Vec<u8>), ApiError> {
    if db.get_database_backend() == DbBackend::Postgres {
        match org_id {
            Some(id) => {
                org::Entity::find_by_id(id)
                    .select_only()
                    .column(org::Column::Id)
                    .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
                    .into_tuple::<Uuid>()
                    .one(db)
                    .await?;
            }
            None => {
                instance_settings::Entity::find_by_id(1)
                    .select_only()
                    .column(instance_settings::Column::Id)
                    .lock_exclusive()
                    .into_tuple::<i32>()
                    .one(db)
                    .await?;
            }
        }
    }
    let last: Option<(i64, Option<Vec<u8>>)> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Seq)
        .column(audit_log::Column::Hash)
        .filter(audit_log::Column::Chain.eq(chain))
        .order_by_desc(audit_log::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    if let Some((seq, Some(hash))) = last {
        return Ok((seq, hash));
    }
    Ok(anchor(db, chain).await?.unwrap_or((0, GENESIS.to_vec())))
}

async fn anchor<C: ConnectionTrait>(db: &C, chain: &str) -> Result<Option<(i64, Vec<u8>)>, ApiError> {
    Ok(audit_anchor::Entity::find_by_id(chain.to_string()).one(db).await?.map(|a| (a.seq, a.hash)))
}

/// The result of recomputing a chain.
pub struct Verification {
    pub valid: bool,
    pub checked: u64,
    /// The first entry whose link or content does not match: `(id, seq)`.
    pub first_broken: Option<(Uuid, i64)>,
}

/// Recomputes a chain from its anchor, in batches.
pub async fn verify<C: ConnectionTrait>(db: &C, chain: &str) -> Result<Verification, ApiError> {
    let (mut expected_seq, mut prev) = anchor(db, chain).await?.unwrap_or((0, GENESIS.to_vec()));
    let mut checked = 0;
    loop {
        let batch = audit_log::Entity::find()
            .filter(audit_log::Column::Chain.eq(chain))
            .filter(audit_log::Column::Seq.gt(expected_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(VERIFY_BATCH)
            .all(db)
            .await?;
        let done = (batch.len() as u64) < VERIFY_BATCH;
        for entry in batch {
            checked += 1;
            let intact = entry.seq == expected_seq + 1
                && entry.prev_hash.as_deref() == Some(prev.as_slice())
                && entry.hash.as_deref() == Some(hash(&prev, &entry).as_slice());
            if !intact {
                return Ok(Verification { valid: false, checked, first_broken: Some((entry.id, entry.seq)) });
            }
            expected_seq = entry.seq;
            prev = entry.hash.unwrap_or_default();
        }
        if done {
            return Ok(Verification { valid: true, checked, first_broken: None });
        }
    }
}
