//! Unit tests of `patch`, table-driven where the cases share a shape; named for the IdP whose
//! request they replay where one does.

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
        ("wrong schemas", json!({"schemas": [USER_URN], "Operations": [add]}), "invalidSyntax", "schemas"),
        ("no operations", json!({"schemas": [PATCH_OP_URN]}), "invalidSyntax", "Operations"),
        ("empty operations", message(json!([])), "invalidSyntax", "Operations"),
        ("operations not an array", message(add.clone()), "invalidSyntax", "Operations"),
        ("too many operations", message(too_many), "invalidSyntax", "Operations"),
        ("operation not an object", message(json!(["add"])), "invalidSyntax", "Operations[0]"),
        ("unknown op", message(json!([op("move", "title", json!(1))])), "invalidSyntax", "Operations[0].op"),
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
        assert_eq!((scim_type(&err).as_str(), err.field_errors()[0].field.as_str()), (scim, field), "{case}");
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
    let doc = patched(&user(), json!([op("Add", "title", json!("Boss")), {"op": "Remove", "path": "name"}]));
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
    assert_eq!(out["members"], json!([{"value": "u2"}, {"value": "u3", "type": "User"}, {"value": "u4"}]));
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
    // 5,000 removals, one per operation, then 4,999 of them added back one by one.
    let evens = || ids.iter().step_by(2);
    let removes = evens().map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}));
    let adds = evens().take(4_999).map(|id| op("add", "members", json!([{"value": id}])));
    let doc = patch(&GROUP_TYPE, &doc, removes.chain(adds).collect()).unwrap().doc;
    assert_eq!(member_ids(&doc).len(), 9_999);
    assert_eq!(member_ids(&doc).last(), Some(&"user-9996"));
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
    let doc = patched(&user(), json!([op("add", "emails", json!([{"value": "n@x.test", "primary": true}]))]));
    assert_eq!(primaries(&doc), [false, false, true]);
    assert_eq!(doc["emails"][0]["primary"], json!(false));
    let doc = patched(&user(), json!([op("replace", "emails[type eq \"home\"].primary", json!(true))]));
    assert_eq!(primaries(&doc), [false, true]);
    let doc =
        patched(&user(), json!([{"op": "add", "value": {"emails": {"value": "m@x", "primary": "true"}}}]));
    assert_eq!(primaries(&doc), [false, false, true]);
}

#[test]
fn add_and_replace_merge_as_the_rfc_says() {
    let both = json!([{"value": "b@home.test", "type": "home"}, {"value": "c@x.test"}]);
    let family = json!({"familyName": "Jensen", "givenName": "B"});
    for (case, ops, key, expected) in [
        ("add appends, once", json!([{"op": "add", "value": {"emails": both}}]), "count", json!(3)),
        ("replace replaces", json!([{"op": "replace", "value": {"emails": both}}]), "count", json!(2)),
        ("replace, path", json!([op("replace", "emails", json!({"value": "c@x.test"}))]), "count", json!(1)),
        ("add, path", json!([op("add", "emails", json!({"value": "c@x.test"}))]), "count", json!(3)),
        ("complex merges", json!([op("replace", "name", json!({"givenName": "B"}))]), "name", family.clone()),
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
        doc["emails"].as_array().unwrap().iter().map(|e| e.get(name).cloned().unwrap_or_default()).collect()
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
        ("filter on singular", op("replace", "title[value eq \"x\"]", json!("x")), "invalidPath", "title"),
        (
            "unknown filter name",
            op("replace", "emails[x eq \"x\"].type", json!("x")),
            "invalidFilter",
            "emails.x",
        ),
        ("ordered boolean", op("remove", "emails[primary gt true]", null.clone()), "invalidFilter", "emails"),
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
