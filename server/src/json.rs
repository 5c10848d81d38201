//! `JsonBody<T>`: the request body extractor of every JSON operation. The OpenAPI schema comes
//! from `T`'s poem-openapi `Type`; parsing goes through serde with the path of the failing field
//! tracked, so a bad body is a 400 `VALIDATION_ERROR` that names the field. The body is read
//! with the configured size limit (413 past it).

use std::ops::Deref;

use poem::{Request, RequestBody};
use poem_openapi::{
    impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaSchemaRef, Registry},
    types::Type,
};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorKind};

/// The largest body a request may carry; installed into request data by the app.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

pub struct JsonBody<T>(pub T);

impl<T> Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = request.data::<BodyLimit>().map_or(1 << 20, |l| l.0);
        let body = body.take()?;
        let bytes = body.into_bytes_limit(limit).await.map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::new(
                ErrorKind::PayloadTooLarge,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is larger than {limit} bytes"),
            ),
            other => ApiError::validation("body", other.to_string()),
        })?;
        Ok(Self(parse(&bytes)?))
    }
}

impl_apirequest_for_payload!(JsonBody<T>, T: Type + DeserializeOwned);

/// A JSON body the client may leave out: no body at all gives `T::default()`; a body present
/// is read exactly as [`JsonBody`] reads it.
pub struct OptionalJsonBody<T>(pub T);

impl<'a, T: Type + DeserializeOwned + Default> poem_openapi::ApiExtractor<'a> for OptionalJsonBody<T> {
    const TYPES: &'static [poem_openapi::ApiExtractorType] = &[poem_openapi::ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<poem_openapi::registry::MetaRequest> {
        Some(poem_openapi::registry::MetaRequest {
            description: None,
            content: vec![poem_openapi::registry::MetaMediaType {
                content_type: <JsonBody<T> as Payload>::CONTENT_TYPE,
                schema: T::schema_ref(),
            }],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let limit = request.data::<BodyLimit>().map_or(1 << 20, |l| l.0);
        let bytes = body.take()?.into_bytes_limit(limit).await.map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::new(
                ErrorKind::PayloadTooLarge,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is larger than {limit} bytes"),
            ),
            other => ApiError::validation("body", other.to_string()),
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if let Some(content_type) = request.content_type()
            && !<JsonBody<T> as Payload>::check_content_type(content_type)
        {
            return Err(poem_openapi::error::ContentTypeError::NotSupported {
                content_type: content_type.to_string(),
            }
            .into());
        }
        Ok(Self(parse(&bytes)?))
    }
}

/// Parses JSON into `T`, naming the field at fault on failure.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(ApiError::validation("body", "a JSON body is required")),
        // serde would read a struct from an array too; every body of this API is an object.
        Some(b) if *b != b'{' => {
            return Err(ApiError::validation("body", "must be a JSON object"));
        }
        Some(_) => {}
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::validation("body", format!("malformed JSON: {inner}"));
        }
        let (field, message) = describe_error(e.path(), &strip_position(&inner.to_string()));
        ApiError::validation(if field.is_empty() { "body".into() } else { field }, message)
    })?;
    de.end().map_err(|e| ApiError::validation("body", format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_string()
}

/// Turns serde's path and message into `(field, message)`. serde reports a missing or unknown
/// field at its parent's path, with the field's name quoted in the message; move it into the path.
pub fn describe_error(path: &serde_path_to_error::Path, message: &str) -> (String, String) {
    let parent = path.to_string();
    let parent = if parent == "." { String::new() } else { parent };
    for prefix in ["missing field `", "unknown field `"] {
        let Some(name) = message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()) else {
            continue;
        };
        // For unknown fields the path already ends at the field itself.
        let already = parent == name || parent.ends_with(&format!(".{name}"));
        let field = match (parent.is_empty(), already) {
            (true, _) => name.to_string(),
            (false, true) => parent.clone(),
            (false, false) => format!("{parent}.{name}"),
        };
        let message = if prefix.starts_with("missing") { "is required" } else { "is not a known field" };
        return (field, message.to_string());
    }
    (parent, message.to_string())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        email: String,
        age: Option<u32>,
        inner: Option<Inner>,
    }

    fn field_of(body: &str) -> String {
        let err = parse::<Outer>(body.as_bytes()).unwrap_err();
        err.field_errors()[0].field.clone()
    }

    #[test]
    fn bad_bodies_name_their_field() {
        for (body, field) in [
            ("", "body"),
            ("{", "body"),
            ("[1]", "body"),
            ("[\"a\", 1, null]", "body"),
            ("{}", "email"),
            (r#"{"email": 5}"#, "email"),
            (r#"{"email": "a", "age": "x"}"#, "age"),
            (r#"{"email": "a", "inner": {}}"#, "inner.name"),
            (r#"{"email": "a", "inner": {"name": "n", "x": 1}}"#, "inner.x"),
            (r#"{"email": "a", "bogus": 1}"#, "bogus"),
            (r#"{"email": "a"} trailing"#, "body"),
        ] {
            assert_eq!(field_of(body), field, "{body}");
        }
    }
}
