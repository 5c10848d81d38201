//! What every SCIM read shares: query parameters (`filter`, `startIndex`, `count`, `sortBy`,
//! `sortOrder`, `attributes`, `excludedAttributes`), the same fields of a `/.search` body,
//! the ListResponse envelope, and versions (`meta.version`, `ETag`, `If-Match`).

use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use sea_orm::{
    DatabaseBackend, Order, QueryOrder, QuerySelect,
    sea_query::{Expr, IntoColumnRef},
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{
    filter::{self, Filter},
    query::{self, Resource},
    resource::{self, AttrRef},
    schema::{LIST_RESPONSE_URN, ResourceType, SEARCH_REQUEST_URN},
    value::invalid_value,
};
use crate::error::{ApiError, ErrorKind};

/// Page size when `count` is not given.
pub const DEFAULT_COUNT: u64 = 100;
/// The most resources one page holds (advertised as `filter.maxResults`).
pub const MAX_COUNT: u64 = 1000;

#[derive(Debug, Default)]
pub struct ListParams {
    pub filter: Option<Filter>,
    /// 1-based.
    pub start_index: u64,
    pub count: u64,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub attributes: Vec<AttrRef>,
    pub excluded: Vec<AttrRef>,
}

/// The raw query or search-body values.
#[derive(Clone, Debug, Default)]
pub struct RawListParams {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl RawListParams {
    /// Reads a `POST /.search` body (RFC 7644 §3.4.3).
    pub fn from_search_body(body: &Value) -> Result<Self, ApiError> {
        let Value::Object(map) = body else {
            return Err(invalid_syntax("the search request must be a JSON object"));
        };
        let get = |name: &str| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
        let schemas_ok = get("schemas").and_then(Value::as_array).is_some_and(|s| {
            s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST_URN)))
        });
        if !schemas_ok {
            return Err(invalid_syntax(format!("`schemas` must be [\"{SEARCH_REQUEST_URN}\"]")));
        }
        let string = |name: &str| -> Result<Option<String>, ApiError> {
            match get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(invalid_value(name, "must be a string")),
            }
        };
        let list = |name: &str| -> Result<Option<String>, ApiError> {
            match get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Array(items)) => {
                    let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                    names.map(|n| Some(n.join(","))).ok_or_else(|| invalid_value(name, "must list strings"))
                }
                Some(_) => Err(invalid_value(name, "must be an array of strings")),
            }
        };
        let integer = |name: &str| -> Result<Option<i64>, ApiError> {
            match get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid_value(name, "must be an integer")),
            }
        };
        if let Some(unknown) = map.keys().find(|k| {
            ![
                "schemas",
                "filter",
                "startIndex",
                "count",
                "sortBy",
                "sortOrder",
                "attributes",
                "excludedAttributes",
            ]
            .iter()
            .any(|known| known.eq_ignore_ascii_case(k))
        }) {
            return Err(invalid_value(unknown, "is not a field of a SearchRequest"));
        }
        Ok(Self {
            filter: string("filter")?,
            start_index: integer("startIndex")?,
            count: integer("count")?,
            sort_by: string("sortBy")?,
            sort_order: string("sortOrder")?,
            attributes: list("attributes")?,
            excluded_attributes: list("excludedAttributes")?,
        })
    }

    pub fn parse(self, rt: &'static ResourceType) -> Result<ListParams, ApiError> {
        let filter = match self.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(filter::parse_filter(text)?),
        };
        // RFC 7644 §3.4.2.4: startIndex below 1 means 1; a negative count means 0.
        let start_index = self.start_index.map_or(1, |i| u64::try_from(i.max(1)).unwrap_or(1));
        let count = self.count.map_or(DEFAULT_COUNT, |c| u64::try_from(c.max(0)).unwrap_or(0)).min(MAX_COUNT);
        let descending = match self.sort_order.as_deref() {
            None => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(_) => return Err(invalid_value("sortOrder", "must be `ascending` or `descending`")),
        };
        let attributes = match self.attributes.as_deref() {
            Some(list) => resource::parse_attr_list(rt, list)?,
            None => Vec::new(),
        };
        let excluded = match self.excluded_attributes.as_deref() {
            Some(list) => resource::parse_attr_list(rt, list)?,
            None => Vec::new(),
        };
        Ok(ListParams {
            filter,
            start_index,
            count,
            sort_by: self.sort_by.filter(|s| !s.trim().is_empty()),
            descending,
            attributes,
            excluded,
        })
    }
}

pub fn invalid_syntax(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Validation, "INVALID_SYNTAX", detail).with_scim_type("invalidSyntax")
}

/// The ListResponse envelope (RFC 7644 §3.4.2).
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// Now, to the millisecond: SCIM times have that precision, so a stored row renders the same
/// when read back.
pub fn now(state: &crate::AppState) -> DateTime<Utc> {
    truncated(state.clock.now())
}

/// `at` to the millisecond.
pub fn truncated(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at)
}

/// Orders and cuts one page: by `sortBy` (unassigned values last), then by `id`, all in the
/// requested direction, so pages are stable.
pub fn page<S: QueryOrder + QuerySelect>(
    select: S,
    backend: DatabaseBackend,
    resource: Resource,
    id: impl IntoColumnRef,
    params: &ListParams,
) -> Result<S, ApiError> {
    let order = if params.descending { Order::Desc } else { Order::Asc };
    let mut select = select;
    if let Some(sort_by) = &params.sort_by {
        let expr = query::sort_expr(backend, resource, sort_by)?;
        select = select
            .order_by(Expr::cust(format!("({expr}) IS NULL")), Order::Asc)
            .order_by(Expr::cust(expr), order.clone());
    }
    Ok(select.order_by(Expr::col(id), order).offset(params.start_index - 1).limit(params.count))
}

/// SCIM's time format: RFC 3339, UTC, milliseconds.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A weak entity tag over the resource's representation (without `meta`).
pub fn version_of(resource: &Map<String, Value>) -> String {
    let digest = Sha256::digest(serde_json::to_vec(resource).unwrap_or_default());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

fn opaque(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// Whether an `If-Match`/`If-None-Match` value names `version` (weak comparison, `*` matches).
pub fn tag_matches(header: &str, version: &str) -> bool {
    header.split(',').any(|tag| tag.trim() == "*" || opaque(tag) == opaque(version))
}

/// `If-Match` on a write: 412 when the resource has moved on.
pub fn check_if_match(if_match: Option<&str>, version: &str) -> Result<(), ApiError> {
    match if_match {
        Some(header) if !tag_matches(header, version) => Err(ApiError::new(
            ErrorKind::PreconditionFailed,
            "PRECONDITION_FAILED",
            format!("the resource is at version {version}, not {}", header.trim()),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compare_weakly() {
        assert!(tag_matches("W/\"abc\"", "W/\"abc\""));
        assert!(tag_matches("\"abc\"", "W/\"abc\""));
        assert!(tag_matches("\"x\", W/\"abc\"", "W/\"abc\""));
        assert!(tag_matches("*", "W/\"abc\""));
        assert!(!tag_matches("W/\"abd\"", "W/\"abc\""));
        assert!(check_if_match(Some("W/\"old\""), "W/\"new\"").is_err());
        assert!(check_if_match(None, "W/\"new\"").is_ok());
    }
}
