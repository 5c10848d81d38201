//! IdP metadata published at a URL is fetched again on a schedule, so a new signing
//! certificate the IdP announces is picked up before the IdP signs with it. A change is
//! recorded (`sso.provider_updated`, by the system) like an admin's.

use chrono::Duration;
use guildhall_entities::sso_provider;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

use super::{
    saml::MAX_CERTIFICATES,
    service::{self, Settings},
    types::SsoKind,
};
use crate::{
    AppState,
    audit::Actor,
    changes::{self, Event, catalog::SsoProviderChanged},
    db,
    error::ApiError,
    http::RequestMeta,
    scope::{OrgId, Origin},
};

/// How long fetched metadata is trusted before it is fetched again.
pub const REFRESH_EVERY: Duration = Duration::hours(12);

/// Fetches the metadata of every SAML provider whose copy is older than [`REFRESH_EVERY`] and
/// takes in the certificates (and SSO URL) it now publishes. Answers how many providers changed.
/// Metadata that cannot be fetched, or now names another entity, changes nothing (the
/// provider's `test` says why) and is tried again after the interval.
pub async fn refresh_due(state: &AppState) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let rows = sso_provider::Entity::find()
        .filter(sso_provider::Column::Kind.eq(SsoKind::Saml.as_str()))
        .all(&state.db)
        .await?;
    let mut changed = 0;
    for row in rows {
        let Ok(Settings::Saml(settings)) = Settings::of(&row) else { continue };
        let Some(url) = settings.metadata_url.clone() else { continue };
        if row.metadata_refreshed_at.is_some_and(|at| now - at < REFRESH_EVERY) {
            continue;
        }
        let fetched = service::fetch_metadata(state, &url).await;
        let tx = db::begin_write(&state.writer).await?;
        // Read again under the write lock: another node may have refreshed it meanwhile.
        let Some(current) = sso_provider::Entity::find_by_id(row.id).one(&tx).await? else { continue };
        let Ok(Settings::Saml(mut settings)) = Settings::of(&current) else { continue };
        let mut update = current.clone().into_active_model();
        update.metadata_refreshed_at = Set(Some(now));
        let mut what = Vec::new();
        match fetched {
            Err(err) => tracing::warn!(provider = %row.id, error = %err, "IdP metadata refresh failed"),
            Ok(meta) if meta.entity_id != settings.idp_entity_id => {
                tracing::warn!(provider = %row.id, found = %meta.entity_id, "IdP metadata names another entity; not applied");
            }
            Ok(meta) => {
                let certificates: Vec<String> =
                    meta.certificates.into_iter().take(MAX_CERTIFICATES).collect();
                if !certificates.is_empty() && certificates != settings.certificates {
                    settings.certificates = certificates;
                    what.push("certificates".to_string());
                }
                if let Some(sso_url) = meta.sso_url.filter(|u| *u != settings.sso_url)
                    && super::saml::browser_url(&state.outbound, "sso_url", &sso_url).is_ok()
                {
                    settings.sso_url = sso_url;
                    what.push("sso_url".to_string());
                }
            }
        }
        if !what.is_empty() {
            update.settings = Set(serde_json::to_string(&settings).map_err(ApiError::internal)?);
            update.updated_at = Set(now);
        }
        update.update(&tx).await?;
        if !what.is_empty() {
            let scope = Origin::new(Actor::System, RequestMeta::system("sso-metadata"), state.clock.clone())
                .in_org(OrgId::stored(current.org_id));
            let event =
                SsoProviderChanged { provider_id: current.id, name: current.name.clone(), changed: what };
            changes::record(&tx, &scope, Event::SsoProviderUpdated(event)).await?;
            changed += 1;
        }
        tx.commit().await?;
    }
    Ok(changed)
}
