//! What a plugin call may consume, and how the host is configured.

use std::path::PathBuf;
use std::time::Duration;

/// Per-call limits. The defaults suit a role mapper or transform that does a few thousand
/// string operations: a real example uses well under 1% of the fuel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel units (about one per WebAssembly instruction) for instantiation and the call.
    pub fuel: u64,
    /// Linear memory the instance may grow to, summed over its memories.
    pub memory_bytes: usize,
    /// Size of the input, measured as its JSON serialization.
    pub max_input_bytes: usize,
    /// Total bytes of the strings the plugin returns.
    pub max_output_bytes: usize,
    /// Wall-clock backstop for a call, enforced by epoch interruption (granularity 10 ms).
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 10_000_000,
            memory_bytes: 16 << 20,
            max_input_bytes: 64 << 10,
            max_output_bytes: 64 << 10,
            timeout: Duration::from_secs(1),
        }
    }
}

impl Limits {
    /// The stricter of `self` and `other` in every field.
    pub fn tightened(&self, other: &Limits) -> Limits {
        Limits {
            fuel: self.fuel.min(other.fuel),
            memory_bytes: self.memory_bytes.min(other.memory_bytes),
            max_input_bytes: self.max_input_bytes.min(other.max_input_bytes),
            max_output_bytes: self.max_output_bytes.min(other.max_output_bytes),
            timeout: self.timeout.min(other.timeout),
        }
    }
}

/// How to build a [`Host`](crate::Host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// Where compiled components are kept across restarts (`<sha256>-<engine hash>.cwasm`).
    /// `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// The ceiling for every call: a call's limits are these, tightened by the caller's.
    pub limits: Limits,
    /// WebAssembly stack per call, engine-wide; deeper recursion traps as a stack overflow.
    pub max_stack_bytes: usize,
    /// Largest component [`Host::load`](crate::Host::load) accepts.
    pub max_component_bytes: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            limits: Limits::default(),
            max_stack_bytes: 512 << 10,
            max_component_bytes: 4 << 20,
        }
    }
}
