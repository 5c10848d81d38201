//! Failed sign-ins, counted per (account, client address): a wrong password or second factor
//! from one address slows and then locks that pair only, so nobody can lock a person out by
//! guessing wrong from elsewhere. A success clears the pair. Unknown emails leave no rows.

use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{login_throttle, membership, org};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    changes::{self, Event, catalog::UserLoginFailed},
    error::ApiError,
    http::RequestMeta,
    instance,
    orgs::MembershipStatus,
    scope::Origin,
};

/// Failures that cost nothing; each one after them blocks the pair for 2^(n - 3) seconds.
const FREE_FAILURES: i32 = 3;
const MAX_DELAY: Duration = Duration::minutes(15);
/// A pair whose last failure is this old starts counting again from zero.
pub const FORGET_AFTER: Duration = Duration::hours(24);

/// How many failures lock a pair, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub max_attempts: i32,
    pub lockout: Duration,
}

impl Policy {
    /// An account's thresholds are the strictest of the instance's and those of the orgs it is
    /// an active member of that set their own: the fewest `max_login_attempts` and the longest
    /// `lockout_minutes`. A stricter org policy thus applies to every sign-in of its members
    /// (an account is one identity across orgs, so it cannot be stricter for one org only).
    pub fn strictest(
        instance_max: i32,
        instance_lockout_minutes: i32,
        orgs: impl IntoIterator<Item = (Option<i32>, Option<i32>)>,
    ) -> Self {
        let (mut max_attempts, mut minutes) = (instance_max, instance_lockout_minutes);
        for (org_max, org_minutes) in orgs {
            max_attempts = org_max.map_or(max_attempts, |m| m.min(max_attempts));
            minutes = org_minutes.map_or(minutes, |m| m.max(minutes));
        }
        Self { max_attempts: max_attempts.max(1), lockout: Duration::minutes(i64::from(minutes.max(1))) }
    }
}

/// A pair's state after one more failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    pub failures: i32,
    pub blocked_until: Option<DateTime<Utc>>,
    pub locked: bool,
}

/// The growing delay after the `failures`-th failure, if any.
pub fn delay_after(failures: i32) -> Option<Duration> {
    let exponent = u32::try_from(failures.saturating_sub(FREE_FAILURES)).ok().filter(|e| *e > 0)?;
    let seconds = 1_i64.checked_shl(exponent.min(30)).unwrap_or(i64::MAX);
    Some(Duration::seconds(seconds).min(MAX_DELAY))
}

/// Counts one more failure of a pair that had `previous`. The count starts over when the last
/// failure is old, or when the pair served a lockout.
pub fn count_failure(
    previous: Option<&login_throttle::Model>,
    now: DateTime<Utc>,
    policy: Policy,
) -> Counted {
    let carried = previous.filter(|p| {
        let forgotten = now - p.last_failure_at >= FORGET_AFTER;
        let served = p.failures >= policy.max_attempts && p.blocked_until.is_some_and(|t| t <= now);
        !forgotten && !served
    });
    let failures = carried.map_or(1, |p| p.failures.saturating_add(1));
    if failures >= policy.max_attempts {
        return Counted { failures, blocked_until: Some(now + policy.lockout), locked: true };
    }
    Counted { failures, blocked_until: delay_after(failures).map(|d| now + d), locked: false }
}

/// The 429 for a pair blocked at `now`, if it is.
pub fn blocked(row: &login_throttle::Model, now: DateTime<Utc>, policy: Policy) -> Option<ApiError> {
    let until = row.blocked_until.filter(|t| *t > now)?;
    // Rounded up: retrying after the advertised seconds must succeed.
    let millis = (until - now).num_milliseconds();
    let seconds = u64::try_from(millis.saturating_add(999) / 1000).unwrap_or(1).max(1);
    Some(if row.failures >= policy.max_attempts {
        ApiError::rate_limited(
            "ACCOUNT_LOCKED",
            "too many failed sign-ins from this address; the account is locked here for a while",
            seconds,
        )
    } else {
        ApiError::rate_limited("LOGIN_THROTTLED", "too many failed sign-ins; retry after a pause", seconds)
    })
}

/// Deletes the pairs nothing remembers any more: unblocked and quiet for `FORGET_AFTER`.
pub async fn purge_forgotten<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, ApiError> {
    let removed = login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::LastFailureAt.lte(now - FORGET_AFTER))
        .filter(
            sea_orm::Condition::any()
                .add(login_throttle::Column::BlockedUntil.is_null())
                .add(login_throttle::Column::BlockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(removed.rows_affected)
}

/// The client a failure is counted against: the peer address.
pub fn client_of(meta: &RequestMeta) -> String {
    meta.ip.clone().unwrap_or_else(|| "unknown".into())
}

/// The account's thresholds (see [`Policy::strictest`]).
pub async fn policy_for<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Policy, ApiError> {
    let settings = instance::service::get(db).await?;
    let orgs: Vec<(Option<i32>, Option<i32>)> = membership::Entity::find()
        .select_only()
        .column(org::Column::MaxLoginAttempts)
        .column(org::Column::LockoutMinutes)
        .inner_join(org::Entity)
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(Policy::strictest(settings.max_login_attempts, settings.lockout_minutes, orgs))
}

async fn find<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    client: &str,
    for_update: bool,
) -> Result<Option<login_throttle::Model>, ApiError> {
    let mut query = login_throttle::Entity::find()
        .filter(login_throttle::Column::UserId.eq(user_id))
        .filter(login_throttle::Column::Client.eq(client));
    // SQLite's write transactions already hold the database lock.
    if for_update && db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.one(db).await?)
}

/// Refuses a sign-in from a blocked pair with 429 and `Retry-After`.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    user_id: Uuid,
    client: &str,
) -> Result<(), ApiError> {
    let Some(row) = find(db, user_id, client, false).await? else { return Ok(()) };
    if row.blocked_until.is_none_or(|t| t <= now) {
        return Ok(());
    }
    let policy = policy_for(db, user_id).await?;
    blocked(&row, now, policy).map_or(Ok(()), Err)
}

/// Counts a failed sign-in (`factor`: `password`, `totp` or `recovery_code`) of `user_id` from
/// the origin's client, inside the caller's transaction, and audits it. `origin` is the
/// (anonymous) sign-in attempt.
pub async fn record_failure<C: ConnectionTrait>(
    tx: &C,
    origin: &Origin,
    user_id: Uuid,
    factor: &'static str,
) -> Result<Counted, ApiError> {
    let now = origin.now();
    let client = client_of(origin.meta());
    let policy = policy_for(tx, user_id).await?;
    // Create the pair's row if missing (a concurrent first failure may win), then lock it.
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        client: Set(client.clone()),
        failures: Set(0),
        last_failure_at: Set(now),
        blocked_until: Set(None),
    })
    .on_conflict_do_nothing_on([login_throttle::Column::UserId, login_throttle::Column::Client])
    .exec_without_returning(tx)
    .await?;
    let previous = find(tx, user_id, &client, true).await?;
    let counted = count_failure(previous.as_ref(), now, policy);
    login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Failures, Expr::value(counted.failures))
        .col_expr(login_throttle::Column::LastFailureAt, Expr::value(now))
        .col_expr(login_throttle::Column::BlockedUntil, Expr::value(counted.blocked_until))
        .filter(login_throttle::Column::UserId.eq(user_id))
        .filter(login_throttle::Column::Client.eq(client.as_str()))
        .exec(tx)
        .await?;
    let failed = UserLoginFailed {
        user_id,
        factor: factor.into(),
        client: Some(client),
        failures: counted.failures,
        blocked_until: counted.blocked_until,
    };
    let event = if counted.locked { Event::UserLocked(failed) } else { Event::UserLoginFailed(failed) };
    changes::record_instance(tx, origin, event).await?;
    Ok(counted)
}

/// A successful sign-in from `meta`'s client forgets that pair's failures.
pub async fn clear<C: ConnectionTrait>(tx: &C, user_id: Uuid, meta: &RequestMeta) -> Result<(), ApiError> {
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::UserId.eq(user_id))
        .filter(login_throttle::Column::Client.eq(client_of(meta)))
        .exec(tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        failures: i32,
        last: DateTime<Utc>,
        blocked_until: Option<DateTime<Utc>>,
    ) -> login_throttle::Model {
        login_throttle::Model {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            client: "127.0.0.2".into(),
            failures,
            last_failure_at: last,
            blocked_until,
        }
    }

    const POLICY: Policy = Policy { max_attempts: 5, lockout: Duration::minutes(15) };

    #[test]
    fn delays_double_after_the_free_failures_up_to_a_cap() {
        let delays: Vec<Option<i64>> = (1..=6).map(|n| delay_after(n).map(|d| d.num_seconds())).collect();
        assert_eq!(delays, vec![None, None, None, Some(2), Some(4), Some(8)]);
        assert_eq!(delay_after(40), Some(MAX_DELAY));
        assert_eq!(delay_after(i32::MAX), Some(MAX_DELAY));
    }

    #[test]
    fn the_last_allowed_failure_locks_for_the_lockout() {
        let now = Utc::now();
        let first = count_failure(None, now, POLICY);
        assert_eq!(first, Counted { failures: 1, blocked_until: None, locked: false });
        let fourth = count_failure(Some(&row(3, now, None)), now, POLICY);
        assert_eq!(
            fourth,
            Counted { failures: 4, blocked_until: Some(now + Duration::seconds(2)), locked: false }
        );
        let fifth = count_failure(Some(&row(4, now, None)), now, POLICY);
        assert_eq!(
            fifth,
            Counted { failures: 5, blocked_until: Some(now + Duration::minutes(15)), locked: true }
        );
    }

    #[test]
    fn counting_starts_over_after_a_served_lockout_or_a_quiet_day() {
        let now = Utc::now();
        let served = row(5, now - Duration::minutes(20), Some(now - Duration::minutes(5)));
        assert_eq!(count_failure(Some(&served), now, POLICY).failures, 1);
        let old = row(4, now - Duration::hours(25), None);
        assert_eq!(count_failure(Some(&old), now, POLICY).failures, 1);
        let recent = row(2, now - Duration::hours(1), None);
        assert_eq!(count_failure(Some(&recent), now, POLICY).failures, 3);
    }

    #[test]
    fn a_blocked_pair_answers_429_with_the_seconds_left_rounded_up() {
        let now = Utc::now();
        let throttled = blocked(&row(4, now, Some(now + Duration::milliseconds(1500))), now, POLICY).unwrap();
        assert_eq!(throttled.code(), "LOGIN_THROTTLED");
        let locked = blocked(&row(5, now, Some(now + Duration::minutes(15))), now, POLICY).unwrap();
        assert_eq!(locked.code(), "ACCOUNT_LOCKED");
        assert!(blocked(&row(5, now, Some(now)), now, POLICY).is_none());
        assert!(blocked(&row(2, now, None), now, POLICY).is_none());
    }

    #[test]
    fn the_strictest_org_policy_wins() {
        let policy =
            Policy::strictest(5, 15, [(None, None), (Some(2), None), (Some(8), Some(60)), (None, Some(5))]);
        assert_eq!(policy, Policy { max_attempts: 2, lockout: Duration::minutes(60) });
        assert_eq!(Policy::strictest(5, 15, []), POLICY);
    }
}
