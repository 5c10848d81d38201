//! SCIM resources in and out, without storage: `parse_resource` turns a POST/PUT body into a
//! canonical document (see `value`), and `project` applies `attributes` / `excludedAttributes`
//! (RFC 7644 §3.4.2.5, §3.9) to a rendered resource. `schemas` and `id` are always returned;
//! `password` is never stored or returned, only handed to the caller.

use serde_json::Value;

use super::filter::is_valid_attr_name;
use super::schema::{Attr, AttrType, Mutability, RESOURCE_TYPES, ResourceType, Returned, Schema, Uniqueness};
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
/// read-only attributes (`groups`) are ignored, as are extensions Guildhall does not serve; the
/// rest must be known and well-typed. Errors are 400 `invalidSyntax` for the envelope and
/// `invalidValue` for attributes.
pub fn parse_resource(rt: &'static ResourceType, body: &Value) -> Result<Parsed, ApiError> {
    let Some(fields) = body.as_object() else {
        return Err(invalid("invalidSyntax", "body", "must be a JSON object"));
    };
    let unknown = check_schemas(rt, fields)?;
    // What sits under an extension Guildhall lacks is neither stored nor returned.
    let under_unknown = |key: &str| {
        unknown.iter().any(|urn| {
            key.get(..urn.len()).is_some_and(|head| head.eq_ignore_ascii_case(urn))
                && key.get(urn.len()..).is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
        })
    };
    let known: Object =
        fields.iter().filter(|(k, _)| !under_unknown(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut doc = Object::new();
    let mut password = None;
    merge_object(rt, &mut doc, &known, Merge::Replace, &mut password)?;
    if let Some(attr) = missing_required(rt, &doc) {
        return Err(invalid("invalidValue", attr.name, "is required"));
    }
    Ok(Parsed { doc: Value::Object(doc), password })
}

/// `schemas` lists the core schema of `rt` and no schema of another resource type; extensions
/// used need not be listed. Returns the listed URNs Guildhall does not serve: IdPs add their own
/// (Entra: `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`), and
/// they are ignored.
fn check_schemas<'a>(rt: &ResourceType, fields: &'a Object) -> Result<Vec<&'a str>, ApiError> {
    let syntax = |message: String| invalid("invalidSyntax", "schemas", message);
    let Some(Value::Array(urns)) = field(fields, "schemas") else {
        return Err(syntax("must be an array of schema URNs".into()));
    };
    let mut unknown = Vec::new();
    for urn in urns {
        let Some(urn) = urn.as_str() else {
            return Err(syntax("must be an array of strings".into()));
        };
        if rt.schema_by_urn(urn).is_some() {
            continue;
        }
        let served = RESOURCE_TYPES.iter().any(|other| other.schema_by_urn(urn).is_some());
        if served {
            return Err(syntax(format!("{urn:?} is not a schema of {}", rt.name)));
        }
        if !urn.is_empty() {
            unknown.push(urn);
        }
    }
    if !urns.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(rt.schema.id))) {
        return Err(syntax(format!("must contain {}", rt.schema.id)));
    }
    Ok(unknown)
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_URN as ENT, GROUP_TYPE, GROUP_URN, USER_TYPE, USER_URN};
    use crate::scim::value::scim_type;

    fn user_body(extra: Value) -> Value {
        let mut body = json!({"schemas": [USER_URN], "userName": "bjensen"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    }

    #[test]
    fn an_entra_user_becomes_a_canonical_doc() {
        let body = json!({
            "schemas": [USER_URN.to_uppercase(), ENT],
            "id": "ignored", "meta": {"resourceType": "User"}, "groups": [{"value": "g1"}],
            "USERNAME": "bjensen@example.com",
            "externalId": "ABC",
            "active": "False",
            "name": {"givenName": "Barbara", "FamilyName": "Jensen", "formatted": ""},
            "emails": {"value": "b@example.com", "type": "work", "primary": "true"},
            "password": "s3cret!",
            "title": null,
            ENT: {"department": "Sales", "manager": {"value": "m-1", "displayName": "ro"}},
            format!("{ENT}:employeeNumber"): "701984",
        });
        let parsed = parse_resource(&USER_TYPE, &body).unwrap();
        assert_eq!(
            parsed.doc,
            json!({
                "userName": "bjensen@example.com",
                "externalId": "ABC",
                "active": false,
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
                ENT: {"department": "Sales", "manager": {"value": "m-1"}, "employeeNumber": "701984"},
            })
        );
        assert_eq!(parsed.password.as_deref(), Some("s3cret!"));
        assert!(!format!("{parsed:?}").contains("s3cret"));
        let empty_extension = user_body(json!({ENT: {"department": ""}}));
        assert_eq!(parse_resource(&USER_TYPE, &empty_extension).unwrap().doc, json!({"userName": "bjensen"}));
    }

    #[test]
    fn extensions_guildhall_lacks_are_ignored() {
        let adscim = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
        let body = json!({
            "schemas": [GROUP_URN, adscim],
            "displayName": "Ops",
            adscim: {"x": 1},
            format!("{adscim}:y"): 2,
        });
        assert_eq!(parse_resource(&GROUP_TYPE, &body).unwrap().doc, json!({"displayName": "Ops"}));
        let custom = "urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User";
        let listed = user_body(json!({"schemas": [USER_URN, custom], custom: {"tag": "a"}}));
        let unlisted = user_body(json!({format!("{custom}:tag"): "a", "roles": []}));
        for body in [listed, unlisted] {
            assert_eq!(
                parse_resource(&USER_TYPE, &body).unwrap().doc,
                json!({"userName": "bjensen"}),
                "{body}"
            );
        }
    }

    #[test]
    fn a_group_keeps_member_values_only() {
        let body = json!({
            "schemas": [GROUP_URN],
            "displayName": "Ops",
            "members": [{"value": "u1", "display": "B", "$ref": "https://x/Users/u1"}, {"value": "u2", "type": "User"}, {"value": "U1"}],
        });
        let doc = parse_resource(&GROUP_TYPE, &body).unwrap().doc;
        assert_eq!(
            doc,
            json!({"displayName": "Ops", "members": [{"value": "u1"}, {"value": "u2", "type": "User"}]})
        );
        let many: Vec<Value> = (0..1_000).map(|i| json!({"value": format!("u{i}")})).collect();
        let body = json!({"schemas": [GROUP_URN], "displayName": "Big", "members": many});
        assert_eq!(
            parse_resource(&GROUP_TYPE, &body).unwrap().doc["members"].as_array().unwrap().len(),
            1_000
        );
    }

    #[test]
    fn bad_bodies_are_rejected() {
        let many: Vec<Value> = (0..101).map(|i| json!({"value": format!("{i}@x.test")})).collect();
        let ent_x = format!("{ENT}:x");
        let two_primaries = json!([{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]);
        for (case, rt, body, scim, field) in [
            ("not an object", &USER_TYPE, json!([]), "invalidSyntax", "body"),
            ("no schemas", &USER_TYPE, json!({"userName": "b"}), "invalidSyntax", "schemas"),
            (
                "schemas not strings",
                &USER_TYPE,
                json!({"schemas": [1], "userName": "b"}),
                "invalidSyntax",
                "schemas",
            ),
            (
                "no core schema",
                &USER_TYPE,
                json!({"schemas": [ENT], "userName": "b"}),
                "invalidSyntax",
                "schemas",
            ),
            (
                "other type's schema",
                &USER_TYPE,
                json!({"schemas": [USER_URN, GROUP_URN]}),
                "invalidSyntax",
                "schemas",
            ),
            (
                "group as user",
                &GROUP_TYPE,
                json!({"schemas": [USER_URN], "displayName": "x"}),
                "invalidSyntax",
                "schemas",
            ),
            ("unknown attribute", &USER_TYPE, user_body(json!({"shoeSize": 42})), "invalidValue", "shoeSize"),
            (
                "unknown sub",
                &USER_TYPE,
                user_body(json!({"name": {"nick": "x"}})),
                "invalidValue",
                "name.nick",
            ),
            ("unknown in extension", &USER_TYPE, user_body(json!({ENT: {"x": 1}})), "invalidValue", &ent_x),
            ("extension not an object", &USER_TYPE, user_body(json!({ENT: "x"})), "invalidValue", ENT),
            ("wrong type", &USER_TYPE, user_body(json!({"active": "yes"})), "invalidValue", "active"),
            (
                "nested too deep",
                &USER_TYPE,
                user_body(json!({"name": {"givenName": {"a": 1}}})),
                "invalidValue",
                "name.givenName",
            ),
            (
                "huge string",
                &USER_TYPE,
                user_body(json!({"title": "x".repeat(2049)})),
                "invalidValue",
                "title",
            ),
            (
                "two primaries",
                &USER_TYPE,
                user_body(json!({"emails": two_primaries})),
                "invalidValue",
                "emails",
            ),
            ("too many values", &USER_TYPE, user_body(json!({"emails": many})), "invalidValue", "emails"),
            ("missing userName", &USER_TYPE, json!({"schemas": [USER_URN]}), "invalidValue", "userName"),
            ("empty userName", &USER_TYPE, user_body(json!({"userName": ""})), "invalidValue", "userName"),
            (
                "missing displayName",
                &GROUP_TYPE,
                json!({"schemas": [GROUP_URN]}),
                "invalidValue",
                "displayName",
            ),
        ] {
            let err = parse_resource(rt, &body).unwrap_err();
            assert_eq!(
                (scim_type(&err).as_str(), err.field_errors()[0].field.as_str()),
                (scim, field),
                "{case}: {err}"
            );
        }
    }

    fn r(schema: &'static str, attr: &'static str, sub: Option<&'static str>) -> AttrRef {
        AttrRef { schema, attr: Some(attr), sub }
    }

    #[test]
    fn attribute_lists_parse() {
        let list = format!(
            " userName, NAME.givenName,emails.VALUE , {ENT}:manager.value,{ENT},meta.lastModified,nope,name.nope,,externalid"
        );
        assert_eq!(
            parse_attr_list(&USER_TYPE, &list).unwrap(),
            [
                r(USER_URN, "userName", None),
                r(USER_URN, "name", Some("givenName")),
                r(USER_URN, "emails", Some("value")),
                r(ENT, "manager", Some("value")),
                AttrRef { schema: ENT, attr: None, sub: None },
                r(USER_URN, "meta", Some("lastModified")),
                r(USER_URN, "externalId", None),
            ]
        );
        assert_eq!(
            parse_attr_list(&GROUP_TYPE, "members.$ref").unwrap(),
            [r(GROUP_URN, "members", Some("$ref"))]
        );
        assert!(parse_attr_list(&USER_TYPE, "").unwrap().is_empty());
        for bad in ["emails[type eq \"work\"]", "user name", "a.b.c", ":userName", "1st"] {
            let err = parse_attr_list(&USER_TYPE, bad).unwrap_err();
            assert_eq!(scim_type(&err), "invalidValue", "{bad}");
        }
    }

    fn rendered() -> Value {
        json!({
            "schemas": [USER_URN, ENT],
            "id": "u1",
            "externalId": "x1",
            "meta": {"resourceType": "User", "lastModified": "2024-01-01T00:00:00Z"},
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
            "groups": [{"value": "g1", "display": "Ops"}],
            ENT: {"department": "Sales", "manager": {"value": "m1", "displayName": "M"}},
        })
    }

    #[test]
    fn projection_keeps_what_was_asked_for() {
        let all = rendered();
        for (case, attributes, excluded, expected) in [
            ("defaults", "", "", all.clone()),
            (
                "one attribute",
                "username",
                "",
                json!({"schemas": [USER_URN], "id": "u1", "userName": "bjensen"}),
            ),
            (
                "sub-attributes",
                "name.givenName,emails.value,meta",
                "",
                json!({
                    "schemas": [USER_URN], "id": "u1", "meta": all["meta"],
                    "name": {"givenName": "Barbara"}, "emails": [{"value": "a@x"}, {"value": "b@x"}],
                }),
            ),
            (
                "an extension attribute",
                &format!("{ENT}:manager.value"),
                "",
                json!({"schemas": [USER_URN, ENT], "id": "u1", ENT: {"manager": {"value": "m1"}}}),
            ),
            ("a whole extension", ENT, "", json!({"schemas": [USER_URN, ENT], "id": "u1", ENT: all[ENT]})),
            (
                "attributes win",
                "userName",
                "userName",
                json!({"schemas": [USER_URN], "id": "u1", "userName": "bjensen"}),
            ),
        ] {
            let attributes = parse_attr_list(&USER_TYPE, attributes).unwrap();
            let excluded = parse_attr_list(&USER_TYPE, excluded).unwrap();
            assert_eq!(project(&USER_TYPE, all.clone(), &attributes, &excluded), expected, "{case}");
        }
    }

    #[test]
    fn exclusion_drops_and_empties() {
        let excluded = parse_attr_list(
            &USER_TYPE,
            &format!("groups,emails.type,id,schemas,{ENT}:department,{ENT}:manager"),
        )
        .unwrap();
        let mut expected = rendered();
        let fields = expected.as_object_mut().unwrap();
        fields.remove("groups");
        fields.remove(ENT);
        fields.insert("schemas".into(), json!([USER_URN]));
        fields.insert("emails".into(), json!([{"value": "a@x"}, {"value": "b@x"}]));
        assert_eq!(project(&USER_TYPE, rendered(), &[], &excluded), expected);
    }

    #[test]
    fn wants_tells_whether_to_load_an_attribute() {
        let list = |s: &str| parse_attr_list(&GROUP_TYPE, s).unwrap();
        for (attributes, excluded, name, expected) in [
            ("", "", "members", true),
            ("", "members", "members", false),
            ("", "members.value", "members", true),
            ("displayName", "", "members", false),
            ("members.value", "", "members", true),
            ("displayName", "", "id", true),
            ("", "", "unknown", true),
        ] {
            assert_eq!(
                wants(&GROUP_TYPE, &list(attributes), &list(excluded), name),
                expected,
                "{attributes} {excluded} {name}"
            );
        }
        let users = parse_attr_list(&USER_TYPE, ENT).unwrap();
        assert!(wants(&USER_TYPE, &users, &[], "manager") && !wants(&USER_TYPE, &users, &[], "groups"));
    }
}
