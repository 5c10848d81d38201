//! Payloads of plugin changes and failures.

use poem_openapi::Object;
use uuid::Uuid;

#[derive(Clone, Debug, Object)]
pub struct PluginUploaded {
    pub plugin_id: Uuid,
    pub name: String,
    /// `role-mapper` or `webhook-transform`.
    pub world: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Clone, Debug, Object)]
pub struct PluginDeleted {
    pub plugin_id: Uuid,
    pub name: String,
}

/// A plugin failed in a real flow (a trap, an exhausted budget, a limit, invalid output).
#[derive(Clone, Debug, Object)]
pub struct PluginFailed {
    pub plugin_id: Uuid,
    pub name: String,
    /// `sso`, `scim` or `webhook`.
    pub hook: String,
    /// The SSO provider or webhook endpoint it ran for.
    pub hook_id: Option<String>,
    /// `PLUGIN_TRAPPED`, `PLUGIN_FUEL_EXHAUSTED`, `PLUGIN_MEMORY_LIMIT`, `PLUGIN_INVALID_OUTPUT`, ...
    pub code: String,
    pub message: String,
    /// What happened instead: `fallback` (the mapping table and default role decided),
    /// `refused` (the sign-in was refused), `not_delivered`.
    pub consequence: String,
}
