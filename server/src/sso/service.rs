//! Provider records: checked, sealed, stored and audited on the one write path.

use std::time::Duration;

use chrono::{DateTime, Utc};
use guildhall_entities::sso_provider;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::{
    oidc::{self, OidcSettings},
    saml::{self, SamlSettings},
    sp_key::SpKey,
    types::*,
};
use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{SsoProviderChanged, SsoProviderCreated, SsoProviderDeleted},
    },
    db,
    domains::{names, service::OrgDomains},
    error::ApiError,
    members, permissions,
    scope::{Scope, scoped},
};

/// Providers per org.
const MAX_PROVIDERS: u64 = 10;
const MAX_NAME: usize = 100;
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// The sealing context of a provider's client secret: it opens only for its provider.
pub fn seal_context(id: Uuid) -> Vec<u8> {
    format!("sso-provider:{id}").into_bytes()
}

/// A provider's configuration, checked.
pub struct Checked {
    name: String,
    domains: Vec<String>,
    jit: bool,
    default_role: String,
    sso_required: bool,
    settings: Settings,
    client_secret: Option<String>,
    role_mapper_plugin_id: Option<Uuid>,
    plugin_fail_closed: bool,
}

pub enum Settings {
    Saml(SamlSettings),
    Oidc(OidcSettings),
}

impl Settings {
    fn kind(&self) -> SsoKind {
        match self {
            Self::Saml(_) => SsoKind::Saml,
            Self::Oidc(_) => SsoKind::Oidc,
        }
    }

    fn to_json(&self) -> Result<String, ApiError> {
        match self {
            Self::Saml(s) => serde_json::to_string(s),
            Self::Oidc(s) => serde_json::to_string(s),
        }
        .map_err(ApiError::internal)
    }

    pub fn of(row: &sso_provider::Model) -> Result<Self, ApiError> {
        match SsoKind::parse(&row.kind) {
            Some(SsoKind::Saml) => serde_json::from_str(&row.settings).map(Self::Saml),
            Some(SsoKind::Oidc) => serde_json::from_str(&row.settings).map(Self::Oidc),
            None => {
                return Err(ApiError::internal(anyhow::anyhow!("provider {} has kind {}", row.id, row.kind)));
            }
        }
        .map_err(ApiError::internal)
    }
}

/// Checks what an admin sent (everything but what needs the database), fetching a metadata
/// URL when one is given.
pub async fn check(state: &AppState, input: SsoProviderInput) -> Result<Checked, ApiError> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::validation("name", format!("must be 1 to {MAX_NAME} characters")));
    }
    let mut domains = Vec::new();
    for raw in input.domains.unwrap_or_default() {
        let domain = names::normalize("domains", &raw)?;
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    let plugin_fail_closed = match input.plugin_failure.as_deref().map(str::trim) {
        None | Some("open") => false,
        Some("closed") => true,
        Some(_) => return Err(ApiError::validation("plugin_failure", "must be `open` or `closed`")),
    };
    let outbound = &state.outbound;
    let (settings, client_secret) = match (input.kind, input.saml, input.oidc) {
        (SsoKind::Saml, Some(mut saml_input), None) => {
            let imported = match (saml_input.metadata_xml.take(), saml_input.metadata_url.as_deref()) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::validation(
                        "saml",
                        "give `metadata_xml` or `metadata_url`, not both",
                    ));
                }
                (Some(xml), None) => Some(
                    saml::parse_metadata(&xml)
                        .map_err(|why| ApiError::validation("saml.metadata_xml", why))?,
                ),
                (None, Some(url)) => Some(fetch_metadata(state, url).await?),
                (None, None) => None,
            };
            (Settings::Saml(saml::settings(outbound, saml_input, imported)?), None)
        }
        (SsoKind::Oidc, None, Some(oidc_input)) => {
            let (settings, secret) = oidc::settings(outbound, oidc_input)?;
            (Settings::Oidc(settings), secret)
        }
        (kind, _, _) => {
            return Err(ApiError::validation(
                kind.as_str(),
                format!("a `{0}` provider takes the `{0}` object, and only that one", kind.as_str()),
            ));
        }
    };
    Ok(Checked {
        name,
        domains,
        jit: input.jit.unwrap_or(true),
        default_role: input
            .default_role
            .map(|r| r.trim().to_string())
            .unwrap_or_else(|| permissions::MEMBER.into()),
        sso_required: input.sso_required.unwrap_or(false),
        settings,
        client_secret,
        role_mapper_plugin_id: input.role_mapper_plugin_id,
        plugin_fail_closed,
    })
}

pub async fn fetch_metadata(state: &AppState, url: &str) -> Result<saml::IdpMetadata, ApiError> {
    let field = "saml.metadata_url";
    let reply = state
        .outbound
        .get(url.trim(), METADATA_TIMEOUT, saml::MAX_METADATA)
        .await
        .map_err(|e| ApiError::validation(field, format!("could not be fetched: {e}")))?;
    if reply.status != 200 {
        return Err(ApiError::validation(field, format!("answered HTTP {}", reply.status)));
    }
    let xml =
        String::from_utf8(reply.body).map_err(|_| ApiError::validation(field, "did not answer UTF-8 XML"))?;
    saml::parse_metadata(&xml)
        .map_err(|why| ApiError::validation(field, format!("answered metadata that {why}")))
}

/// The rules that need the org: its verified domains, each served by one provider, and a
/// default role the caller stands as high as.
async fn check_in_org<C: ConnectionTrait>(
    db: &C,
    ctx: &OrgContext,
    checked: &Checked,
    except: Option<Uuid>,
) -> Result<(), ApiError> {
    let verified = OrgDomains::load(db, ctx.org_id()).await?;
    for domain in &checked.domains {
        if !verified.verifies_domain(domain) {
            return Err(ApiError::new(
                crate::error::ErrorKind::Validation,
                "DOMAIN_NOT_VERIFIED",
                format!(
                    "`{domain}` is not a verified domain of this org; verify it before an IdP may sign people in for it"
                ),
            ));
        }
    }
    let others = scoped::<sso_provider::Entity>(ctx).all(db).await?;
    for other in others.iter().filter(|o| Some(o.id) != except) {
        let served: Vec<String> = serde_json::from_str(&other.domains).unwrap_or_default();
        if let Some(domain) = checked.domains.iter().find(|d| served.contains(d)) {
            return Err(ApiError::conflict(
                "SSO_DOMAIN_TAKEN",
                format!("`{domain}` is already served by the provider `{}`", other.name),
            ));
        }
    }
    if let Some(plugin) = checked.role_mapper_plugin_id {
        let plugin = crate::plugins::service::require_world(
            db,
            ctx.org_id(),
            plugin,
            guildhall_plugin_host::World::RoleMapper,
            "role_mapper_plugin_id",
        )
        .await?;
        // The plugin may confer up to its uploader's role: whoever puts it to work stands as high.
        members::service::check_role_assignable(db, ctx, &plugin.ceiling_role).await?;
    }
    members::service::check_role_assignable(db, ctx, &checked.default_role).await
}

/// A metadata URL was fetched while checking the configuration (see [`check`]).
fn fetched_at(settings: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match settings {
        Settings::Saml(s) if s.metadata_url.is_some() => Some(now),
        _ => None,
    }
}

pub async fn list(state: &AppState, scope: &Scope) -> Result<Vec<sso_provider::Model>, ApiError> {
    Ok(scoped::<sso_provider::Entity>(scope).order_by_asc(sso_provider::Column::Id).all(&state.db).await?)
}

pub async fn find<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<sso_provider::Model, ApiError> {
    scoped::<sso_provider::Entity>(scope)
        .filter(sso_provider::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn seal(state: &AppState, id: Uuid, secret: &str) -> Result<Vec<u8>, ApiError> {
    state.keys.master_key().seal(&seal_context(id), secret.as_bytes()).map_err(ApiError::internal)
}

pub async fn create(
    state: &AppState,
    ctx: &OrgContext,
    checked: Checked,
) -> Result<sso_provider::Model, ApiError> {
    let now = ctx.now();
    let id = Uuid::now_v7();
    let kind = checked.settings.kind();
    let client_secret = match (&checked.settings, &checked.client_secret) {
        (Settings::Oidc(_), None) => return Err(ApiError::validation("oidc.client_secret", "is required")),
        (_, Some(secret)) => Some(seal(state, id, secret)?),
        (_, None) => None,
    };
    let sp_key = match &checked.settings {
        Settings::Saml(_) => Some(SpKey::generate(id, now)?.seal(state, id)?),
        Settings::Oidc(_) => None,
    };
    let tx = db::begin_write(&state.writer).await?;
    if scoped::<sso_provider::Entity>(ctx).count(&tx).await? >= MAX_PROVIDERS {
        return Err(ApiError::conflict(
            "SSO_PROVIDER_LIMIT_REACHED",
            format!("an org may have at most {MAX_PROVIDERS} providers"),
        ));
    }
    check_in_org(&tx, ctx, &checked, None).await?;
    let row = sso_provider::Model {
        id,
        org_id: ctx.org_id(),
        kind: kind.as_str().into(),
        name: checked.name,
        enabled: true,
        domains: serde_json::to_string(&checked.domains).map_err(ApiError::internal)?,
        jit: checked.jit,
        default_role: checked.default_role,
        sso_required: checked.sso_required,
        settings: checked.settings.to_json()?,
        client_secret,
        metadata_refreshed_at: fetched_at(&checked.settings, now),
        sp_certificate: sp_key.as_ref().map(|k| k.certificate_pem.clone()),
        sp_key: sp_key.map(|k| k.key),
        role_mapper_plugin_id: checked.role_mapper_plugin_id,
        plugin_fail_closed: checked.plugin_fail_closed,
        created_by: Some(ctx.principal().user_id),
        created_at: now,
        updated_at: now,
    };
    sso_provider::Entity::insert(row.clone().into_active_model().reset_all())
        .exec_without_returning(&tx)
        .await?;
    let created = SsoProviderCreated {
        provider_id: id,
        kind: kind.as_str().into(),
        name: row.name.clone(),
        domains: checked.domains,
        default_role: row.default_role.clone(),
        jit: row.jit,
        sso_required: row.sso_required,
    };
    changes::record(&tx, ctx, Event::SsoProviderCreated(created)).await?;
    tx.commit().await?;
    Ok(row)
}

/// Replaces a provider's configuration (its kind stays); an OIDC client secret not sent is kept.
pub async fn replace(
    state: &AppState,
    ctx: &OrgContext,
    id: Uuid,
    checked: Checked,
) -> Result<sso_provider::Model, ApiError> {
    let now = ctx.now();
    let client_secret = checked.client_secret.as_deref().map(|s| seal(state, id, s)).transpose()?;
    let tx = db::begin_write(&state.writer).await?;
    let before = find(&tx, ctx, id).await?;
    if before.kind != checked.settings.kind().as_str() {
        return Err(ApiError::validation(
            "kind",
            format!("a provider keeps its kind (`{}`); add a new one instead", before.kind),
        ));
    }
    // Whoever reconfigures a provider stands as high as what it confers now, too.
    members::service::check_role_assignable(&tx, ctx, &before.default_role).await?;
    check_in_org(&tx, ctx, &checked, Some(id)).await?;
    let mut changed = Vec::new();
    let domains = serde_json::to_string(&checked.domains).map_err(ApiError::internal)?;
    let refreshed = fetched_at(&checked.settings, now);
    let settings = checked.settings.to_json()?;
    for (name, differs) in [
        ("name", before.name != checked.name),
        ("domains", before.domains != domains),
        ("jit", before.jit != checked.jit),
        ("default_role", before.default_role != checked.default_role),
        ("sso_required", before.sso_required != checked.sso_required),
        ("settings", before.settings != settings),
        ("client_secret", client_secret.is_some()),
        ("role_mapper_plugin_id", before.role_mapper_plugin_id != checked.role_mapper_plugin_id),
        ("plugin_failure", before.plugin_fail_closed != checked.plugin_fail_closed),
    ] {
        if differs {
            changed.push(name.to_string());
        }
    }
    let mut row = before.clone().into_active_model();
    row.name = Set(checked.name);
    row.domains = Set(domains);
    row.jit = Set(checked.jit);
    row.default_role = Set(checked.default_role);
    row.sso_required = Set(checked.sso_required);
    row.role_mapper_plugin_id = Set(checked.role_mapper_plugin_id);
    row.plugin_fail_closed = Set(checked.plugin_fail_closed);
    row.settings = Set(settings);
    if let Some(sealed) = client_secret {
        row.client_secret = Set(Some(sealed));
    }
    row.metadata_refreshed_at = Set(refreshed);
    row.updated_at = Set(now);
    let row = row.update(&tx).await?;
    if !changed.is_empty() {
        let event = SsoProviderChanged { provider_id: id, name: row.name.clone(), changed };
        changes::record(&tx, ctx, Event::SsoProviderUpdated(event)).await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn set_enabled(
    state: &AppState,
    ctx: &OrgContext,
    id: Uuid,
    enabled: bool,
) -> Result<sso_provider::Model, ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let before = find(&tx, ctx, id).await?;
    members::service::check_role_assignable(&tx, ctx, &before.default_role).await?;
    if before.enabled == enabled {
        return Ok(before);
    }
    let mut row = before.into_active_model();
    row.enabled = Set(enabled);
    row.updated_at = Set(ctx.now());
    let row = row.update(&tx).await?;
    let changed =
        SsoProviderChanged { provider_id: id, name: row.name.clone(), changed: vec!["enabled".into()] };
    let event =
        if enabled { Event::SsoProviderEnabled(changed) } else { Event::SsoProviderDisabled(changed) };
    changes::record(&tx, ctx, event).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete(state: &AppState, ctx: &OrgContext, id: Uuid) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let row = find(&tx, ctx, id).await?;
    members::service::check_role_assignable(&tx, ctx, &row.default_role).await?;
    sso_provider::Entity::delete_by_id(row.id).exec(&tx).await?;
    let deleted = SsoProviderDeleted { provider_id: id, name: row.name, kind: row.kind };
    changes::record(&tx, ctx, Event::SsoProviderDeleted(deleted)).await?;
    tx.commit().await?;
    Ok(())
}

/// What an admin sees of a provider: no secret, certificate details, our URLs for the IdP.
pub fn view(state: &AppState, row: sso_provider::Model, now: DateTime<Utc>) -> Result<SsoProvider, ApiError> {
    let base = &state.config.public_base_url;
    let settings = Settings::of(&row)?;
    let (saml, oidc) = match settings {
        Settings::Saml(s) => {
            let sp_entity_id = super::sp_entity_id(base, row.id);
            let view = SamlView {
                certificates: s
                    .certificates
                    .iter()
                    .filter_map(|pem| saml::certificate_info(pem, now))
                    .collect(),
                idp_entity_id: s.idp_entity_id,
                sso_url: s.sso_url,
                metadata_url: s.metadata_url,
                metadata_fetched_at: row.metadata_refreshed_at,
                name_id_format: s.name_id_format,
                email_attribute: s.email_attribute,
                groups_attribute: s.groups_attribute,
                clock_skew_seconds: s.clock_skew_seconds,
                authn_context_class_ref: s.authn_context_class_ref,
                allow_idp_initiated: s.allow_idp_initiated,
                sp_metadata_url: sp_entity_id.clone(),
                sp_entity_id,
                acs_url: super::acs_url(base),
                sp_certificate: row
                    .sp_certificate
                    .as_deref()
                    .and_then(|pem| saml::certificate_info(pem, now)),
                sign_authn_requests: s.sign_authn_requests,
                require_encrypted_assertions: s.require_encrypted_assertions,
            };
            (Some(view), None)
        }
        Settings::Oidc(s) => {
            let view = OidcView {
                discovery_url: s.discovery_url,
                issuer: s.issuer,
                authorization_endpoint: s.authorization_endpoint,
                token_endpoint: s.token_endpoint,
                jwks_uri: s.jwks_uri,
                userinfo_endpoint: s.userinfo_endpoint,
                client_id: s.client_id,
                client_secret_set: row.client_secret.is_some(),
                scopes: s.scopes,
                groups_claim: s.groups_claim,
                token_auth_method: s.token_auth_method,
                redirect_uri: super::oidc_redirect_uri(base),
            };
            (None, Some(view))
        }
    };
    Ok(SsoProvider {
        id: row.id,
        kind: SsoKind::parse(&row.kind).unwrap_or(SsoKind::Saml),
        name: row.name,
        enabled: row.enabled,
        domains: serde_json::from_str(&row.domains).unwrap_or_default(),
        jit: row.jit,
        default_role: row.default_role,
        sso_required: row.sso_required,
        role_mapper_plugin_id: row.role_mapper_plugin_id,
        plugin_failure: if row.plugin_fail_closed { "closed" } else { "open" }.into(),
        saml,
        oidc,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A SAML provider's SP metadata XML, for anyone (the IdP fetches it unauthenticated).
pub async fn sp_metadata(state: &AppState, id: Uuid) -> Result<String, ApiError> {
    let row = sso_provider::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(ApiError::not_found)?;
    let Settings::Saml(settings) = Settings::of(&row)? else { return Err(ApiError::not_found()) };
    let key = super::sp_key::ensure_for(state, &row).await?;
    let base = &state.config.public_base_url;
    Ok(saml::sp_metadata(&saml::SpMetadata {
        entity_id: &super::sp_entity_id(base, id),
        acs_url: &super::acs_url(base),
        name_id_format: &settings.name_id_format,
        certificate_base64: &key.certificate_base64()?,
        authn_requests_signed: settings.sign_authn_requests,
    }))
}
