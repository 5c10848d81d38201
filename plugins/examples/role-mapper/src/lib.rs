//! Example role mapper: reads the groups an identity provider sends and picks a role and
//! teams by pattern. To adapt it, edit `RULES` and `DENIED_GROUPS` below; nothing else needs
//! to change. Build with `cargo build --release --target wasm32-wasip2`.

wit_bindgen::generate!({ world: "role-mapper", path: "../../wit" });

/// What a matching group grants.
enum Grant {
    /// Gives this role. The first role rule that matches any group wins.
    Role(&'static str),
    /// Adds this team. Every team rule that matches adds its team (once).
    Team(&'static str),
}

/// Group patterns, checked in order. A pattern is an exact group name, or a name with one `*`
/// at the start (`*-admins`: ends with `-admins`) or at the end (`engineering*`: starts with
/// `engineering`). Matching ignores ASCII case.
const RULES: &[(&str, Grant)] = &[
    ("*-admins", Grant::Role("admin")),
    ("owners", Grant::Role("owner")),
    ("engineering*", Grant::Team("engineering")),
    ("sales*", Grant::Team("sales")),
];

/// Groups whose members may not sign in at all, with the reason they are shown.
const DENIED_GROUPS: &[(&str, &str)] =
    &[("contractors", "Contractors sign in through the partner portal, not this org.")];

struct Mapper;

impl Guest for Mapper {
    fn map_role(input: RoleInput) -> RoleDecision {
        for group in &input.groups {
            if let Some((_, reason)) = DENIED_GROUPS.iter().find(|(g, _)| matches(g, group)) {
                return RoleDecision::Deny((*reason).to_string());
            }
        }
        let mut role = None;
        let mut teams: Vec<String> = Vec::new();
        for (pattern, grant) in RULES {
            if !input.groups.iter().any(|g| matches(pattern, g)) {
                continue;
            }
            match grant {
                Grant::Role(r) if role.is_none() => role = Some((*r).to_string()),
                Grant::Role(_) => {}
                Grant::Team(t) if !teams.iter().any(|x| x == t) => teams.push((*t).to_string()),
                Grant::Team(_) => {}
            }
        }
        // No role rule matched: `None` lets the org's default role and mapping table decide.
        RoleDecision::Assign(Assignment { role, teams })
    }
}

fn matches(pattern: &str, group: &str) -> bool {
    let group = group.to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    if let Some(suffix) = pattern.strip_prefix('*') {
        group.ends_with(suffix)
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        group.starts_with(prefix)
    } else {
        group == pattern
    }
}

export!(Mapper);
