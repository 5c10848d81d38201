//! Background work. Each run is one short transaction per unit of work, safe to run on several
//! nodes at once: the chain head lock (PostgreSQL) or the write lock (SQLite) serializes it
//! with the writers of the same audit chain; the sign-in state purge only deletes rows that no
//! reader can use any more.

use std::time::Duration;

use guildhall_entities::{audit_anchor, audit_log, mfa_challenge, org};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::OnConflict,
};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::{AppState, audit::chain, db, error::ApiError};

/// Runs the periodic jobs every `every` until the handle is aborted.
pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match purge_expired_audit(&state).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged audit entries past their org's retention"),
                Err(err) => tracing::warn!(error = %err, "audit retention purge failed"),
            }
            match crate::changes::service::purge_expired(&state, state.clock.now()).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged events past the event retention"),
                Err(err) => tracing::warn!(error = %err, "event retention purge failed"),
            }
            match crate::webhooks::worker::purge_finished(&state, state.clock.now()).await {
                Ok(0) => {}
                Ok(purged) => {
                    tracing::info!(purged, "purged finished webhook deliveries past the event retention")
                }
                Err(err) => tracing::warn!(error = %err, "webhook delivery purge failed"),
            }
            match crate::sso::refresh::refresh_due(&state).await {
                Ok(0) => {}
                Ok(changed) => tracing::info!(changed, "picked up new IdP metadata"),
                Err(err) => tracing::warn!(error = %err, "IdP metadata refresh failed"),
            }
            match crate::plugins::service::purge_runs(&state, crate::plugins::RUN_RETENTION_DAYS).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged plugin runs past their retention"),
                Err(err) => tracing::warn!(error = %err, "plugin run purge failed"),
            }
            state.sso_login_starts.forget_idle();
            state.sso_failure_audits.forget_idle();
            state.plugin_uploads.forget_idle();
            match purge_stale_sign_in_state(&state).await {
                Ok(0) => {}
                Ok(purged) => {
                    tracing::info!(
                        purged,
                        "purged spent MFA challenges, SSO sign-in state and forgotten login throttles"
                    )
                }
                Err(err) => tracing::warn!(error = %err, "sign-in state purge failed"),
            }
        }
    })
}

/// Deletes MFA challenges that can no longer be used (expired or spent), login throttles that
/// no longer count (unblocked and quiet for a day), and expired SSO sign-ins, codes and replay
/// records. Returns how many rows went.
pub async fn purge_stale_sign_in_state(state: &AppState) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let tx = db::begin_write(&state.writer).await?;
    let challenges = mfa_challenge::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(mfa_challenge::Column::ExpiresAt.lte(now))
                .add(mfa_challenge::Column::UsedAt.is_not_null()),
        )
        .exec(&tx)
        .await?;
    let throttles = crate::sessions::throttle::purge_forgotten(&tx, now).await?;
    let sso = crate::sso::signin::purge_expired(&tx, now).await?;
    tx.commit().await?;
    Ok(challenges.rows_affected + throttles + sso)
}

/// Deletes each org's audit entries older than its `data_retention_days`, keeping the last
/// deleted entry's hash as the chain's anchor so the rest still verifies. Returns how many
/// entries went.
pub async fn purge_expired_audit(state: &AppState) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let orgs: Vec<(Uuid, i32)> = org::Entity::find()
        .select_only()
        .column(org::Column::Id)
        .column(org::Column::DataRetentionDays)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut purged = 0;
    for (org_id, days) in orgs {
        let cutoff = now - chrono::Duration::days(i64::from(days));
        let chain_key = chain::chain_of(Some(org_id));
        let tx = db::begin_write(&state.writer).await?;
        chain::head(&tx, &chain_key, Some(org_id)).await?;
        let last: Option<(i64, Option<Vec<u8>>)> = audit_log::Entity::find()
            .select_only()
            .column(audit_log::Column::Seq)
            .column(audit_log::Column::Hash)
            .filter(audit_log::Column::Chain.eq(chain_key.as_str()))
            .filter(audit_log::Column::OccurredAt.lt(cutoff))
            .order_by_desc(audit_log::Column::Seq)
            .limit(1)
            .into_tuple()
            .one(&tx)
            .await?;
        let Some((seq, Some(hash))) = last else { continue };
        let deleted = audit_log::Entity::delete_many()
            .filter(audit_log::Column::Chain.eq(chain_key.as_str()))
            .filter(audit_log::Column::Seq.lte(seq))
            .exec(&tx)
            .await?;
        audit_anchor::Entity::insert(audit_anchor::ActiveModel {
            chain: Set(chain_key.clone()),
            seq: Set(seq),
            hash: Set(hash),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(audit_anchor::Column::Chain)
                .update_columns([
                    audit_anchor::Column::Seq,
                    audit_anchor::Column::Hash,
                    audit_anchor::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&tx)
        .await?;
        tx.commit().await?;
        purged += deleted.rows_affected;
    }
    Ok(purged)
}
