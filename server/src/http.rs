//! The HTTP edge: request ids, per-request tracing spans, Prometheus metrics, and turning every
//! error (ours, poem's, poem-openapi's) into one problem+json response.

use std::time::Instant;

use poem::{Endpoint, FromRequest, IntoResponse, Request, RequestBody, Response, http::HeaderValue};
use poem_openapi::OperationId;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use tracing::Instrument;

use crate::error::{ApiError, ErrorKind};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Who sent a request and under which id; recorded in audit entries.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// For work started outside HTTP (the command line).
    pub fn system(label: &str) -> Self {
        Self { request_id: format!("{label}-{}", uuid::Uuid::now_v7()), ip: None, user_agent: None }
    }
}

impl<'a> FromRequest<'a> for RequestMeta {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(req.extensions().get::<RequestMeta>().cloned().unwrap_or_default())
    }
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    plugin_calls: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("guildhall_http_requests_total", "HTTP requests by route, method and status"),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("guildhall_http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ]),
            &["route", "method"],
        )?;
        let plugin_calls = IntCounterVec::new(
            Opts::new(
                "guildhall_plugin_calls_total",
                "Plugin calls in real flows by hook and outcome (`ok`, or a PLUGIN_... failure code)",
            ),
            &["hook", "outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(plugin_calls.clone()))?;
        Ok(Self { registry, requests, latency, plugin_calls })
    }

    /// Counts one plugin call of a real flow.
    pub fn plugin_call(&self, hook: &str, outcome: &str) {
        self.plugin_calls.with_label_values(&[hook, outcome]).inc();
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if TextEncoder::new().encode(&self.registry.gather(), &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The names of each operation's path parameters, in order. poem-openapi reports a bad path
/// parameter by position (`param0`); this turns it back into the documented name.
#[derive(Debug, Default)]
pub struct PathParamNames {
    names: std::collections::HashMap<String, Vec<String>>,
    /// Each path template's segments (`None` for a `{param}`) and the methods it serves, for
    /// the `Allow` header of a 405.
    methods: Vec<(Vec<Option<String>>, Vec<String>)>,
}

impl PathParamNames {
    pub fn from_spec(spec: &str) -> Self {
        let mut names = std::collections::HashMap::new();
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(spec) else { return Self::default() };
        let paths = doc.get("paths").and_then(|p| p.as_object());
        let methods = paths
            .into_iter()
            .flatten()
            .map(|(template, item)| {
                let segments = template
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                    .collect();
                let verbs =
                    item.as_object().into_iter().flat_map(|o| o.keys()).map(|m| m.to_ascii_uppercase());
                (segments, verbs.collect())
            })
            .collect();
        for item in paths.into_iter().flat_map(|p| p.values()) {
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                let Some(id) = op.get("operationId").and_then(|i| i.as_str()) else { continue };
                let params = op
                    .get("parameters")
                    .and_then(|p| p.as_array())
                    .into_iter()
                    .flatten()
                    .filter(|p| p.get("in").and_then(|i| i.as_str()) == Some("path"))
                    .filter_map(|p| p.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .collect();
                names.insert(id.to_string(), params);
            }
        }
        Self { names, methods }
    }

    /// The methods the operations at `path` accept, as an `Allow` header value.
    pub fn allowed_methods(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<&str> = self
            .methods
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| t.as_deref().is_none_or(|t| t == *s))
            })
            .flat_map(|(_, verbs)| verbs.iter().map(String::as_str))
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then(|| allowed.join(", "))
    }

    fn resolve(&self, operation: Option<&str>, internal: &str) -> String {
        let index = internal.strip_prefix("param").and_then(|n| n.parse::<usize>().ok());
        operation
            .zip(index)
            .and_then(|(op, i)| self.names.get(op).and_then(|names| names.get(i)))
            .cloned()
            .unwrap_or_else(|| internal.to_string())
    }
}

/// Routes outside the OpenAPI operations that get their own metrics label.
const PLAIN_ROUTES: &[&str] = &["/openapi.json", "/docs"];

fn request_id_from(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_string)
}

/// Wraps the whole app: every request gets an id, a span, a metrics sample, and every error
/// leaves as problem+json.
pub async fn observe<E: Endpoint>(ep: std::sync::Arc<E>, mut req: Request) -> poem::Result<Response> {
    let start = Instant::now();
    let request_id = request_id_from(&req);
    let meta = RequestMeta {
        request_id: request_id.clone(),
        ip: req.remote_addr().as_socket_addr().map(|a| a.ip().to_string()),
        user_agent: req
            .headers()
            .get(poem::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    };
    req.extensions_mut().insert(meta);
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let metrics = req.data::<crate::AppState>().map(|s| s.metrics.clone());
    let param_names = req.data::<std::sync::Arc<PathParamNames>>().cloned();
    let span = tracing::info_span!("request", %method, %path, %request_id);

    let result = ep.call(req).instrument(span.clone()).await;
    let (mut resp, route) = match result {
        Ok(resp) => {
            let resp = resp.into_response();
            let route = resp.data::<OperationId>().map(|o| o.0.to_string());
            (resp, route)
        }
        Err(err) => {
            let route = err.data::<OperationId>().map(|o| o.0.to_string());
            let _enter = span.enter();
            let names = param_names.as_deref();
            let scim = path.starts_with("/scim/v2");
            let mut resp = render_error(err, &request_id, route.as_deref(), names, scim);
            if resp.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
                && let Some(allow) = names.and_then(|n| n.allowed_methods(&path))
                && let Ok(value) = HeaderValue::from_str(&allow)
            {
                resp.headers_mut().insert(poem::http::header::ALLOW, value);
            }
            (resp, route)
        }
    };
    let route = route.unwrap_or_else(|| {
        PLAIN_ROUTES
            .iter()
            .find(|r| path == **r || path.starts_with(&format!("{r}/")))
            .map_or_else(|| "unmatched".to_string(), |r| r.to_string())
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    if let Some(metrics) = metrics {
        metrics.observe(&route, &method, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(%route, status, latency_ms = elapsed.as_secs_f64() * 1000.0, "request");
    });
    Ok(resp)
}

/// Maps any error that reached the edge to its problem response.
fn render_error(
    err: poem::Error,
    request_id: &str,
    operation: Option<&str>,
    names: Option<&PathParamNames>,
    scim: bool,
) -> Response {
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    };
    let known = err
        .downcast_ref::<ApiError>()
        .or_else(|| err.downcast_ref::<crate::error::ScimError>().map(|s| &s.0));
    let api = if let Some(api) = known {
        if let Some(source) = api.source_error() {
            tracing::error!(error = %format!("{source:#}"), "internal error");
        }
        return if scim { api.to_scim_response() } else { api.to_response(Some(request_id)) };
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        ApiError::validation(e.name, e.reason.clone())
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        let field = names.map_or_else(|| e.name.to_string(), |n| n.resolve(operation, e.name));
        ApiError::validation(field, e.reason.clone())
    } else if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        ApiError::validation("body", e.reason.clone())
    } else if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        ApiError::new(
            ErrorKind::UnsupportedMediaType,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("{e}; send application/json"),
        )
    } else if err.is::<AuthorizationError>() {
        ApiError::unauthenticated("UNAUTHENTICATED", "send `Authorization: Bearer <token>`")
    } else {
        let status = err.status();
        if status.is_server_error() {
            tracing::error!(error = %err, "internal error");
            ApiError::from_status(status, "internal error")
        } else {
            let detail = match status.as_u16() {
                404 => "no such resource".to_string(),
                405 => "method not allowed on this resource".to_string(),
                413 => "the request body is too large".to_string(),
                _ => err.to_string(),
            };
            ApiError::from_status(status, detail)
        }
    };
    if scim { api.to_scim_response() } else { api.to_response(Some(request_id)) }
}

/// An empty success.
#[derive(poem_openapi::ApiResponse)]
pub enum NoContent {
    /// Done; nothing to return.
    #[oai(status = 204)]
    NoContent,
}
