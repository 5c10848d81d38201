//! Assembles the server: state, routes, the OpenAPI document, and the listener.

use std::{net::SocketAddr, sync::Arc};

use poem::{
    Endpoint, EndpointExt, IntoEndpoint, Route, Server,
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, Tags, payload::PlainText};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{
    AppState,
    audit::api::AuditApi,
    changes::api::EventsApi,
    clock::SharedClock,
    config::Config,
    crypto::MasterKey,
    db,
    domains::api::DomainsApi,
    error::{ApiError, ApiResult, ErrorKind},
    http::{self, Metrics},
    instance::{self, api::InstanceApi},
    invitations::api::InvitationsApi,
    json::BodyLimit,
    keys::{KeyStore, api::KeysApi},
    mapping::api::GroupRoleMappingsApi,
    members::api::MembersApi,
    mfa::api::MfaApi,
    orgs::api::OrgsApi,
    passwords::PasswordHasher,
    plugins::api::PluginsApi,
    roles::api::RolesApi,
    scim::{
        api::ScimTokensApi,
        bulk_api::ScimBulkApi,
        discovery::ScimDiscoveryApi,
        resources_api::{ScimGroupsApi, ScimSearchApi, ScimUsersApi},
    },
    service_accounts::api::ServiceAccountsApi,
    sessions::api::SessionsApi,
    sso::api::SsoProvidersApi,
    teams::api::TeamsApi,
    tokens::api::TokensApi,
    users::api::UsersApi,
    webhooks::api::WebhooksApi,
};

#[derive(Tags)]
pub enum Tag {
    /// Sign-up, sign-in (with a second factor), refresh, sign-out and the current user.
    Auth,
    /// Personal API tokens.
    Tokens,
    /// Organizations: create, read, change, delete, switch into, transfer ownership.
    Orgs,
    /// Members of an org and their roles.
    Members,
    /// Built-in and custom roles of an org.
    Roles,
    /// Teams: named groups of an org's members.
    Teams,
    /// Invitations to join an org.
    Invitations,
    /// Non-human members of an org and their tokens.
    ServiceAccounts,
    /// Email domains an org admits members from.
    Domains,
    /// The org's hash-chained audit log.
    Audit,
    /// Domain events: read by cursor, and the catalog of their types and payloads.
    Events,
    /// Webhook endpoints, their deliveries, tests and replays.
    Webhooks,
    /// SCIM 2.0 provisioning (RFC 7644) and its tokens.
    Scim,
    /// Enterprise SSO: the org's identity providers (OIDC, SAML 2.0).
    Sso,
    /// WebAssembly plugins: role mappers and webhook transforms, sandboxed.
    Plugins,
    /// Instance users (instance admins only).
    Users,
    /// Instance settings (instance admins only).
    Instance,
    /// Signing keys and the JWKS.
    Keys,
    /// Instance administration.
    Admin,
    /// Health, readiness and metrics.
    Ops,
}

pub struct OpsApi;

#[derive(Object)]
pub struct Health {
    /// `ok`
    pub status: String,
}

#[derive(ApiResponse)]
pub enum MetricsResponse {
    /// Prometheus text exposition format.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

#[OpenApi]
impl OpsApi {
    /// Liveness: answers while the process runs.
    #[oai(path = "/healthz", method = "get", tag = "Tag::Ops", operation_id = "healthz")]
    async fn healthz(&self) -> poem_openapi::payload::Json<Health> {
        poem_openapi::payload::Json(Health { status: "ok".into() })
    }

    /// Readiness: answers 200 when the database answers, 503 otherwise.
    #[oai(path = "/readyz", method = "get", tag = "Tag::Ops", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&AppState>) -> ApiResult<poem_openapi::payload::Json<Health>> {
        db::ping(&state.db).await.map_err(|e| {
            tracing::warn!(error = %e, "database not ready");
            ApiError::new(ErrorKind::Unavailable, "UNAVAILABLE", "the database does not answer")
        })?;
        Ok(poem_openapi::payload::Json(Health { status: "ok".into() }))
    }

    /// Request counts and latency histograms per operation, for Prometheus.
    #[oai(path = "/metrics", method = "get", tag = "Tag::Ops", operation_id = "metrics")]
    async fn metrics(&self, state: Data<&AppState>) -> MetricsResponse {
        MetricsResponse::Ok(PlainText(state.metrics.render()))
    }
}

/// Every API of the server, listed once for both the type and the value. poem-openapi
/// implements `OpenApi` for tuples of up to 16, so areas with several APIs are grouped.
macro_rules! apis {
    ($($api:tt),* $(,)?) => {
        type Apis = ($($api,)*);

        fn apis() -> Apis {
            ($($api,)*)
        }
    };
}

apis!(
    (SessionsApi, MfaApi),
    TokensApi,
    OrgsApi,
    MembersApi,
    RolesApi,
    TeamsApi,
    InvitationsApi,
    (DomainsApi, SsoProvidersApi),
    ServiceAccountsApi,
    AuditApi,
    (EventsApi, WebhooksApi, PluginsApi),
    (
        ScimTokensApi,
        ScimDiscoveryApi,
        ScimUsersApi,
        ScimGroupsApi,
        ScimSearchApi,
        ScimBulkApi,
        GroupRoleMappingsApi
    ),
    UsersApi,
    InstanceApi,
    KeysApi,
    OpsApi,
);

fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(apis(), "Guildhall", env!("CARGO_PKG_VERSION")).description(
        "A standards-first, multi-tenant identity server. Errors are RFC 9457 problem details \
         with a stable `code`. Lists page with `limit` and an opaque `cursor`.",
    )
}

/// The OpenAPI document, as `guildhall openapi` prints it and `/openapi.json` serves it.
pub fn openapi_json() -> String {
    let spec = api_service().spec();
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(&spec) else { return spec };
    mark_optional_as_nullable(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or(spec)
}

/// Every optional property of this API is an `Option` (or a PATCH field where `null` clears):
/// it accepts and may carry `null`. poem-openapi leaves that out of OpenAPI 3.0's schemas, and
/// SDK generators then reject real responses, so say it: `nullable: true` on each property that
/// is not required (through `allOf` where the property is a `$ref`).
fn mark_optional_as_nullable(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    for schema in schemas.values_mut() {
        let required: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else { continue };
        for (name, property) in properties.iter_mut() {
            if required.contains(name) {
                continue;
            }
            if let Some(reference) = property.get("$ref").cloned() {
                let mut wrapped = serde_json::Map::new();
                wrapped.insert("allOf".into(), json!([{ "$ref": reference }]));
                wrapped.insert("nullable".into(), Value::Bool(true));
                if let Some(description) = property.get("description") {
                    wrapped.insert("description".into(), description.clone());
                }
                *property = Value::Object(wrapped);
            } else if let Some(object) = property.as_object_mut() {
                object.insert("nullable".into(), Value::Bool(true));
            }
        }
    }
}

/// Everything the server needs, loaded from configuration: the database (migrated), instance
/// settings, the master key and signing keys (both created on first start).
pub async fn build_state(config: Config, clock: SharedClock) -> anyhow::Result<AppState> {
    let master = if config.master_key.is_empty() {
        std::fs::create_dir_all(&config.data_dir)?;
        MasterKey::load_or_create(&config.data_dir)?
    } else {
        MasterKey::from_base64(config.master_key.expose()).map_err(|e| anyhow::anyhow!("master_key: {e}"))?
    };
    let database = db::connect(&config).await?;
    db::migrate(&database).await?;
    let writer = db::connect_writer(&config, &database).await?;
    instance::service::ensure(&database, &config.instance, clock.now()).await.map_err(api_to_anyhow)?;
    let overlap = chrono::Duration::seconds(
        i64::try_from(config.tokens.access_ttl_seconds + config.tokens.leeway_seconds).unwrap_or(i64::MAX),
    );
    let keys = KeyStore::new(database.clone(), master, clock.clone(), overlap);
    keys.init().await.map_err(api_to_anyhow)?;
    let mailer = crate::mail::Mailer::new(&config.mail, &config.data_dir)?;
    let outbound = crate::outbound::Outbound::new(&config.outbound)?;
    let commits = crate::group_commit::Commits::start(&writer);
    let plugins = crate::plugins::host(&config, true)?;
    Ok(AppState {
        mailer,
        outbound,
        commits,
        sso_checks: Arc::new(crate::sso::check::limiter()),
        sso_failure_audits: Arc::new(crate::rate::Limiter::per_minute(
            crate::sso::signin::FAILURE_AUDITS_PER_MINUTE,
        )),
        sso_login_starts: Arc::new(crate::rate::Limiter::per_minute(config.sso.login_starts_per_minute)),
        sso_discovery: Arc::default(),
        plugins,
        plugin_uploads: Arc::new(crate::rate::Limiter::per_minute(crate::plugins::UPLOADS_PER_MINUTE)),
        writer,
        db: database,
        passwords: Arc::new(PasswordHasher::new(&config.passwords)?),
        config: Arc::new(config),
        keys: Arc::new(keys),
        clock,
        metrics: Arc::new(Metrics::new()?),
    })
}

pub fn api_to_anyhow(err: ApiError) -> anyhow::Error {
    match err.source_error() {
        Some(source) => anyhow::anyhow!("{err}: {source:#}"),
        None => anyhow::anyhow!("{err}"),
    }
}

/// The whole HTTP application.
pub fn routes(state: AppState) -> impl Endpoint {
    let api = api_service();
    let spec_text = openapi_json();
    let spec = poem::endpoint::make_sync(move |_| {
        poem::Response::builder().content_type("application/json").body(spec_text.clone())
    });
    let docs = api.swagger_ui();
    let limit = BodyLimit(state.config.max_body_bytes);
    let param_names = Arc::new(http::PathParamNames::from_spec(&api.spec()));
    Route::new()
        .at("/api/v1/auth/sso/login", poem::get(crate::sso::browser::start))
        .at("/api/v1/auth/sso/oidc/callback", poem::get(crate::sso::browser::oidc_callback))
        .at("/api/v1/auth/sso/saml/acs", poem::post(crate::sso::browser::saml_acs))
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", api.into_endpoint())
        .around(http::observe)
        .data(state)
        .data(limit)
        .data(param_names)
}

/// A server listening in the background; dropping it does not stop it, `stop` does.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
    jobs: JoinHandle<()>,
    webhooks: JoinHandle<()>,
}

impl RunningServer {
    /// Binds `config.bind` (port 0 picks a free port), builds the state and serves.
    pub async fn start(mut config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        let acceptor = TcpListener::bind(config.bind).into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("the listener has no address"))?;
        if config.public_base_url == format!("http://{}", config.bind) && config.bind.port() == 0 {
            config.public_base_url = format!("http://{addr}");
        }
        let state = build_state(config, clock).await?;
        let jobs = crate::jobs::spawn(
            state.clone(),
            std::time::Duration::from_secs(state.config.jobs_interval_seconds),
        );
        let webhooks = crate::webhooks::worker::spawn(state.clone());
        let app = routes(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async {
                        let _ = rx.await;
                    },
                    Some(std::time::Duration::from_secs(5)),
                )
                .await
        });
        Ok(Self { addr, state, shutdown: Some(tx), handle, jobs, webhooks })
    }

    pub async fn stop(mut self) -> std::io::Result<()> {
        self.jobs.abort();
        self.webhooks.abort();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.await.unwrap_or(Ok(()))
    }

    /// Serves until the process gets Ctrl-C or SIGTERM.
    pub async fn wait_for_signal(self) -> std::io::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
