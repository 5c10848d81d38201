//! Keyed budgets of events a minute, on this node (per SSO provider, per client address, per org).

use std::{hash::Hash, num::NonZeroU32};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// A budget of `events` a minute for each key.
pub struct Limiter<K: Hash + Eq + Clone = Uuid>(DefaultKeyedRateLimiter<K>);

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn per_minute(events: u32) -> Self {
        let per_minute = NonZeroU32::new(events).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(per_minute)))
    }

    /// Whether `key` has budget left (and spends one).
    pub fn allows(&self, key: &K) -> bool {
        self.0.check_key(key).is_ok()
    }

    /// Forgets keys whose budget is full again (so the map does not grow without end).
    pub fn forget_idle(&self) {
        self.0.retain_recent();
    }
}
