//! The inputs and outputs of plugin calls as the server's API speaks them (JSON, snake_case),
//! their conversion to and from the WIT types, and the checks on what a plugin returns.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::PluginError;
use crate::bindings::{role_mapper as rm, webhook_transform as wt};

/// Longest role key or team slug a role mapper may return.
const MAX_NAME_BYTES: usize = 128;
/// Most teams a role mapper may return.
const MAX_TEAMS: usize = 32;
/// Longest deny reason.
const MAX_REASON_BYTES: usize = 1024;
/// Most extra headers a transform may return.
const MAX_HEADERS: usize = 16;

/// The world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// Exports `map-role`.
    RoleMapper,
    /// Exports `transform`.
    WebhookTransform,
}

impl World {
    /// The world's name in the WIT: `role-mapper` or `webhook-transform`.
    pub fn as_str(self) -> &'static str {
        match self {
            World::RoleMapper => "role-mapper",
            World::WebhookTransform => "webhook-transform",
        }
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An OpenID Connect sign-in.
    Oidc,
    /// A SAML sign-in.
    Saml,
    /// SCIM provisioning.
    Scim,
}

/// The input of a role mapper (WIT `role-input`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// The org's slug.
    pub org_slug: String,
    /// Where the identity came from.
    pub source: Source,
    /// The identity provider's subject id.
    #[serde(default)]
    pub subject: String,
    /// The email address the identity provider asserted.
    pub email: String,
    /// The identity provider's groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Other claims or attributes, flattened to text.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A role mapper's verdict (WIT `role-decision`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum RoleDecision {
    /// Admit with this role (`None`: the org's default and mapping table decide) and teams.
    Assign {
        /// A role key of the org, or `None`.
        role: Option<String>,
        /// Team slugs.
        #[serde(default)]
        teams: Vec<String>,
    },
    /// Refuse, with a reason for the person.
    Deny {
        /// Shown to the person and audited.
        reason: String,
    },
}

/// The input of a webhook transform. `payload` is any JSON value; the plugin gets it as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformInput {
    /// The event type, such as `member.created`.
    pub event_type: String,
    /// The event body.
    pub payload: serde_json::Value,
}

/// A webhook transform's verdict (WIT `transform-output`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransformOutput {
    /// Deliver this body with these extra headers.
    Replace {
        /// The new body (the plugin's JSON text, parsed).
        payload: serde_json::Value,
        /// Extra headers by name.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Do not deliver the event.
    Drop,
}

impl From<&RoleInput> for rm::RoleInput {
    fn from(input: &RoleInput) -> Self {
        rm::RoleInput {
            org_slug: input.org_slug.clone(),
            source: match input.source {
                Source::Oidc => rm::Source::Oidc,
                Source::Saml => rm::Source::Saml,
                Source::Scim => rm::Source::Scim,
            },
            subject: input.subject.clone(),
            email: input.email.clone(),
            groups: input.groups.clone(),
            attributes: input
                .attributes
                .iter()
                .map(|(name, value)| rm::Attribute { name: name.clone(), value: value.clone() })
                .collect(),
        }
    }
}

impl RoleDecision {
    /// Checks what a plugin returned against `max_output_bytes` and the naming rules.
    pub(crate) fn from_guest(out: rm::RoleDecision, max_output_bytes: usize) -> Result<Self, PluginError> {
        match out {
            rm::RoleDecision::Assign(rm::Assignment { role, teams }) => {
                let size =
                    role.as_ref().map_or(0, String::len) + teams.iter().map(String::len).sum::<usize>();
                check_size(size, max_output_bytes)?;
                if let Some(role) = &role {
                    check_name("role", role)?;
                }
                if teams.len() > MAX_TEAMS {
                    return Err(invalid(format!("{} teams, at most {MAX_TEAMS} allowed", teams.len())));
                }
                for team in &teams {
                    check_name("team", team)?;
                }
                Ok(RoleDecision::Assign { role, teams })
            }
            rm::RoleDecision::Deny(reason) => {
                check_size(reason.len(), max_output_bytes)?;
                if reason.trim().is_empty() || reason.len() > MAX_REASON_BYTES {
                    return Err(invalid(format!("a deny reason must be 1 to {MAX_REASON_BYTES} bytes")));
                }
                if reason.chars().any(char::is_control) {
                    return Err(invalid("the deny reason contains control characters".into()));
                }
                Ok(RoleDecision::Deny { reason })
            }
        }
    }
}

impl TransformOutput {
    /// Checks what a plugin returned: size, JSON payload, header names and values.
    pub(crate) fn from_guest(out: wt::TransformOutput, max_output_bytes: usize) -> Result<Self, PluginError> {
        let wt::Replacement { payload, headers } = match out {
            wt::TransformOutput::Drop => return Ok(TransformOutput::Drop),
            wt::TransformOutput::Replace(r) => r,
        };
        let size = payload.len() + headers.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
        check_size(size, max_output_bytes)?;
        let payload: serde_json::Value = serde_json::from_str(&payload)
            .map_err(|e| invalid(format!("the payload is not valid JSON: {e}")))?;
        if headers.len() > MAX_HEADERS {
            return Err(invalid(format!("{} headers, at most {MAX_HEADERS} allowed", headers.len())));
        }
        let mut out = BTreeMap::new();
        for (name, value) in headers {
            // RFC 9110 5.1: a field name is a token; 5.5: a value is visible ASCII with spaces
            // and tabs inside, never CR or LF.
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(invalid(format!("header name {name:?} is not an RFC 9110 token")));
            }
            let visible = value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
            if !visible || value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
                return Err(invalid(format!("header {name} has a value that is not visible ASCII")));
            }
            if out.keys().any(|k: &String| k.eq_ignore_ascii_case(&name)) {
                return Err(invalid(format!("header {name} is given twice")));
            }
            out.insert(name, value);
        }
        Ok(TransformOutput::Replace { payload, headers: out })
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn check_size(size: usize, limit: usize) -> Result<(), PluginError> {
    if size > limit {
        return Err(invalid(format!("{size} bytes of output, more than the limit of {limit}")));
    }
    Ok(())
}

fn check_name(what: &str, name: &str) -> Result<(), PluginError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(invalid(format!("a {what} must be 1 to {MAX_NAME_BYTES} bytes, got {}", name.len())));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(format!("the {what} {name:?} contains whitespace or control characters")));
    }
    Ok(())
}

fn invalid(message: String) -> PluginError {
    PluginError::InvalidOutput(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn role_input_reads_the_api_json() {
        let input: RoleInput = serde_json::from_value(json!({
            "org_slug": "acme", "source": "saml", "email": "a@acme.test",
            "groups": ["x"], "attributes": { "dept": "eng" }
        }))
        .unwrap();
        assert_eq!(input.subject, "");
        assert_eq!(input.source, Source::Saml);
        let unknown = json!({ "org_slug": "a", "source": "oidc", "email": "e", "extra": 1 });
        assert!(serde_json::from_value::<RoleInput>(unknown).is_err());
    }

    #[test]
    fn outputs_serialise_as_the_api_shapes() {
        let assign = RoleDecision::Assign { role: None, teams: vec!["eng".into()] };
        assert_eq!(
            serde_json::to_value(&assign).unwrap(),
            json!({ "decision": "assign", "role": null, "teams": ["eng"] })
        );
        let deny = RoleDecision::Deny { reason: "no".into() };
        assert_eq!(serde_json::to_value(&deny).unwrap(), json!({ "decision": "deny", "reason": "no" }));
        assert_eq!(serde_json::to_value(TransformOutput::Drop).unwrap(), json!({ "action": "drop" }));
        let replace = TransformOutput::Replace {
            payload: json!({ "a": 1 }),
            headers: BTreeMap::from([("X-A".into(), "v".into())]),
        };
        assert_eq!(
            serde_json::to_value(&replace).unwrap(),
            json!({ "action": "replace", "payload": { "a": 1 }, "headers": { "X-A": "v" } })
        );
    }

    #[test]
    fn transform_headers_are_checked() {
        let out = |headers: Vec<(&str, &str)>| {
            let headers = headers.into_iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            TransformOutput::from_guest(
                wt::TransformOutput::Replace(wt::Replacement { payload: "{}".into(), headers }),
                1 << 16,
            )
        };
        assert!(out(vec![("X-Ok", "a value\twith tab")]).is_ok());
        for (case, headers) in [
            ("space in name", vec![("X Bad", "v")]),
            ("empty name", vec![("", "v")]),
            ("CRLF in value", vec![("X-A", "a\r\nb")]),
            ("non-ASCII value", vec![("X-A", "é")]),
            ("twice", vec![("X-A", "1"), ("x-a", "2")]),
        ] {
            assert_eq!(out(headers).map_err(|e| e.code()), Err("PLUGIN_INVALID_OUTPUT"), "{case}");
        }
    }

    #[test]
    fn role_names_are_checked() {
        let out = |role: &str, teams: usize| {
            RoleDecision::from_guest(
                rm::RoleDecision::Assign(rm::Assignment {
                    role: Some(role.into()),
                    teams: (0..teams).map(|i| format!("t{i}")).collect(),
                }),
                1 << 16,
            )
        };
        assert!(out("admin", 32).is_ok());
        assert!(out("", 0).is_err());
        assert!(out(&"a".repeat(129), 0).is_err());
        assert!(out("admin", 33).is_err());
        assert!(out("ad min", 0).is_err());
    }
}
