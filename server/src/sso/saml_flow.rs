//! The SAML ACS: which provider a response is for (the pending sign-in its `RelayState` or
//! `InResponseTo` names, or, for IdP-initiated sign-in where the provider allows it, the
//! provider its audience names), the verification (`saml_response`), the pending request it
//! answers, and the replay store (assertion ids kept in the database until they expire, so every
//! node refuses a second use).

use chrono::Duration;
use guildhall_entities::{sso_assertion, sso_login, sso_provider};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use uuid::Uuid;

use super::{
    login,
    reason::{Reason, Rejection},
    saml_response::{self, Expectations},
    service::Settings,
    signin::{Asserted, Stopped},
};
use crate::AppState;

/// Where a verified response leads: the provider, and the pending sign-in it answers (none for
/// an IdP-initiated one).
pub struct Verified {
    pub provider: sso_provider::Model,
    pub login: Option<sso_login::Model>,
    pub asserted: Asserted,
}

fn bare(rejection: Rejection) -> Stopped {
    Stopped::refused(rejection, None)
}

/// The provider an audience names: our entity id for it is its metadata URL.
fn provider_in_audience(state: &AppState, audiences: &[String]) -> Option<Uuid> {
    let prefix = super::sp_entity_id(&state.config.public_base_url, Uuid::nil());
    let prefix = prefix.trim_end_matches(&Uuid::nil().to_string());
    audiences.iter().find_map(|a| a.strip_prefix(prefix)?.parse().ok())
}

pub async fn accept(
    state: &AppState,
    saml_response: &str,
    relay_state: Option<&str>,
) -> Result<Verified, Stopped> {
    // SP-initiated: the pending sign-in named by RelayState (or, if the IdP dropped it, by
    // InResponseTo); it is claimed at once, so a response is accepted for it at most once.
    let mut pending = None;
    if let Some(relay) = relay_state.filter(|r| !r.is_empty() && r.len() <= 512)
        && let Some(found) = login::pending(state, relay).await?
    {
        pending = Some(login::claim_row(state, found, None).await?);
    }
    // Once the provider is known, a document that does not parse is refused in its org's name.
    let in_org = |r: Rejection| Stopped::refused(r, pending.as_ref().map(|(_, provider)| provider));
    let xml = saml_response::decode_post(saml_response).map_err(in_org)?;
    let peek = saml_response::peek(&xml).map_err(in_org)?;
    if pending.is_none()
        && let Some(request_id) = peek.in_response_to.as_deref()
    {
        let found = sso_login::Entity::find()
            .filter(sso_login::Column::SamlRequestId.eq(request_id))
            .one(&state.db)
            .await
            .map_err(Stopped::error)?;
        match found {
            Some(found) => pending = Some(login::claim_row(state, found, None).await?),
            None => {
                return Err(bare(Rejection::new(
                    Reason::UnknownLogin,
                    "the response answers a sign-in that was not started here, or expired",
                )));
            }
        }
    }
    let (login, provider) = match pending {
        Some((login, provider)) => (Some(login), provider),
        None => {
            let id = provider_in_audience(state, &peek.audiences).ok_or_else(|| {
                bare(Rejection::new(
                    Reason::AudienceMismatch,
                    "the response names no provider of this server as its audience",
                ))
            })?;
            let provider = sso_provider::Entity::find_by_id(id)
                .one(&state.db)
                .await
                .map_err(Stopped::error)?
                .ok_or_else(|| bare(Rejection::new(Reason::ProviderDisabled, "no such provider")))?;
            (None, provider)
        }
    };
    let known = |r: Rejection| Stopped::refused(r, Some(&provider));
    if !provider.enabled {
        return Err(known(Rejection::new(Reason::ProviderDisabled, "the provider is disabled")));
    }
    let Ok(Settings::Saml(settings)) = Settings::of(&provider) else {
        return Err(known(Rejection::new(Reason::InvalidRequest, "this provider does not speak SAML")));
    };
    if login.is_none() && !settings.allow_idp_initiated {
        return Err(known(Rejection::new(
            Reason::IdpInitiatedNotAllowed,
            "this provider accepts only sign-ins started here (IdP-initiated sign-in is off)",
        )));
    }
    let base = &state.config.public_base_url;
    let sp_entity_id = super::sp_entity_id(base, provider.id);
    let acs_url = super::acs_url(base);
    let now = state.clock.now();
    let key = match xml.contains("EncryptedAssertion") {
        true => Some(super::sp_key::ensure_for(state, &provider).await.map_err(Stopped::error)?),
        false => None,
    };
    let expect = Expectations {
        idp_entity_id: &settings.idp_entity_id,
        certificates: &settings.certificates,
        sp_entity_id: &sp_entity_id,
        acs_url: &acs_url,
        now,
        clock_skew: Duration::seconds(i64::from(settings.clock_skew_seconds)),
        email_attribute: settings.email_attribute.as_deref(),
        groups_attribute: settings.groups_attribute.as_deref(),
        decryption_key: key.as_ref(),
        require_encrypted: settings.require_encrypted_assertions,
    };
    let verified = saml_response::verify(&xml, &expect).map_err(known)?;
    let asserted = Asserted {
        subject: verified.name_id.clone(),
        email: verified.email.clone(),
        groups: verified.groups.clone(),
        attributes: crate::plugins::plugin_attributes(
            verified.attributes.iter().map(|(name, values)| (name.as_str(), values.join(","))),
        ),
    };
    let with_who = |r: Rejection| Stopped::refused(r, Some(&provider)).naming(&asserted);
    match (&login, verified.in_response_to.as_deref()) {
        (Some(login), answered) if answered != login.saml_request_id.as_deref() => {
            return Err(with_who(Rejection::new(
                Reason::UnknownLogin,
                "the response does not answer this sign-in's request",
            )));
        }
        (None, Some(_)) => {
            return Err(with_who(Rejection::new(
                Reason::UnknownLogin,
                "the response answers a request that is not pending",
            )));
        }
        _ => {}
    }
    // Each assertion signs in once: remembered (on every node) until it expires.
    let remembered = sso_assertion::Entity::insert(sso_assertion::ActiveModel {
        provider_id: sea_orm::ActiveValue::Set(provider.id),
        assertion_id: sea_orm::ActiveValue::Set(verified.assertion_id.chars().take(256).collect()),
        expires_at: sea_orm::ActiveValue::Set(verified.replay_until.max(now + Duration::minutes(5))),
    })
    .on_conflict(
        OnConflict::columns([sso_assertion::Column::ProviderId, sso_assertion::Column::AssertionId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&state.writer)
    .await
    .map_err(Stopped::error)?;
    if remembered == 0 {
        return Err(with_who(Rejection::new(
            Reason::AssertionReplayed,
            "this assertion was already used to sign in",
        )));
    }
    Ok(Verified { provider, login, asserted })
}
