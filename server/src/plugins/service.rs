//! Plugin records (uploaded, listed, deleted on the one write path), dry runs, and the calls the
//! real flows make: each recorded as a run, a failure also as `plugin.failed` and a metric.

use std::time::Duration;

use guildhall_entities::{org, plugin, plugin_run, sso_provider, webhook_endpoint};
use guildhall_plugin_host::{
    Limits, Plugin, PluginError, RoleDecision, RoleInput, Run, TransformInput, TransformOutput, World,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::types::{InvokeResponse, PluginUse};
use crate::{
    AppState,
    audit::Actor,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{PluginDeleted, PluginFailed, PluginUploaded},
    },
    db,
    error::{ApiError, ErrorKind},
    http::RequestMeta,
    mapping::{Decided, Reach},
    paging::PageRequest,
    roles as org_roles,
    scope::{OrgId, Origin, Scope, scoped},
};

/// Plugins per org.
const MAX_PLUGINS: u64 = 20;
const MAX_NAME: usize = 64;
/// How much of a run's detail is kept.
pub(super) const MAX_DETAIL: usize = 500;

/// Where a plugin runs in a real flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    Sso,
    Scim,
    Webhook,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sso => "sso",
            Self::Scim => "scim",
            Self::Webhook => "webhook",
        }
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(allowed) {
        return Err(ApiError::validation(
            "name",
            format!("must be 1 to {MAX_NAME} characters of letters, digits, `-`, `_` and `.`"),
        ));
    }
    Ok(name.to_string())
}

/// A failure of the host as the API answers it: the plugin's faults are 422 with their code,
/// a component that is not one a 400 (413 when too large), the host's own failures 500.
pub fn problem(err: &PluginError) -> ApiError {
    let kind = match err {
        PluginError::Invalid(_) | PluginError::WrongWorld { .. } | PluginError::InputTooLarge { .. } => {
            ErrorKind::Validation
        }
        PluginError::TooLarge { .. } => ErrorKind::PayloadTooLarge,
        PluginError::Host(_) => return ApiError::internal(anyhow::anyhow!("plugin host: {err}")),
        _ => ErrorKind::Unprocessable,
    };
    ApiError::new(kind, err.code(), err.to_string())
}

pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PluginError> + Send + 'static,
) -> Result<T, PluginError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(PluginError::Host(format!("the plugin call did not finish: {e}"))))
}

/// Uploads a component: validated (a component implementing one of the worlds) and compiled
/// before anything is stored. `fuel` and `memory_mib` tighten the instance's limits for it.
pub async fn upload(
    state: &AppState,
    ctx: &OrgContext,
    name: &str,
    fuel: Option<u64>,
    memory_mib: Option<u32>,
    component: Vec<u8>,
) -> Result<plugin::Model, ApiError> {
    let name = check_name(name)?;
    if !state.plugin_uploads.allows(&ctx.org_id()) {
        return Err(ApiError::rate_limited(
            "PLUGIN_UPLOAD_RATE_LIMITED",
            format!("an org may upload {} plugins a minute; try again shortly", super::UPLOADS_PER_MINUTE),
            60 / u64::from(super::UPLOADS_PER_MINUTE),
        ));
    }
    let instance = state.plugins.limits();
    if let Some(fuel) = fuel
        && (fuel == 0 || fuel > instance.fuel)
    {
        return Err(ApiError::validation("fuel", format!("must be 1 to {}", instance.fuel)));
    }
    let instance_mib = instance.memory_bytes / (1024 * 1024);
    if let Some(mib) = memory_mib
        && (mib == 0 || usize::try_from(mib).unwrap_or(usize::MAX) > instance_mib)
    {
        return Err(ApiError::validation("memory_mib", format!("must be 1 to {instance_mib}")));
    }
    let host = state.plugins.clone();
    let (loaded, component) =
        blocking(move || host.load(&component).map(|p| (p, component))).await.map_err(|e| problem(&e))?;
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    if scoped::<plugin::Entity>(ctx).count(&tx).await? >= MAX_PLUGINS {
        return Err(ApiError::conflict(
            "PLUGIN_LIMIT_REACHED",
            format!("an org may have at most {MAX_PLUGINS} plugins"),
        ));
    }
    let taken =
        scoped::<plugin::Entity>(ctx).filter(plugin::Column::Name.eq(name.as_str())).count(&tx).await?;
    if taken > 0 {
        return Err(ApiError::conflict(
            "PLUGIN_NAME_TAKEN",
            format!("the org already has a plugin `{name}`"),
        ));
    }
    let row = plugin::Model {
        id: Uuid::now_v7(),
        org_id: ctx.org_id(),
        name,
        world: loaded.world().as_str().to_string(),
        sha256: loaded.sha256().to_string(),
        size: i64::try_from(component.len()).unwrap_or(i64::MAX),
        component,
        fuel: fuel.map(|f| i64::try_from(f).unwrap_or(i64::MAX)),
        memory_mib: memory_mib.map(|m| i32::try_from(m).unwrap_or(i32::MAX)),
        ceiling_role: ctx.role().to_string(),
        created_by: Some(ctx.principal().user_id),
        created_at: now,
    };
    plugin::Entity::insert(row.clone().into_active_model()).exec_without_returning(&tx).await?;
    let uploaded = PluginUploaded {
        plugin_id: row.id,
        name: row.name.clone(),
        world: row.world.clone(),
        sha256: row.sha256.clone(),
        size: u64::try_from(row.size).unwrap_or_default(),
    };
    changes::record(&tx, ctx, Event::PluginUploaded(uploaded)).await?;
    tx.commit().await?;
    Ok(row)
}

/// Plugins of a query, without their components (never read for a list: up to 20 × 4 MiB).
async fn described<C: ConnectionTrait>(
    db: &C,
    query: sea_orm::Select<plugin::Entity>,
) -> Result<Vec<plugin::Model>, ApiError> {
    #[derive(sea_orm::FromQueryResult)]
    struct Listed {
        id: Uuid,
        org_id: Uuid,
        name: String,
        world: String,
        sha256: String,
        size: i64,
        fuel: Option<i64>,
        memory_mib: Option<i32>,
        ceiling_role: String,
        created_by: Option<Uuid>,
        created_at: chrono::DateTime<chrono::Utc>,
    }
    use plugin::Column as C;
    let rows = query
        .select_only()
        .columns([
            C::Id,
            C::OrgId,
            C::Name,
            C::World,
            C::Sha256,
            C::Size,
            C::Fuel,
            C::MemoryMib,
            C::CeilingRole,
            C::CreatedBy,
            C::CreatedAt,
        ])
        .order_by_asc(C::Id)
        .into_model::<Listed>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| plugin::Model {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            world: r.world,
            sha256: r.sha256,
            size: r.size,
            component: Vec::new(),
            fuel: r.fuel,
            memory_mib: r.memory_mib,
            ceiling_role: r.ceiling_role,
            created_by: r.created_by,
            created_at: r.created_at,
        })
        .collect())
}

/// The org's plugins, without their components.
pub async fn list(state: &AppState, scope: &Scope) -> Result<Vec<plugin::Model>, ApiError> {
    described(&state.db, scoped::<plugin::Entity>(scope)).await
}

/// A plugin of `org_id`, without its component.
pub(super) async fn find_described<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<plugin::Model>, ApiError> {
    let query =
        plugin::Entity::find().filter(plugin::Column::OrgId.eq(org_id)).filter(plugin::Column::Id.eq(id));
    Ok(described(db, query).await?.into_iter().next())
}

pub async fn find<C: ConnectionTrait>(db: &C, scope: &Scope, id: Uuid) -> Result<plugin::Model, ApiError> {
    scoped::<plugin::Entity>(scope)
        .filter(plugin::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// A plugin of `org_id` (for the flows, which have no request scope).
async fn find_in_org<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<plugin::Model>, ApiError> {
    Ok(plugin::Entity::find()
        .filter(plugin::Column::OrgId.eq(org_id))
        .filter(plugin::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// The SSO providers, webhooks and SCIM role mapping of the org that name the plugin.
pub async fn uses<C: ConnectionTrait>(db: &C, org_id: Uuid, id: Uuid) -> Result<Vec<PluginUse>, ApiError> {
    let providers = sso_provider::Entity::find()
        .filter(sso_provider::Column::OrgId.eq(org_id))
        .filter(sso_provider::Column::RoleMapperPluginId.eq(id))
        .all(db)
        .await?;
    let webhooks = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrgId.eq(org_id))
        .filter(webhook_endpoint::Column::TransformPluginId.eq(id))
        .all(db)
        .await?;
    let directory = org::Entity::find()
        .filter(org::Column::Id.eq(org_id))
        .filter(org::Column::ScimRoleMapperPluginId.eq(id))
        .one(db)
        .await?;
    Ok(providers
        .into_iter()
        .map(|p| PluginUse { kind: "sso_provider".into(), id: p.id, name: p.name })
        .chain(webhooks.into_iter().map(|w| PluginUse { kind: "webhook".into(), id: w.id, name: w.url }))
        .chain(directory.map(|o| PluginUse {
            kind: "scim".into(),
            id: o.id,
            name: "SCIM provisioning".into(),
        }))
        .collect())
}

/// Deletes a plugin no SSO provider or webhook names (409 naming the user otherwise).
pub async fn delete(state: &AppState, ctx: &OrgContext, id: Uuid) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    // Locked, so that naming it somewhere (which share-locks it, see `require_world`) either
    // finishes first and is seen below, or waits and then finds it gone (PostgreSQL; SQLite
    // has one writer anyway).
    let row = scoped::<plugin::Entity>(ctx)
        .filter(plugin::Column::Id.eq(id))
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if let Some(user) = uses(&tx, ctx.org_id(), id).await?.first() {
        let what = match user.kind.as_str() {
            "webhook" => "the webhook",
            "scim" => "the org's group-role mappings for",
            _ => "the SSO provider",
        };
        return Err(ApiError::conflict(
            "PLUGIN_IN_USE",
            format!("`{}` is used by {what} `{}` ({}); detach it there first", row.name, user.name, user.id),
        ));
    }
    plugin::Entity::delete_by_id(row.id).exec(&tx).await?;
    changes::record(&tx, ctx, Event::PluginDeleted(PluginDeleted { plugin_id: id, name: row.name })).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks that `id` is a plugin of the org for `world` (for providers, webhooks and the SCIM
/// mapping naming one). Called in the transaction that names it, it share-locks the row until
/// that commits, so a concurrent delete cannot miss the new use.
pub async fn require_world<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    id: Uuid,
    world: World,
    field: &str,
) -> Result<plugin::Model, ApiError> {
    let row = plugin::Entity::find()
        .filter(plugin::Column::OrgId.eq(org_id))
        .filter(plugin::Column::Id.eq(id))
        .lock_shared()
        .one(db)
        .await?
        .ok_or_else(|| ApiError::validation(field, "is not a plugin of this org"))?;
    if row.world != world.as_str() {
        return Err(ApiError::validation(
            field,
            format!("names a `{}` plugin; a `{}` plugin is needed here", row.world, world.as_str()),
        ));
    }
    Ok(row)
}

/// The limits one plugin runs under: the instance's, tightened by the plugin's own.
pub(super) fn limits_of(state: &AppState, row: &plugin::Model) -> Limits {
    let own = Limits {
        fuel: row.fuel.and_then(|f| u64::try_from(f).ok()).unwrap_or(u64::MAX),
        memory_bytes: row
            .memory_mib
            .and_then(|m| usize::try_from(m).ok())
            .map_or(usize::MAX, |m| m.saturating_mul(1024 * 1024)),
        max_input_bytes: usize::MAX,
        max_output_bytes: usize::MAX,
        timeout: Duration::MAX,
    };
    state.plugins.limits().tightened(&own)
}

/// The compiled plugin: from the host's caches, else compiled from the stored component.
async fn prepared(state: &AppState, row: &plugin::Model) -> Result<Plugin, PluginError> {
    let host = state.plugins.clone();
    let sha256 = row.sha256.clone();
    if let Some(plugin) = host.cached(&sha256) {
        return Ok(plugin);
    }
    let component = row.component.clone();
    blocking(move || host.load(&component)).await
}

/// The compiled plugin of a row read without its component: from the host's caches, else
/// compiled from the component, read only then.
pub(super) async fn prepared_by_hash(state: &AppState, row: &plugin::Model) -> Result<Plugin, PluginError> {
    if let Some(plugin) = state.plugins.cached(&row.sha256) {
        return Ok(plugin);
    }
    let full = match find_in_org(&state.db, row.org_id, row.id).await {
        Ok(Some(full)) => full,
        Ok(None) => return Err(PluginError::Host("the plugin no longer exists".into())),
        Err(e) => return Err(PluginError::Host(e.to_string())),
    };
    prepared(state, &full).await
}

fn typed<T: DeserializeOwned>(input: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(input).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "input".to_string() } else { format!("input.{path}") };
        ApiError::validation(field, e.inner().to_string())
    })
}

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A dry run: the plugin on `input` (its world's input, in JSON), nothing recorded.
pub async fn invoke(
    state: &AppState,
    row: &plugin::Model,
    input: serde_json::Value,
) -> Result<InvokeResponse, ApiError> {
    let limits = limits_of(state, row);
    let plugin = prepared(state, row).await.map_err(|e| problem(&e))?;
    let (output, fuel_used, duration) = match plugin.world() {
        World::RoleMapper => {
            let input: RoleInput = typed(input)?;
            let run = blocking(move || plugin.map_role(&input, &limits)).await.map_err(|e| problem(&e))?;
            (json(&run.output)?, run.fuel_used, run.duration)
        }
        World::WebhookTransform => {
            let input: TransformInput = typed(input)?;
            let run = blocking(move || plugin.transform(&input, &limits)).await.map_err(|e| problem(&e))?;
            (json(&run.output)?, run.fuel_used, run.duration)
        }
    };
    Ok(InvokeResponse { output, duration_us: micros(duration), fuel_used })
}

/// A page of a plugin's runs, newest first.
pub async fn runs(
    state: &AppState,
    scope: &Scope,
    plugin_id: Uuid,
    page: PageRequest,
) -> Result<(Vec<plugin_run::Model>, Option<String>, bool), ApiError> {
    find(&state.db, scope, plugin_id).await?;
    let mut query = scoped::<plugin_run::Entity>(scope)
        .filter(plugin_run::Column::PluginId.eq(plugin_id))
        .order_by_desc(plugin_run::Column::Id)
        .limit(page.fetch());
    if let Some(after) = page.after {
        query = query.filter(plugin_run::Column::Id.lt(after));
    }
    Ok(page.finish(query.all(&state.db).await?, |r| r.id))
}

/// What a role mapper decided for a sign-in or a directory-managed member: a role (none: the
/// mapping table and default role decide) and teams to place the person in.
#[derive(Debug, Default)]
pub struct Verdict {
    pub role: Option<Decided>,
    pub teams: Vec<String>,
}

impl Verdict {
    /// The verdict of a plugin that assigned `role` (none: the table decides) and `teams`.
    pub fn assigned(row: &plugin::Model, role: Option<String>, teams: Vec<String>) -> Self {
        let reach = || Reach::UpTo(row.ceiling_role.clone());
        Self { role: role.map(|role| Decided { role, reach: reach() }), teams }
    }
}

/// A role mapper's answer in a real flow.
#[derive(Debug)]
pub enum Ruling {
    Assign(Verdict),
    /// Refused, with the plugin's reason.
    Deny(String),
}

/// What a real flow's call is for.
pub struct Call<'a> {
    pub org_id: Uuid,
    pub plugin_id: Uuid,
    pub hook: Hook,
    /// The SSO provider or webhook endpoint.
    pub hook_id: String,
    /// What the flow does if the plugin fails, for the `plugin.failed` entry (`fallback`,
    /// `refused`, `not_delivered`).
    pub consequence: &'a str,
    pub meta: &'a RequestMeta,
}

/// A plugin that failed in a flow (already recorded as a run, `plugin.failed` and a metric).
#[derive(Debug)]
pub struct Failed {
    pub code: String,
    pub message: String,
}

impl Failed {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_string(), message: message.into() }
    }
}

/// The plugin a flow names, if it is still there.
async fn called(state: &AppState, call: &Call<'_>) -> Result<plugin::Model, Failed> {
    match find_in_org(&state.db, call.org_id, call.plugin_id).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(Failed::new("PLUGIN_MISSING", "the plugin no longer exists")),
        Err(e) => Err(Failed::new("PLUGIN_HOST_ERROR", e.to_string())),
    }
}

/// Runs a role mapper for a sign-in or provisioning: the decision, or why there is none. A
/// role above the plugin's ceiling (its uploader's role) or unknown to the org counts as
/// invalid output.
pub async fn map_role(state: &AppState, call: &Call<'_>, input: RoleInput) -> Result<Ruling, Failed> {
    let input_sha256 = input_digest(&input);
    let row = called(state, call).await?;
    let limits = limits_of(state, &row);
    let ran: Result<Run<RoleDecision>, PluginError> = match prepared(state, &row).await {
        Ok(plugin) => blocking(move || plugin.map_role(&input, &limits)).await,
        Err(e) => Err(e),
    };
    let outcome = match ran {
        Ok(run) => match &run.output {
            RoleDecision::Assign { role: Some(role), .. } => {
                match within_ceiling(&state.db, &row, role).await {
                    Ok(()) => Ok(run),
                    Err(why) => Err((PluginError::InvalidOutput(why), Some((run.duration, run.fuel_used)))),
                }
            }
            _ => Ok(run),
        },
        Err(e) => Err((e, None)),
    };
    match outcome {
        Ok(run) => {
            let (label, detail) = match &run.output {
                RoleDecision::Assign { role, teams } => (
                    "assigned",
                    format!("role {}; teams [{}]", role.as_deref().unwrap_or("(default)"), teams.join(", ")),
                ),
                RoleDecision::Deny { reason } => ("denied", reason.clone()),
            };
            record_run(state, call, &row, &input_sha256, label, Some(detail), run.duration, run.fuel_used)
                .await;
            state.metrics.plugin_call(call.hook.as_str(), "ok");
            Ok(match run.output {
                RoleDecision::Assign { role, teams } => Ruling::Assign(Verdict::assigned(&row, role, teams)),
                RoleDecision::Deny { reason } => Ruling::Deny(reason),
            })
        }
        Err((err, cost)) => {
            let (duration, fuel) = cost.unwrap_or_default();
            Err(fail(state, call, &row, &input_sha256, &err, duration, fuel).await)
        }
    }
}

/// Runs a webhook transform for one delivery.
pub async fn transform(
    state: &AppState,
    call: &Call<'_>,
    input: TransformInput,
) -> Result<TransformOutput, Failed> {
    let input_sha256 = input_digest(&input);
    let row = called(state, call).await?;
    let limits = limits_of(state, &row);
    let ran = match prepared(state, &row).await {
        Ok(plugin) => blocking(move || plugin.transform(&input, &limits)).await,
        Err(e) => Err(e),
    };
    match ran {
        Ok(run) => {
            let label = match &run.output {
                TransformOutput::Replace { .. } => "replaced",
                TransformOutput::Drop => "dropped",
            };
            record_run(state, call, &row, &input_sha256, label, None, run.duration, run.fuel_used).await;
            state.metrics.plugin_call(call.hook.as_str(), "ok");
            Ok(run.output)
        }
        Err(err) => Err(fail(state, call, &row, &input_sha256, &err, Duration::ZERO, 0).await),
    }
}

/// Whether the plugin may confer `role`: a role of the org that its ceiling (the uploader's
/// role) reaches.
pub(super) async fn within_ceiling<C: ConnectionTrait>(
    db: &C,
    row: &plugin::Model,
    role: &str,
) -> Result<(), String> {
    let exists = org_roles::service::exists(db, row.org_id, role).await.map_err(|e| e.to_string())?;
    if !exists {
        return Err(format!("assigns `{role}`, which is not a role of this org"));
    }
    let reached = org_roles::service::reaches(db, row.org_id, &row.ceiling_role, role)
        .await
        .map_err(|e| e.to_string())?;
    if !reached {
        return Err(format!("assigns `{role}`, above its uploader's role `{}`", row.ceiling_role));
    }
    Ok(())
}

/// Records a failed call: the run, `plugin.failed` in the org's audit log, the metric.
async fn fail(
    state: &AppState,
    call: &Call<'_>,
    row: &plugin::Model,
    input_sha256: &str,
    err: &PluginError,
    duration: Duration,
    fuel: u64,
) -> Failed {
    let code = err.code();
    let message: String = err.to_string().chars().take(MAX_DETAIL).collect();
    tracing::warn!(plugin_id = %row.id, hook = call.hook.as_str(), code, %message, "a plugin failed");
    state.metrics.plugin_call(call.hook.as_str(), code);
    record_run(state, call, row, input_sha256, code, Some(message.clone()), duration, fuel).await;
    let origin = Origin::new(Actor::System, call.meta.clone(), state.clock.clone());
    let scope = origin.in_org(OrgId::stored(call.org_id));
    let failed = PluginFailed {
        plugin_id: row.id,
        name: row.name.clone(),
        hook: call.hook.as_str().into(),
        hook_id: Some(call.hook_id.clone()),
        code: code.into(),
        message: message.clone(),
        consequence: call.consequence.into(),
    };
    let recorded = async {
        let tx = db::begin_write(&state.writer).await?;
        changes::record(&tx, &scope, Event::PluginFailed(failed)).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    };
    if let Err(e) = recorded.await {
        tracing::error!(plugin_id = %row.id, error = %e, "could not audit a plugin failure");
    }
    Failed::new(code, message)
}

#[allow(clippy::too_many_arguments)]
async fn record_run(
    state: &AppState,
    call: &Call<'_>,
    row: &plugin::Model,
    input_sha256: &str,
    outcome: &str,
    detail: Option<String>,
    duration: Duration,
    fuel: u64,
) {
    let run = run_row(
        state,
        row,
        call.hook,
        &call.hook_id,
        input_sha256.to_string(),
        outcome,
        detail,
        duration,
        fuel,
    );
    if let Err(e) = plugin_run::Entity::insert(run).exec_without_returning(&state.writer).await {
        tracing::error!(plugin_id = %row.id, error = %e, "could not record a plugin run");
    }
}

/// The SHA-256 of a call's input as JSON, which its run records.
pub(super) fn input_digest<T: Serialize>(input: &T) -> String {
    let json = serde_json::to_vec(input).unwrap_or_default();
    Sha256::digest(json).iter().map(|b| format!("{b:02x}")).collect()
}

/// The record of one call made in a real flow.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_row(
    state: &AppState,
    row: &plugin::Model,
    hook: Hook,
    hook_id: &str,
    input_sha256: String,
    outcome: &str,
    detail: Option<String>,
    duration: Duration,
    fuel: u64,
) -> plugin_run::ActiveModel {
    plugin_run::ActiveModel {
        id: Set(Uuid::now_v7()),
        plugin_id: Set(row.id),
        org_id: Set(row.org_id),
        hook: Set(hook.as_str().into()),
        hook_id: Set(Some(hook_id.to_string())),
        input_sha256: Set(input_sha256),
        outcome: Set(outcome.into()),
        detail: Set(detail.map(|d| d.chars().take(MAX_DETAIL).collect())),
        duration_us: Set(i64::try_from(micros(duration)).unwrap_or(i64::MAX)),
        fuel_used: Set(i64::try_from(fuel).unwrap_or(i64::MAX)),
        created_at: Set(state.clock.now()),
    }
}

/// Deletes runs older than `days`.
pub async fn purge_runs(state: &AppState, days: i64) -> Result<u64, ApiError> {
    let before = state.clock.now() - chrono::Duration::days(days);
    Ok(plugin_run::Entity::delete_many()
        .filter(plugin_run::Column::CreatedAt.lt(before))
        .exec(&state.writer)
        .await?
        .rows_affected)
}
