//! Reading the outbox: an org's events in commit order, after a cursor, filtered by type.

use chrono::{DateTime, Utc};
use guildhall_entities::event;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::catalog;
use crate::{
    AppState, db,
    error::ApiError,
    scope::{Scope, scoped},
};

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 500;
/// Patterns one `types` filter may hold.
const MAX_PATTERNS: usize = 64;

/// A filter on event types: exact names (`member.added`), prefixes (`member.*`) or `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeFilter {
    patterns: Vec<String>,
    /// A query without `types` means every type; a stored subscription never does by accident.
    empty_is_all: bool,
}

impl TypeFilter {
    /// Parses a comma-separated list; each pattern must name or cover a catalog type.
    pub fn parse(field: &str, list: &str) -> Result<Self, ApiError> {
        let patterns: Vec<String> =
            list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect();
        Self::of(field, patterns)
    }

    pub fn of(field: &str, patterns: Vec<String>) -> Result<Self, ApiError> {
        if patterns.len() > MAX_PATTERNS {
            return Err(ApiError::validation(field, format!("at most {MAX_PATTERNS} event types")));
        }
        for p in &patterns {
            if !delivered_types().iter().any(|name| matches(p, name)) {
                return Err(ApiError::validation(
                    field,
                    format!(
                        "`{p}` names no event type that orgs receive; use a name or a pattern like `member.*` \
                         (see GET /api/v1/event-types)"
                    ),
                ));
            }
        }
        Ok(Self { patterns, empty_is_all: true })
    }

    /// Patterns checked when they were saved (an endpoint's subscription), taken as they are: a
    /// pattern that no longer names a type matches nothing, it never widens to everything.
    pub fn stored(patterns: Vec<String>) -> Self {
        Self { patterns, empty_is_all: false }
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// No patterns (a query without `types`) or `*`.
    pub fn is_all(&self) -> bool {
        (self.empty_is_all && self.patterns.is_empty()) || self.patterns.iter().any(|p| p == "*")
    }

    pub fn accepts(&self, name: &str) -> bool {
        self.is_all() || self.patterns.iter().any(|p| matches(p, name))
    }

    fn condition(&self) -> Condition {
        if self.is_all() {
            return Condition::all();
        }
        self.patterns.iter().fold(Condition::any(), |any, p| match p.strip_suffix('*') {
            Some(prefix) => any.add(event::Column::EventType.starts_with(prefix)),
            None => any.add(event::Column::EventType.eq(p.as_str())),
        })
    }
}

/// The names of the catalog's types that orgs receive, computed once.
fn delivered_types() -> &'static [&'static str] {
    static DELIVERED: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        catalog::types().into_iter().filter(|t| t.audience.delivered()).map(|t| t.name).collect()
    });
    &DELIVERED
}

/// `member.*` covers `member.added` (and `member.x.y`); `*` covers everything.
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => (prefix.is_empty() || prefix.ends_with('.')) && name.starts_with(prefix),
        None => pattern == name,
    }
}

/// An opaque position in an org's event stream: the last `seq` read.
pub fn encode_cursor(seq: i64) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(format!("e{seq}"))
}

pub fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix('e').and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| ApiError::validation("after", "is not a cursor from this API"))
}

/// The org's events after `after` (exclusive), oldest first: `(events, next_cursor, has_more)`.
/// `next_cursor` is always given (the last event read, or the same cursor when none followed),
/// so a consumer can poll with it.
pub async fn list(
    state: &AppState,
    scope: &Scope,
    after: Option<i64>,
    types: &TypeFilter,
    limit: u64,
) -> Result<(Vec<event::Model>, Option<String>, bool), ApiError> {
    let mut rows = scoped::<event::Entity>(scope)
        .filter(event::Column::Seq.gt(after.unwrap_or(0)))
        .filter(types.condition())
        .order_by_asc(event::Column::Seq)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = rows.last().map(|e| e.seq).or(after).map(encode_cursor);
    Ok((rows, next, has_more))
}

/// Deletes events older than the configured retention. Returns how many went.
pub async fn purge_expired(state: &AppState, now: DateTime<Utc>) -> Result<u64, ApiError> {
    let cutoff = now - chrono::Duration::days(i64::from(state.config.events.retention_days));
    let tx = db::begin_write(&state.writer).await?;
    let gone = event::Entity::delete_many().filter(event::Column::OccurredAt.lt(cutoff)).exec(&tx).await?;
    tx.commit().await?;
    Ok(gone.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_cover_names_by_segment() {
        for (pattern, name, expected) in [
            ("member.*", "member.added", true),
            ("member.*", "members.added", false),
            ("*", "org.updated", true),
            ("scim.*", "scim.user.created", true),
            ("scim.user.*", "scim.group.created", false),
            ("member.added", "member.added", true),
            ("member.add*", "member.added", false),
        ] {
            assert_eq!(matches(pattern, name), expected, "{pattern} {name}");
        }
    }

    #[test]
    fn filters_name_known_types_only() {
        assert!(TypeFilter::parse("types", "member.*, org.updated").is_ok());
        assert!(TypeFilter::parse("types", "").unwrap().is_all());
        for bad in ["membr.*", "member.add*", "nothing", "member.added,x", "mfa.*", "user.signed_up"] {
            assert!(TypeFilter::parse("types", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_stored_pattern_that_names_nothing_matches_nothing() {
        let stale = TypeFilter::stored(vec!["gone.*".into()]);
        assert!(!stale.accepts("member.added") && !stale.is_all());
        let unreadable = TypeFilter::stored(Vec::new());
        assert!(!unreadable.accepts("member.added"));
        assert!(TypeFilter::stored(vec!["*".into()]).accepts("member.added"));
    }

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        for bad in ["", "!!", "ZTQy-", "eA", "LTE"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
