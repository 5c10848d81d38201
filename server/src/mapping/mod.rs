//! Group-to-role mapping, one table per org, shared by every source of group membership: SCIM
//! groups today, SSO group claims next. A mapping names a group by its name (case-insensitively)
//! or its external id, or by a pattern: a key written `re:<regex>` matches every group whose
//! whole name (case-insensitively) or whole external id the expression matches. Patterns are
//! anchored, limited in length and compiled size, validated when the mapping is made, and
//! compiled once per process.
//!
//! A member whose groups map to several roles gets the most privileged of them: owner first,
//! then the role granting the most permissions.

pub mod api;
pub mod service;

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use guildhall_entities::group_role_mapping;
use regex::{Regex, RegexBuilder};

use crate::error::ApiError;

/// What marks a mapping's group as a pattern.
pub const PATTERN_PREFIX: &str = "re:";
/// The longest group name or pattern a mapping takes, in characters.
pub const MAX_GROUP: usize = 256;
/// The most memory one compiled pattern may take: enough for any sensible group pattern,
/// far too little for one built to make the matcher explode.
const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
/// Compiled patterns kept per process before the cache starts over.
const CACHE_LIMIT: usize = 4096;

/// A mapping's group, as written.
#[derive(Clone, Debug)]
pub enum GroupKey {
    /// A group name (compared case-insensitively) or an external id (compared exactly).
    Exact(String),
    /// `re:` and an expression matched against the whole name or external id.
    Pattern(Arc<Regex>),
}

impl GroupKey {
    /// Parses and checks a mapping's group as a client sends it.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.chars().count() > MAX_GROUP {
            return Err(ApiError::validation("group", format!("must be 1 to {MAX_GROUP} characters")));
        }
        match raw.strip_prefix(PATTERN_PREFIX) {
            Some(pattern) => compile(pattern).map(Self::Pattern),
            None => Ok(Self::Exact(raw.to_string())),
        }
    }

    /// The stored mapping's key. A stored pattern always compiled once; should it not now
    /// (a newer regex engine refusing it), it matches nothing.
    fn of(row: &group_role_mapping::Model) -> Option<Self> {
        match row.group_name.strip_prefix(PATTERN_PREFIX) {
            Some(pattern) => match compile(pattern) {
                Ok(regex) => Some(Self::Pattern(regex)),
                Err(err) => {
                    tracing::warn!(mapping = %row.id, error = %err, "a stored group pattern no longer compiles");
                    None
                }
            },
            None => Some(Self::Exact(row.group_name.clone())),
        }
    }

    /// Whether `group` is the group this key names.
    pub fn matches(&self, group: &Group<'_>) -> bool {
        match self {
            Self::Exact(name) => {
                same_ignoring_case(group.name, name) || group.external_id == Some(name.as_str())
            }
            Self::Pattern(regex) => {
                regex.is_match(group.name) || group.external_id.is_some_and(|id| regex.is_match(id))
            }
        }
    }

    /// The stored `group_key`: the lowercased name, or the pattern as written (so two
    /// mappings of one pattern collide on the table's unique key).
    pub fn stored_key(&self, raw: &str) -> String {
        match self {
            Self::Exact(name) => name.to_lowercase(),
            Self::Pattern(_) => raw.trim().to_string(),
        }
    }
}

/// A group a member is in, as the directory or the identity provider names it.
#[derive(Clone, Copy, Debug)]
pub struct Group<'a> {
    pub name: &'a str,
    pub external_id: Option<&'a str>,
}

/// How far a role decision reaches: whose current role it may change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Every role but the last owner's: a mapping made before mappings recorded their maker's
    /// role, and a directory-managed member in no mapped group falling back to `member`.
    Any,
    /// Only roles that this role (the author's: a mapping's maker, a plugin's uploader) reaches
    /// (see [`reaches`](crate::roles::service::reaches)).
    UpTo(String),
}

/// A role decided for a member by the mapping table or a plugin, and how far it reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub role: String,
    pub reach: Reach,
}

/// An org's mappings, ready to match.
pub struct Mappings {
    rules: Vec<(GroupKey, String, Reach)>,
}

impl Mappings {
    pub fn new(rows: &[group_role_mapping::Model]) -> Self {
        let reach = |r: &group_role_mapping::Model| r.ceiling_role.clone().map_or(Reach::Any, Reach::UpTo);
        Self {
            rules: rows.iter().filter_map(|r| Some((GroupKey::of(r)?, r.role.clone(), reach(r)))).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The roles `group` maps to, each with its mapping's reach.
    pub fn matching<'a>(&'a self, group: Group<'a>) -> impl Iterator<Item = (&'a str, &'a Reach)> + 'a {
        self.rules
            .iter()
            .filter(move |(key, ..)| key.matches(&group))
            .map(|(_, role, reach)| (role.as_str(), reach))
    }
}

/// `a.to_lowercase() == b.to_lowercase()` without building either string: role derivation
/// compares every group of every member against every mapping.
fn same_ignoring_case(a: &str, b: &str) -> bool {
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

/// `^(?:pattern)$`, case-insensitive, size-limited, from the process's cache.
fn compile(pattern: &str) -> Result<Arc<Regex>, ApiError> {
    static CACHE: LazyLock<Mutex<HashMap<String, Arc<Regex>>>> = LazyLock::new(Mutex::default);
    let invalid = |why: String| ApiError::validation("group", format!("`{PATTERN_PREFIX}{pattern}`: {why}"));
    if pattern.trim().is_empty() {
        return Err(invalid("the pattern is empty".into()));
    }
    if let Some(regex) = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(pattern) {
        return Ok(regex.clone());
    }
    let regex = RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(true)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map(Arc::new)
        .map_err(|err| match err {
            regex::Error::CompiledTooBig(_) => invalid("the pattern compiles too large; simplify it".into()),
            other => invalid(format!("not a valid regular expression: {}", first_line(&other.to_string()))),
        })?;
    let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.insert(pattern.to_string(), regex.clone());
    Ok(regex)
}

/// The regex crate's messages span lines (the pattern, a caret, the error); keep the error.
fn first_line(message: &str) -> String {
    message.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(message).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group<'a>(name: &'a str, external_id: Option<&'a str>) -> Group<'a> {
        Group { name, external_id }
    }

    #[test]
    fn exact_keys_match_names_case_insensitively_and_external_ids_exactly() {
        let key = GroupKey::parse("Engineering").unwrap();
        assert!(key.matches(&group("engineering", None)));
        assert!(key.matches(&group("other", Some("Engineering"))));
        assert!(!key.matches(&group("other", Some("engineering"))));
        assert!(!key.matches(&group("Engineering-EU", None)));
    }

    #[test]
    fn patterns_are_anchored_and_case_insensitive() {
        let key = GroupKey::parse("re:eng-.*").unwrap();
        assert!(key.matches(&group("eng-platform", None)));
        assert!(key.matches(&group("ENG-Platform", None)));
        assert!(key.matches(&group("x", Some("eng-42"))));
        assert!(!key.matches(&group("team-eng-platform", None)), "anchored at the start");
        let key = GroupKey::parse("re:eng").unwrap();
        assert!(!key.matches(&group("eng-platform", None)), "anchored at the end");
        // An alternation stays inside the anchors.
        let key = GroupKey::parse("re:a|b").unwrap();
        assert!(!key.matches(&group("xa", None)));
        assert!(!key.matches(&group("bx", None)));
        assert!(key.matches(&group("b", None)));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for bad in ["re:", "re:  ", "re:(unclosed", "re:a{99999}{99999}"] {
            let err = GroupKey::parse(bad).unwrap_err();
            assert_eq!(err.code(), "VALIDATION_ERROR", "{bad}");
        }
        let long = format!("re:{}", "a".repeat(MAX_GROUP));
        assert!(GroupKey::parse(&long).is_err());
        let huge = "re:(\\w{50}){50}";
        assert!(GroupKey::parse(huge).unwrap_err().to_string().contains("too large"), "size limit");
    }

    #[test]
    fn stored_keys_lowercase_names_and_keep_patterns() {
        assert_eq!(GroupKey::parse("Eng").unwrap().stored_key("Eng"), "eng");
        assert_eq!(GroupKey::parse("re:Eng.*").unwrap().stored_key(" re:Eng.* "), "re:Eng.*");
    }
}
