//! The org's role mapper for the members its SCIM client provisions.
//!
//! SSO asks its plugin before the sign-in's transaction starts; a directory write cannot: which
//! members it touches, and their groups, are known only inside its transaction. So the plugin
//! is prepared before (the row read, the component compiled or taken from the cache) and called
//! inside, from [`recompute`](crate::mapping::service::recompute), for each member whose role
//! is derived again. Its runs and failures are kept aside and written by [`DirectoryMapper::flush`]
//! once the write has finished, committed or not: a refused write still shows its author why,
//! and a write that group commit applies twice records each distinct call once.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use guildhall_entities::{org, plugin, plugin_run, scim_user, team, user};
use guildhall_plugin_host::{Limits, Plugin, PluginError, RoleDecision, RoleInput, Source};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value;

use super::service::{self, Hook, Verdict};
use crate::{
    AppState,
    audit::Actor,
    changes::{self, Event, catalog::PluginFailed},
    db,
    error::{ApiError, ErrorKind},
    http::RequestMeta,
    scope::{OrgId, Origin},
};

/// The prepared role mapper of one org's directory writes.
pub struct DirectoryMapper {
    /// The plugin's record, without its component.
    row: plugin::Model,
    /// The compiled plugin, or why there is none (each call then fails that way).
    plugin: Result<Plugin, PluginError>,
    limits: Limits,
    org_slug: String,
    fail_closed: bool,
    /// What the runs name as the hook's id: the SCIM token, or the mapping change.
    hook_id: String,
    calls: Mutex<Vec<Recorded>>,
}

impl std::fmt::Debug for DirectoryMapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryMapper")
            .field("plugin_id", &self.row.id)
            .field("hook_id", &self.hook_id)
            .finish()
    }
}

/// A call kept for [`DirectoryMapper::flush`].
struct Recorded {
    input_sha256: String,
    outcome: String,
    detail: Option<String>,
    duration: Duration,
    fuel: u64,
    /// `(code, message)` of a failure, for `plugin.failed`.
    failure: Option<(String, String)>,
}

impl DirectoryMapper {
    /// The org's SCIM role mapper, ready to call, or `None` when the org names none. A plugin
    /// that has gone missing (a delete racing the write) counts as failing at every call.
    pub async fn load(
        state: &AppState,
        org: &org::Model,
        hook_id: String,
    ) -> Result<Option<Arc<Self>>, ApiError> {
        let Some(plugin_id) = org.scim_role_mapper_plugin_id else { return Ok(None) };
        let Some(row) = service::find_described(&state.db, org.id, plugin_id).await? else {
            tracing::warn!(org_id = %org.id, %plugin_id, "the org's SCIM role mapper is gone");
            state.metrics.plugin_call(Hook::Scim.as_str(), "PLUGIN_MISSING");
            return if org.scim_plugin_fail_closed { Err(failed_closed("PLUGIN_MISSING")) } else { Ok(None) };
        };
        let plugin = service::prepared_by_hash(state, &row).await;
        Ok(Some(Arc::new(Self {
            limits: service::limits_of(state, &row),
            row,
            plugin,
            org_slug: org.slug.clone(),
            fail_closed: org.scim_plugin_fail_closed,
            hook_id,
            calls: Mutex::default(),
        })))
    }

    /// The plugin's verdict on one directory-managed member: a role (none: the mapping table
    /// decides) and teams. A denial refuses the write (403 `DENIED_BY_PLUGIN`); a failure
    /// refuses it (503 `PLUGIN_FAILED`) when the org fails closed, else the table decides.
    pub async fn decide<C: ConnectionTrait>(
        &self,
        db: &C,
        record: &scim_user::Model,
        account: &user::Model,
        teams: &[team::Model],
    ) -> Result<Verdict, ApiError> {
        let input = RoleInput {
            org_slug: self.org_slug.clone(),
            source: Source::Scim,
            subject: subject_of(record),
            email: email_of(record),
            groups: teams.iter().filter(|t| t.directory_managed).map(|t| t.name.clone()).collect(),
            attributes: attributes_of(&record.attributes),
        };
        let input_sha256 = service::input_digest(&input);
        let ran = match &self.plugin {
            Ok(plugin) => {
                let (plugin, limits) = (plugin.clone(), self.limits.clone());
                service::blocking(move || plugin.map_role(&input, &limits)).await
            }
            Err(e) => Err(e.clone()),
        };
        let (run, cost) = match ran {
            Ok(run) => {
                let cost = (run.duration, run.fuel_used);
                match &run.output {
                    RoleDecision::Assign { role: Some(role), .. } => {
                        match service::within_ceiling(db, &self.row, role).await {
                            Ok(()) => (Ok(run.output), cost),
                            Err(why) => (Err(PluginError::InvalidOutput(why)), cost),
                        }
                    }
                    _ => (Ok(run.output), cost),
                }
            }
            Err(e) => (Err(e), (Duration::ZERO, 0)),
        };
        let (duration, fuel) = cost;
        match run {
            Ok(RoleDecision::Assign { role, teams }) => {
                let detail =
                    format!("role {}; teams [{}]", role.as_deref().unwrap_or("(default)"), teams.join(", "));
                self.keep(Recorded {
                    input_sha256,
                    outcome: "assigned".into(),
                    detail: Some(detail),
                    duration,
                    fuel,
                    failure: None,
                });
                Ok(Verdict::assigned(&self.row, role, teams))
            }
            Ok(RoleDecision::Deny { reason }) => {
                let reason: String = reason.chars().take(300).collect();
                self.keep(Recorded {
                    input_sha256,
                    outcome: "denied".into(),
                    detail: Some(reason.clone()),
                    duration,
                    fuel,
                    failure: None,
                });
                Err(ApiError::forbidden(
                    "DENIED_BY_PLUGIN",
                    format!("the org's role-mapping plugin refused `{}`: {reason}", account.email),
                ))
            }
            Err(err) => {
                let code = err.code().to_string();
                let message: String = err.to_string().chars().take(service::MAX_DETAIL).collect();
                tracing::warn!(plugin_id = %self.row.id, hook = "scim", %code, %message, "a plugin failed");
                self.keep(Recorded {
                    input_sha256,
                    outcome: code.clone(),
                    detail: Some(message.clone()),
                    duration,
                    fuel,
                    failure: Some((code.clone(), message)),
                });
                if self.fail_closed {
                    return Err(failed_closed(&code));
                }
                Ok(Verdict::default())
            }
        }
    }

    /// Keeps a call for the record; the same call made again (group commit applying a write a
    /// second time; a plugin answers the same input the same way) is kept once.
    fn keep(&self, call: Recorded) {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = calls.iter().any(|c| c.input_sha256 == call.input_sha256 && c.outcome == call.outcome);
        if !seen {
            calls.push(call);
        }
    }

    /// Writes the calls kept so far (runs, `plugin.failed` entries, metrics) in one transaction
    /// of their own. A failure to record is logged, never answered instead of the write's result.
    pub async fn flush(&self, state: &AppState, meta: &RequestMeta) {
        let calls = std::mem::take(&mut *self.calls.lock().unwrap_or_else(PoisonError::into_inner));
        if calls.is_empty() {
            return;
        }
        for call in &calls {
            let outcome = call.failure.as_ref().map_or("ok", |(code, _)| code.as_str());
            state.metrics.plugin_call(Hook::Scim.as_str(), outcome);
        }
        let origin = Origin::new(Actor::System, meta.clone(), state.clock.clone());
        let scope = origin.in_org(OrgId::stored(self.row.org_id));
        let consequence = if self.fail_closed { "refused" } else { "fallback" };
        let written = async {
            let tx = db::begin_write(&state.writer).await?;
            let runs = calls.iter().map(|c| {
                service::run_row(
                    state,
                    &self.row,
                    Hook::Scim,
                    &self.hook_id,
                    c.input_sha256.clone(),
                    &c.outcome,
                    c.detail.clone(),
                    c.duration,
                    c.fuel,
                )
            });
            plugin_run::Entity::insert_many(runs).exec_without_returning(&tx).await?;
            for (code, message) in calls.iter().filter_map(|c| c.failure.clone()) {
                let failed = PluginFailed {
                    plugin_id: self.row.id,
                    name: self.row.name.clone(),
                    hook: Hook::Scim.as_str().into(),
                    hook_id: Some(self.hook_id.clone()),
                    code,
                    message,
                    consequence: consequence.into(),
                };
                changes::record(&tx, &scope, Event::PluginFailed(failed)).await?;
            }
            tx.commit().await?;
            Ok::<_, ApiError>(())
        };
        if let Err(e) = written.await {
            tracing::error!(plugin_id = %self.row.id, error = %e, "could not record the SCIM role mapper's runs");
        }
    }
}

fn failed_closed(code: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Unavailable,
        "PLUGIN_FAILED",
        format!("the org's role-mapping plugin failed ({code}), and the org refuses directory changes then"),
    )
}

/// The address the directory gives (its primary email, else an email-shaped `userName`), or
/// none: never the placeholder an account without one gets.
fn email_of(record: &scim_user::Model) -> String {
    let user_name = record.attributes.get("userName").and_then(Value::as_str).unwrap_or_default();
    crate::scim::identity::identity_email(&record.attributes, user_name).ok().flatten().unwrap_or_default()
}

/// The directory's id for the person: its `externalId`, else its `userName`.
fn subject_of(record: &scim_user::Model) -> String {
    record
        .external_id
        .clone()
        .or_else(|| record.attributes.get("userName").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| record.user_name_key.clone())
}

/// The directory's attributes as a plugin sees them: every text, number or boolean value by its
/// SCIM path (`displayName`, `name.givenName`, an extension's
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`); multi-valued
/// attributes (emails, phone numbers, ...) are left out, the email comes on its own.
pub fn attributes_of(doc: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, separator: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::String(s) => out.push((prefix.to_string(), s.clone())),
            Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
            Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
            Value::Object(map) => {
                for (key, value) in map {
                    walk(&format!("{prefix}{separator}{key}"), ".", value, out);
                }
            }
            Value::Array(_) | Value::Null => {}
        }
    }
    let mut pairs = Vec::new();
    if let Value::Object(map) = doc {
        for (key, value) in map {
            if matches!(key.as_str(), "schemas" | "id" | "meta" | "password" | "groups") {
                continue;
            }
            // An extension's attributes are addressed `urn:...:User:attribute` (RFC 7644 §3.10).
            let separator = if key.starts_with("urn:") { ":" } else { "." };
            match value {
                Value::Object(inner) => {
                    for (sub, v) in inner {
                        walk(&format!("{key}{separator}{sub}"), ".", v, &mut pairs);
                    }
                }
                other => walk(key, ".", other, &mut pairs),
            }
        }
    }
    super::plugin_attributes(pairs.iter().map(|(k, v)| (k.as_str(), v.clone())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scim_attributes_reach_a_plugin_by_their_paths() {
        let doc = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@example.com",
            "active": true,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.com", "primary": true}],
            "password": "never shown",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Engines",
                "manager": {"value": "42"}
            }
        });
        let attributes = attributes_of(&doc);
        assert_eq!(attributes.get("userName").map(String::as_str), Some("ada@example.com"));
        assert_eq!(attributes.get("active").map(String::as_str), Some("true"));
        assert_eq!(attributes.get("name.givenName").map(String::as_str), Some("Ada"));
        let department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
        assert_eq!(attributes.get(department).map(String::as_str), Some("Engines"));
        let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value";
        assert_eq!(attributes.get(manager).map(String::as_str), Some("42"));
        assert!(!attributes.contains_key("password") && !attributes.contains_key("schemas"));
        assert!(!attributes.keys().any(|k| k.starts_with("emails")));
    }
}
