use poem::web::Data;
use poem_openapi::{OpenApi, payload::Json};

use super::{service, types::*};
use crate::{
    AppState, app::Tag, auth::BearerAuth, error::ApiResult, http::RequestMeta, json::JsonBody, scope::Origin,
};

pub struct InstanceApi;

#[OpenApi]
impl InstanceApi {
    /// Read the instance settings.
    ///
    /// Requires an instance admin.
    #[oai(
        path = "/api/v1/instance/settings",
        method = "get",
        tag = "Tag::Instance",
        operation_id = "get_instance_settings"
    )]
    async fn get_instance_settings(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<InstanceSettingsResponse>> {
        auth.0.require_instance_admin()?;
        Ok(Json(service::get(&state.db).await?.into()))
    }

    /// Change instance settings; fields left out keep their value.
    ///
    /// Requires an instance admin.
    #[oai(
        path = "/api/v1/instance/settings",
        method = "patch",
        tag = "Tag::Instance",
        operation_id = "update_instance_settings"
    )]
    async fn update_instance_settings(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        body: JsonBody<UpdateInstanceSettingsRequest>,
    ) -> ApiResult<Json<InstanceSettingsResponse>> {
        auth.0.require_instance_admin()?;
        let change = body.0.try_into()?;
        let origin = Origin::new(auth.0.actor(), meta, state.clock.clone());
        Ok(Json(service::update(&state.writer, &origin, change).await?.into()))
    }
}
