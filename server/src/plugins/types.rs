//! The plugin administration API's bodies, and the component upload payload.

use chrono::{DateTime, Utc};
use poem::{Request, RequestBody};
use poem_openapi::{
    Object, impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaSchema, MetaSchemaRef, Registry},
};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    AppState,
    error::{ApiError, ErrorKind},
};

/// A component upload: the `.wasm` bytes as the request body (`application/wasm`).
pub struct WasmBody(pub Vec<u8>);

impl Payload for WasmBody {
    const CONTENT_TYPE: &'static str = "application/wasm";

    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence == "application/wasm" || essence == "application/octet-stream"
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")))
    }

    fn register(_registry: &mut Registry) {}
}

impl ParsePayload for WasmBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = request
            .data::<AppState>()
            .map_or(4 << 20, |s| usize::try_from(s.config.plugins.max_component_kib).unwrap_or(4096) * 1024);
        let bytes = body.take()?.into_bytes_limit(limit).await.map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::new(
                ErrorKind::PayloadTooLarge,
                "PLUGIN_TOO_LARGE",
                format!("a component may be at most {limit} bytes"),
            ),
            other => ApiError::validation("body", other.to_string()),
        })?;
        Ok(Self(bytes.to_vec()))
    }
}

impl_apirequest_for_payload!(WasmBody);

/// Where a plugin is in use.
#[derive(Clone, Debug, Object)]
pub struct PluginUse {
    /// `sso_provider`, `webhook` or `scim` (the org's role mapper for directory-managed members).
    pub kind: String,
    /// The provider, the endpoint, or (for `scim`) the org.
    pub id: Uuid,
    /// The provider's name, the endpoint's URL, or `SCIM provisioning`.
    pub name: String,
}

#[derive(Debug, Object)]
pub struct PluginResponse {
    pub id: Uuid,
    pub name: String,
    /// `role-mapper` or `webhook-transform`, detected from the component.
    pub world: String,
    /// SHA-256 of the component, hex.
    pub sha256: String,
    /// The component's size in bytes.
    pub size: u64,
    /// This plugin's instruction budget per call, when tighter than the instance's.
    pub fuel: Option<u64>,
    /// This plugin's memory per call (MiB), when tighter than the instance's.
    pub memory_mib: Option<u32>,
    /// The role of whoever uploaded it: a role mapper never confers a role above it.
    pub ceiling_role: String,
    /// The SSO providers and webhooks that name it (it cannot be deleted while in use).
    pub used_by: Vec<PluginUse>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct PluginList {
    pub data: Vec<PluginResponse>,
}

/// A dry run: the input as the plugin's world defines it, in snake_case. Role mapper:
/// `{"org_slug", "source": "oidc"|"saml"|"scim", "subject", "email", "groups": [..],
/// "attributes": {"name": "value"}}`; webhook transform: `{"event_type", "payload": {..}}`.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvokeRequest {
    pub input: Value,
}

/// What the plugin answered, and what it cost.
#[derive(Debug, Object)]
pub struct InvokeResponse {
    /// Role mapper: `{"decision": "assign", "role", "teams"}` or `{"decision": "deny",
    /// "reason"}`; webhook transform: `{"action": "replace", "payload", "headers"}` or
    /// `{"action": "drop"}`.
    pub output: Value,
    pub duration_us: u64,
    pub fuel_used: u64,
}

/// One call of a plugin in a real flow.
#[derive(Debug, Object)]
pub struct PluginRunResponse {
    pub id: Uuid,
    /// `sso`, `scim` or `webhook`.
    pub hook: String,
    /// The SSO provider or webhook endpoint it ran for.
    pub hook_id: Option<String>,
    /// SHA-256 of the input as the plugin saw it (JSON), hex.
    pub input_sha256: String,
    /// `assigned`, `denied`, `replaced`, `dropped`, or the failure's code (`PLUGIN_...`).
    pub outcome: String,
    /// The role and teams assigned, the denial's reason, or the failure's message.
    pub detail: Option<String>,
    pub duration_us: u64,
    pub fuel_used: u64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct PluginRunPage {
    pub data: Vec<PluginRunResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}
