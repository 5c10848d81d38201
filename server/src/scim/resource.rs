//! SCIM resources in and out, without storage: `parse_resource` turns a POST/PUT body into a
//! canonical document (see `value`), and `project` applies `attributes` / `excludedAttributes`
//! (RFC 7644 §3.4.2.5, §3.9) to a rendered resource. `schemas` and `id` are always returned;
//! `password` is never stored or returned, only handed to the caller.

use serde_json::Value;

use super::filter::is_valid_attr_name;
use super::schema::{Attr, AttrType, Mutability, ResourceType, Returned, Schema, Uniqueness};
pub use super::value::coerce_value;
use super::value::{EXTERNAL_ID, Merge, Object, field, invalid, merge_object, missing_required};
use crate::error::ApiError;

/// A POST/PUT body as a canonical document, and the password it set (never in the doc).
pub struct Parsed {
    pub doc: Value,
    pub password: Option<String>,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = self.password.as_ref().map(|_| "<redacted>");
        f.debug_struct("Parsed").field("doc", &self.doc).field("password", &password).finish()
    }
}

/// Parses a POST or PUT body of `rt` (RFC 7644 §3.3, §3.5.1). Server-set (`id`, `meta`) and
/// read-only attributes are ignored; the rest must be known and well-typed. Errors are 400
/// `invalidSyntax` for the envelope and `invalidValue` for attributes.
pub fn parse_resource(rt: &'static ResourceType, body: &Value) -> Result<Parsed, ApiError> {
    let Some(fields) = body.as_object() else {
        return Err(invalid("invalidSyntax", "body", "must be a JSON object"));
    };
    check_schemas(rt, fields)?;
    let mut doc = Object::new();
    let mut password = None;
    merge_object(rt, &mut doc, fields, Merge::Replace, &mut password)?;
    if let Some(attr) = missing_required(rt, &doc) {
        return Err(invalid("invalidValue", attr.name, "is required"));
    }
    Ok(Parsed { doc: Value::Object(doc), password })
}

/// `schemas` lists the core schema and nothing `rt` lacks. Extensions used need not be listed.
fn check_schemas(rt: &ResourceType, fields: &Object) -> Result<(), ApiError> {
    let syntax = |message: String| invalid("invalidSyntax", "schemas", message);
    let Some(Value::Array(urns)) = field(fields, "schemas") else {
        return Err(syntax("must be an array of schema URNs".into()));
    };
    for urn in urns {
        match urn.as_str() {
            None => return Err(syntax("must be an array of strings".into())),
            Some(urn) if rt.schema_by_urn(urn).is_none() => {
                return Err(syntax(format!("{urn:?} is not a schema of {}", rt.name)));
            }
            Some(_) => {}
        }
    }
    if !urns.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(rt.schema.id))) {
        return Err(syntax(format!("must contain {}", rt.schema.id)));
    }
    Ok(())
}

// ---- attributes and excludedAttributes ----

const fn common(name: &'static str, ty: AttrType, returned: Returned, sub: &'static [Attr]) -> Attr {
    Attr {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: true,
        mutability: Mutability::ReadOnly,
        returned,
        uniqueness: Uniqueness::None,
        description: "",
        sub,
        canonical: &[],
        reference_types: &[],
    }
}

/// RFC 7643 §3.1 common attributes; with `EXTERNAL_ID`, what a rendered resource holds beyond
/// its schemas' attributes.
static ID: Attr = common("id", AttrType::String, Returned::Always, &[]);
static META: Attr = common(
    "meta",
    AttrType::Complex,
    Returned::Default,
    &[
        common("resourceType", AttrType::String, Returned::Default, &[]),
        common("created", AttrType::DateTime, Returned::Default, &[]),
        common("lastModified", AttrType::DateTime, Returned::Default, &[]),
        common("location", AttrType::Reference, Returned::Default, &[]),
        common("version", AttrType::String, Returned::Default, &[]),
    ],
);

/// One item of an `attributes` or `excludedAttributes` list, names as the schema spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrRef {
    /// The URN of the attribute's schema; `id`, `externalId` and `meta` count as the core one's.
    pub schema: &'static str,
    /// `None` for a whole schema (`urn:...:enterprise:2.0:User`).
    pub attr: Option<&'static str>,
    pub sub: Option<&'static str>,
}

impl AttrRef {
    /// Whether this names `attr` of `schema` (or all of `schema`).
    fn names(&self, schema: &Schema, attr: Option<&Attr>) -> bool {
        self.schema == schema.id && self.attr.is_none_or(|name| attr.is_some_and(|a| a.name == name))
    }
}

/// Parses a comma-separated `attributes` / `excludedAttributes` value: `[urn:]attr[.sub]` in
/// any case. Unknown names are ignored (RFC 7644 §3.9 lets them be); malformed ones are 400
/// `invalidValue`. Blank items are skipped.
pub fn parse_attr_list(rt: &'static ResourceType, s: &str) -> Result<Vec<AttrRef>, ApiError> {
    let mut refs = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if let Some(schema) = rt.schema_by_urn(item) {
            refs.push(AttrRef { schema: schema.id, attr: None, sub: None });
            continue;
        }
        let (urn, rest) = match item.rsplit_once(':') {
            Some((urn, rest)) => (Some(urn), rest),
            None => (None, item),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        let well_formed = is_valid_attr_name(name)
            && sub.is_none_or(|s| s == "$ref" || is_valid_attr_name(s))
            && urn.is_none_or(|u| !u.is_empty() && !u.contains(char::is_whitespace));
        if !well_formed {
            return Err(invalid("invalidValue", item, "is not an attribute path"));
        }
        let Some((schema, attr)) = find(rt, urn, name) else { continue };
        let sub = match sub {
            Some(sub) => match attr.sub_attr(sub) {
                Some(sub) => Some(sub.name),
                None => continue,
            },
            None => None,
        };
        refs.push(AttrRef { schema: schema.id, attr: Some(attr.name), sub });
    }
    Ok(refs)
}

/// An attribute of a rendered `rt` resource: a schema's, or a common one.
fn find(rt: &ResourceType, urn: Option<&str>, name: &str) -> Option<(&'static Schema, &'static Attr)> {
    let core = urn.is_none_or(|u| u.eq_ignore_ascii_case(rt.schema.id));
    let common = [&ID, &EXTERNAL_ID, &META].into_iter().find(|a| a.name.eq_ignore_ascii_case(name));
    match common {
        Some(attr) if core => Some((rt.schema, attr)),
        _ => rt.resolve(urn, name),
    }
}

/// Whether a resource rendered under these lists keeps attribute `name` (`members`, `groups`),
/// so a caller can skip loading what would be dropped. Unknown names are wanted.
pub fn wants(rt: &'static ResourceType, attributes: &[AttrRef], excluded: &[AttrRef], name: &str) -> bool {
    let (urn, name) = match name.rsplit_once(':') {
        Some((urn, name)) => (Some(urn), name),
        None => (None, name),
    };
    let Some((schema, attr)) = find(rt, urn, name) else { return true };
    match attr.returned {
        Returned::Always => true,
        Returned::Never => false,
        _ if !attributes.is_empty() => attributes.iter().any(|r| r.names(schema, Some(attr))),
        Returned::Request => false,
        Returned::Default => !excluded.iter().any(|r| r.sub.is_none() && r.names(schema, Some(attr))),
    }
}

/// Applies `attributes` (if not empty) or else `excludedAttributes` to a rendered resource.
/// Always-returned attributes stay; a sub-attribute selection applies to each value of a
/// multi-valued attribute; an extension left empty goes, and its URN leaves `schemas`.
pub fn project(
    rt: &'static ResourceType,
    resource: Value,
    attributes: &[AttrRef],
    excluded: &[AttrRef],
) -> Value {
    let Value::Object(fields) = resource else { return resource };
    let mut out = Object::new();
    let mut schemas = None;
    for (key, value) in fields {
        match rt.schema_by_urn(&key) {
            _ if key == "schemas" => {
                schemas = Some(value);
                out.insert(key, Value::Null); // keeps its place
            }
            Some(ext) if ext.id != rt.schema.id => {
                let Value::Object(inner) = value else { continue };
                let inner: Object = inner
                    .into_iter()
                    .filter_map(|(k, v)| project_attr(rt, ext, k, v, attributes, excluded))
                    .collect();
                if !inner.is_empty() {
                    out.insert(key, Value::Object(inner));
                }
            }
            _ => {
                if let Some((k, v)) = project_attr(rt, rt.schema, key, value, attributes, excluded) {
                    out.insert(k, v);
                }
            }
        }
    }
    if let Some(Value::Array(urns)) = schemas {
        let kept = urns.into_iter().filter(|u| {
            u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(rt.schema.id) || out.contains_key(u))
        });
        out.insert("schemas".into(), Value::Array(kept.collect()));
    }
    Value::Object(out)
}

fn project_attr(
    rt: &ResourceType,
    schema: &'static Schema,
    key: String,
    value: Value,
    attributes: &[AttrRef],
    excluded: &[AttrRef],
) -> Option<(String, Value)> {
    let attr = find(rt, Some(schema.id), &key).map(|(_, a)| a);
    let returned = attr.map_or(Returned::Default, |a| a.returned);
    let (refs, keep_named) = match returned {
        Returned::Always => return Some((key, value)),
        Returned::Never => return None,
        _ if !attributes.is_empty() => (attributes, true),
        Returned::Request => return None,
        Returned::Default => (excluded, false),
    };
    let refs: Vec<&AttrRef> = refs.iter().filter(|r| r.names(schema, attr)).collect();
    if refs.iter().any(|r| r.sub.is_none()) {
        return keep_named.then_some((key, value));
    }
    let subs: Vec<&str> = refs.iter().filter_map(|r| r.sub).collect();
    match (keep_named, subs.is_empty()) {
        (true, true) => None,
        (false, true) => Some((key, value)),
        _ => keep_subs(value, &|s| subs.contains(&s) == keep_named).map(|v| (key, v)),
    }
}

/// `value` with only the sub-attributes `keep` accepts, in each element if an array; `None`
/// when nothing is left.
fn keep_subs(value: Value, keep: &dyn Fn(&str) -> bool) -> Option<Value> {
    let value = match value {
        Value::Object(fields) => Value::Object(fields.into_iter().filter(|(k, _)| keep(k)).collect()),
        Value::Array(items) => Value::Array(items.into_iter().filter_map(|e| keep_subs(e, keep)).collect()),
        other => other,
    };
    Some(value).filter(|v| !super::value::is_empty(v))
}
