//! `application/scim+json` responses.

use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::Payload,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};

use crate::error::SCIM_CONTENT_TYPE;

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
