//! `application/scim+json` bodies, in and out.

use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::{
    ApiResponse, impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};

use crate::{
    error::{ApiError, ErrorKind, SCIM_CONTENT_TYPE, ScimError},
    json::BodyLimit,
};

/// A SCIM resource or message body.
pub struct ScimJson<T>(pub T);

impl<T: Type> Payload for ScimJson<T> {
    const CONTENT_TYPE: &'static str = SCIM_CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ToJSON> IntoResponse for ScimJson<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type(SCIM_CONTENT_TYPE).body(self.0.to_json_string())
    }
}

impl<T: ToJSON> ApiResponse for ScimJson<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType { content_type: SCIM_CONTENT_TYPE, schema: T::schema_ref() }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A SCIM request body: `application/scim+json` (or `application/json`), read as JSON and
/// validated against the schema table by the area code (attribute names are case-insensitive
/// and Entra's string booleans are accepted, which a derived type could not express). `D`
/// only documents the shape in the OpenAPI document.
pub struct ScimBody<D> {
    pub value: serde_json::Value,
    documented: std::marker::PhantomData<D>,
}

impl<D: Type> Payload for ScimBody<D> {
    const CONTENT_TYPE: &'static str = SCIM_CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence == "application/json" || essence == SCIM_CONTENT_TYPE
    }

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

impl<D: Type> ParsePayload for ScimBody<D> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = request.data::<BodyLimit>().map_or(1 << 20, |l| l.0);
        let bytes = body.take()?.into_bytes_limit(limit).await.map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ScimError(ApiError::new(
                ErrorKind::PayloadTooLarge,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is larger than {limit} bytes"),
            )),
            other => {
                ScimError(ApiError::validation("body", other.to_string()).with_scim_type("invalidSyntax"))
            }
        })?;
        let value = crate::json::parse::<serde_json::Value>(&bytes)
            .map_err(|e| ScimError(e.with_scim_type("invalidSyntax")))?;
        Ok(Self { value, documented: std::marker::PhantomData })
    }
}

impl_apirequest_for_payload!(ScimBody<D>, D: Type);

/// A SCIM resource in a response, documented as `D`.
pub struct ScimDoc<D> {
    pub value: serde_json::Value,
    documented: std::marker::PhantomData<D>,
}

impl<D> ScimDoc<D> {
    pub fn new(value: serde_json::Value) -> Self {
        Self { value, documented: std::marker::PhantomData }
    }
}

impl<D: Type> Payload for ScimDoc<D> {
    const CONTENT_TYPE: &'static str = SCIM_CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

impl<D: Send> IntoResponse for ScimDoc<D> {
    fn into_response(self) -> Response {
        Response::builder().content_type(SCIM_CONTENT_TYPE).body(self.value.to_string())
    }
}

impl<D: Type + Send> ApiResponse for ScimDoc<D> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType { content_type: SCIM_CONTENT_TYPE, schema: D::schema_ref() }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}
