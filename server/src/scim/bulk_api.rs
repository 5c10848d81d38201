//! `POST /scim/v2/Bulk` (RFC 7644 §3.7): read within `maxPayloadSize`, check, run, answer.

use poem::{Request, RequestBody, web::Data};
use poem_openapi::{
    OpenApi, impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaSchemaRef, Registry},
    types::Type,
};

use super::{
    auth::ScimAuth,
    bulk,
    json::ScimJson,
    types::{ScimBulkRequest, ScimBulkResponse},
};
use crate::{
    AppState,
    app::Tag,
    error::{ApiError, SCIM_CONTENT_TYPE, ScimError},
    json::BodyLimit,
};

pub struct ScimBulkApi;

#[OpenApi(prefix_path = "/scim/v2", tag = "Tag::Scim")]
impl ScimBulkApi {
    /// Run many Users and Groups operations in one request (RFC 7644 §3.7), in order, each as
    /// its single request would run; a failure undoes nothing before it. `bulkId:<bulkId>` in a
    /// `path` or in `data` names what an earlier POST created. `failOnErrors` stops the run
    /// after that many failures. 413 `tooLarge` past `maxOperations` or `maxPayloadSize`
    /// (see `/ServiceProviderConfig`).
    #[oai(path = "/Bulk", method = "post", operation_id = "scim_bulk")]
    async fn scim_bulk(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        body: BulkBody,
    ) -> Result<ScimJson<ScimBulkResponse>, ScimError> {
        let request = bulk::parse(&body.value)?;
        Ok(ScimJson(bulk::run(&state, &auth.0, request).await))
    }
}

/// A bulk request body, read up to `maxPayloadSize` bytes (smaller than other bodies may be).
pub struct BulkBody {
    value: serde_json::Value,
}

impl Payload for BulkBody {
    const CONTENT_TYPE: &'static str = SCIM_CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence == "application/json" || essence == SCIM_CONTENT_TYPE
    }

    fn schema_ref() -> MetaSchemaRef {
        ScimBulkRequest::schema_ref()
    }

    fn register(registry: &mut Registry) {
        ScimBulkRequest::register(registry);
    }
}

impl ParsePayload for BulkBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = bulk::max_payload_size(request.data::<BodyLimit>().map_or(1 << 20, |l| l.0));
        let bytes = body.take()?.into_bytes_limit(limit).await.map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ScimError(bulk::too_large(format!(
                "the bulk request is larger than {limit} bytes (maxPayloadSize)"
            ))),
            other => {
                ScimError(ApiError::validation("body", other.to_string()).with_scim_type("invalidSyntax"))
            }
        })?;
        let value = crate::json::parse::<serde_json::Value>(&bytes)
            .map_err(|e| ScimError(e.with_scim_type("invalidSyntax")))?;
        Ok(Self { value })
    }
}

impl_apirequest_for_payload!(BulkBody);
