//! One error type for the whole API. An `ApiError` has a kind (HTTP status and default code),
//! a stable machine `code`, a human `detail`, optional field errors and an optional internal
//! source. It renders once, as RFC 9457 `application/problem+json`, in [`ApiError::to_response`].
//! Codes are public API: add new ones, never rename old ones.

use std::fmt;

use poem::{Response, error::ResponseError, http::StatusCode};
use poem_openapi::{
    ApiResponse, Object,
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::{ToJSON, Type},
};

pub type ApiResult<T> = Result<T, ApiError>;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Validation,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    /// The request was understood and well-formed, but what it ran failed (a plugin's trap).
    Unprocessable,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    Unavailable,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            Self::Validation => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Validation => "VALIDATION_ERROR",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Conflict => "CONFLICT",
            Self::PreconditionFailed => "PRECONDITION_FAILED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::Unprocessable => "UNPROCESSABLE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL_ERROR",
            Self::Unavailable => "UNAVAILABLE",
        }
    }

    /// The RFC 7644 §3.12 `scimType` this kind implies, if any.
    pub fn scim_type(self) -> Option<&'static str> {
        match self {
            Self::Validation => Some("invalidValue"),
            Self::Conflict => Some("uniqueness"),
            _ => None,
        }
    }

    fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            412 => Self::PreconditionFailed,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::Unprocessable,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            400..=499 => Self::Validation,
            _ => Self::Internal,
        }
    }
}

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Object)]
pub struct FieldError {
    /// The field's path in the request (`email`, `profile.name`), or the parameter's name.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem detail, extended with a stable machine-readable `code`.
#[derive(Clone, Debug, Object)]
#[oai(rename = "Problem")]
pub struct Problem {
    /// Always `about:blank`: the `code` names the problem.
    #[oai(rename = "type")]
    pub type_: String,
    /// The HTTP status phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong, for humans.
    pub detail: String,
    /// Stable machine-readable code, e.g. `VALIDATION_ERROR`, `NOT_FOUND`, `SIGNUP_CLOSED`.
    pub code: String,
    /// The request id (also in the `X-Request-Id` header); quote it when reporting a problem.
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
    /// The fields at fault, for validation errors.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldError>>,
}

pub struct ApiError {
    kind: ErrorKind,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
    /// Overrides the kind's `scimType`: `Some(None)` renders none.
    scim_type: Option<Option<&'static str>>,
    source: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            scim_type: None,
            source: None,
        }
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        let detail = format!("{field}: {message}");
        Self::new(ErrorKind::Validation, ErrorKind::Validation.code(), detail)
            .with_errors(vec![FieldError { field, message }])
    }

    pub fn unauthenticated(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, detail)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, code, detail)
    }

    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, ErrorKind::NotFound.code(), "no such resource")
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, detail)
    }

    pub fn rate_limited(code: &'static str, detail: impl Into<String>, retry_after: u64) -> Self {
        let mut err = Self::new(ErrorKind::RateLimited, code, detail);
        err.retry_after = Some(retry_after);
        err
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut err = Self::new(ErrorKind::Internal, ErrorKind::Internal.code(), "internal error");
        err.source = Some(source.into());
        err
    }

    /// Turns any error of the HTTP layer (routing, parameters, body limits) into its problem.
    pub fn from_status(status: StatusCode, detail: impl Into<String>) -> Self {
        let kind = ErrorKind::from_status(status);
        Self::new(kind, kind.code(), detail)
    }

    /// Names the RFC 7644 §3.12 `scimType` when the kind's default is not precise enough.
    pub fn with_scim_type(mut self, scim_type: &'static str) -> Self {
        self.scim_type = Some(Some(scim_type));
        self
    }

    /// Renders no `scimType` where RFC 7644 defines none for the problem (e.g. a full org).
    pub fn without_scim_type(mut self) -> Self {
        self.scim_type = Some(None);
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn source_error(&self) -> Option<&anyhow::Error> {
        self.source.as_ref()
    }

    pub fn to_problem(&self, request_id: Option<&str>) -> Problem {
        let status = self.kind.status();
        Problem {
            type_: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.into(),
            request_id: request_id.map(str::to_string),
            errors: Some(self.errors.clone()).filter(|e| !e.is_empty()),
        }
    }

    /// The one place a problem becomes an HTTP response.
    pub fn to_response(&self, request_id: Option<&str>) -> Response {
        let body = self.to_problem(request_id).to_json_string();
        let mut builder = Response::builder().status(self.kind.status()).content_type(PROBLEM_CONTENT_TYPE);
        if let Some(seconds) = self.retry_after {
            builder = builder.header("retry-after", seconds.to_string());
        }
        if self.kind == ErrorKind::Unauthenticated {
            builder = builder.header("www-authenticate", "Bearer");
        }
        builder.body(body)
    }
}

/// The RFC 7644 §3.12 error body used under `/scim/v2`.
#[derive(Clone, Debug, Object)]
#[oai(rename = "ScimError")]
pub struct ScimErrorBody {
    /// Always `["urn:ietf:params:scim:api:messages:2.0:Error"]`.
    pub schemas: Vec<String>,
    /// The HTTP status, as a string (RFC 7644).
    pub status: String,
    #[oai(rename = "scimType", skip_serializing_if_is_none)]
    pub scim_type: Option<String>,
    pub detail: String,
}

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
pub const SCIM_ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

impl ApiError {
    /// The same error as a SCIM Error body (also one operation's `response` in a bulk response).
    pub fn to_scim_body(&self) -> ScimErrorBody {
        ScimErrorBody {
            schemas: vec![SCIM_ERROR_URN.into()],
            status: self.kind.status().as_u16().to_string(),
            scim_type: self.scim_type.unwrap_or(self.kind.scim_type()).map(str::to_string),
            detail: self.detail.clone(),
        }
    }

    /// The same error as a SCIM Error response.
    pub fn to_scim_response(&self) -> Response {
        let body = self.to_scim_body();
        let mut builder = Response::builder().status(self.kind.status()).content_type(SCIM_CONTENT_TYPE);
        if self.kind == ErrorKind::Unauthenticated {
            builder = builder.header("www-authenticate", "Bearer");
        }
        builder.body(body.to_json_string())
    }
}

/// What `/scim/v2` handlers return on failure: the same `ApiError`, rendered as a SCIM Error.
pub struct ScimError(pub ApiError);

impl From<ApiError> for ScimError {
    fn from(err: ApiError) -> Self {
        Self(err)
    }
}

impl From<sea_orm::DbErr> for ScimError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self(err.into())
    }
}

impl fmt::Debug for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ScimError {}

impl ResponseError for ScimError {
    fn status(&self) -> StatusCode {
        self.0.kind.status()
    }

    fn as_response(&self) -> Response {
        self.0.to_scim_response()
    }
}

const SCIM_DOCUMENTED: &[(u16, &str)] = &[
    (400, "Invalid request; `scimType` names the problem (invalidValue, invalidFilter, ...)."),
    (401, "Missing, invalid, expired or revoked SCIM token."),
    (403, "A `filter` on a discovery endpoint (RFC 7644 §4)."),
    (404, "No such resource in the token's organization."),
    (409, "Conflicts with an existing resource (`scimType` uniqueness)."),
    (412, "`If-Match` names a version the resource no longer has."),
    (413, "The request body is larger than the configured limit."),
    (415, "The body is not `application/scim+json` or `application/json`."),
    (500, "A bug: the logs name the request id from the `X-Request-Id` header."),
];

impl ApiResponse for ScimError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: SCIM_DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: SCIM_CONTENT_TYPE,
                        schema: ScimErrorBody::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ScimErrorBody::register(registry);
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code)
            .field("detail", &self.detail)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.kind.status()
    }

    fn as_response(&self) -> Response {
        self.to_response(None)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                Self::conflict("CONFLICT", "a resource with the same unique value already exists")
            }
            _ => match err {
                sea_orm::DbErr::RecordNotFound(_) => Self::not_found(),
                sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                    let mut e = Self::new(ErrorKind::Unavailable, "UNAVAILABLE", "database unavailable");
                    e.source = Some(err.into());
                    e
                }
                other => Self::internal(other),
            },
        }
    }
}

impl<E> From<sea_orm::TransactionError<E>> for ApiError
where
    E: std::error::Error + Into<ApiError>,
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

/// The error responses every operation may give, documented once.
const DOCUMENTED: &[(u16, &str)] = &[
    (400, "The request is malformed or a field is invalid (`VALIDATION_ERROR`, field named in `errors`)."),
    (401, "Missing, invalid or expired credentials."),
    (403, "Authenticated, but not allowed to do this."),
    (404, "No such resource (also for resources of another organization)."),
    (409, "Conflicts with the current state, e.g. a duplicate."),
    (413, "The request body is larger than the configured limit."),
    (415, "The request body is not JSON."),
    (429, "Too many attempts; retry after the `Retry-After` header's seconds."),
    (500, "A bug: the problem carries the request id that the logs name."),
];

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_CONTENT_TYPE,
                        schema: Problem::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}
