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
mod tests;
