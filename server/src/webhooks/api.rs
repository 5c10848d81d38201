use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::MaybeUndefined,
};
use uuid::Uuid;

use super::{
    service::{self, NewWebhook, WebhookChange},
    types::*,
    worker,
};
use crate::{
    AppState, app::Tag, auth::tenant, changes::api::READERS, error::ApiResult, http::NoContent,
    json::JsonBody, paging::PageRequest, permissions::Permission,
};

pub struct WebhooksApi;

#[derive(ApiResponse)]
pub enum CreatedWebhook {
    /// The endpoint, with its signing secret (shown only now).
    #[oai(status = 201)]
    Created(Json<WebhookResponse>),
}

#[OpenApi]
impl WebhooksApi {
    /// The org's webhook endpoints, oldest first.
    ///
    /// Requires `webhooks:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks",
        method = "get",
        tag = "Tag::Webhooks",
        operation_id = "list_webhooks"
    )]
    async fn list_webhooks(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<WebhookPage>> {
        org.require(Permission::WebhooksManage)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let (rows, next_cursor, has_more) = service::list(&state, &org, page).await?;
        let now = org.now();
        let data = rows.into_iter().map(|r| WebhookResponse::of(r, None, now)).collect();
        Ok(Json(WebhookPage { data, next_cursor, has_more }))
    }

    /// Add a webhook endpoint. The answer carries its signing secret (`whsec_...`), the only
    /// time it is shown. It receives the events committed from now on.
    ///
    /// Requires `webhooks:manage`, and `events:read` or `audit:read` (an endpoint reads the
    /// event stream).
    #[oai(
        path = "/api/v1/orgs/:org/webhooks",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "create_webhook"
    )]
    async fn create_webhook(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<CreateWebhookRequest>,
    ) -> ApiResult<CreatedWebhook> {
        org.require(Permission::WebhooksManage)?;
        org.require_any(READERS)?;
        let body = body.0;
        let new = NewWebhook {
            url: service::check_url(&state, &body.url).await?,
            event_types: service::check_types(body.event_types)?,
            description: service::check_description(body.description.as_deref().unwrap_or_default())?,
            enabled: body.enabled.unwrap_or(true),
            transform_plugin_id: body.transform_plugin_id,
        };
        let (row, secret) = service::create(&state, &org, org.principal().user_id, new).await?;
        Ok(CreatedWebhook::Created(Json(WebhookResponse::of(row, Some(secret), org.now()))))
    }

    /// One webhook endpoint (without its secret).
    ///
    /// Requires `webhooks:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id",
        method = "get",
        tag = "Tag::Webhooks",
        operation_id = "get_webhook"
    )]
    async fn get_webhook(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<WebhookResponse>> {
        org.require(Permission::WebhooksManage)?;
        let row = service::find(&state.db, &org, id.0).await?;
        Ok(Json(WebhookResponse::of(row, None, org.now())))
    }

    /// Change an endpoint's URL, event types, description or enabled flag; only the fields sent
    /// change. Enabling it again clears the server's `disabled_reason` and resumes with new events.
    ///
    /// Requires `webhooks:manage`, and `events:read` or `audit:read`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id",
        method = "patch",
        tag = "Tag::Webhooks",
        operation_id = "update_webhook"
    )]
    async fn update_webhook(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        body: JsonBody<UpdateWebhookRequest>,
    ) -> ApiResult<Json<WebhookResponse>> {
        org.require(Permission::WebhooksManage)?;
        org.require_any(READERS)?;
        let body = body.0;
        let change = WebhookChange {
            url: match body.url {
                Some(url) => Some(service::check_url(&state, &url).await?),
                None => None,
            },
            event_types: body.event_types.map(|t| service::check_types(Some(t))).transpose()?,
            description: body.description.as_deref().map(service::check_description).transpose()?,
            enabled: body.enabled,
            transform_plugin_id: match body.transform_plugin_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(id)),
            },
        };
        let row = service::update(&state, &org, id.0, change).await?;
        Ok(Json(WebhookResponse::of(row, None, org.now())))
    }

    /// Delete an endpoint and its deliveries.
    ///
    /// Requires `webhooks:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id",
        method = "delete",
        tag = "Tag::Webhooks",
        operation_id = "delete_webhook"
    )]
    async fn delete_webhook(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::WebhooksManage)?;
        service::delete(&state, &org, id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Give the endpoint a new signing secret (shown only in this answer). For 24 hours the
    /// previous secret signs too: `webhook-signature` then carries both signatures.
    ///
    /// Requires `webhooks:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id/rotate-secret",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "rotate_webhook_secret"
    )]
    async fn rotate_webhook_secret(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<WebhookResponse>> {
        org.require(Permission::WebhooksManage)?;
        let (row, secret) = service::rotate_secret(&state, &org, id.0).await?;
        Ok(Json(WebhookResponse::of(row, Some(secret), org.now())))
    }

    /// The endpoint's deliveries, oldest first: each event's status, attempts, last response
    /// and next attempt.
    ///
    /// Requires `webhooks:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id/deliveries",
        method = "get",
        tag = "Tag::Webhooks",
        operation_id = "list_webhook_deliveries"
    )]
    async fn list_webhook_deliveries(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<DeliveryPage>> {
        org.require(Permission::WebhooksManage)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let (rows, next_cursor, has_more) = service::deliveries(&state, &org, id.0, page).await?;
        Ok(Json(DeliveryPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// Queue a delivery for another attempt now.
    ///
    /// Requires `webhooks:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id/deliveries/:delivery_id/retry",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "retry_webhook_delivery"
    )]
    async fn retry_webhook_delivery(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        delivery_id: Path<Uuid>,
    ) -> ApiResult<Json<DeliveryResponse>> {
        org.require(Permission::WebhooksManage)?;
        Ok(Json(service::retry(&state, &org, id.0, delivery_id.0).await?.into()))
    }

    /// Send a signed `webhook.ping` to the endpoint now and answer what it got.
    ///
    /// Requires `webhooks:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id/test",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "test_webhook"
    )]
    async fn test_webhook(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<WebhookTestResult>> {
        org.require(Permission::WebhooksManage)?;
        let endpoint = service::find(&state.db, &org, id.0).await?;
        Ok(Json(worker::ping(&state, &endpoint).await))
    }

    /// Queue again the org's events since a time (within the event retention) that the
    /// endpoint subscribes to: what it missed while it was down.
    ///
    /// Requires `webhooks:manage`, and `events:read` or `audit:read`.
    #[oai(
        path = "/api/v1/orgs/:org/webhooks/:id/replay",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "replay_webhook"
    )]
    async fn replay_webhook(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        /// Events committed at or after this time (RFC 3339).
        since: Query<DateTime<Utc>>,
    ) -> ApiResult<Json<ReplayResult>> {
        org.require(Permission::WebhooksManage)?;
        org.require_any(READERS)?;
        let (queued, truncated) = service::replay(&state, &org, id.0, since.0).await?;
        Ok(Json(ReplayResult { queued, truncated }))
    }
}
