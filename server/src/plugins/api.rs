use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{service, types::*};
use crate::{
    AppState, app::Tag, auth::tenant, error::ApiResult, http::NoContent, json::JsonBody, paging::PageRequest,
    permissions::Permission,
};
use guildhall_entities::{plugin, plugin_run};

pub struct PluginsApi;

#[derive(ApiResponse)]
pub enum CreatedPlugin {
    /// The plugin, validated and compiled.
    #[oai(status = 201)]
    Created(Json<PluginResponse>),
}

async fn view(state: &AppState, row: plugin::Model) -> ApiResult<PluginResponse> {
    let used_by = service::uses(&state.db, row.org_id, row.id).await?;
    Ok(PluginResponse {
        id: row.id,
        name: row.name,
        world: row.world,
        sha256: row.sha256,
        size: u64::try_from(row.size).unwrap_or_default(),
        fuel: row.fuel.and_then(|f| u64::try_from(f).ok()),
        memory_mib: row.memory_mib.and_then(|m| u32::try_from(m).ok()),
        ceiling_role: row.ceiling_role,
        used_by,
        created_at: row.created_at,
    })
}

fn run_view(row: plugin_run::Model) -> PluginRunResponse {
    PluginRunResponse {
        id: row.id,
        hook: row.hook,
        hook_id: row.hook_id,
        input_sha256: row.input_sha256,
        outcome: row.outcome,
        detail: row.detail,
        duration_us: u64::try_from(row.duration_us).unwrap_or_default(),
        fuel_used: u64::try_from(row.fuel_used).unwrap_or_default(),
        created_at: row.created_at,
    }
}

#[OpenApi]
impl PluginsApi {
    /// The org's plugins, oldest first.
    ///
    /// Requires `plugins:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/plugins",
        method = "get",
        tag = "Tag::Plugins",
        operation_id = "list_plugins"
    )]
    async fn list_plugins(&self, state: Data<&AppState>, org: tenant::Path) -> ApiResult<Json<PluginList>> {
        org.require(Permission::PluginsManage)?;
        let mut data = Vec::new();
        for row in service::list(&state, &org).await? {
            data.push(view(&state, row).await?);
        }
        Ok(Json(PluginList { data }))
    }

    /// Upload a WebAssembly component (the body, `application/wasm`). It must implement one of
    /// the worlds of `guildhall:plugin` (`role-mapper` or `webhook-transform`, detected) and
    /// import nothing but WASI; it is compiled now (400 `PLUGIN_INVALID` naming what is
    /// missing, 413 `PLUGIN_TOO_LARGE`). A role mapper never confers a role above the
    /// uploader's.
    ///
    /// Requires `plugins:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/plugins",
        method = "post",
        tag = "Tag::Plugins",
        operation_id = "upload_plugin"
    )]
    async fn upload_plugin(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// Unique in the org: letters, digits, `-`, `_`, `.` (1 to 64).
        name: Query<String>,
        /// An instruction budget per call tighter than the instance's.
        fuel: Query<Option<u64>>,
        /// A memory limit per call (MiB) tighter than the instance's.
        memory_mib: Query<Option<u32>>,
        body: WasmBody,
    ) -> ApiResult<CreatedPlugin> {
        org.require(Permission::PluginsManage)?;
        let row = service::upload(&state, &org, &name.0, fuel.0, memory_mib.0, body.0).await?;
        Ok(CreatedPlugin::Created(Json(view(&state, row).await?)))
    }

    /// One plugin (without its component).
    ///
    /// Requires `plugins:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/plugins/:id",
        method = "get",
        tag = "Tag::Plugins",
        operation_id = "get_plugin"
    )]
    async fn get_plugin(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<PluginResponse>> {
        org.require(Permission::PluginsManage)?;
        let row = service::find(&state.db, &org, id.0).await?;
        Ok(Json(view(&state, row).await?))
    }

    /// Delete a plugin that nothing uses (409 `PLUGIN_IN_USE` naming the SSO provider or
    /// webhook that does).
    ///
    /// Requires `plugins:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/plugins/:id",
        method = "delete",
        tag = "Tag::Plugins",
        operation_id = "delete_plugin"
    )]
    async fn delete_plugin(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::PluginsManage)?;
        service::delete(&state, &org, id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Dry run: the plugin on the given input, under the limits it runs under in real flows.
    /// Answers its output, the time taken and the fuel used; a failing plugin answers 422 with
    /// `PLUGIN_TRAPPED`, `PLUGIN_FUEL_EXHAUSTED`, `PLUGIN_MEMORY_LIMIT`, `PLUGIN_TIMEOUT` or
    /// `PLUGIN_INVALID_OUTPUT`. Nothing is recorded.
    ///
    /// Requires `plugins:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/plugins/:id/invoke",
        method = "post",
        tag = "Tag::Plugins",
        operation_id = "invoke_plugin"
    )]
    async fn invoke_plugin(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        body: JsonBody<InvokeRequest>,
    ) -> ApiResult<Json<InvokeResponse>> {
        org.require(Permission::PluginsManage)?;
        let row = service::find(&state.db, &org, id.0).await?;
        Ok(Json(service::invoke(&state, &row, body.0.input).await?))
    }

    /// The plugin's calls in real flows (sign-ins, deliveries), newest first: hook, input hash,
    /// outcome, time and fuel. Kept 30 days.
    ///
    /// Requires `plugins:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/plugins/:id/runs",
        method = "get",
        tag = "Tag::Plugins",
        operation_id = "list_plugin_runs"
    )]
    async fn list_plugin_runs(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<PluginRunPage>> {
        org.require(Permission::PluginsManage)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let (rows, next_cursor, has_more) = service::runs(&state, &org, id.0, page).await?;
        Ok(Json(PluginRunPage { data: rows.into_iter().map(run_view).collect(), next_cursor, has_more }))
    }
}
