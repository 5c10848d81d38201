//! SCIM PATCH (RFC 7644 §3.5.2) on a canonical document (see `value`). `apply` works on a copy,
//! so a request applies entirely or not at all. It takes what Entra ID and Okta send: op names in
//! any case, string booleans, dotted and URN-prefixed keys in path-less values, a value-filter
//! path that creates the element it names, member removal by a value list, `replace members []`.
//! While operations run, a keyed list (Group `members`) lives in a hash index, so 10,000 members
//! and 10,000 operations stay linear. Decisions: removing a required attribute is `mutability`;
//! removing with a filter that matches nothing is a no-op (IdPs retry removals).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::filter::{Filter, PatchPath, parse_path};
use super::schema::{Attr, AttrType, Mutability, PATCH_OP_URN, ResourceType, Schema};
use super::value::{
    Key, Merge, Object, assign, check_count, coerce_element, coerce_value, element_key, field, fold, invalid,
    is_keyed, merge_object, missing_required, put, resolve_name, set_field, set_sub, settle_primary,
    take_array, with_slot,
};
use super::value_filter::{check_filter, element_from_eq, matches, value_eq_key};
use crate::error::ApiError;

pub const MAX_OPERATIONS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

/// One operation of a PatchOp message; `value` is present for add and replace.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// The result of `apply`: the new doc, and the password an operation set (never in the doc).
pub struct Applied {
    pub doc: Value,
    pub password: Option<String>,
}

impl std::fmt::Debug for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = self.password.as_ref().map(|_| "<redacted>");
        f.debug_struct("Applied").field("doc", &self.doc).field("password", &password).finish()
    }
}

/// Parses a PatchOp message. Errors are 400 `invalidSyntax`, or `invalidPath` for a bad path.
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOp>, ApiError> {
    let syntax = |field: &str, message: String| invalid("invalidSyntax", field, message);
    let Some(fields) = body.as_object() else {
        return Err(syntax("body", "must be a JSON object".into()));
    };
    let schemas = field(fields, "schemas").and_then(Value::as_array);
    if !schemas
        .is_some_and(|s| s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP_URN))))
    {
        return Err(syntax("schemas", format!("must contain {PATCH_OP_URN}")));
    }
    let ops = match field(fields, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => return Err(syntax("Operations", "must be a non-empty array".into())),
    };
    if ops.len() > MAX_OPERATIONS {
        return Err(syntax("Operations", format!("at most {MAX_OPERATIONS} operations")));
    }
    ops.iter().enumerate().map(|(i, op)| parse_op(i, op)).collect()
}

fn parse_op(i: usize, op: &Value) -> Result<PatchOp, ApiError> {
    let at = |name: &str| format!("Operations[{i}].{name}");
    let Some(fields) = op.as_object() else {
        return Err(invalid("invalidSyntax", format!("Operations[{i}]"), "must be an object"));
    };
    // Entra spells them "Add", "Replace", "Remove".
    let op = match field(fields, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("add") => OpKind::Add,
        Some("remove") => OpKind::Remove,
        Some("replace") => OpKind::Replace,
        _ => return Err(invalid("invalidSyntax", at("op"), r#"must be "add", "remove" or "replace""#)),
    };
    let path = match field(fields, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) => {
            Some(parse_path(path).map_err(|e| invalid("invalidPath", at("path"), e.to_string()))?)
        }
        Some(_) => return Err(invalid("invalidPath", at("path"), "must be a string")),
    };
    let value = field(fields, "value").cloned();
    if op != OpKind::Remove && value.is_none() {
        return Err(invalid("invalidSyntax", at("value"), "is required for add and replace"));
    }
    Ok(PatchOp { op, path, value })
}

/// Applies `ops` in order to a copy of `doc`; the first failing operation fails them all.
pub fn apply(rt: &'static ResourceType, doc: &Value, ops: &[PatchOp]) -> Result<Applied, ApiError> {
    let mut run =
        Run { rt, doc: doc.as_object().cloned().unwrap_or_default(), members: None, password: None };
    for op in ops {
        run.op(op)?;
    }
    run.flush_members();
    if let Some(attr) = missing_required(rt, &run.doc) {
        return Err(invalid("mutability", attr.name, "is required and can't be removed"));
    }
    Ok(Applied { doc: Value::Object(run.doc), password: run.password })
}

/// What a path names: an attribute, one of its sub-attributes, and a filter on its elements.
struct Target<'a> {
    schema: &'static Schema,
    attr: &'static Attr,
    sub: Option<&'static Attr>,
    filter: Option<&'a Filter>,
    /// `attr[.sub]`, for messages.
    name: String,
}

struct Run {
    rt: &'static ResourceType,
    doc: Object,
    /// A keyed list taken out of `doc` while operations edit it; `flush_members` puts it back.
    members: Option<Members>,
    password: Option<String>,
}

impl Run {
    fn op(&mut self, op: &PatchOp) -> Result<(), ApiError> {
        let merge = if op.op == OpKind::Add { Merge::Add } else { Merge::Replace };
        let value = op.value.as_ref().unwrap_or(&Value::Null);
        let Some(path) = &op.path else {
            if op.op == OpKind::Remove {
                return Err(invalid("noTarget", "path", "remove needs a path"));
            }
            let Value::Object(fields) = value else {
                return Err(invalid(
                    "invalidValue",
                    "value",
                    "must be an object of attributes without a path",
                ));
            };
            self.flush_members();
            return merge_object(self.rt, &mut self.doc, fields, merge, &mut self.password);
        };
        // A whole extension (`"path": "urn:...:enterprise:2.0:User"`).
        if let Some(schema) = whole_extension(self.rt, path) {
            if op.op == OpKind::Remove {
                self.flush_members();
                self.doc.remove(schema.id);
                return Ok(());
            }
            let fields = Object::from_iter([(schema.id.to_string(), value.clone())]);
            self.flush_members();
            return merge_object(self.rt, &mut self.doc, &fields, merge, &mut self.password);
        }
        let target = resolve(self.rt, path)?;
        if is_keyed(target.attr) {
            if self.keyed_op(op.op, &target, op.value.as_ref())? {
                return Ok(());
            }
            self.flush_members();
        }
        match (op.op, target.attr.mutability) {
            (OpKind::Remove, _) => self.remove(&target, op.value.as_ref()),
            (_, Mutability::WriteOnly) => {
                if let Some(Value::String(secret)) = coerce_value(target.attr, value, &target.name)? {
                    self.password = Some(secret);
                }
                Ok(())
            }
            _ => self.set(&target, value, merge),
        }
    }

    fn set(&mut self, t: &Target, value: &Value, merge: Merge) -> Result<(), ApiError> {
        let (attr, sub) = (t.attr, t.sub);
        let new = match (sub, t.filter) {
            (Some(sub), _) => coerce_value(sub, value, &t.name)?,
            (None, Some(_)) => coerce_element(attr, value, &t.name)?,
            (None, None) => coerce_value(attr, value, &t.name)?,
        };
        with_slot(&mut self.doc, self.rt, t.schema, |slot| match (t.filter, sub) {
            (None, Some(sub)) => set_sub(slot, attr, sub, new),
            (None, None) => assign(slot, attr, new, merge),
            (Some(filter), _) => {
                let mut items = take_array(slot, attr.name);
                let result = set_matching(&mut items, t, filter, new, merge);
                put(slot, attr.name, Value::Array(items));
                result
            }
        })
    }

    fn remove(&mut self, t: &Target, value: Option<&Value>) -> Result<(), ApiError> {
        let (attr, sub) = (t.attr, t.sub);
        with_slot(&mut self.doc, self.rt, t.schema, |slot| match (t.filter, sub, value) {
            (None, None, Some(listed)) if attr.multi && !listed.is_null() => {
                let mut items = take_array(slot, attr.name);
                let (keys, others) = listed_keys(attr, listed);
                items.retain(|e| {
                    !element_key(attr, e).is_some_and(|k| keys.contains(&k)) && !others.contains(e)
                });
                put(slot, attr.name, Value::Array(items));
                Ok(())
            }
            (None, None, _) => {
                slot.remove(attr.name);
                Ok(())
            }
            (None, Some(sub), _) => set_sub(slot, attr, sub, None),
            (Some(filter), sub, _) => {
                let mut items = take_array(slot, attr.name);
                match sub {
                    Some(sub) => items
                        .iter_mut()
                        .filter(|e| matches(attr, filter, e))
                        .for_each(|e| set_field(e, sub.name, None)),
                    None => items.retain(|e| !matches(attr, filter, e)),
                }
                put(slot, attr.name, Value::Array(items));
                Ok(())
            }
        })
    }

    /// The operations on a keyed list that its index serves; `false` for the others.
    fn keyed_op(&mut self, op: OpKind, t: &Target, value: Option<&Value>) -> Result<bool, ApiError> {
        let value = value.unwrap_or(&Value::Null);
        match (op, t.sub, t.filter) {
            (OpKind::Add | OpKind::Replace, None, None) => {
                let new = coerce_value(t.attr, value, &t.name)?;
                let members = self.members(t);
                if op == OpKind::Replace {
                    members.clear();
                }
                new.into_iter().flat_map(take_elements).for_each(|e| members.add(e));
            }
            (OpKind::Remove, None, None) if value.is_null() => self.members(t).clear(),
            (OpKind::Remove, None, None) => {
                let (keys, _) = listed_keys(t.attr, value);
                let members = self.members(t);
                keys.iter().for_each(|k| members.remove(k));
            }
            (OpKind::Remove, None, Some(filter)) => match value_eq_key(t.attr, filter) {
                Some(key) => self.members(t).remove(&key),
                None => return Ok(false),
            },
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The index of `t`'s keyed list, loading it from the doc on first use.
    fn members(&mut self, t: &Target) -> &mut Members {
        if self.members.as_ref().is_some_and(|m| m.attr.name != t.attr.name) {
            self.flush_members();
        }
        let (doc, rt) = (&mut self.doc, self.rt);
        self.members.get_or_insert_with(|| {
            let items = with_slot(doc, rt, t.schema, |slot| take_array(slot, t.attr.name));
            let mut members =
                Members { schema: t.schema, attr: t.attr, items: Vec::new(), index: HashMap::new() };
            items.into_iter().for_each(|e| members.add(e));
            members
        })
    }

    fn flush_members(&mut self) {
        if let Some(m) = self.members.take() {
            let items: Vec<Value> = m.items.into_iter().flatten().collect();
            with_slot(&mut self.doc, self.rt, m.schema, |slot| put(slot, m.attr.name, Value::Array(items)));
        }
    }
}

/// Add or replace with a value filter: on every matching element, or on a new one when none
/// matches and the filter describes it (Entra: `emails[type eq "work"].value`).
fn set_matching(
    items: &mut Vec<Value>,
    t: &Target,
    filter: &Filter,
    new: Option<Value>,
    merge: Merge,
) -> Result<(), ApiError> {
    let hits: Vec<usize> =
        (0..items.len()).filter(|&i| items.get(i).is_some_and(|e| matches(t.attr, filter, e))).collect();
    if !hits.is_empty() {
        for &i in &hits {
            let Some(element) = items.get_mut(i) else { continue };
            match (t.sub, merge, &new) {
                (Some(sub), _, new) => set_field(element, sub.name, new.clone()),
                (None, Merge::Replace, new) => *element = new.clone().unwrap_or(Value::Null),
                (None, Merge::Add, Some(Value::Object(new))) => {
                    new.iter().for_each(|(k, v)| set_field(element, k, Some(v.clone())))
                }
                (None, Merge::Add, _) => {}
            }
        }
        settle_primary(items, hits);
        return Ok(());
    }
    let Some(mut element) = element_from_eq(t.attr, filter)? else {
        return Err(invalid("noTarget", t.name.clone(), "no value matches the filter"));
    };
    match (t.sub, new) {
        (Some(sub), Some(new)) => set_field(&mut element, sub.name, Some(new)),
        (None, Some(Value::Object(new))) => {
            for (k, v) in new {
                // The filter's values win: the new element must match it.
                if element.get(&k).is_none() {
                    set_field(&mut element, &k, Some(v));
                }
            }
        }
        _ => return Ok(()),
    }
    items.push(element);
    check_count(t.attr, items)?;
    let last = items.len() - 1;
    settle_primary(items, [last]);
    Ok(())
}

/// A keyed list with removal by tombstone: each operation is O(1) per element it names.
struct Members {
    schema: &'static Schema,
    attr: &'static Attr,
    items: Vec<Option<Value>>,
    index: HashMap<String, usize>,
}

impl Members {
    fn add(&mut self, element: Value) {
        match element_key(self.attr, &element) {
            Some(key) if self.index.contains_key(&key) => {}
            Some(key) => {
                self.index.insert(key, self.items.len());
                self.items.push(Some(element));
            }
            None => self.items.push(Some(element)),
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(slot) = self.index.remove(key).and_then(|i| self.items.get_mut(i)) {
            *slot = None;
        }
    }

    fn clear(&mut self) {
        self.items.clear();
        self.index.clear();
    }
}

fn take_elements(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

/// The elements a remove's `value` lists (Entra: `[{"value": "id1"}, ...]`): folded `value`s,
/// and any other listed values, matched whole.
fn listed_keys(attr: &Attr, listed: &Value) -> (HashSet<String>, Vec<Value>) {
    let case_exact = attr.sub_attr("value").is_some_and(|v| v.case_exact);
    let mut keys = HashSet::new();
    let mut others = Vec::new();
    for item in take_elements(listed.clone()) {
        match item.get("value").and_then(Value::as_str).or(item.as_str()) {
            Some(key) => {
                keys.insert(fold(key, case_exact));
            }
            None => others.push(item),
        }
    }
    (keys, others)
}

fn whole_extension(rt: &ResourceType, path: &PatchPath) -> Option<&'static Schema> {
    let urn = format!("{}:{}", path.attr.schema.as_deref()?, path.attr.attr);
    let schema = rt.schema_by_urn(&urn)?;
    (schema.id != rt.schema.id && path.attr.sub_attr.is_none() && path.value_filter.is_none())
        .then_some(schema)
}

fn resolve<'a>(rt: &ResourceType, path: &'a PatchPath) -> Result<Target<'a>, ApiError> {
    let a = &path.attr;
    let sub = a.sub_attr.as_deref().or(path.sub_attr.as_deref());
    let name = match sub {
        Some(sub) => format!("{}.{sub}", a.attr),
        None => a.attr.clone(),
    };
    let (schema, attr, sub) = match resolve_name(rt, a.schema.as_deref(), &a.attr, sub) {
        Some(Key::Attr { schema, attr, sub }) => (schema, attr, sub),
        Some(Key::ServerSet) => return Err(invalid("mutability", name, "is read-only")),
        Some(Key::Schema(_)) | None => return Err(invalid("invalidPath", name, "unknown attribute")),
    };
    let read_only = |a: &Attr| matches!(a.mutability, Mutability::ReadOnly | Mutability::Immutable);
    if attr.mutability == Mutability::ReadOnly || sub.is_some_and(read_only) {
        return Err(invalid("mutability", name, "is read-only"));
    }
    if let Some(filter) = &path.value_filter {
        if !attr.multi || attr.ty != AttrType::Complex {
            return Err(invalid("invalidPath", name, "only multi-valued complex attributes take a filter"));
        }
        check_filter(attr, filter)?;
    }
    Ok(Target { schema, attr, sub, filter: path.value_filter.as_ref(), name })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_URN as ENT, GROUP_TYPE, USER_TYPE, USER_URN};
    use crate::scim::value::scim_type;

    fn message(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP_URN], "Operations": ops})
    }

    fn op(op: &str, path: &str, value: Value) -> Value {
        json!({"op": op, "path": path, "value": value})
    }

    fn patch(rt: &'static ResourceType, doc: &Value, ops: Value) -> Result<Applied, ApiError> {
        apply(rt, doc, &parse_patch(&message(ops))?)
    }

    fn patched(doc: &Value, ops: Value) -> Value {
        patch(&USER_TYPE, doc, ops).unwrap().doc
    }

    fn user() -> Value {
        json!({
            "userName": "bjensen",
            "name": {"familyName": "Jensen"},
            "active": true,
            "emails": [
                {"value": "b@work.test", "type": "work", "primary": true},
                {"value": "b@home.test", "type": "home"},
            ],
        })
    }

    fn group(members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        json!({"displayName": "Ops", "members": members})
    }

    fn member_ids(doc: &Value) -> Vec<&str> {
        doc["members"].as_array().map_or(vec![], |m| m.iter().map(|m| m["value"].as_str().unwrap()).collect())
    }

    fn home_email(doc: &Value) -> Value {
        doc["emails"].as_array().unwrap().iter().find(|e| e["type"] == "home").cloned().unwrap_or_default()
    }

    #[test]
    fn bad_messages_are_rejected() {
        let add = op("add", "title", json!("x"));
        let too_many = Value::Array(vec![add.clone(); MAX_OPERATIONS + 1]);
        for (case, body, scim, field) in [
            ("not an object", json!([add]), "invalidSyntax", "body"),
            ("no schemas", json!({"Operations": [add]}), "invalidSyntax", "schemas"),
            (
                "wrong schemas",
                json!({"schemas": [USER_URN], "Operations": [add]}),
                "invalidSyntax",
                "schemas",
            ),
            ("no operations", json!({"schemas": [PATCH_OP_URN]}), "invalidSyntax", "Operations"),
            ("empty operations", message(json!([])), "invalidSyntax", "Operations"),
            ("operations not an array", message(add.clone()), "invalidSyntax", "Operations"),
            ("too many operations", message(too_many), "invalidSyntax", "Operations"),
            ("operation not an object", message(json!(["add"])), "invalidSyntax", "Operations[0]"),
            (
                "unknown op",
                message(json!([op("move", "title", json!(1))])),
                "invalidSyntax",
                "Operations[0].op",
            ),
            ("no op", message(json!([{"value": "x"}])), "invalidSyntax", "Operations[0].op"),
            (
                "bad path",
                message(json!([add, op("remove", "a[b eq", json!(null))])),
                "invalidPath",
                "Operations[1].path",
            ),
            (
                "path not a string",
                message(json!([{"op": "remove", "path": 7}])),
                "invalidPath",
                "Operations[0].path",
            ),
            (
                "no value",
                message(json!([{"op": "add", "path": "title"}])),
                "invalidSyntax",
                "Operations[0].value",
            ),
        ] {
            let err = parse_patch(&body).unwrap_err();
            assert_eq!(
                (scim_type(&err).as_str(), err.field_errors()[0].field.as_str()),
                (scim, field),
                "{case}"
            );
        }
        let err = parse_patch(&message(json!([{"op": "remove", "path": "emails[type eq"}]))).unwrap_err();
        assert!(err.to_string().contains("expected a value after \"eq\""), "{err}");
        let lenient =
            json!({"SCHEMAS": [PATCH_OP_URN.to_uppercase()], "operations": [{"OP": "add", "Value": {}}]});
        assert_eq!(parse_patch(&lenient).unwrap().len(), 1);
    }

    #[test]
    fn entra_op_names_in_any_case() {
        for (name, kind) in [
            ("Add", OpKind::Add),
            ("Replace", OpKind::Replace),
            ("Remove", OpKind::Remove),
            ("rEPLACE", OpKind::Replace),
        ] {
            assert_eq!(parse_patch(&message(json!([op(name, "title", json!("B"))]))).unwrap()[0].op, kind);
        }
        let doc =
            patched(&user(), json!([op("Add", "title", json!("Boss")), {"op": "Remove", "path": "name"}]));
        assert_eq!((&doc["title"], doc.get("name")), (&json!("Boss"), None));
    }

    #[test]
    fn entra_active_as_string() {
        for ops in [
            json!([op("Replace", "active", json!("False"))]),
            json!([{"op": "replace", "value": {"active": "False"}}]),
            json!([{"op": "replace", "value": {"active": false}}]),
            json!([op("Add", "ACTIVE", json!("false"))]),
        ] {
            assert_eq!(patched(&user(), ops.clone())["active"], json!(false), "{ops}");
        }
    }

    #[test]
    fn entra_dotted_and_urn_keys_without_path() {
        let value = json!({
            "name.givenName": "Barbara",
            format!("{ENT}:department"): "Sales",
            format!("{ENT}:manager"): {"value": "m-1"},
            format!("{USER_URN}:displayName"): "Babs",
            "id": "ignored", "meta": {"created": "ignored"}, "schemas": ["ignored"],
        });
        let doc = patched(&user(), json!([{"op": "Add", "value": value}]));
        assert_eq!(doc["name"], json!({"familyName": "Jensen", "givenName": "Barbara"}));
        assert_eq!(doc[ENT], json!({"department": "Sales", "manager": {"value": "m-1"}}));
        assert_eq!(doc["displayName"], "Babs");
        assert!(doc.get("id").is_none() && doc.get("meta").is_none());
        let doc = patched(&doc, json!([{"op": "replace", "value": {format!("{ENT}:manager"): "m-2"}}]));
        assert_eq!(doc[ENT]["manager"], json!({"value": "m-2"}));
        let nested = patched(&user(), json!([{"op": "add", "value": {ENT: {"Department": "Ops"}}}]));
        assert_eq!(nested[ENT], json!({"department": "Ops"}));
    }

    #[test]
    fn entra_emails_type_work_value_path_creates_element() {
        let bare = json!({"userName": "b"});
        let doc = patched(
            &bare,
            json!([
                op("Add", "emails[type eq \"work\"].value", json!("b@work.test")),
                op("Replace", "emails[type eq \"work\"].primary", json!("True")),
                op("Add", "addresses[type eq \"work\"].locality", json!("Oslo")),
                op("Replace", "phoneNumbers[type eq \"mobile\" and primary eq true].value", json!("+47")),
            ]),
        );
        assert_eq!(doc["emails"], json!([{"type": "work", "value": "b@work.test", "primary": true}]));
        assert_eq!(doc["addresses"], json!([{"type": "work", "locality": "Oslo"}]));
        assert_eq!(doc["phoneNumbers"], json!([{"type": "mobile", "primary": true, "value": "+47"}]));
        // An existing match is updated in place, not duplicated.
        let doc =
            patched(&user(), json!([op("Replace", "emails[type eq \"work\"].value", json!("n@work.test"))]));
        assert_eq!(doc["emails"][0], json!({"value": "n@work.test", "type": "work", "primary": true}));
        assert_eq!(doc["emails"].as_array().unwrap().len(), 2);
        // Nothing to set: nothing created.
        let doc = patched(&bare, json!([op("Replace", "emails[type eq \"work\"].value", json!(""))]));
        assert!(doc.get("emails").is_none());
    }

    #[test]
    fn entra_manager_by_value() {
        let path = format!("{ENT}:manager");
        let doc = patched(&user(), json!([op("Replace", &path, json!("m-2"))]));
        assert_eq!(doc[ENT], json!({"manager": {"value": "m-2"}}));
        let doc = patched(&doc, json!([op("Add", &path, json!({"value": "m-3", "displayName": "ro"}))]));
        assert_eq!(doc[ENT], json!({"manager": {"value": "m-3"}}));
        let doc = patched(&doc, json!([op("Replace", &format!("{path}.value"), json!("m-4"))]));
        assert_eq!(doc[ENT], json!({"manager": {"value": "m-4"}}));
        let doc = patched(&doc, json!([{"op": "Remove", "path": path}]));
        assert!(doc.get(ENT).is_none(), "an emptied extension is dropped: {doc}");
    }

    #[test]
    fn entra_remove_members_by_value_list() {
        let listed = json!([{"value": "u1"}, {"value": "U3"}, {"value": "nobody"}]);
        let out = patch(&GROUP_TYPE, &group(&["u1", "u2", "u3"]), json!([op("Remove", "members", listed)]));
        assert_eq!(member_ids(&out.unwrap().doc), ["u2"]);
        // The same form on a list without an index.
        let doc = patched(&user(), json!([op("remove", "emails", json!([{"value": "B@HOME.test"}]))]));
        assert_eq!(doc["emails"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn okta_replace_members_empty() {
        let doc = group(&["u1", "u2"]);
        let out = patch(&GROUP_TYPE, &doc, json!([op("replace", "members", json!([]))])).unwrap().doc;
        assert_eq!(out, json!({"displayName": "Ops"}));
        let ops = json!([
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "remove", "path": "members[value eq \"u9\"]"},
            op("add", "members", json!([{"value": "u2", "display": "ro"}, {"value": "u3", "type": "User"}])),
            {"op": "replace", "value": {"displayName": "Ops 2"}},
            op("add", "members", json!({"value": "u4"})),
        ]);
        let out = patch(&GROUP_TYPE, &doc, ops).unwrap().doc;
        assert_eq!(
            out["members"],
            json!([{"value": "u2"}, {"value": "u3", "type": "User"}, {"value": "u4"}])
        );
        assert_eq!(out["displayName"], "Ops 2");
    }

    #[test]
    fn ten_thousand_members_in_one_add_and_in_many_ops() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
        let values: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
        let started = std::time::Instant::now();
        let doc = patch(&GROUP_TYPE, &group(&["user-0"]), json!([op("add", "members", json!(values))]));
        let doc = doc.unwrap().doc;
        assert_eq!(member_ids(&doc).len(), 10_000);
        let removes = ids
            .iter()
            .step_by(2)
            .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}));
        let adds = ids.iter().take(4_999).map(|id| op("add", "members", json!([{"value": id}])));
        let doc = patch(&GROUP_TYPE, &doc, removes.chain(adds).collect()).unwrap().doc;
        assert_eq!(member_ids(&doc).len(), 10_000);
        assert!(started.elapsed().as_secs() < 10, "took {:?}", started.elapsed());
    }

    #[test]
    fn a_failing_operation_fails_them_all() {
        let doc = user();
        let before = doc.clone();
        let ops = json!([
            op("replace", "title", json!("Boss")),
            {"op": "remove", "path": "emails"},
            op("replace", "active", json!("maybe")),
        ]);
        assert_eq!(scim_type(&patch(&USER_TYPE, &doc, ops).unwrap_err()), "invalidValue");
        assert_eq!(doc, before);
    }

    #[test]
    fn a_new_primary_demotes_the_others() {
        let primaries = |doc: &Value| -> Vec<bool> {
            doc["emails"].as_array().unwrap().iter().map(|e| e["primary"] == true).collect()
        };
        let doc =
            patched(&user(), json!([op("add", "emails", json!([{"value": "n@x.test", "primary": true}]))]));
        assert_eq!(primaries(&doc), [false, false, true]);
        assert_eq!(doc["emails"][0]["primary"], json!(false));
        let doc = patched(&user(), json!([op("replace", "emails[type eq \"home\"].primary", json!(true))]));
        assert_eq!(primaries(&doc), [false, true]);
        let doc = patched(
            &user(),
            json!([{"op": "add", "value": {"emails": {"value": "m@x", "primary": "true"}}}]),
        );
        assert_eq!(primaries(&doc), [false, false, true]);
    }

    #[test]
    fn add_and_replace_merge_as_the_rfc_says() {
        let both = json!([{"value": "b@home.test", "type": "home"}, {"value": "c@x.test"}]);
        let family = json!({"familyName": "Jensen", "givenName": "B"});
        for (case, ops, key, expected) in [
            ("add appends, once", json!([{"op": "add", "value": {"emails": both}}]), "count", json!(3)),
            ("replace replaces", json!([{"op": "replace", "value": {"emails": both}}]), "count", json!(2)),
            (
                "replace, path",
                json!([op("replace", "emails", json!({"value": "c@x.test"}))]),
                "count",
                json!(1),
            ),
            ("add, path", json!([op("add", "emails", json!({"value": "c@x.test"}))]), "count", json!(3)),
            (
                "complex merges",
                json!([op("replace", "name", json!({"givenName": "B"}))]),
                "name",
                family.clone(),
            ),
            ("sub-attribute", json!([op("add", "name.GivenName", json!("B"))]), "name", family),
            ("null unassigns", json!([op("replace", "name", json!(null))]), "name", json!(null)),
            (
                "filter, add merges",
                json!([op("add", "emails[type eq \"home\"]", json!({"display": "H"}))]),
                "home",
                json!({"value": "b@home.test", "type": "home", "display": "H"}),
            ),
            (
                "filter, replace replaces",
                json!([op("replace", "emails[type eq \"home\"]", json!({"value": "h@x", "type": "home"}))]),
                "home",
                json!({"value": "h@x", "type": "home"}),
            ),
            (
                "sub-attribute of every element",
                json!([op("replace", "emails.display", json!("E"))]),
                "home",
                json!({"value": "b@home.test", "type": "home", "display": "E"}),
            ),
        ] {
            let doc = patched(&user(), ops);
            let got = match key {
                "count" => json!(doc["emails"].as_array().unwrap().len()),
                "home" => home_email(&doc),
                _ => doc.get(key).cloned().unwrap_or_default(),
            };
            assert_eq!(got, expected, "{case}: {doc}");
        }
    }

    #[test]
    fn remove_forms() {
        let values = |doc: &Value, name: &str| -> Value {
            doc["emails"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.get(name).cloned().unwrap_or_default())
                .collect()
        };
        for (case, path, key, expected) in [
            ("attribute", "name", "name", json!(null)),
            ("last sub-attribute", "name.familyName", "name", json!(null)),
            ("matching elements", "emails[type eq \"home\"]", "value", json!(["b@work.test"])),
            ("no match is fine", "emails[type eq \"fax\"]", "value", json!(["b@work.test", "b@home.test"])),
            ("sub-attribute of matches", "emails[type eq \"work\"].type", "type", json!([null, "home"])),
            ("sub-attribute of all", "emails.type", "type", json!([null, null])),
            ("the whole extension", ENT, ENT, json!(null)),
        ] {
            let mut doc = user();
            doc[ENT] = json!({"department": "Ops"});
            let doc = patched(&doc, json!([{"op": "remove", "path": path}]));
            let got = if key == "value" || key == "type" { values(&doc, key) } else { doc[key].clone() };
            assert_eq!(got, expected, "{case}: {doc}");
        }
    }

    #[test]
    fn password_is_reported_not_stored() {
        for ops in [
            json!([op("replace", "password", json!("s3cret!"))]),
            json!([{"op": "add", "value": {"PASSWORD": "s3cret!"}}]),
        ] {
            let applied = patch(&USER_TYPE, &user(), ops).unwrap();
            assert_eq!(applied.password.as_deref(), Some("s3cret!"));
            assert!(applied.doc.get("password").is_none());
            assert!(!format!("{applied:?}").contains("s3cret"));
        }
    }

    #[test]
    fn bad_operations_are_rejected() {
        let many: Vec<Value> = (0..100).map(|i| json!({"value": format!("{i}@x.test")})).collect();
        let null = Value::Null;
        let manager_name = format!("{ENT}:manager.displayName");
        for (case, ops, scim, field) in [
            ("remove without path", json!({"op": "remove"}), "noTarget", "path"),
            (
                "no match, not eq",
                op("replace", "emails[value co \"zz\"].type", json!("x")),
                "noTarget",
                "emails.type",
            ),
            ("remove required", op("remove", "userName", null.clone()), "mutability", "userName"),
            ("blank required", op("replace", "userName", json!("")), "mutability", "userName"),
            ("read-only", op("add", "groups", json!([{"value": "g"}])), "mutability", "groups"),
            ("id", op("replace", "id", json!("x")), "mutability", "id"),
            ("meta", op("replace", "meta.created", json!("x")), "mutability", "meta.created"),
            ("read-only sub", op("replace", &manager_name, json!("x")), "mutability", "manager.displayName"),
            ("unknown attribute", op("replace", "nope", json!("x")), "invalidPath", "nope"),
            ("unknown sub-attribute", op("replace", "name.nope", json!("x")), "invalidPath", "name.nope"),
            ("unknown schema", op("replace", "urn:x:y:title", json!("x")), "invalidPath", "title"),
            (
                "filter on singular",
                op("replace", "title[value eq \"x\"]", json!("x")),
                "invalidPath",
                "title",
            ),
            (
                "unknown filter name",
                op("replace", "emails[x eq \"x\"].type", json!("x")),
                "invalidFilter",
                "emails.x",
            ),
            (
                "ordered boolean",
                op("remove", "emails[primary gt true]", null.clone()),
                "invalidFilter",
                "emails",
            ),
            ("wrong type", op("replace", "title", json!(42)), "invalidValue", "title"),
            ("wrong type, no path", json!({"op": "replace", "value": {"name": "B"}}), "invalidValue", "name"),
            ("unknown key, no path", json!({"op": "add", "value": {"nope": 1}}), "invalidValue", "nope"),
            ("value not an object", json!({"op": "add", "value": "x"}), "invalidValue", "value"),
            ("huge string", op("replace", "title", json!("x".repeat(2049))), "invalidValue", "title"),
            ("too many values", op("add", "emails", json!(many)), "invalidValue", "emails"),
        ] {
            let err = patch(&USER_TYPE, &user(), json!([ops])).unwrap_err();
            assert_eq!(
                (scim_type(&err).as_str(), err.field_errors()[0].field.as_str()),
                (scim, field),
                "{case}: {err}"
            );
        }
        for (case, ops, scim, field) in [
            ("blank required", op("replace", "displayName", json!("")), "mutability", "displayName"),
            (
                "immutable",
                op("replace", "members[value eq \"u1\"].value", json!("u2")),
                "mutability",
                "members.value",
            ),
            (
                "member without value",
                op("add", "members", json!([{"type": "User"}])),
                "invalidValue",
                "members.value",
            ),
        ] {
            let err = patch(&GROUP_TYPE, &group(&["u1"]), json!([ops])).unwrap_err();
            assert_eq!(
                (scim_type(&err).as_str(), err.field_errors()[0].field.as_str()),
                (scim, field),
                "{case}: {err}"
            );
        }
    }
}
