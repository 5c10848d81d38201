//! Unit tests of `query`: the SQL each filter becomes, on SQLite and PostgreSQL.

use super::*;
use crate::scim::filter::parse_filter;

fn sql(backend: DatabaseBackend, resource: Resource, filter: &str) -> Result<String, ApiError> {
    let filter = parse_filter(filter)?;
    let mut sql = Sql { backend, resource, text: String::new(), values: Vec::new() };
    sql.filter(Scope::Resource, &filter)?;
    Ok(sql.text)
}

#[test]
fn known_attributes_become_sql_and_unknown_ones_are_invalid_filters() {
    let ok = [
        "userName eq \"Bjensen\"",
        "USERNAME sw \"b\" and not (externalId pr)",
        "name.familyName co \"O'Malley\"",
        "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName ew \"x\"",
        "emails[type eq \"work\" and value co \"@example.com\"]",
        "emails co \"@example.com\" or phoneNumbers.type eq \"mobile\"",
        "emails[primary eq true]",
        "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Tour\"",
        "active eq false",
        "groups.value eq \"0190a7e2-0000-7000-8000-000000000000\"",
        "id eq \"not-a-uuid\"",
        "title pr",
        "groups.display co \"x\"",
        "emails[type eq \"work\"].value eq \"x\"",
        "groups[value eq \"0190a7e2-0000-7000-8000-000000000000\" or display sw \"eng\"]",
        "not (groups pr) or groups ne \"x\"",
    ];
    for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
        for filter in ok {
            assert!(sql(backend, Resource::Users, filter).is_ok(), "{filter} on {backend:?}");
        }
    }
    let bad = [
        "nickname2 eq \"x\"",
        "password eq \"x\"",
        "name eq \"x\"",
        "emails[nope eq \"x\"]",
        "userName eq 5",
        "active gt true",
        "meta.created gt \"yesterday\"",
        "urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"x\"",
        "userName[value eq \"x\"]",
        "groups.type eq \"direct\"",
        "groups[nope eq \"x\"]",
        "emails[type eq \"work\"].nope eq \"x\"",
        "emails[type eq \"work\"].primary gt true",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName eq \"Boss\"",
    ];
    for filter in bad {
        let err = sql(DatabaseBackend::Sqlite, Resource::Users, filter).expect_err(filter);
        assert_eq!(err.code(), "INVALID_FILTER", "{filter}");
    }
    assert!(
        sql(DatabaseBackend::Sqlite, Resource::Groups, "displayName eq \"x\" or members[value eq \"y\"]")
            .is_ok()
    );
    assert!(sql(DatabaseBackend::Sqlite, Resource::Groups, "userName eq \"x\"").is_err());
}

#[test]
fn user_name_uses_the_indexed_lowercase_column() {
    let text = sql(DatabaseBackend::Sqlite, Resource::Users, "userName eq \"A\"").expect("sql");
    assert_eq!(text, "\"scim_users\".\"user_name_key\" = ?");
}

fn bound(backend: DatabaseBackend, resource: Resource, filter: &str) -> (String, Vec<Value>) {
    let filter = parse_filter(filter).expect("filter");
    let mut sql = Sql { backend, resource, text: String::new(), values: Vec::new() };
    sql.filter(Scope::Resource, &filter).expect("sql");
    (sql.text, sql.values)
}

#[test]
fn a_sub_attribute_after_a_value_path_is_the_same_as_one_inside_it() {
    let ops = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
    let operations = ops.iter().map(|op| format!("{op} \"x\"")).chain(["pr".to_string()]);
    for operation in operations {
        for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            let after = format!("emails[type eq \"work\"].value {operation}");
            let inside = format!("emails[type eq \"work\" and value {operation}]");
            assert_eq!(bound(backend, Resource::Users, &after), bound(backend, Resource::Users, &inside));
        }
    }
    let (text, _) =
        bound(DatabaseBackend::Sqlite, Resource::Users, "emails[type eq \"work\"].value eq \"x\"");
    assert_eq!(
        text,
        "EXISTS (SELECT 1 FROM json_each(\"scim_users\".\"attributes\", '$.\"emails\"') AS scim_e WHERE \
         (lower(json_extract(scim_e.value, '$.\"type\"')) = ? AND \
         lower(json_extract(scim_e.value, '$.\"value\"')) = ?))"
    );
}

#[test]
fn eq_chains_on_one_column_become_one_in_list() {
    let ids: Vec<String> = (0..100).map(|i| format!("0190a7e2-0000-7000-8000-{i:012}")).collect();
    let filter = ids.iter().map(|id| format!("id eq \"{id}\"")).collect::<Vec<_>>().join(" or ");
    let (text, values) = bound(DatabaseBackend::Postgres, Resource::Users, &filter);
    let placeholders: Vec<String> = (1..=100).map(|n| format!("${n}")).collect();
    assert_eq!(text, format!("(\"scim_users\".\"id\" IN ({}))", placeholders.join(", ")));
    assert_eq!(values.len(), 100);
    let (text, values) = bound(DatabaseBackend::Sqlite, Resource::Users, &filter);
    assert_eq!(text.matches('?').count(), 100);
    assert_eq!(values.len(), 100);

    for (backend, filter, expected) in [
        (
            DatabaseBackend::Sqlite,
            "userName eq \"A\" or userName eq \"b\" or title pr or USERNAME eq \"c\"",
            "(\"scim_users\".\"user_name_key\" IN (?, ?, ?) OR (json_extract(\"scim_users\".\"attributes\", \
             '$.\"title\"') IS NOT NULL))",
        ),
        // Placeholders are numbered in the order they appear in the text.
        (
            DatabaseBackend::Postgres,
            "title eq \"x\" or externalId eq \"A\" and title pr or externalId eq \"B\" or title eq \"y\"",
            "(lower((\"scim_users\".\"attributes\" #>> '{\"title\"}')) IN ($1, $2) OR \
             \"scim_users\".\"external_id\" = $3 OR (\"scim_users\".\"external_id\" = $4 AND \
             ((\"scim_users\".\"attributes\" #>> '{\"title\"}') IS NOT NULL)))",
        ),
        (DatabaseBackend::Sqlite, "id eq \"bad\" or id eq \"worse\"", "((1 = 0))"),
        (
            DatabaseBackend::Sqlite,
            "id eq \"bad\" or id eq \"0190a7e2-0000-7000-8000-000000000000\"",
            "(\"scim_users\".\"id\" = ?)",
        ),
    ] {
        let (text, values) = bound(backend, Resource::Users, filter);
        assert_eq!(text, expected, "{filter}");
        let placeholders = match backend {
            DatabaseBackend::Postgres => {
                text.split('$').skip(1).filter(|t| t.starts_with(|c: char| c.is_ascii_digit())).count()
            }
            _ => text.matches('?').count(),
        };
        assert_eq!(values.len(), placeholders, "{filter}");
    }
    let (_, values) =
        bound(DatabaseBackend::Sqlite, Resource::Users, "userName eq \"A\" or userName eq \"B\"");
    assert_eq!(values, vec![Value::from("a"), Value::from("b")]);
}

#[test]
fn membership_filters_are_exists_over_team_members_in_the_org() {
    let id = "0190a7e2-0000-7000-8000-000000000000";
    let members_exists = "EXISTS (SELECT 1 FROM \"team_members\" AS scim_tm JOIN \"memberships\" AS scim_m ON \
         scim_m.\"org_id\" = scim_tm.\"org_id\" AND scim_m.\"user_id\" = scim_tm.\"user_id\" WHERE \
         scim_tm.\"team_id\" = \"teams\".\"id\" AND scim_tm.\"org_id\" = \"teams\".\"org_id\" AND (";
    for (filter, expected) in [
        ("members pr".to_string(), format!("{members_exists}1 = 1))")),
        ("not (members pr)".to_string(), format!("NOT COALESCE(({members_exists}1 = 1))), FALSE)")),
        (format!("members.value ne \"{id}\""), format!("{members_exists}scim_m.\"id\" <> $1))")),
        (format!("members eq \"{id}\""), format!("{members_exists}scim_m.\"id\" = $1))")),
        (
            format!("members[value eq \"{id}\" or value eq \"{id}\"]"),
            format!("{members_exists}(scim_m.\"id\" IN ($1, $2))))"),
        ),
        (
            format!("members[not (value eq \"{id}\")] and displayName eq \"X\""),
            format!(
                "({members_exists}NOT COALESCE((scim_m.\"id\" = $1), FALSE))) AND \"teams\".\"name_key\" = $2)"
            ),
        ),
        (
            format!("members[value eq \"{id}\"].value pr"),
            format!("{members_exists}(scim_m.\"id\" = $1 AND (1 = 1))))"),
        ),
    ] {
        let (text, _) = bound(DatabaseBackend::Postgres, Resource::Groups, &filter);
        assert_eq!(text, expected, "{filter}");
    }
    let (text, _) = bound(DatabaseBackend::Sqlite, Resource::Users, "groups.display eq \"Eng\"");
    assert_eq!(
        text,
        "EXISTS (SELECT 1 FROM \"team_members\" AS scim_tm JOIN \"teams\" AS scim_t ON scim_t.\"id\" = \
         scim_tm.\"team_id\" AND scim_t.\"org_id\" = scim_tm.\"org_id\" WHERE scim_tm.\"org_id\" = \
         \"scim_users\".\"org_id\" AND scim_tm.\"user_id\" = \"scim_users\".\"user_id\" AND (scim_t.\"name_key\" = ?))"
    );
    for filter in [
        "members.display eq \"x\"",
        "members[display pr]",
        "members.type eq \"User\"",
        "members[$ref pr]",
        "members.nope pr",
        "members[nope eq \"x\"]",
        "members[value eq \"x\"].nope pr",
        "members.value co \"x\"",
        "members[value gt \"x\"]",
        "members.value eq 5",
    ] {
        let err = sql(DatabaseBackend::Sqlite, Resource::Groups, filter).expect_err(filter);
        assert_eq!(err.code(), "INVALID_FILTER", "{filter}");
    }
}
