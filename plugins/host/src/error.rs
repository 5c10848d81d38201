//! The one error type of the crate. Its codes are public API: add new ones, never rename.

use std::time::Duration;

use crate::World;

/// Why a plugin could not be loaded or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The plugin trapped: a panic, `unreachable`, a stack overflow, an invalid memory access.
    #[error("the plugin trapped: {0}")]
    Trapped(String),
    /// The plugin used up its fuel (it ran too many instructions).
    #[error("the plugin used up its fuel budget of {budget}")]
    FuelExhausted {
        /// The budget it had.
        budget: u64,
    },
    /// The plugin tried to grow its memory past the limit.
    #[error("the plugin tried to use more than {limit} bytes of memory")]
    MemoryLimit {
        /// The limit in bytes.
        limit: usize,
    },
    /// The plugin returned something the host refuses (names what and why).
    #[error("the plugin returned invalid output: {0}")]
    InvalidOutput(String),
    /// The call ran past its wall-clock timeout.
    #[error("the plugin ran longer than {0:?}")]
    Timeout(Duration),
    /// The input is larger than the limit; the plugin was not called.
    #[error("the input is {size} bytes, more than the limit of {limit}")]
    InputTooLarge {
        /// Size of the input's JSON serialization.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The plugin implements another world than the call needs.
    #[error("the plugin implements {actual}, not {expected}")]
    WrongWorld {
        /// The world the call needs.
        expected: World,
        /// The world the plugin implements.
        actual: World,
    },
    /// The bytes are not a usable plugin: not WebAssembly, a core module rather than a
    /// component, a compilation failure, a missing or mistyped export, or an import the host
    /// does not provide. The message names which.
    #[error("not a valid plugin: {0}")]
    Invalid(String),
    /// The component is larger than the host accepts.
    #[error("the component is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the component.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The host itself failed (engine setup, a thread); not the plugin's doing.
    #[error("plugin host failure: {0}")]
    Host(String),
}

impl PluginError {
    /// The stable machine-readable code, such as `PLUGIN_FUEL_EXHAUSTED`.
    pub fn code(&self) -> &'static str {
        match self {
            PluginError::Trapped(_) => "PLUGIN_TRAPPED",
            PluginError::FuelExhausted { .. } => "PLUGIN_FUEL_EXHAUSTED",
            PluginError::MemoryLimit { .. } => "PLUGIN_MEMORY_LIMIT",
            PluginError::InvalidOutput(_) => "PLUGIN_INVALID_OUTPUT",
            PluginError::Timeout(_) => "PLUGIN_TIMEOUT",
            PluginError::InputTooLarge { .. } => "PLUGIN_INPUT_TOO_LARGE",
            PluginError::WrongWorld { .. } => "PLUGIN_WRONG_WORLD",
            PluginError::Invalid(_) => "PLUGIN_INVALID",
            PluginError::TooLarge { .. } => "PLUGIN_TOO_LARGE",
            PluginError::Host(_) => "PLUGIN_HOST_ERROR",
        }
    }

    /// True when the plugin misbehaved while running (trap, fuel, memory, timeout, invalid
    /// output): the failures worth counting against a plugin, and the ones where the caller
    /// falls back (default role, undelivered event) rather than reporting its own mistake.
    pub fn is_plugin_fault(&self) -> bool {
        matches!(
            self,
            PluginError::Trapped(_)
                | PluginError::FuelExhausted { .. }
                | PluginError::MemoryLimit { .. }
                | PluginError::InvalidOutput(_)
                | PluginError::Timeout(_)
        )
    }
}
