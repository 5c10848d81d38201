//! Discovery (RFC 7644 §4): what this service provider supports. Every flag says what is
//! implemented now; resources and features are switched on as they land.

use poem::web::Data;
use poem_openapi::OpenApi;
use serde_json::{Value, json};

use super::{auth::ScimAuth, json::ScimJson};
use crate::{AppState, app::Tag, error::ScimError};

pub const SERVICE_PROVIDER_CONFIG_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

pub fn service_provider_config(base_url: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "documentationUri": format!("{base_url}/docs"),
        "patch": { "supported": false },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": false, "maxResults": 200 },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A gh_scim_ token issued with POST /api/v1/orgs/{org}/scim/token",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/scim/v2/ServiceProviderConfig")
        }
    })
}

pub struct ScimDiscoveryApi;

#[OpenApi]
impl ScimDiscoveryApi {
    /// What this SCIM service provider supports (RFC 7644 §5).
    #[oai(
        path = "/scim/v2/ServiceProviderConfig",
        method = "get",
        tag = "Tag::Scim",
        operation_id = "scim_service_provider_config"
    )]
    async fn scim_service_provider_config(
        &self,
        state: Data<&AppState>,
        _auth: ScimAuth,
    ) -> Result<ScimJson<serde_json::Value>, ScimError> {
        Ok(ScimJson(service_provider_config(&state.config.public_base_url)))
    }
}
