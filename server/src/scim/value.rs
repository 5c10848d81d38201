//! Attribute values of SCIM resources (RFC 7643 §2) and the canonical document ("doc") that
//! `resource` (POST/PUT) and `patch` both produce. In a doc, core attributes sit at the top level
//! and extension attributes in an object under the extension's URN, spelled as the schema spells
//! them; unassigned values (null, "", [], {}) are omitted; `id`, `meta`, `schemas`, read-only
//! attributes and `password` never appear. Every value passes `coerce_value` on its way in.

use std::collections::HashSet;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};

use super::schema::{Attr, AttrType, Mutability, ResourceType, Returned, Schema, Uniqueness};
use crate::error::ApiError;

pub type Object = Map<String, Value>;

pub const MAX_STRING_CHARS: usize = 2048;
/// Values of one multi-valued attribute, except keyed lists (Group `members`), which are unlimited.
pub const MAX_VALUES: usize = 100;

/// `externalId` (RFC 7643 §3.1) is common to all resource types, so the schema table lacks it.
pub static EXTERNAL_ID: Attr = Attr {
    name: "externalId",
    ty: AttrType::String,
    multi: false,
    required: false,
    case_exact: true,
    mutability: Mutability::ReadWrite,
    returned: Returned::Default,
    uniqueness: Uniqueness::None,
    description: "The identifier of the resource in the provisioning client.",
    sub: &[],
    canonical: &[],
    reference_types: &[],
};

/// Names set by the server (RFC 7643 §3.1): ignored in input, `mutability` as a PATCH target.
const SERVER_SET: [&str; 3] = ["schemas", "id", "meta"];

/// A 400 with the RFC 7644 §3.12 `scimType`; `field` is the attribute path the detail names.
pub fn invalid(scim_type: &'static str, field: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::validation(field, message).with_scim_type(scim_type)
}

/// A 400 `invalidValue` naming `field`.
pub fn invalid_value(field: impl Into<String>, message: impl Into<String>) -> ApiError {
    invalid("invalidValue", field, message)
}

/// `name`'s value in `fields`, the key in any case.
pub fn field<'a>(fields: &'a Object, name: &str) -> Option<&'a Value> {
    fields.get(name).or_else(|| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// `s` as compared for an attribute that is (not) `caseExact`.
pub fn fold(s: &str, case_exact: bool) -> String {
    if case_exact { s.to_string() } else { s.to_lowercase() }
}

// ---- values ----

/// Checks `value` against `attr` and returns it in canonical form: sub-attribute names as the
/// schema spells them, read-only and `$ref` sub-attributes dropped (`$ref` is derived from
/// `value` when rendering), string booleans parsed. `None` means unassigned. Errors are 400
/// `invalidValue` naming `path`.
pub fn coerce_value(attr: &'static Attr, value: &Value, path: &str) -> Result<Option<Value>, ApiError> {
    if !attr.multi {
        return coerce_element(attr, value, path);
    }
    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    if !is_keyed(attr) && items.len() > MAX_VALUES {
        return Err(invalid("invalidValue", path, format!("at most {MAX_VALUES} values")));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut keys = HashSet::new();
    for item in items {
        let Some(item) = coerce_element(attr, item, path)? else { continue };
        if is_keyed(attr) {
            let Some(key) = element_key(attr, &item) else {
                return Err(invalid("invalidValue", format!("{path}.value"), "is required"));
            };
            if !keys.insert(key) {
                continue;
            }
        }
        out.push(item);
    }
    if out.iter().filter(|e| is_primary(e)).count() > 1 {
        return Err(invalid("invalidValue", path, "at most one value may be primary"));
    }
    Ok(Some(Value::Array(out)).filter(|v| !is_empty(v)))
}

/// One value of `attr`: the attribute's value if singular, one element if multi-valued.
pub fn coerce_element(attr: &'static Attr, value: &Value, path: &str) -> Result<Option<Value>, ApiError> {
    let wrong = |what: &str| Err(invalid("invalidValue", path, format!("must be {what}")));
    match (attr.ty, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::Complex, Value::Object(fields)) => coerce_complex(attr, fields, path),
        // Entra sets the enterprise manager by id alone: `"manager": "<id>"`.
        (AttrType::Complex, Value::String(id)) if !attr.multi && attr.sub_attr("value").is_some() => {
            coerce_complex(attr, &Object::from_iter([("value".to_string(), Value::String(id.clone()))]), path)
        }
        (AttrType::Complex, _) => wrong("an object"),
        (AttrType::Boolean, Value::Bool(_)) => Ok(Some(value.clone())),
        // Entra sends booleans as strings: `"active": "False"`.
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (AttrType::Boolean, _) => wrong("a boolean"),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(value.clone())),
        (AttrType::Integer, _) => wrong("an integer"),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(value.clone())),
        (AttrType::Decimal, _) => wrong("a number"),
        (ty, Value::String(s)) => coerce_string(ty, s, path),
        (AttrType::DateTime, _) => wrong("an RFC 3339 date-time string"),
        (AttrType::Binary, _) => wrong("a base64 string"),
        (AttrType::String | AttrType::Reference, _) => wrong("a string"),
    }
}

fn coerce_string(ty: AttrType, s: &str, path: &str) -> Result<Option<Value>, ApiError> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > MAX_STRING_CHARS {
        return Err(invalid("invalidValue", path, format!("longer than {MAX_STRING_CHARS} characters")));
    }
    let valid = match ty {
        AttrType::DateTime => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        AttrType::Binary => STANDARD.decode(s).is_ok(),
        _ => true,
    };
    if !valid {
        let what = if ty == AttrType::Binary { "base64" } else { "an RFC 3339 date-time" };
        return Err(invalid("invalidValue", path, format!("must be {what}")));
    }
    Ok(Some(Value::String(s.to_string())))
}

fn coerce_complex(attr: &'static Attr, fields: &Object, path: &str) -> Result<Option<Value>, ApiError> {
    let mut out = Object::new();
    for (key, value) in fields {
        let Some(sub) = attr.sub_attr(key) else {
            return Err(invalid("invalidValue", format!("{path}.{key}"), "unknown attribute"));
        };
        if sub.mutability == Mutability::ReadOnly || sub.name == "$ref" {
            continue;
        }
        if let Some(value) = coerce_value(sub, value, &format!("{path}.{}", sub.name))? {
            out.insert(sub.name.to_string(), value);
        }
    }
    Ok(Some(Value::Object(out)).filter(|v| !is_empty(v)))
}

/// Whether the elements of `attr` are identified by an immutable `value` (Group `members`):
/// such lists are deduplicated by it, need it in every element and have no `MAX_VALUES`.
pub fn is_keyed(attr: &Attr) -> bool {
    attr.multi && attr.sub_attr("value").is_some_and(|v| v.mutability == Mutability::Immutable)
}

/// The `value` of an element, folded as its sub-attribute compares.
pub fn element_key(attr: &Attr, element: &Value) -> Option<String> {
    let case_exact = attr.sub_attr("value").is_some_and(|v| v.case_exact);
    element.get("value")?.as_str().map(|s| fold(s, case_exact))
}

pub fn is_primary(element: &Value) -> bool {
    element.get("primary").and_then(Value::as_bool) == Some(true)
}

/// Unassigned in the RFC 7644 §3.5.2 sense: null, "", [] or {}.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

// ---- names ----

/// What a key of a request object, or a path, names.
#[derive(Debug)]
pub enum Key {
    /// A schema's URN: the value is an object of that schema's attributes.
    Schema(&'static Schema),
    Attr {
        schema: &'static Schema,
        attr: &'static Attr,
        sub: Option<&'static Attr>,
    },
    /// `schemas`, `id` or `meta`.
    ServerSet,
}

/// Resolves a key (`userName`, `name.givenName`, `urn:...:User:department`, a schema URN) of a
/// `rt` request object, or of the object nested under `within`'s URN. `None`: unknown.
pub fn resolve_key(rt: &ResourceType, within: Option<&'static Schema>, key: &str) -> Option<Key> {
    if within.is_none()
        && let Some(schema) = rt.schema_by_urn(key)
    {
        return Some(Key::Schema(schema));
    }
    let (urn, rest) = match key.rsplit_once(':') {
        Some((urn, rest)) if within.is_none() => (Some(urn), rest),
        Some(_) => return None,
        None => (within.map(|s| s.id), key),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    resolve_name(rt, urn, name, sub)
}

/// Whether `key` is the URN of a schema `rt` lacks (`urn:...:CustomExtension:2.0:User`), or an
/// attribute under one (`urn:...:CustomExtension:2.0:User:costCenter`). IdPs add extensions of
/// their own; what sits under them is ignored rather than refused. An unknown attribute of a
/// known schema is not covered.
pub fn names_unknown_schema(rt: &ResourceType, key: &str) -> bool {
    let is_urn = key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if !is_urn || rt.schema_by_urn(key).is_some() {
        return false;
    }
    key.rsplit_once(':').is_none_or(|(urn, _)| rt.schema_by_urn(urn).is_none())
}

/// Resolves `[urn:]name[.sub]`, names in any case.
pub fn resolve_name(rt: &ResourceType, urn: Option<&str>, name: &str, sub: Option<&str>) -> Option<Key> {
    let schema = match urn {
        Some(urn) => Some(rt.schema_by_urn(urn)?),
        None => None,
    };
    let core = schema.is_none_or(|s| s.id == rt.schema.id);
    // An extension object may repeat its own `schemas` (some clients serialize it that way).
    if (core && SERVER_SET.iter().any(|n| n.eq_ignore_ascii_case(name)))
        || name.eq_ignore_ascii_case("schemas")
    {
        return Some(Key::ServerSet);
    }
    let (schema, attr) = match schema {
        _ if core && name.eq_ignore_ascii_case(EXTERNAL_ID.name) => (rt.schema, &EXTERNAL_ID),
        Some(schema) => (schema, schema.attr(name)?),
        None => rt.resolve(None, name)?,
    };
    let sub = match sub {
        Some(sub) => Some(attr.sub_attr(sub)?),
        None => None,
    };
    Some(Key::Attr { schema, attr, sub })
}

// ---- the doc ----

/// Runs `f` on the object holding `schema`'s attributes in `doc`: `doc` itself for the core
/// schema, else the object under the extension's URN, created if missing, dropped if left empty.
pub fn with_slot<R>(
    doc: &mut Object,
    rt: &ResourceType,
    schema: &Schema,
    f: impl FnOnce(&mut Object) -> R,
) -> R {
    if schema.id == rt.schema.id {
        return f(doc);
    }
    let mut slot = match doc.remove(schema.id) {
        Some(Value::Object(slot)) => slot,
        _ => Object::new(),
    };
    let out = f(&mut slot);
    if !slot.is_empty() {
        doc.insert(schema.id.to_string(), Value::Object(slot));
    }
    out
}

/// The first required attribute `doc` lacks.
pub fn missing_required(rt: &ResourceType, doc: &Object) -> Option<&'static Attr> {
    rt.schemas().find_map(|schema| {
        let slot = if schema.id == rt.schema.id { Some(doc) } else { doc.get(schema.id)?.as_object() };
        schema.attrs.iter().find(|a| a.required && slot.and_then(|s| s.get(a.name)).is_none_or(is_empty))
    })
}

/// How `assign` treats what is already there (RFC 7644 §3.5.2.1, §3.5.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Multi-valued attributes are appended to, skipping duplicates.
    Add,
    /// Multi-valued attributes are replaced wholesale; `None` unassigns.
    Replace,
}

/// Sets `attr` in `slot` to a coerced value: singular values are replaced, complex ones merged
/// sub-attribute by sub-attribute, multi-valued ones per `merge`.
pub fn assign(
    slot: &mut Object,
    attr: &'static Attr,
    value: Option<Value>,
    merge: Merge,
) -> Result<(), ApiError> {
    let Some(value) = value else {
        if merge == Merge::Replace {
            slot.remove(attr.name);
        }
        return Ok(());
    };
    match (value, slot.remove(attr.name)) {
        (Value::Array(new), Some(Value::Array(mut items))) if attr.multi && merge == Merge::Add => {
            let start = items.len();
            if is_keyed(attr) {
                let mut keys: HashSet<String> = items.iter().filter_map(|e| element_key(attr, e)).collect();
                items.extend(new.into_iter().filter(|e| element_key(attr, e).is_none_or(|k| keys.insert(k))));
            } else {
                for element in new {
                    if !items.contains(&element) {
                        items.push(element);
                    }
                }
                check_count(attr, &items)?;
            }
            let end = items.len();
            settle_primary(&mut items, start..end);
            slot.insert(attr.name.to_string(), Value::Array(items));
        }
        (Value::Object(new), Some(Value::Object(mut fields))) if !attr.multi => {
            fields.extend(new);
            slot.insert(attr.name.to_string(), Value::Object(fields));
        }
        (value, _) => {
            slot.insert(attr.name.to_string(), value);
        }
    }
    Ok(())
}

/// Sets (`Some`) or removes (`None`) sub-attribute `sub` of `attr`: in its object if singular, in
/// every element if multi-valued (a new element when there is none to set it in).
pub fn set_sub(
    slot: &mut Object,
    attr: &'static Attr,
    sub: &'static Attr,
    value: Option<Value>,
) -> Result<(), ApiError> {
    if !attr.multi {
        let mut element = slot.remove(attr.name).unwrap_or(Value::Object(Object::new()));
        set_field(&mut element, sub.name, value);
        put(slot, attr.name, element);
        return Ok(());
    }
    let mut items = take_array(slot, attr.name);
    match value {
        Some(value) if items.is_empty() => {
            items.push(Value::Object(Object::from_iter([(sub.name.into(), value)])))
        }
        value => items.iter_mut().for_each(|e| set_field(e, sub.name, value.clone())),
    }
    let all = 0..items.len();
    settle_primary(&mut items, all);
    put(slot, attr.name, Value::Array(items));
    Ok(())
}

/// Sets or removes one field of an element (a no-op on non-objects).
pub fn set_field(element: &mut Value, name: &str, value: Option<Value>) {
    if let Some(fields) = element.as_object_mut() {
        match value {
            Some(value) => fields.insert(name.to_string(), value),
            None => fields.remove(name),
        };
    }
}

/// Removes `name`'s array from `slot` for editing; see `put`.
pub fn take_array(slot: &mut Object, name: &str) -> Vec<Value> {
    match slot.remove(name) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// Stores `value` under `name` unless it is unassigned; empty elements of an array are dropped.
pub fn put(slot: &mut Object, name: &str, mut value: Value) {
    if let Value::Array(items) = &mut value {
        items.retain(|e| !is_empty(e));
    }
    if !is_empty(&value) {
        slot.insert(name.to_string(), value);
    }
}

pub fn check_count(attr: &Attr, items: &[Value]) -> Result<(), ApiError> {
    if !is_keyed(attr) && items.len() > MAX_VALUES {
        return Err(invalid("invalidValue", attr.name, format!("at most {MAX_VALUES} values")));
    }
    Ok(())
}

/// After an operation made one of the `touched` elements primary, no other stays primary
/// (RFC 7644 §3.5.2); the last touched one wins.
pub fn settle_primary(items: &mut [Value], touched: impl IntoIterator<Item = usize>) {
    let Some(winner) = touched.into_iter().filter(|&i| items.get(i).is_some_and(is_primary)).last() else {
        return;
    };
    for (i, element) in items.iter_mut().enumerate() {
        if i != winner && is_primary(element) {
            set_field(element, "primary", Some(Value::Bool(false)));
        }
    }
}

/// Merges an object of attributes (a POST/PUT body, or a PATCH add/replace value without a
/// path) into `doc`: keys in any case, URN-prefixed or nested under their extension's URN, or
/// `attr.sub` for one sub-attribute (Entra). Server-set and read-only attributes are ignored, as
/// RFC 7644 §3.3 asks for bodies; `password` goes to `password`, never into the doc.
pub fn merge_object(
    rt: &ResourceType,
    doc: &mut Object,
    fields: &Object,
    merge: Merge,
    password: &mut Option<String>,
) -> Result<(), ApiError> {
    fields.iter().try_for_each(|(key, value)| merge_key(rt, None, doc, key, value, merge, password))
}

fn merge_key(
    rt: &ResourceType,
    within: Option<&'static Schema>,
    doc: &mut Object,
    key: &str,
    value: &Value,
    merge: Merge,
    password: &mut Option<String>,
) -> Result<(), ApiError> {
    let (schema, attr, sub) = match resolve_key(rt, within, key) {
        None if within.is_none() && names_unknown_schema(rt, key) => return Ok(()),
        None => {
            let name = within.map_or(key.to_string(), |s| format!("{}:{key}", s.id));
            return Err(invalid("invalidValue", name, "unknown attribute"));
        }
        Some(Key::ServerSet) => return Ok(()),
        Some(Key::Schema(schema)) => {
            return match value {
                Value::Null => Ok(()),
                Value::Object(inner) => inner
                    .iter()
                    .try_for_each(|(k, v)| merge_key(rt, Some(schema), doc, k, v, merge, password)),
                _ => Err(invalid("invalidValue", key, "must be an object")),
            };
        }
        Some(Key::Attr { schema, attr, sub }) => (schema, attr, sub),
    };
    if attr.mutability == Mutability::ReadOnly || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly) {
        return Ok(());
    }
    match sub {
        None if attr.mutability == Mutability::WriteOnly => {
            if let Some(Value::String(secret)) = coerce_value(attr, value, attr.name)? {
                *password = Some(secret);
            }
            Ok(())
        }
        None => {
            let value = coerce_value(attr, value, attr.name)?;
            with_slot(doc, rt, schema, |slot| assign(slot, attr, value, merge))
        }
        Some(sub) => {
            let value = coerce_value(sub, value, &format!("{}.{}", attr.name, sub.name))?;
            with_slot(doc, rt, schema, |slot| set_sub(slot, attr, sub, value))
        }
    }
}

#[cfg(test)]
pub(crate) fn scim_type(err: &ApiError) -> String {
    let body = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(err.to_scim_response().into_body().into_string())
        .unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    body["scimType"].as_str().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER, GROUP, USER, USER_TYPE};

    fn user_attr(name: &str) -> &'static Attr {
        USER.attr(name).or_else(|| ENTERPRISE_USER.attr(name)).unwrap()
    }

    #[test]
    fn values_are_coerced_to_their_type() {
        for (attr, input, expected) in [
            ("active", json!("False"), Some(json!(false))),
            ("active", json!("TRUE"), Some(json!(true))),
            ("active", json!(true), Some(json!(true))),
            ("title", json!(""), None),
            ("title", json!(null), None),
            (
                "name",
                json!({"GIVENNAME": "Barbara", "familyName": ""}),
                Some(json!({"givenName": "Barbara"})),
            ),
            ("name", json!({}), None),
            ("manager", json!("m-1"), Some(json!({"value": "m-1"}))),
            (
                "manager",
                json!({"value": "m-1", "displayName": "ro", "$ref": "x"}),
                Some(json!({"value": "m-1"})),
            ),
            ("emails", json!({"value": "a@b.test"}), Some(json!([{"value": "a@b.test"}]))),
            ("emails", json!([null, {}, {"value": "a@b.test"}]), Some(json!([{"value": "a@b.test"}]))),
            ("emails", json!([]), None),
        ] {
            assert_eq!(coerce_value(user_attr(attr), &input, attr).unwrap(), expected, "{attr} {input}");
        }
    }

    #[test]
    fn bad_values_are_invalid_values_naming_the_path() {
        let long = "x".repeat(MAX_STRING_CHARS + 1);
        let many: Vec<Value> = (0..=MAX_VALUES).map(|i| json!({"value": format!("{i}@b.test")})).collect();
        for (attr, input, field) in [
            ("active", json!("yes"), "active"),
            ("active", json!(1), "active"),
            ("title", json!(42), "title"),
            ("title", json!(long), "title"),
            ("title", json!({"a": 1}), "title"),
            ("name", json!("Barbara"), "name"),
            ("name", json!({"nickname": "x"}), "name.nickname"),
            ("name", json!({"givenName": {"x": 1}}), "name.givenName"),
            ("emails", json!([{"value": "a", "primary": true}, {"value": "b", "primary": "True"}]), "emails"),
            ("emails", json!([{"value": 7}]), "emails.value"),
            ("emails", Value::Array(many), "emails"),
        ] {
            let err = coerce_value(user_attr(attr), &input, attr).unwrap_err();
            assert_eq!(err.field_errors()[0].field, field, "{attr} {input}");
            assert_eq!(scim_type(&err), "invalidValue", "{attr}");
        }
        let exact = "é".repeat(MAX_STRING_CHARS);
        assert!(coerce_value(user_attr("title"), &json!(exact), "title").is_ok(), "limit counts characters");
    }

    #[test]
    fn members_are_keyed_by_value_and_unlimited() {
        let members = GROUP.attr("members").unwrap();
        assert!(is_keyed(members) && !is_keyed(user_attr("emails")));
        let many: Vec<Value> = (0..500).map(|i| json!({"value": format!("u{i}"), "display": "ro"})).collect();
        let mut input = many.clone();
        input.push(json!({"value": "U1", "type": "User"}));
        let out = coerce_value(members, &Value::Array(input), "members").unwrap().unwrap();
        assert_eq!(out.as_array().unwrap().len(), 500);
        assert_eq!(out[1], json!({"value": "u1"}));
        let err = coerce_value(members, &json!([{"type": "User"}]), "members").unwrap_err();
        assert_eq!(err.field_errors()[0].field, "members.value");
    }

    #[test]
    fn keys_resolve_in_any_spelling() {
        let enterprise = ENTERPRISE_USER.id;
        for (key, expected) in [
            ("USERNAME", Some(("userName", None))),
            ("name.givenname", Some(("name", Some("givenName")))),
            ("externalid", Some(("externalId", None))),
            (&format!("{}:department", enterprise.to_uppercase()), Some(("department", None))),
            (&format!("{}:displayName", USER.id), Some(("displayName", None))),
            ("department", Some(("department", None))),
            ("name.nope", None),
            ("nope", None),
            ("urn:x:y:department", None),
        ] {
            let found = match resolve_key(&USER_TYPE, None, key) {
                Some(Key::Attr { attr, sub, .. }) => Some((attr.name, sub.map(|s| s.name))),
                _ => None,
            };
            assert_eq!(found, expected, "{key}");
        }
        assert!(matches!(resolve_key(&USER_TYPE, None, "ID"), Some(Key::ServerSet)));
        assert!(matches!(resolve_key(&USER_TYPE, None, enterprise), Some(Key::Schema(_))));
        assert!(resolve_key(&USER_TYPE, Some(&ENTERPRISE_USER), "userName").is_none());
    }

    #[test]
    fn only_keys_of_schemas_guildhall_lacks_are_unknown_schemas() {
        let custom = "urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User";
        for (key, expected) in [
            (custom, true),
            (&format!("{custom}:costCenter"), true),
            (&format!("{}:department", ENTERPRISE_USER.id.to_uppercase()), false),
            (&format!("{}:shoeSize", ENTERPRISE_USER.id), false),
            (&format!("{}:shoeSize", USER.id), false),
            (ENTERPRISE_USER.id, false),
            ("shoeSize", false),
            ("http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User", false),
        ] {
            assert_eq!(names_unknown_schema(&USER_TYPE, key), expected, "{key}");
        }
        let mut doc = Object::new();
        let fields = json!({
            custom: {"costCenter": "4130"},
            format!("{custom}:division"): "Sales",
            "userName": "bjensen",
        });
        merge_object(&USER_TYPE, &mut doc, fields.as_object().unwrap(), Merge::Replace, &mut None).unwrap();
        assert_eq!(Value::Object(doc), json!({"userName": "bjensen"}));
    }
}
