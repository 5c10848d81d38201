//! Value filters (`emails[type eq "work"]`, RFC 7644 §3.5.2) evaluated on the elements of one
//! resource's multi-valued attribute, for PATCH. The filter's names are sub-attributes of that
//! attribute; `check_filter` rejects any other, so evaluation never meets an unknown name.

use serde_json::Value;

use super::filter::{AttrPath, CompValue, CompareOp, Filter};
use super::schema::{Attr, AttrType};
use super::value::{Object, coerce_value, fold, invalid, is_empty};
use crate::error::ApiError;

/// The sub-attribute a filter's name refers to; a dotted name never does.
fn filter_sub(attr: &'static Attr, path: &AttrPath) -> Option<&'static Attr> {
    if path.sub_attr.is_some() { None } else { attr.sub_attr(&path.attr) }
}

/// Every name in `filter` is a sub-attribute of `attr`, and no boolean is ordered.
pub fn check_filter(attr: &'static Attr, filter: &Filter) -> Result<(), ApiError> {
    let unknown =
        |p: &AttrPath| invalid("invalidFilter", format!("{}.{}", attr.name, p.attr), "unknown sub-attribute");
    match filter {
        Filter::Present(p) => filter_sub(attr, p).map(|_| ()).ok_or_else(|| unknown(p)),
        Filter::Compare { path, op, .. } => {
            let sub = filter_sub(attr, path).ok_or_else(|| unknown(path))?;
            if sub.ty == AttrType::Boolean && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(invalid(
                    "invalidFilter",
                    attr.name,
                    format!("{} can't compare booleans", op.as_str()),
                ));
            }
            Ok(())
        }
        Filter::And(operands) | Filter::Or(operands) => {
            operands.iter().try_for_each(|operand| check_filter(attr, operand))
        }
        Filter::Not(inner) => check_filter(attr, inner),
        Filter::ValuePath { .. } => Err(invalid("invalidFilter", attr.name, "value paths can't be nested")),
    }
}

/// Whether `element`, one value of `attr`, passes `filter` (checked by `check_filter`).
pub fn matches(attr: &'static Attr, filter: &Filter, element: &Value) -> bool {
    let field = |p: &AttrPath| filter_sub(attr, p).map(|sub| (sub, element.get(sub.name)));
    match filter {
        Filter::Present(p) => field(p).is_some_and(|(_, v)| v.is_some_and(|v| !is_empty(v))),
        Filter::Compare { path, op, value } => {
            field(path).is_some_and(|(sub, v)| compare(sub, v, *op, value))
        }
        Filter::And(operands) => operands.iter().all(|operand| matches(attr, operand, element)),
        Filter::Or(operands) => operands.iter().any(|operand| matches(attr, operand, element)),
        Filter::Not(inner) => !matches(attr, inner, element),
        Filter::ValuePath { .. } => false,
    }
}

/// RFC 7644 §3.4.2.2 on one value: strings compare case-insensitively unless `caseExact`,
/// dateTimes by instant, booleans only for equality; a type mismatch matches only `ne`.
fn compare(sub: &Attr, actual: Option<&Value>, op: CompareOp, expected: &CompValue) -> bool {
    use std::cmp::Ordering;
    let ordering = match (actual, expected) {
        (Some(Value::String(a)), CompValue::String(b)) => {
            let (a_folded, b_folded) = (fold(a, sub.case_exact), fold(b, sub.case_exact));
            match op {
                CompareOp::Co => return a_folded.contains(&b_folded),
                CompareOp::Sw => return a_folded.starts_with(&b_folded),
                CompareOp::Ew => return a_folded.ends_with(&b_folded),
                _ => {}
            }
            let instant = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
            let instants = (sub.ty == AttrType::DateTime).then(|| instant(a).zip(instant(b))).flatten();
            Some(instants.map_or_else(|| a_folded.cmp(&b_folded), |(a, b)| a.cmp(&b)))
        }
        (Some(Value::Number(a)), CompValue::Number(b)) => {
            a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b))
        }
        (Some(Value::Bool(a)), CompValue::Bool(b)) => Some(a.cmp(b)),
        (None | Some(Value::Null), CompValue::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (op, ordering) {
        (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
        (CompareOp::Ne, o) => o != Some(Ordering::Equal),
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        _ => false,
    }
}

/// The element a conjunction of `eq` comparisons describes (`type eq "work" and primary eq
/// true`), or `None` for any other filter.
pub fn element_from_eq(attr: &'static Attr, filter: &Filter) -> Result<Option<Value>, ApiError> {
    let mut element = Object::new();
    let mut stack = vec![filter];
    while let Some(filter) = stack.pop() {
        match filter {
            Filter::And(operands) => stack.extend(operands),
            Filter::Compare { path, op: CompareOp::Eq, value } => {
                let Some(sub) = filter_sub(attr, path) else { return Ok(None) };
                let value = match value {
                    CompValue::String(s) => Value::String(s.clone()),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Null => return Ok(None),
                };
                let path = format!("{}.{}", attr.name, sub.name);
                match coerce_value(sub, &value, &path)? {
                    Some(value) => element.insert(sub.name.to_string(), value),
                    None => return Ok(None),
                };
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(Value::Object(element)))
}

/// The key of a `value eq "x"` filter, the way Okta removes one member.
pub fn value_eq_key(attr: &Attr, filter: &Filter) -> Option<String> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(s) }
            if path.sub_attr.is_none() && path.attr.eq_ignore_ascii_case("value") =>
        {
            Some(fold(s, attr.sub_attr("value").is_some_and(|v| v.case_exact)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::filter::parse_path;
    use crate::scim::schema::{GROUP, USER};
    use crate::scim::value::scim_type;

    fn emails() -> &'static Attr {
        USER.attr("emails").unwrap()
    }

    fn filter(text: &str) -> Filter {
        parse_path(&format!("x[{text}]")).unwrap().value_filter.unwrap()
    }

    /// `emails`' `value` sub-attribute, retyped.
    fn typed(ty: AttrType, case_exact: bool) -> &'static Attr {
        let value = emails().sub_attr("value").unwrap();
        Box::leak(Box::new(Attr { ty, case_exact, ..*value }))
    }

    #[test]
    fn every_operator_on_one_element() {
        let element = json!({"value": "Barbara@Example.com", "type": "work", "primary": true});
        for (text, expected) in [
            (r#"value eq "barbara@example.COM""#, true),
            (r#"value ne "barbara@example.com""#, false),
            (r#"value co "EXAMPLE""#, true),
            (r#"value sw "barb""#, true),
            (r#"value ew ".org""#, false),
            (r#"value gt "a""#, true),
            (r#"value ge "barbara@example.com""#, true),
            (r#"value lt "a""#, false),
            (r#"value le "c""#, true),
            ("type pr", true),
            ("display pr", false),
            (r#"display eq "x""#, false),
            (r#"display ne "x""#, true),
            ("display eq null", true),
            ("primary eq true", true),
            ("primary ne true", false),
            (r#"primary eq "true""#, false),
            (r#"type eq "work" and primary eq true"#, true),
            (r#"type eq "home" or primary eq false"#, false),
            (r#"not (type eq "home")"#, true),
            (r#"TYPE EQ "WORK""#, true),
        ] {
            assert_eq!(matches(emails(), &filter(text), &element), expected, "{text}");
        }
    }

    #[test]
    fn comparisons_follow_the_sub_attributes_type() {
        let s = |v: &str| CompValue::String(v.into());
        let n = |v: i64| CompValue::Number(v.into());
        let exact = typed(AttrType::String, true);
        let date = typed(AttrType::DateTime, false);
        let int = typed(AttrType::Integer, false);
        for (sub, actual, op, expected, result) in [
            (exact, json!("Abc"), CompareOp::Eq, s("abc"), false),
            (exact, json!("Abc"), CompareOp::Sw, s("Ab"), true),
            (date, json!("2024-01-01T10:00:00+02:00"), CompareOp::Lt, s("2024-01-01T09:00:00Z"), true),
            (date, json!("2024-01-01T08:00:00Z"), CompareOp::Eq, s("2024-01-01T10:00:00+02:00"), true),
            (int, json!(10), CompareOp::Gt, n(9), true),
            (int, json!(10), CompareOp::Le, n(9), false),
            (int, json!(10), CompareOp::Eq, s("10"), false),
            (int, json!(10), CompareOp::Ne, s("10"), true),
        ] {
            assert_eq!(compare(sub, Some(&actual), op, &expected), result, "{actual} {op:?} {expected:?}");
        }
    }

    #[test]
    fn filters_name_only_sub_attributes() {
        assert!(check_filter(emails(), &filter(r#"type eq "work" and not (value pr)"#)).is_ok());
        for (text, field) in [
            (r#"nope eq "x""#, "emails.nope"),
            (r#"type eq "work" or value.x pr"#, "emails.value"),
            ("primary lt true", "emails"),
        ] {
            let err = check_filter(emails(), &filter(text)).unwrap_err();
            assert_eq!(
                (scim_type(&err).as_str(), err.field_errors()[0].field.as_str()),
                ("invalidFilter", field)
            );
        }
    }

    #[test]
    fn eq_conjunctions_describe_an_element() {
        for (text, expected) in [
            (r#"type eq "work""#, Some(json!({"type": "work"}))),
            (r#"type eq "work" and primary eq "True""#, Some(json!({"type": "work", "primary": true}))),
            (r#"type eq "work" or type eq "home""#, None),
            (r#"type ne "work""#, None),
            ("type eq null", None),
        ] {
            assert_eq!(element_from_eq(emails(), &filter(text)).unwrap(), expected, "{text}");
        }
        assert!(element_from_eq(emails(), &filter("primary eq 3")).is_err());
        let members = GROUP.attr("members").unwrap();
        assert_eq!(value_eq_key(members, &filter(r#"VALUE eq "AbC""#)).as_deref(), Some("abc"));
        assert_eq!(value_eq_key(members, &filter(r#"value ne "x""#)), None);
    }
}
