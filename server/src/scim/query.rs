//! SCIM filters to SQL (RFC 7644 §3.4.2.2). A parsed [`Filter`] becomes one SQL condition over
//! an explicit attribute map: indexed columns for `id`, `userName`, `externalId`, `active`,
//! `displayName` (groups) and `meta`, the stored JSON document for the other schema attributes
//! (`json_extract` on SQLite, `#>>` on PostgreSQL), `EXISTS` over the array elements for
//! multi-valued attributes and value paths, and `EXISTS` over the org's team memberships for
//! `groups` and `members` (`value`, and a group's `display`). An `or` of `eq`s on one column is
//! one `IN (...)`. Nothing is evaluated in memory; an attribute outside the map is `invalidFilter`.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseBackend, Value, sea_query::SimpleExpr};
use uuid::Uuid;

use super::{
    filter::{AttrPath, CompValue, CompareOp, Filter, FilterError},
    schema::{self, Attr, AttrType, ResourceType},
};
use crate::error::{ApiError, ErrorKind};

/// Which table a filter runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `scim_users` joined with `memberships`.
    Users,
    /// `teams`.
    Groups,
}

impl Resource {
    pub fn resource_type(self) -> &'static ResourceType {
        match self {
            Self::Users => &schema::USER_TYPE,
            Self::Groups => &schema::GROUP_TYPE,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Self::Users => "\"scim_users\"",
            Self::Groups => "\"teams\"",
        }
    }
}

pub const INVALID_FILTER: &str = "INVALID_FILTER";

pub fn invalid_filter(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Validation, INVALID_FILTER, detail).with_scim_type("invalidFilter")
}

impl From<FilterError> for ApiError {
    fn from(err: FilterError) -> Self {
        invalid_filter(format!("invalid filter: {err}"))
    }
}

/// What an attribute path stands for in SQL.
enum Target {
    /// A string: `expr` is a column or JSON extraction.
    Text {
        expr: String,
        case_exact: bool,
    },
    /// A column holding a case-insensitive string already lowercased (indexed).
    Key {
        expr: String,
    },
    /// A JSON boolean inside an element of a multi-valued attribute.
    Bool {
        expr: String,
    },
    Time {
        expr: String,
    },
    Id {
        expr: String,
    },
    /// The membership's status.
    Active,
    /// A multi-valued complex attribute kept in the JSON document.
    Elements {
        json_path: Vec<&'static str>,
        attr: &'static Attr,
        sub: Option<&'static Attr>,
    },
    /// A User's `groups` (the teams they are in) or a Group's `members`: rows of `team_members`.
    Teams {
        attr: &'static Attr,
        sub: Option<&'static Attr>,
    },
}

/// Where the names in a filter are resolved.
#[derive(Clone, Copy)]
enum Scope {
    /// The resource's own attributes.
    Resource,
    /// Sub-attributes of one element of `attr`, a JSON array; `element` is the SQL for it.
    Element { attr: &'static Attr, element: &'static str },
    /// Sub-attributes of one team membership: `groups` or `members`.
    Team { attr: &'static Attr },
}

/// Builds SQL text with `?` placeholders and the values bound to them.
struct Sql {
    backend: DatabaseBackend,
    resource: Resource,
    text: String,
    values: Vec<Value>,
}

/// The condition `filter` stands for, for `resource`.
pub fn condition(
    backend: DatabaseBackend,
    resource: Resource,
    filter: &Filter,
) -> Result<SimpleExpr, ApiError> {
    let mut sql = Sql { backend, resource, text: String::new(), values: Vec::new() };
    sql.filter(Scope::Resource, filter)?;
    Ok(SimpleExpr::cust_with_values(sql.text, sql.values))
}

/// The SQL expression to sort by for `sortBy` (singular attributes only).
pub fn sort_expr(backend: DatabaseBackend, resource: Resource, sort_by: &str) -> Result<String, ApiError> {
    let path = super::filter::parse_path(sort_by)
        .ok()
        .filter(|p| p.value_filter.is_none() && p.sub_attr.is_none())
        .map(|p| p.attr)
        .ok_or_else(|| invalid_sort(sort_by))?;
    let sql = Sql { backend, resource, text: String::new(), values: Vec::new() };
    match sql.resolve(&path).map_err(|_| invalid_sort(sort_by))? {
        Target::Text { expr, case_exact: false } => Ok(format!("lower({expr})")),
        Target::Text { expr, .. } | Target::Key { expr } | Target::Time { expr } | Target::Id { expr } => {
            Ok(expr)
        }
        Target::Active => Ok("\"memberships\".\"status\"".into()),
        _ => Err(invalid_sort(sort_by)),
    }
}

fn invalid_sort(sort_by: &str) -> ApiError {
    super::value::invalid_value("sortBy", format!("cannot sort by `{sort_by}`: name a singular attribute"))
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// A placeholder: `?` on SQLite, `$n` (numbered within this expression) on PostgreSQL.
    fn bind(&mut self, value: impl Into<Value>) {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => self.text.push_str(&format!("${}", self.values.len())),
            _ => self.text.push('?'),
        }
    }

    fn filter(&mut self, scope: Scope, filter: &Filter) -> Result<(), ApiError> {
        match filter {
            Filter::And(operands) => self.and_chain(scope, operands)?,
            Filter::Or(operands) => self.or_chain(scope, operands)?,
            Filter::Not(inner) => {
                // SQL's NOT of an unknown (NULL) comparison is unknown; SCIM's `not` of a
                // comparison on a missing attribute is true.
                self.push("NOT COALESCE((");
                self.filter(scope, inner)?;
                self.push("), FALSE)");
            }
            Filter::Present(path) => {
                let target = self.resolve_in(scope, path)?;
                self.present(target)?;
            }
            Filter::Compare { path, op, value } => {
                let target = self.resolve_in(scope, path)?;
                self.compare(target, *op, value, &scope_name(scope, path))?;
            }
            Filter::ValuePath { attr, filter } => {
                if !matches!(scope, Scope::Resource) {
                    return Err(invalid_filter("value paths cannot be nested"));
                }
                match self.resolve(attr)? {
                    Target::Elements { json_path, attr, sub: None } => {
                        self.elements(&json_path, |sql, element| {
                            sql.filter(Scope::Element { attr, element }, filter)
                        })?;
                    }
                    Target::Teams { attr, sub: None } => {
                        self.teams(|sql| sql.filter(Scope::Team { attr }, filter))?;
                    }
                    _ => {
                        return Err(invalid_filter(format!(
                            "`{}` is not a multi-valued attribute: `[...]` needs one",
                            path_name(attr)
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// `(a AND b AND ...)`; no operands is true.
    fn and_chain(&mut self, scope: Scope, operands: &[Filter]) -> Result<(), ApiError> {
        if operands.is_empty() {
            self.push("(1 = 1)");
            return Ok(());
        }
        self.push("(");
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                self.push(" AND ");
            }
            self.filter(scope, operand)?;
        }
        self.push(")");
        Ok(())
    }

    /// `(a OR b OR ...)`; no operands is false. `eq` comparisons of one column with strings
    /// become one `col IN (...)` (Entra's `id eq "…" or id eq "…"`, up to 100 terms), which
    /// uses the column's index once instead of once per term.
    fn or_chain(&mut self, scope: Scope, operands: &[Filter]) -> Result<(), ApiError> {
        let mut lists: Vec<(String, Vec<Value>)> = Vec::new();
        let mut rest = Vec::new();
        for operand in operands {
            match self.in_list_item(scope, operand)? {
                Some((lhs, value)) => match lists.iter_mut().find(|(l, _)| *l == lhs) {
                    Some((_, values)) => values.extend(value),
                    None => lists.push((lhs, value.into_iter().collect())),
                },
                None => rest.push(operand),
            }
        }
        if lists.is_empty() && rest.is_empty() {
            self.push("(1 = 0)");
            return Ok(());
        }
        self.push("(");
        let mut first = true;
        let mut separate = |sql: &mut Self| {
            if !std::mem::take(&mut first) {
                sql.push(" OR ");
            }
        };
        for (lhs, values) in lists {
            separate(self);
            match values.len() {
                // Every id in the list was malformed, so none matches.
                0 => self.push("(1 = 0)"),
                1 => {
                    self.push(&format!("{lhs} = "));
                    values.into_iter().for_each(|value| self.bind(value));
                }
                _ => {
                    self.push(&format!("{lhs} IN ("));
                    for (i, value) in values.into_iter().enumerate() {
                        if i > 0 {
                            self.push(", ");
                        }
                        self.bind(value);
                    }
                    self.push(")");
                }
            }
        }
        for operand in rest {
            separate(self);
            self.filter(scope, operand)?;
        }
        self.push(")");
        Ok(())
    }

    /// For `attr eq "text"` on a plain column or JSON string: the left-hand side of an `IN`
    /// and the value to list (none for a malformed id, which matches nothing).
    fn in_list_item(
        &self,
        scope: Scope,
        filter: &Filter,
    ) -> Result<Option<(String, Option<Value>)>, ApiError> {
        let Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(text) } = filter else {
            return Ok(None);
        };
        Ok(match self.resolve_in(scope, path)? {
            Target::Id { expr } => Some((expr, Uuid::parse_str(text).ok().map(Value::from))),
            Target::Key { expr } => Some((expr, Some(Value::from(text.to_lowercase())))),
            Target::Text { expr, case_exact: true } => Some((expr, Some(Value::from(text.clone())))),
            Target::Text { expr, case_exact: false } => {
                Some((format!("lower({expr})"), Some(Value::from(text.to_lowercase()))))
            }
            _ => None,
        })
    }

    /// Resolves `path` where `scope` says its names live.
    fn resolve_in(&self, scope: Scope, path: &AttrPath) -> Result<Target, ApiError> {
        match scope {
            Scope::Resource => self.resolve(path),
            Scope::Element { attr, element } => self.element_target(element, relative_sub(attr, path)?),
            Scope::Team { attr } => self.team_target(attr, relative_sub(attr, path)?),
        }
    }

    /// Resolves a top-level attribute path.
    fn resolve(&self, path: &AttrPath) -> Result<Target, ApiError> {
        let rt = self.resource.resource_type();
        let table = self.resource.table();
        let core = path.schema.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(rt.schema.id));
        let sub = path.sub_attr.as_deref();
        let unknown =
            || invalid_filter(format!("`{}` is not an attribute Guildhall can filter on", path_name(path)));
        if core && sub.is_none() {
            if path.matches("id") {
                return Ok(Target::Id { expr: format!("{table}.\"id\"") });
            }
            if path.matches("externalId") {
                return Ok(Target::Text { expr: format!("{table}.\"external_id\""), case_exact: true });
            }
        }
        if core && path.matches("meta") {
            return match sub {
                Some(s) if s.eq_ignore_ascii_case("created") => {
                    Ok(Target::Time { expr: format!("{table}.\"created_at\"") })
                }
                Some(s) if s.eq_ignore_ascii_case("lastModified") => {
                    Ok(Target::Time { expr: format!("{table}.\"updated_at\"") })
                }
                _ => Err(unknown()),
            };
        }
        let (schema, attr) = rt.resolve(path.schema.as_deref(), &path.attr).ok_or_else(unknown)?;
        let sub_def = match sub {
            Some(name) => Some(attr.sub_attr(name).ok_or_else(unknown)?),
            None => None,
        };
        match (self.resource, attr.name) {
            (Resource::Users, "userName") if sub.is_none() => {
                return Ok(Target::Key { expr: "\"scim_users\".\"user_name_key\"".into() });
            }
            (Resource::Users, "active") => return Ok(Target::Active),
            (Resource::Users, "password") => return Err(unknown()),
            (Resource::Users, "groups") => return Ok(Target::Teams { attr, sub: sub_def }),
            // Filled on reads from the manager's own record, never stored with this one.
            (Resource::Users, "manager") if sub_def.is_some_and(|d| d.name == "displayName") => {
                return Err(invalid_filter(
                    "`manager.displayName` is computed on reads; filter on `manager.value`",
                ));
            }
            (Resource::Groups, "displayName") => {
                return Ok(Target::Key { expr: "\"teams\".\"name_key\"".into() });
            }
            (Resource::Groups, "members") => return Ok(Target::Teams { attr, sub: sub_def }),
            _ => {}
        }
        let mut json_path = Vec::new();
        if schema.id != rt.schema.id {
            json_path.push(schema.id);
        }
        json_path.push(attr.name);
        if attr.multi {
            return Ok(Target::Elements { json_path, attr, sub: sub_def });
        }
        let leaf = match sub_def {
            Some(def) => {
                json_path.push(def.name);
                def
            }
            None if attr.ty == AttrType::Complex => {
                return Err(invalid_filter(format!(
                    "`{}` is complex: name one of its sub-attributes",
                    path_name(path)
                )));
            }
            None => attr,
        };
        match leaf.ty {
            AttrType::String | AttrType::Reference => {
                Ok(Target::Text { expr: self.json_text(&json_path), case_exact: leaf.case_exact })
            }
            _ => Err(unknown()),
        }
    }

    /// The text at `path` in the resource's JSON document.
    fn json_text(&self, path: &[&str]) -> String {
        let column = format!("{}.\"attributes\"", self.resource.table());
        match self.backend {
            DatabaseBackend::Postgres => {
                let keys: Vec<String> = path.iter().map(|k| format!("\"{k}\"")).collect();
                format!("({column} #>> '{{{}}}')", keys.join(","))
            }
            _ => {
                let keys: Vec<String> = path.iter().map(|k| format!(".\"{k}\"")).collect();
                format!("json_extract({column}, '${}')", keys.concat())
            }
        }
    }

    /// `EXISTS` over the elements of the JSON array at `path`; `body` writes the condition on one
    /// element, given the SQL that yields the element.
    fn elements(
        &mut self,
        path: &[&str],
        body: impl FnOnce(&mut Self, &'static str) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let column = format!("{}.\"attributes\"", self.resource.table());
        let element = match self.backend {
            DatabaseBackend::Postgres => {
                let keys: Vec<String> = path.iter().map(|k| format!("\"{k}\"")).collect();
                self.push(&format!(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE({column} #> '{{{}}}', '[]'::jsonb)) \
                     AS scim_e(v) WHERE ",
                    keys.join(",")
                ));
                "scim_e.v"
            }
            _ => {
                let keys: Vec<String> = path.iter().map(|k| format!(".\"{k}\"")).collect();
                self.push(&format!(
                    "EXISTS (SELECT 1 FROM json_each({column}, '${}') AS scim_e WHERE ",
                    keys.concat()
                ));
                "scim_e.value"
            }
        };
        body(self, element)?;
        self.push(")");
        Ok(())
    }

    /// The text of `sub` in one element.
    fn element_expr(&self, element: &str, sub: &Attr) -> String {
        match self.backend {
            DatabaseBackend::Postgres => format!("({element} ->> '{}')", sub.name),
            _ => format!("json_extract({element}, '$.\"{}\"')", sub.name),
        }
    }

    /// A sub-attribute of one element, as SQL.
    fn element_target(&self, element: &str, sub: &'static Attr) -> Result<Target, ApiError> {
        let expr = self.element_expr(element, sub);
        match sub.ty {
            AttrType::String | AttrType::Reference => Ok(Target::Text { expr, case_exact: sub.case_exact }),
            AttrType::Boolean => Ok(Target::Bool { expr }),
            _ => Err(invalid_filter(format!("cannot filter on `{}`", sub.name))),
        }
    }

    fn present(&mut self, target: Target) -> Result<(), ApiError> {
        match target {
            Target::Text { expr, .. } | Target::Key { expr } | Target::Bool { expr } => {
                self.push(&format!("({expr} IS NOT NULL)"));
            }
            Target::Time { .. } | Target::Id { .. } | Target::Active => self.push("(1 = 1)"),
            Target::Elements { json_path, sub, .. } => {
                self.elements(&json_path, |sql, element| {
                    match sub {
                        Some(sub) => {
                            let expr = sql.element_expr(element, sub);
                            sql.push(&format!("{expr} IS NOT NULL"));
                        }
                        None => sql.push("1 = 1"),
                    }
                    Ok(())
                })?;
            }
            Target::Teams { attr, sub } => {
                let sub = sub.map(|sub| self.team_target(attr, sub)).transpose()?;
                self.teams(|sql| match sub {
                    Some(sub) => sql.present(sub),
                    None => {
                        sql.push("1 = 1");
                        Ok(())
                    }
                })?;
            }
        }
        Ok(())
    }

    fn compare(
        &mut self,
        target: Target,
        op: CompareOp,
        value: &CompValue,
        name: &str,
    ) -> Result<(), ApiError> {
        if matches!(value, CompValue::Null) {
            return match op {
                CompareOp::Eq => {
                    self.push("NOT ");
                    self.present(target)
                }
                CompareOp::Ne => self.present(target),
                _ => Err(invalid_filter(format!("`{name}`: only eq and ne compare with null"))),
            };
        }
        match target {
            Target::Text { expr, case_exact } => {
                let CompValue::String(text) = value else {
                    return Err(invalid_filter(format!(
                        "`{name}` is a string: compare it with a quoted string"
                    )));
                };
                let (lhs, text) = if case_exact {
                    (expr.clone(), text.clone())
                } else {
                    (format!("lower({expr})"), text.to_lowercase())
                };
                self.text_compare(&expr, &lhs, op, text);
                Ok(())
            }
            Target::Key { expr } => {
                let CompValue::String(text) = value else {
                    return Err(invalid_filter(format!(
                        "`{name}` is a string: compare it with a quoted string"
                    )));
                };
                self.text_compare(&expr, &expr, op, text.to_lowercase());
                Ok(())
            }
            Target::Bool { expr } => {
                let CompValue::Bool(b) = value else {
                    return Err(invalid_filter(format!(
                        "`{name}` is a boolean: compare it with true or false"
                    )));
                };
                let negate = match op {
                    CompareOp::Eq => false,
                    CompareOp::Ne => true,
                    _ => return Err(invalid_filter(format!("`{name}` is a boolean: only eq and ne apply"))),
                };
                let matches = *b != negate;
                match self.backend {
                    DatabaseBackend::Postgres => self.push(&format!("COALESCE({expr}, 'false') = ")),
                    _ => self.push(&format!("COALESCE({expr}, 0) = ")),
                }
                match self.backend {
                    DatabaseBackend::Postgres => self.bind(if matches { "true" } else { "false" }),
                    _ => self.bind(i64::from(matches)),
                }
                Ok(())
            }
            Target::Active => {
                let CompValue::Bool(b) = value else {
                    return Err(invalid_filter(format!(
                        "`{name}` is a boolean: compare it with true or false"
                    )));
                };
                let active = match op {
                    CompareOp::Eq => *b,
                    CompareOp::Ne => !*b,
                    _ => return Err(invalid_filter(format!("`{name}` is a boolean: only eq and ne apply"))),
                };
                self.push(if active {
                    "\"memberships\".\"status\" = "
                } else {
                    "\"memberships\".\"status\" <> "
                });
                self.bind(crate::orgs::MembershipStatus::Active.as_str());
                Ok(())
            }
            Target::Time { expr } => {
                let CompValue::String(text) = value else {
                    return Err(invalid_filter(format!(
                        "`{name}` is a dateTime: compare it with a quoted RFC 3339 time"
                    )));
                };
                let at = DateTime::parse_from_rfc3339(text)
                    .map_err(|_| invalid_filter(format!("`{name}`: `{text}` is not an RFC 3339 time")))?
                    .with_timezone(&Utc);
                let sql_op = match op {
                    CompareOp::Eq => "=",
                    CompareOp::Ne => "<>",
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                    CompareOp::Lt => "<",
                    CompareOp::Le => "<=",
                    _ => {
                        return Err(invalid_filter(format!(
                            "`{name}` is a dateTime: co, sw and ew do not apply"
                        )));
                    }
                };
                self.push(&format!("{expr} {sql_op} "));
                self.bind(at);
                Ok(())
            }
            Target::Id { expr } => {
                let CompValue::String(text) = value else {
                    return Err(invalid_filter(format!(
                        "`{name}` is a string: compare it with a quoted string"
                    )));
                };
                let id = Uuid::parse_str(text).ok();
                match (op, id) {
                    (CompareOp::Eq, Some(id)) => {
                        self.push(&format!("{expr} = "));
                        self.bind(id);
                    }
                    (CompareOp::Eq, None) => self.push("(1 = 0)"),
                    (CompareOp::Ne, Some(id)) => {
                        self.push(&format!("{expr} <> "));
                        self.bind(id);
                    }
                    (CompareOp::Ne, None) => self.push("(1 = 1)"),
                    _ => return Err(invalid_filter(format!("`{name}`: only eq and ne apply to ids"))),
                }
                Ok(())
            }
            Target::Elements { json_path, attr, sub } => {
                // `emails co "x"` compares each element's `value` (RFC 7644 §3.4.2.2).
                let sub = match sub.or_else(|| attr.sub_attr("value")) {
                    Some(sub) => sub,
                    None => return Err(invalid_filter(format!("`{name}` is complex: name a sub-attribute"))),
                };
                self.elements(&json_path, |sql, element| {
                    let target = sql.element_target(element, sub)?;
                    sql.compare(target, op, value, name)
                })
            }
            Target::Teams { attr, sub } => {
                // `members eq "id"` compares each member's `value`, as for elements.
                let Some(sub) = sub.or_else(|| attr.sub_attr("value")) else {
                    return Err(invalid_filter(format!("`{name}` is complex: name a sub-attribute")));
                };
                let target = self.team_target(attr, sub)?;
                self.teams(|sql| sql.compare(target, op, value, name))
            }
        }
    }

    /// `expr OP text` for strings: co/sw/ew with substring functions, so no LIKE escaping and
    /// case-exact attributes stay case-exact on SQLite too.
    fn text_compare(&mut self, expr: &str, lhs: &str, op: CompareOp, text: String) {
        let chars = text.chars().count();
        let postgres = self.backend == DatabaseBackend::Postgres;
        if chars == 0 && matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
            // Every value contains, starts and ends with the empty string.
            self.push(&format!("({expr} IS NOT NULL)"));
            return;
        }
        let (before, after) = match op {
            CompareOp::Eq => (format!("{lhs} = "), ""),
            CompareOp::Ne => (format!("({expr} IS NULL OR {lhs} <> "), ")"),
            CompareOp::Co if postgres => (format!("strpos({lhs}, "), ") > 0"),
            CompareOp::Co => (format!("instr({lhs}, "), ") > 0"),
            CompareOp::Sw => (format!("substr({lhs}, 1, {chars}) = "), ""),
            CompareOp::Ew if postgres => (format!("right({lhs}, {chars}) = "), ""),
            CompareOp::Ew => (format!("substr({lhs}, -{chars}) = "), ""),
            CompareOp::Gt => (format!("{lhs} > "), ""),
            CompareOp::Ge => (format!("{lhs} >= "), ""),
            CompareOp::Lt => (format!("{lhs} < "), ""),
            CompareOp::Le => (format!("{lhs} <= "), ""),
        };
        self.push(&before);
        self.bind(text);
        self.push(after);
    }

    /// `EXISTS` over the team memberships `groups` (Users) or `members` (Groups) stands for,
    /// all in the resource's org; `body` writes the condition on one, whose columns are
    /// `scim_tm` (`team_members`), `scim_t` (its team, on Users) and `scim_m` (its member's
    /// `memberships` row, whose id is the member's SCIM id, on Groups).
    fn teams(&mut self, body: impl FnOnce(&mut Self) -> Result<(), ApiError>) -> Result<(), ApiError> {
        self.push(match self.resource {
            Resource::Users => {
                "EXISTS (SELECT 1 FROM \"team_members\" AS scim_tm JOIN \"teams\" AS scim_t ON \
                 scim_t.\"id\" = scim_tm.\"team_id\" AND scim_t.\"org_id\" = scim_tm.\"org_id\" \
                 WHERE scim_tm.\"org_id\" = \"scim_users\".\"org_id\" AND scim_tm.\"user_id\" = \
                 \"scim_users\".\"user_id\" AND ("
            }
            Resource::Groups => {
                "EXISTS (SELECT 1 FROM \"team_members\" AS scim_tm JOIN \"memberships\" AS scim_m ON \
                 scim_m.\"org_id\" = scim_tm.\"org_id\" AND scim_m.\"user_id\" = scim_tm.\"user_id\" \
                 WHERE scim_tm.\"team_id\" = \"teams\".\"id\" AND scim_tm.\"org_id\" = \"teams\".\"org_id\" AND ("
            }
        });
        body(self)?;
        self.push("))");
        Ok(())
    }

    /// A sub-attribute of one team membership (see `teams`): its `value` (the team's id on
    /// Users, the member's SCIM id on Groups) or, on Users, `display` (the team's name). A
    /// member's `display` is never stored, and `$ref` and `type` follow from `value`.
    fn team_target(&self, attr: &'static Attr, sub: &'static Attr) -> Result<Target, ApiError> {
        match (self.resource, sub.name) {
            (Resource::Users, "value") => Ok(Target::Id { expr: "scim_tm.\"team_id\"".into() }),
            (Resource::Groups, "value") => Ok(Target::Id { expr: "scim_m.\"id\"".into() }),
            (Resource::Users, "display") => Ok(Target::Key { expr: "scim_t.\"name_key\"".into() }),
            _ => Err(invalid_filter(format!(
                "`{}.{}` cannot be filtered on: use `value`{}",
                attr.name,
                sub.name,
                if self.resource == Resource::Users { " or `display`" } else { "" }
            ))),
        }
    }
}

/// The sub-attribute of `attr` that `path`, inside `attr[...]`, names.
fn relative_sub(attr: &'static Attr, path: &AttrPath) -> Result<&'static Attr, ApiError> {
    if path.schema.is_some() || path.sub_attr.is_some() {
        return Err(invalid_filter(format!(
            "`{}` is not a sub-attribute of `{}`",
            path_name(path),
            attr.name
        )));
    }
    attr.sub_attr(&path.attr)
        .ok_or_else(|| invalid_filter(format!("`{}` has no sub-attribute `{}`", attr.name, path.attr)))
}

/// `path` as written, prefixed with the multi-valued attribute it is inside of.
fn scope_name(scope: Scope, path: &AttrPath) -> String {
    match scope {
        Scope::Resource => path_name(path),
        Scope::Element { attr, .. } | Scope::Team { attr } => format!("{}.{}", attr.name, path_name(path)),
    }
}

fn path_name(path: &AttrPath) -> String {
    let mut name = String::new();
    if let Some(schema) = &path.schema {
        name.push_str(schema);
        name.push(':');
    }
    name.push_str(&path.attr);
    if let Some(sub) = &path.sub_attr {
        name.push('.');
        name.push_str(sub);
    }
    name
}

#[cfg(test)]
mod tests;
