//! SCIM Bulk (RFC 7644 §3.7). A request is checked whole before anything runs (limits,
//! methods, paths, unique bulkIds); then its operations run in order, each through the same
//! area function as the single request (its transaction, org scoping, provisioning rules,
//! `If-Match` and audit), and each stands alone: a failure undoes nothing before it.
//! `bulkId:<id>` names what an earlier POST of the same request created.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    groups,
    tokens::ScimContext,
    types::{ScimBulkOperationResult, ScimBulkResponse},
    users,
    value::{field, invalid, invalid_value},
};
use crate::{
    AppState,
    error::{ApiError, ErrorKind},
};

pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// `bulk.maxOperations` of the ServiceProviderConfig.
pub const MAX_OPERATIONS: usize = 1000;
/// `bulk.maxPayloadSize`, unless the server's body limit is smaller (see [`max_payload_size`]).
pub const MAX_PAYLOAD_SIZE: usize = 1 << 20;

const BULK_ID_PREFIX: &str = "bulkId:";

/// The largest bulk request body, in bytes, given the server's body limit.
pub fn max_payload_size(body_limit: usize) -> usize {
    MAX_PAYLOAD_SIZE.min(body_limit)
}

/// A bulk request past `maxOperations` or `maxPayloadSize` (RFC 7644 §3.7.4).
pub fn too_large(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::PayloadTooLarge, "PAYLOAD_TOO_LARGE", detail).with_scim_type("tooLarge")
}

/// A `bulkId:` reference to nothing this request created (yet).
fn unresolved(bulk_id: &str) -> ApiError {
    ApiError::conflict(
        "SCIM_BULK_ID_UNRESOLVED",
        format!(
            "`{BULK_ID_PREFIX}{bulk_id}` names no resource created earlier in this request (no POST \
             has that bulkId, it comes later, or it failed)"
        ),
    )
    .with_scim_type("invalidValue")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Users,
    Groups,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Groups => "Groups",
        }
    }
}

/// What an operation does; the id (from the path) is an id or `bulkId:<id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Replace(String),
    Patch(String),
    Delete(String),
}

impl Action {
    fn method(&self) -> &'static str {
        match self {
            Self::Create => "POST",
            Self::Replace(_) => "PUT",
            Self::Patch(_) => "PATCH",
            Self::Delete(_) => "DELETE",
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            Self::Create => None,
            Self::Replace(id) | Self::Patch(id) | Self::Delete(id) => Some(id),
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct Operation {
    pub endpoint: Endpoint,
    pub action: Action,
    pub bulk_id: Option<String>,
    /// Sent as `If-Match` would be.
    pub version: Option<String>,
    /// The single request's body; `Null` for DELETE.
    pub data: Value,
}

#[derive(Debug)]
pub struct BulkRequest {
    /// Stop once this many operations have failed.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<Operation>,
}

/// Checks a bulk request body whole; nothing runs when any operation is malformed.
pub fn parse(body: &Value) -> Result<BulkRequest, ApiError> {
    let syntax = |field: &str, message: &str| invalid("invalidSyntax", field, message);
    let Some(fields) = body.as_object() else {
        return Err(syntax("body", "must be a JSON object"));
    };
    let schemas = field(fields, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| {
        s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(BULK_REQUEST_URN)))
    }) {
        return Err(syntax("schemas", &format!("must contain {BULK_REQUEST_URN}")));
    }
    let ops = match field(fields, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => return Err(syntax("Operations", "must be a non-empty array")),
    };
    if ops.len() > MAX_OPERATIONS {
        return Err(too_large(format!(
            "a bulk request holds at most {MAX_OPERATIONS} operations (maxOperations); this one holds {}",
            ops.len()
        )));
    }
    let fail_on_errors = match field(fields, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().filter(|n| *n >= 1) {
            Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            None => return Err(invalid_value("failOnErrors", "must be a positive integer")),
        },
    };
    let mut bulk_ids = HashSet::new();
    let mut operations = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let op = parse_op(i, op)?;
        if let Some(bulk_id) = &op.bulk_id
            && !bulk_ids.insert(bulk_id.clone())
        {
            return Err(invalid_value(
                format!("Operations[{i}].bulkId"),
                format!("`{bulk_id}` is already used by an earlier operation; bulkIds are unique"),
            ));
        }
        operations.push(op);
    }
    Ok(BulkRequest { fail_on_errors, operations })
}

fn parse_op(i: usize, op: &Value) -> Result<Operation, ApiError> {
    let at = |name: &str| format!("Operations[{i}].{name}");
    let Some(fields) = op.as_object() else {
        return Err(invalid("invalidSyntax", format!("Operations[{i}]"), "must be an object"));
    };
    let text = |name: &str| match field(fields, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(invalid("invalidSyntax", at(name), "must be a string")),
    };
    let method = text("method")?.ok_or_else(|| invalid_value(at("method"), "is required"))?;
    let path = text("path")?.ok_or_else(|| invalid_value(at("path"), "is required"))?;
    let (endpoint, id) = parse_path(path).ok_or_else(|| {
        invalid_value(at("path"), format!("`{path}` is not /Users, /Groups, /Users/{{id}} or /Groups/{{id}}"))
    })?;
    let action = match (method.to_ascii_uppercase().as_str(), id) {
        ("POST", None) => Action::Create,
        ("PUT", Some(id)) => Action::Replace(id),
        ("PATCH", Some(id)) => Action::Patch(id),
        ("DELETE", Some(id)) => Action::Delete(id),
        ("POST", Some(_)) => {
            return Err(invalid_value(at("path"), format!("a POST goes to /{}", endpoint.name())));
        }
        ("PUT" | "PATCH" | "DELETE", None) => {
            return Err(invalid_value(
                at("path"),
                format!("a {method} names one resource: /{}/{{id}}", endpoint.name()),
            ));
        }
        _ => {
            return Err(invalid_value(at("method"), format!("`{method}` is not POST, PUT, PATCH or DELETE")));
        }
    };
    let bulk_id = text("bulkId")?.map(str::to_string);
    if bulk_id.as_deref() == Some("") {
        return Err(invalid_value(at("bulkId"), "must not be empty"));
    }
    if action == Action::Create && bulk_id.is_none() {
        return Err(invalid_value(at("bulkId"), "is required with POST"));
    }
    let version = text("version")?.map(str::to_string);
    let data = match field(fields, "data") {
        None | Some(Value::Null) if !matches!(action, Action::Delete(_)) => {
            return Err(invalid_value(at("data"), format!("is required with {}", action.method())));
        }
        None | Some(Value::Null) => Value::Null,
        Some(data) => data.clone(),
    };
    Ok(Operation { endpoint, action, bulk_id, version, data })
}

/// `/Users`, `/Groups`, `/Users/{id}` or `/Groups/{id}` (the leading `/` optional).
fn parse_path(path: &str) -> Option<(Endpoint, Option<String>)> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (name, id) = match rest.split_once('/') {
        Some((name, id)) => (name, Some(id)),
        None => (rest, None),
    };
    let endpoint = if name.eq_ignore_ascii_case("Users") {
        Endpoint::Users
    } else if name.eq_ignore_ascii_case("Groups") {
        Endpoint::Groups
    } else {
        return None;
    };
    match id {
        Some(id) if id.is_empty() || id.contains(['/', '?', '#']) => None,
        id => Some((endpoint, id.map(str::to_string))),
    }
}

/// An id from a path: itself, or what `bulkId:<id>` created.
fn resolve_id(raw: &str, created: &HashMap<String, String>) -> Result<String, ApiError> {
    match raw.strip_prefix(BULK_ID_PREFIX) {
        Some(bulk_id) => created.get(bulk_id).cloned().ok_or_else(|| unresolved(bulk_id)),
        None => Ok(raw.to_string()),
    }
}

/// `data` with every string `bulkId:<id>` replaced by the id that POST created (RFC 7644
/// §3.7.2: a group's `members[].value`, a PATCH value, a manager).
fn resolve_refs(data: &Value, created: &HashMap<String, String>) -> Result<Value, ApiError> {
    Ok(match data {
        Value::String(s) => match s.strip_prefix(BULK_ID_PREFIX) {
            Some(bulk_id) => Value::String(created.get(bulk_id).cloned().ok_or_else(|| unresolved(bulk_id))?),
            None => data.clone(),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve_refs(v, created)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve_refs(v, created)?)))
                .collect::<Result<Map<_, _>, ApiError>>()?,
        ),
        other => other.clone(),
    })
}

/// Missing and malformed ids are both "no such resource", as for single requests.
fn resource_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}

/// A successful operation.
struct Done {
    status: u16,
    /// The resource's id (what a `bulkId` then names).
    id: String,
    location: String,
    version: Option<String>,
}

impl Done {
    fn rendered(status: u16, resource: &Value, location: String, version: String) -> Result<Self, ApiError> {
        let id = resource
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a rendered resource has no id")))?;
        Ok(Self { status, id: id.to_string(), location, version: Some(version) })
    }
}

/// Runs the operations in order; stops once `failOnErrors` operations have failed.
pub async fn run(state: &AppState, ctx: &ScimContext, request: BulkRequest) -> ScimBulkResponse {
    let base = format!("{}/scim/v2", state.config.public_base_url);
    let mut created: HashMap<String, String> = HashMap::new();
    let mut errors = 0;
    let mut results = Vec::with_capacity(request.operations.len());
    for (index, op) in request.operations.into_iter().enumerate() {
        if request.fail_on_errors.is_some_and(|limit| errors >= limit) {
            break;
        }
        let outcome = perform(state, ctx, &op, &created).await;
        let method = op.action.method().to_string();
        results.push(match outcome {
            Ok(done) => {
                if let (Action::Create, Some(bulk_id)) = (&op.action, &op.bulk_id) {
                    created.insert(bulk_id.clone(), done.id);
                }
                ScimBulkOperationResult {
                    method,
                    bulk_id: op.bulk_id,
                    location: Some(done.location),
                    version: done.version,
                    status: done.status.to_string(),
                    response: None,
                }
            }
            Err(err) => {
                errors += 1;
                if let Some(source) = err.source_error() {
                    tracing::error!(error = %format!("{source:#}"), operation = index, "internal error in a bulk operation");
                }
                // RFC 7644 §3.7: `location` is absent only when a POST failed.
                let location = op.action.id().map(|raw| {
                    let id = resolve_id(raw, &created).unwrap_or_else(|_| raw.to_string());
                    format!("{base}/{}/{id}", op.endpoint.name())
                });
                let body = err.to_scim_body();
                ScimBulkOperationResult {
                    method,
                    bulk_id: op.bulk_id,
                    location,
                    version: None,
                    status: body.status.clone(),
                    response: Some(body),
                }
            }
        });
    }
    ScimBulkResponse { schemas: vec![BULK_RESPONSE_URN.into()], operations: results }
}

/// One operation, exactly as its single request would run.
async fn perform(
    state: &AppState,
    ctx: &ScimContext,
    op: &Operation,
    created: &HashMap<String, String>,
) -> Result<Done, ApiError> {
    let id =
        op.action.id().map(|raw| resolve_id(raw, created).and_then(|id| resource_id(&id))).transpose()?;
    let data = resolve_refs(&op.data, created)?;
    let if_match = op.version.as_deref();
    match (op.endpoint, &op.action, id) {
        (Endpoint::Users, Action::Create, _) => {
            let r = users::create(state, ctx, &data).await?;
            Done::rendered(201, &r.resource, r.location, r.version)
        }
        (Endpoint::Users, Action::Replace(_), Some(id)) => {
            let r = users::update(state, ctx, id, users::Change::Replace(&data), if_match).await?;
            Done::rendered(200, &r.resource, r.location, r.version)
        }
        (Endpoint::Users, Action::Patch(_), Some(id)) => {
            let r = users::update(state, ctx, id, users::Change::Patch(&data), if_match).await?;
            Done::rendered(200, &r.resource, r.location, r.version)
        }
        (Endpoint::Groups, Action::Create, _) => {
            let r = groups::create(state, ctx, &data).await?;
            Done::rendered(201, &r.resource, r.location, r.version)
        }
        (Endpoint::Groups, Action::Replace(_), Some(id)) => {
            groups::update(state, ctx, id, groups::Change::Replace(&data), if_match).await?;
            let r = groups::get(state, ctx, id, false).await?;
            Done::rendered(200, &r.resource, r.location, r.version)
        }
        // As the single request: 204, the group not echoed.
        (Endpoint::Groups, Action::Patch(_), Some(id)) => {
            groups::update(state, ctx, id, groups::Change::Patch(&data), if_match).await?;
            let r = groups::get(state, ctx, id, false).await?;
            Done::rendered(204, &r.resource, r.location, r.version)
        }
        (endpoint, Action::Delete(_), Some(id)) => {
            match endpoint {
                Endpoint::Users => users::delete(state, ctx, id, if_match).await?,
                Endpoint::Groups => groups::delete(state, ctx, id, if_match).await?,
            }
            let location = format!("{}/scim/v2/{}/{id}", state.config.public_base_url, endpoint.name());
            Ok(Done { status: 204, id: id.to_string(), location, version: None })
        }
        (_, _, None) => Err(ApiError::internal(anyhow::anyhow!("a bulk operation on a resource has no id"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(ops: Value) -> Value {
        json!({ "schemas": [BULK_REQUEST_URN], "Operations": ops })
    }

    fn user(bulk_id: &str) -> Value {
        json!({ "method": "POST", "path": "/Users", "bulkId": bulk_id, "data": { "userName": "a@b.test" } })
    }

    #[test]
    fn parses_each_method_and_path() {
        let parsed = parse(&json!({
            "schemas": [BULK_REQUEST_URN],
            "failOnErrors": 2,
            "Operations": [
                user("u1"),
                { "method": "put", "path": "Users/bulkId:u1", "version": "W/\"1\"", "data": {} },
                { "method": "PATCH", "path": "/Groups/abc", "data": {} },
                { "method": "DELETE", "path": "/Groups/abc" },
            ],
        }))
        .unwrap();
        assert_eq!(parsed.fail_on_errors, Some(2));
        let actions: Vec<(Endpoint, Action)> =
            parsed.operations.iter().map(|o| (o.endpoint, o.action.clone())).collect();
        assert_eq!(
            actions,
            vec![
                (Endpoint::Users, Action::Create),
                (Endpoint::Users, Action::Replace("bulkId:u1".into())),
                (Endpoint::Groups, Action::Patch("abc".into())),
                (Endpoint::Groups, Action::Delete("abc".into())),
            ]
        );
        assert_eq!(parsed.operations[1].version.as_deref(), Some("W/\"1\""));
        assert_eq!(parsed.operations[3].data, Value::Null);
    }

    #[test]
    fn rejects_malformed_requests() {
        let cases = [
            ("not an object", json!([]), "invalidSyntax", "body"),
            ("no schema", json!({ "Operations": [user("u1")] }), "invalidSyntax", "schemas"),
            ("no operations", json!({ "schemas": [BULK_REQUEST_URN] }), "invalidSyntax", "Operations"),
            ("empty operations", request(json!([])), "invalidSyntax", "Operations"),
            ("operation not an object", request(json!([1])), "invalidSyntax", "Operations[0]"),
            (
                "unknown method",
                request(json!([{ "method": "GET", "path": "/Users/x" }])),
                "invalidValue",
                "Operations[0].method",
            ),
            ("no method", request(json!([{ "path": "/Users/x" }])), "invalidValue", "Operations[0].method"),
            (
                "unknown endpoint",
                request(json!([{ "method": "DELETE", "path": "/Teams/x" }])),
                "invalidValue",
                "Operations[0].path",
            ),
            (
                "nested path",
                request(json!([{ "method": "DELETE", "path": "/Users/x/y" }])),
                "invalidValue",
                "Operations[0].path",
            ),
            (
                "POST to a resource",
                request(json!([{ "method": "POST", "path": "/Users/x", "bulkId": "a", "data": {} }])),
                "invalidValue",
                "Operations[0].path",
            ),
            (
                "PATCH to a collection",
                request(json!([{ "method": "PATCH", "path": "/Users", "data": {} }])),
                "invalidValue",
                "Operations[0].path",
            ),
            (
                "POST without bulkId",
                request(json!([{ "method": "POST", "path": "/Users", "data": {} }])),
                "invalidValue",
                "Operations[0].bulkId",
            ),
            (
                "PUT without data",
                request(json!([{ "method": "PUT", "path": "/Users/x" }])),
                "invalidValue",
                "Operations[0].data",
            ),
            (
                "duplicate bulkId",
                request(json!([user("u1"), user("u1")])),
                "invalidValue",
                "Operations[1].bulkId",
            ),
            (
                "failOnErrors zero",
                json!({ "schemas": [BULK_REQUEST_URN], "failOnErrors": 0, "Operations": [user("u1")] }),
                "invalidValue",
                "failOnErrors",
            ),
        ];
        for (case, body, scim_type, field) in cases {
            let err = parse(&body).expect_err(case);
            let rendered = err.to_scim_body();
            assert_eq!(
                (
                    rendered.status.as_str(),
                    rendered.scim_type.as_deref(),
                    err.field_errors()[0].field.as_str()
                ),
                ("400", Some(scim_type), field),
                "{case}"
            );
        }
    }

    #[test]
    fn too_many_operations_is_too_large() {
        let ops: Vec<Value> = (0..=MAX_OPERATIONS).map(|i| user(&format!("u{i}"))).collect();
        let body = parse(&request(Value::Array(ops))).unwrap_err().to_scim_body();
        assert_eq!((body.status.as_str(), body.scim_type.as_deref()), ("413", Some("tooLarge")));
    }

    #[test]
    fn bulk_ids_resolve_in_data_and_paths() {
        let created = HashMap::from([("u1".to_string(), "id-1".to_string())]);
        let data = json!({ "displayName": "Tour", "members": [{ "value": "bulkId:u1" }, { "value": "x" }] });
        assert_eq!(
            resolve_refs(&data, &created).unwrap(),
            json!({ "displayName": "Tour", "members": [{ "value": "id-1" }, { "value": "x" }] })
        );
        assert_eq!(resolve_id("bulkId:u1", &created).unwrap(), "id-1");
        assert_eq!(resolve_id("plain", &created).unwrap(), "plain");
        let err = resolve_refs(&json!(["bulkId:u2"]), &created).unwrap_err().to_scim_body();
        assert_eq!((err.status.as_str(), err.scim_type.as_deref()), ("409", Some("invalidValue")));
    }

    #[test]
    fn payload_limit_is_the_smaller_of_both() {
        assert_eq!(max_payload_size(4096), 4096);
        assert_eq!(max_payload_size(64 << 20), MAX_PAYLOAD_SIZE);
    }
}
