//! Unit tests of `filter`: the grammar, its limits and the errors it names, table-driven.

use super::*;

fn path(attr: &str) -> AttrPath {
    AttrPath { schema: None, attr: attr.into(), sub_attr: None }
}

fn sub(attr: &str, sub: &str) -> AttrPath {
    AttrPath { schema: None, attr: attr.into(), sub_attr: Some(sub.into()) }
}

fn urn(schema: &str, attr: &str, sub: Option<&str>) -> AttrPath {
    AttrPath { schema: Some(schema.into()), attr: attr.into(), sub_attr: sub.map(Into::into) }
}

fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
    Filter::Compare { path, op, value }
}

fn eq(attr: &str, value: &str) -> Filter {
    cmp(path(attr), CompareOp::Eq, s(value))
}

fn eq_n(attr: &str, value: i64) -> Filter {
    cmp(path(attr), CompareOp::Eq, CompValue::Number(value.into()))
}

fn s(value: &str) -> CompValue {
    CompValue::String(value.into())
}

fn num(text: &str) -> CompValue {
    CompValue::Number(serde_json::from_str(text).unwrap())
}

fn pr(attr: &str) -> Filter {
    Filter::Present(path(attr))
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(vec![a, b])
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(vec![a, b])
}

fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

fn vp(attr: AttrPath, filter: Filter) -> Filter {
    Filter::ValuePath { attr, filter: Box::new(filter) }
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn assert_parses(cases: Vec<(&str, Filter)>) {
    for (input, expected) in cases {
        match parse_filter(input) {
            Ok(filter) => assert_eq!(filter, expected, "{input}"),
            Err(e) => panic!("{input}: {e}"),
        }
    }
}

#[test]
fn every_operator_parses_in_any_case() {
    for op in CompareOp::ALL {
        for spelled in [op.as_str().to_string(), op.as_str().to_uppercase()] {
            let input = format!("meta.lastModified {spelled} \"2011-05-13T04:42:34Z\"");
            let expected = cmp(sub("meta", "lastModified"), op, s("2011-05-13T04:42:34Z"));
            assert_eq!(parse_filter(&input).unwrap(), expected, "{input}");
        }
    }
    assert_parses(vec![
        ("title pr", pr("title")),
        ("title PR", pr("title")),
        ("userName EQ \"x\"", eq("userName", "x")),
        ("userName Eq \"x\"", eq("userName", "x")),
    ]);
}

#[test]
fn and_binds_tighter_than_or() {
    assert_parses(vec![
        ("a eq 1 or b eq 2 and c eq 3", or(eq_n("a", 1), and(eq_n("b", 2), eq_n("c", 3)))),
        ("a eq 1 and b eq 2 or c eq 3", or(and(eq_n("a", 1), eq_n("b", 2)), eq_n("c", 3))),
        ("a eq 1 or b eq 2 or c eq 3", Filter::Or(vec![eq_n("a", 1), eq_n("b", 2), eq_n("c", 3)])),
        ("a eq 1 and b eq 2 and c eq 3", Filter::And(vec![eq_n("a", 1), eq_n("b", 2), eq_n("c", 3)])),
        (
            "a eq 1 or b eq 2 and c eq 3 and d eq 4 or e eq 5",
            Filter::Or(vec![
                eq_n("a", 1),
                Filter::And(vec![eq_n("b", 2), eq_n("c", 3), eq_n("d", 4)]),
                eq_n("e", 5),
            ]),
        ),
        // Parentheses nest: only a chain of one operator at one level is flattened.
        ("(a eq 1 or b eq 2) or c eq 3", or(or(eq_n("a", 1), eq_n("b", 2)), eq_n("c", 3))),
        ("(a eq 1 or b eq 2) and c eq 3", and(or(eq_n("a", 1), eq_n("b", 2)), eq_n("c", 3))),
        ("a pr And b pr", and(pr("a"), pr("b"))),
        ("a pr OR b pr", or(pr("a"), pr("b"))),
        ("a pr aNd (b pr oR c pr)", and(pr("a"), or(pr("b"), pr("c")))),
    ]);
}

#[test]
fn parentheses_and_not_group() {
    assert_parses(vec![
        ("(userName eq \"x\")", eq("userName", "x")),
        ("((userName eq \"x\"))", eq("userName", "x")),
        ("not (userName eq \"x\")", not(eq("userName", "x"))),
        ("NOT(userName eq \"x\")", not(eq("userName", "x"))),
        ("not (a pr or b pr) and c pr", and(not(or(pr("a"), pr("b"))), pr("c"))),
        ("not (not (a pr))", not(not(pr("a")))),
        ("  ( a  pr )   and\tb pr  ", and(pr("a"), pr("b"))),
        ("(a pr)and(b pr)", and(pr("a"), pr("b"))),
        // An attribute that happens to be called "not".
        ("not pr", pr("not")),
        ("not eq 1", eq_n("not", 1)),
    ]);
}

#[test]
fn value_paths_hold_relative_filters() {
    assert_parses(vec![
        ("emails[type eq \"work\"]", vp(path("emails"), eq("type", "work"))),
        (
            "emails[type eq \"work\" and value co \"@example.com\"]",
            vp(path("emails"), and(eq("type", "work"), cmp(path("value"), CompareOp::Co, s("@example.com")))),
        ),
        (
            "emails[type eq \"work\" or not (primary eq false)]",
            vp(
                path("emails"),
                or(eq("type", "work"), not(cmp(path("primary"), CompareOp::Eq, CompValue::Bool(false)))),
            ),
        ),
        (
            "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
            and(
                eq("userType", "Employee"),
                vp(
                    path("emails"),
                    and(eq("type", "work"), cmp(path("value"), CompareOp::Co, s("@example.com"))),
                ),
            ),
        ),
        (
            "emails[type eq \"work\"] or ims[type eq \"xmpp\"]",
            or(vp(path("emails"), eq("type", "work")), vp(path("ims"), eq("type", "xmpp"))),
        ),
        (&format!("{USER}:emails[value pr]"), vp(urn(USER, "emails", None), pr("value"))),
        ("members[value eq \"2819c223\"]", vp(path("members"), eq("value", "2819c223"))),
    ]);
}

#[test]
fn urn_prefixed_and_sub_attributes() {
    let user_name = format!("{USER}:userName eq \"bjensen\"");
    let given = format!("{USER}:name.givenName sw \"B\"");
    let manager = format!("{ENTERPRISE}:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"");
    let employee = format!("{ENTERPRISE}:employeeNumber pr");
    assert_parses(vec![
        (&user_name, cmp(urn(USER, "userName", None), CompareOp::Eq, s("bjensen"))),
        (&given, cmp(urn(USER, "name", Some("givenName")), CompareOp::Sw, s("B"))),
        (
            &manager,
            cmp(
                urn(ENTERPRISE, "manager", Some("value")),
                CompareOp::Eq,
                s("26118915-6090-4610-87e4-49d8ca9f808d"),
            ),
        ),
        (&employee, Filter::Present(urn(ENTERPRISE, "employeeNumber", None))),
        ("name.familyName co \"O'Malley\"", cmp(sub("name", "familyName"), CompareOp::Co, s("O'Malley"))),
        ("x-attr_2 pr", pr("x-attr_2")),
    ]);
}

#[test]
fn values_are_json() {
    for (literal, value) in [
        (r#""""#, s("")),
        (r#""a\"b""#, s("a\"b")),
        (r#""back\\slash""#, s("back\\slash")),
        (r#""tab\there\nnew""#, s("tab\there\nnew")),
        (r#""\u00e9t\u00E9""#, s("été")),
        (r#""\ud83d\ude00""#, s("😀")),
        (r#""日本語 😀""#, s("日本語 😀")),
        (r#""a ) and ( b ] [""#, s("a ) and ( b ] [")),
        (r#""\/""#, s("/")),
        ("0", num("0")),
        ("42", num("42")),
        ("-7", num("-7")),
        ("3.25", num("3.25")),
        ("-0.5", num("-0.5")),
        ("1e3", num("1e3")),
        ("2.5E-2", num("2.5E-2")),
        ("18446744073709551615", num("18446744073709551615")),
        ("true", CompValue::Bool(true)),
        ("false", CompValue::Bool(false)),
        ("True", CompValue::Bool(true)),
        ("FALSE", CompValue::Bool(false)),
        ("null", CompValue::Null),
    ] {
        let input = format!("x eq {literal}");
        assert_eq!(parse_filter(&input).unwrap(), cmp(path("x"), CompareOp::Eq, value), "{input}");
    }
}

#[test]
fn identity_provider_probes_parse() {
    assert_parses(vec![
        ("userName eq \"test.user@example.com\"", eq("userName", "test.user@example.com")),
        ("externalId eq \"abc\"", eq("externalId", "abc")),
        ("displayName eq \"Group A\"", eq("displayName", "Group A")),
        (
            "userName eq \"ryan@example.com\" and active eq true",
            and(
                eq("userName", "ryan@example.com"),
                cmp(path("active"), CompareOp::Eq, CompValue::Bool(true)),
            ),
        ),
        (
            "id eq \"1\" or id eq \"2\"", // Entra's group-membership probe shape
            or(eq("id", "1"), eq("id", "2")),
        ),
    ]);
    // Entra batches up to 100 terms in one `or`.
    let names: Vec<String> = (0..100).map(|i| format!("some.person.name{i}@example.com")).collect();
    let input = names.iter().map(|n| format!("userName eq \"{n}\"")).collect::<Vec<_>>().join(" or ");
    assert!(input.len() < MAX_FILTER_LEN / 8, "{}", input.len());
    let expected = Filter::Or(names.iter().map(|n| eq("userName", n)).collect());
    assert_eq!(parse_filter(&input).unwrap(), expected);
}

#[test]
fn a_sub_attribute_after_a_value_path_joins_its_filter() {
    let work = || eq("type", "work");
    assert_parses(vec![
        // Entra, matching on an email.
        ("emails[type eq \"work\"].value eq \"x\"", vp(path("emails"), and(work(), eq("value", "x")))),
        ("emails[type eq \"work\"].value pr", vp(path("emails"), and(work(), pr("value")))),
        (
            "emails[type eq \"work\"].value CO \"@example.com\"",
            vp(path("emails"), and(work(), cmp(path("value"), CompareOp::Co, s("@example.com")))),
        ),
        (
            "emails[type eq \"work\" and primary eq true].value ne \"x\"",
            vp(
                path("emails"),
                Filter::And(vec![
                    work(),
                    cmp(path("primary"), CompareOp::Eq, CompValue::Bool(true)),
                    cmp(path("value"), CompareOp::Ne, s("x")),
                ]),
            ),
        ),
        (
            "emails[type eq \"work\" or type eq \"home\"].value eq \"x\"",
            vp(path("emails"), and(or(work(), eq("type", "home")), eq("value", "x"))),
        ),
        (
            "members[value eq \"a\"].value ne \"b\" or userName eq \"c\"",
            or(
                vp(path("members"), and(eq("value", "a"), cmp(path("value"), CompareOp::Ne, s("b")))),
                eq("userName", "c"),
            ),
        ),
        (
            &format!("{USER}:emails[type eq \"work\"].value eq \"x\""),
            vp(urn(USER, "emails", None), and(work(), eq("value", "x"))),
        ),
    ]);
    for op in CompareOp::ALL {
        let input = format!("emails[type eq \"work\"].value {} \"x\"", op.as_str());
        let expected = vp(path("emails"), and(work(), cmp(path("value"), op, s("x"))));
        assert_eq!(parse_filter(&input).unwrap(), expected, "{input}");
    }
}

#[test]
fn patch_paths() {
    for (input, expected) in [
        (
            "emails[type eq \"work\"].value",
            PatchPath {
                attr: path("emails"),
                value_filter: Some(eq("type", "work")),
                sub_attr: Some("value".into()),
            },
        ),
        (
            "members[value eq \"2819c223\"]",
            PatchPath { attr: path("members"), value_filter: Some(eq("value", "2819c223")), sub_attr: None },
        ),
        ("name.givenName", PatchPath { attr: sub("name", "givenName"), value_filter: None, sub_attr: None }),
        ("userName", PatchPath { attr: path("userName"), value_filter: None, sub_attr: None }),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            PatchPath { attr: urn(ENTERPRISE, "manager", None), value_filter: None, sub_attr: None },
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            PatchPath { attr: urn(ENTERPRISE, "manager", Some("value")), value_filter: None, sub_attr: None },
        ),
        (
            "addresses[type eq \"work\" and primary eq true].streetAddress",
            PatchPath {
                attr: path("addresses"),
                value_filter: Some(and(
                    eq("type", "work"),
                    cmp(path("primary"), CompareOp::Eq, CompValue::Bool(true)),
                )),
                sub_attr: Some("streetAddress".into()),
            },
        ),
        ("  active ", PatchPath { attr: path("active"), value_filter: None, sub_attr: None }),
    ] {
        match parse_path(input) {
            Ok(parsed) => assert_eq!(parsed, expected, "{input}"),
            Err(e) => panic!("{input}: {e}"),
        }
    }
}

#[test]
fn bad_patch_paths_are_rejected() {
    for (input, message, position) in [
        ("", "the path is empty", 0),
        ("   ", "the path is empty", 0),
        ("emails[type eq \"work\"", r#"expected "]" to close the "[" at character 6"#, 21),
        ("emails[type eq \"work\"].", r#"invalid sub-attribute name """#, 23),
        ("emails[type eq \"work\"].value.x", r#"invalid sub-attribute name "value.x""#, 23),
        ("emails[type eq \"work\"] x", r#"unexpected "x" after the path"#, 23),
        ("name.givenName[value pr]", "can't have a sub-attribute", 14),
        ("userName eq \"x\"", r#"unexpected "eq" after the path"#, 9),
        ("\"userName\"", "expected an attribute path, found the string \"userName\"", 0),
        ("emails[x[y eq 1]]", "value paths can't be nested", 8),
        ("1abc", r#"invalid attribute name "1abc""#, 0),
    ] {
        let err = parse_path(input).unwrap_err();
        assert!(err.message.contains(message), "{input}: {err}");
        assert_eq!(err.position, position, "{input}: {err}");
    }
    assert!(parse_path(&"a".repeat(MAX_FILTER_LEN + 1)).is_err());
}

#[test]
fn bad_filters_say_what_was_expected_and_where() {
    for (input, message, position) in [
        ("", "the filter is empty", 0),
        ("   ", "the filter is empty", 0),
        ("userName eq \"abc", "unterminated string", 12),
        ("userName eq \"abc\\\"", "unterminated string", 12),
        ("userName eqq \"x\"", r#"unknown operator "eqq""#, 9),
        ("userName", r#"expected an operator after "userName", found the end of the filter"#, 8),
        ("userName \"x\"", r#"expected an operator after "userName", found the string "x""#, 9),
        ("userName eq", r#"expected a value after "eq", found the end of the filter"#, 11),
        ("userName eq )", r#"expected a value after "eq", found ")""#, 12),
        ("userName eq bob", r#"expected a value after "eq", found "bob" (strings take double quotes)"#, 12),
        ("x eq 1.2.3", r#"invalid number "1.2.3""#, 5),
        ("x eq 01", r#"invalid number "01""#, 5),
        ("x eq 1e999", r#"invalid number "1e999""#, 5),
        ("x eq -", r#"invalid number "-""#, 5),
        (
            "userName eq \"x\" and",
            r#"expected an attribute path, "(" or "not" after "and", found the end of the filter"#,
            19,
        ),
        ("and a pr", r#"expected an attribute path, "(" or "not", found "and""#, 0),
        ("a pr or or b pr", r#"expected an attribute path, "(" or "not" after "or", found "or""#, 8),
        ("(a pr", r#"expected ")" to close the "(" at character 0"#, 5),
        ("((a pr)", r#"expected ")" to close the "(" at character 0"#, 7),
        ("a pr)", r#"unexpected ")""#, 4),
        ("a pr]", r#"unexpected "]""#, 4),
        (")", r#"expected an attribute path, "(" or "not", found ")""#, 0),
        ("()", r#"expected an attribute path, "(" or "not" after "(", found ")""#, 1),
        ("(a pr]", r#"expected "and", "or" or ")", found "]""#, 5),
        ("emails[type eq \"work\"", r#"expected "]" to close the "[" at character 6"#, 21),
        ("emails[type eq \"work\")", r#"expected "and", "or" or "]", found ")""#, 21),
        ("emails[x[y eq 1]]", "value paths can't be nested", 8),
        ("emails[]", r#"expected an attribute path, "(" or "not" after "[", found "]""#, 7),
        ("name.givenName[value pr]", "can't have a sub-attribute", 14),
        ("emails[type eq \"work\"].", r#"invalid sub-attribute name """#, 23),
        ("emails[type eq \"work\"]. eq \"x\"", r#"invalid sub-attribute name """#, 23),
        ("emails[type eq \"work\"].value.x eq \"x\"", r#"invalid sub-attribute name "value.x""#, 23),
        ("emails[type eq \"work\"].1x pr", r#"invalid sub-attribute name "1x""#, 23),
        (
            "emails[type eq \"work\"].value",
            r#"expected an operator after ".value", found the end of the filter"#,
            28,
        ),
        ("emails[type eq \"work\"].value eqq \"x\"", r#"unknown operator "eqq""#, 29),
        ("emails[type eq \"work\"].value eq", r#"expected a value after "eq""#, 31),
        ("emails[a pr].value[b pr]", r#"expected an operator after ".value", found "[""#, 18),
        ("not a pr", r#"expected "(" after "not", found "a""#, 4),
        ("not", r#"expected "(" after "not", found the end of the filter"#, 3),
        ("a pr b pr", r#"expected "and", "or" or the end of the filter, found "b""#, 5),
        ("a pr $$", r#"expected "and", "or" or the end of the filter, found "$$""#, 5),
        ("us$er eq 1", r#"invalid attribute name "us$er""#, 0),
        ("a.b.c pr", r#"invalid sub-attribute name "b.c""#, 2),
        ("a. pr", r#"invalid sub-attribute name """#, 2),
        (".a pr", r#"expected an attribute path, "(" or "not", found ".a""#, 0),
        (":a pr", r#"expected a schema URN before ":" in ":a""#, 0),
        ("urn:x: pr", r#"expected an attribute name in "urn:x:""#, 6),
        ("urn:x:2.0 pr", r#"invalid attribute name "2""#, 6),
        ("x eq \"bad \\q escape\"", "invalid string \"bad \\q escape\": invalid escape", 5),
        ("x eq \"raw\ttab\"", "invalid string", 5),
        ("é eq 1", r#"invalid attribute name "é""#, 0),
        ("ü pr and x eqq 1", r#"invalid attribute name "ü""#, 0),
        ("x eq 1 and yé eqq 1", r#"invalid attribute name "yé""#, 11),
        ("x eq 1 and y eqq 1", r#"unknown operator "eqq""#, 13),
        ("x eq 'y'", r#"expected a value after "eq", found "'y'" (strings take double quotes)"#, 5),
        ("title pr \"x\"", r#"expected "and", "or" or the end of the filter, found the string "x""#, 9),
        ("{\"a\":1}", r#"invalid attribute name "{""#, 0),
    ] {
        let err = parse_filter(input).unwrap_err();
        assert!(err.message.contains(message), "{input}: {err}");
        assert_eq!(err.position, position, "{input}: {err}");
    }
}

#[test]
fn errors_display_their_position() {
    let err = parse_filter("userName eqq \"x\"").unwrap_err();
    assert_eq!(err.to_string(), r#"unknown operator "eqq" (at character 9)"#);
    // Positions count characters, not bytes.
    assert_eq!(parse_filter("x eq \"日本\" and y eqq 1").unwrap_err().position, 16);
}

#[test]
fn overlong_input_is_rejected() {
    let ok = format!("x eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 7));
    assert_eq!(ok.len(), MAX_FILTER_LEN);
    assert!(parse_filter(&ok).is_ok());
    let long = format!("x eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 6));
    let err = parse_filter(&long).unwrap_err();
    assert_eq!(err.message, "longer than 65536 bytes");
}

#[test]
fn nesting_is_limited() {
    let parens = |n: usize| format!("{}a pr{}", "(".repeat(n), ")".repeat(n));
    let nots = |n: usize| format!("{}a pr{}", "not (".repeat(n), ")".repeat(n));
    assert_eq!(parse_filter(&parens(MAX_DEPTH)).unwrap(), pr("a"));
    assert_eq!(parse_filter(&nots(MAX_DEPTH - 1)).unwrap().depth(), MAX_DEPTH);
    for (case, input, position) in [
        ("33 parentheses", parens(MAX_DEPTH + 1), MAX_DEPTH),
        ("40 parentheses", parens(40), MAX_DEPTH),
        ("32 nots", nots(MAX_DEPTH), 0),
        ("40 unclosed parentheses", "(".repeat(40), MAX_DEPTH),
        ("1000 unclosed nots", "not(".repeat(1000), 4 * MAX_DEPTH),
    ] {
        let err = parse_filter(&input).unwrap_err();
        assert_eq!(err.message, "nested more than 32 levels deep", "{case}");
        assert_eq!(err.position, position, "{case}: {err}");
    }
    // Past the length limit too, the parser stops at the limit instead of recursing on.
    for (case, input, position) in
        [("1000 nots", nots(1000), 5 * MAX_DEPTH), ("100000 parentheses", parens(100_000), MAX_DEPTH)]
    {
        let err = whole_filter(Parser::new(&input, "filter").unwrap()).unwrap_err();
        assert_eq!(
            (err.message.as_str(), err.position),
            ("nested more than 32 levels deep", position),
            "{case}"
        );
    }
    assert!(parse_filter(&nots(20_000)).unwrap_err().message.contains("longer than"));
    // A chain of one operator is one level, however long.
    for keyword in ["or", "and"] {
        let chain = |n: usize| vec!["a pr"; n].join(&format!(" {keyword} "));
        assert_eq!(parse_filter(&chain(MAX_TERMS)).unwrap().depth(), 2, "{keyword}");
        let err = parse_filter(&chain(MAX_TERMS + 1)).unwrap_err();
        assert_eq!(err.message, "more than 512 comparisons", "{keyword}");
        assert_eq!(err.position, MAX_TERMS * (6 + keyword.len()), "{keyword}");
    }
    let alternating = (0..MAX_TERMS).map(|i| if i % 2 == 0 { "a pr or" } else { "b pr and" });
    let alternating = format!("{} c pr", alternating.collect::<Vec<_>>().join(" "));
    assert!(parse_filter(&alternating).unwrap_err().message.starts_with("more than"));
    let alternating = (0..100).map(|i| if i % 2 == 0 { "a pr or" } else { "b pr and" });
    let alternating = format!("{} c pr", alternating.collect::<Vec<_>>().join(" "));
    assert_eq!(parse_filter(&alternating).unwrap().depth(), 3);
    let value_paths = format!("{}emails[a pr]{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse_filter(&value_paths).unwrap_err().message.starts_with("nested more than"));
}

#[test]
fn depth_counts_levels() {
    for (input, depth) in [
        ("a pr", 1),
        ("(((a pr)))", 1),
        ("a pr and b pr", 2),
        ("a pr or b pr and c pr", 3),
        ("not (a pr)", 2),
        ("emails[type eq \"work\" and value pr]", 3),
        ("x pr or not (emails[a pr])", 4),
        ("a pr or b pr or c pr or d pr", 2),
        ("a pr and b pr and (c pr or d pr or e pr)", 3),
        ("emails[type eq \"work\"].value pr", 3),
        ("emails[type eq \"work\" and primary eq true].value pr", 3),
    ] {
        assert_eq!(parse_filter(input).unwrap().depth(), depth, "{input}");
    }
}

#[test]
fn attribute_names_follow_the_abnf() {
    for (name, valid) in [
        ("userName", true),
        ("x", true),
        ("x-y_z9", true),
        ("", false),
        ("9lives", false),
        ("-x", false),
        ("_x", false),
        ("a.b", false),
        ("a:b", false),
        ("$ref", false),
        ("é", false),
        ("a b", false),
    ] {
        assert_eq!(is_valid_attr_name(name), valid, "{name}");
    }
}

#[test]
fn attr_paths_match_ignoring_case_and_schema() {
    let filter = parse_filter(&format!("{USER}:USERNAME eq \"x\"")).unwrap();
    let Filter::Compare { path, .. } = filter else { panic!("{filter:?}") };
    assert!(path.matches("userName"));
    assert!(path.matches("username"));
    assert!(!path.matches("name"));
    assert_eq!(path.schema.as_deref(), Some(USER));
}
