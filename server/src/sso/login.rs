//! Starting an SSO sign-in: which provider (by org, email domain or id), where the browser may
//! return (`[sso] return_urls`), and the short-lived login record the IdP's answer must match.

use chrono::Duration;
use guildhall_entities::{org, sso_login, sso_provider};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    oidc_flow,
    reason::{Reason, Rejection},
    service::Settings,
    signin::{self, Stopped},
};
use crate::{
    AppState, crypto,
    domains::service::OrgDomains,
    error::{ApiError, ErrorKind},
    users::email,
};

/// A sign-in must finish within this many minutes of starting.
pub const LOGIN_TTL_MINUTES: i64 = 10;
/// The cookie that binds a sign-in to the browser that started it.
pub const BROWSER_COOKIE: &str = "guildhall_sso";
const MAX_CLIENT_STATE: usize = 512;

/// Which provider to sign in through, and where to come back to.
#[derive(Debug, Default)]
pub struct Start {
    pub org: Option<String>,
    pub email: Option<String>,
    pub provider_id: Option<Uuid>,
    pub return_to: Option<String>,
    pub state: Option<String>,
}

/// Where to send the browser, and the binding cookie's value.
pub struct Started {
    pub redirect: String,
    pub browser_binding: String,
}

fn not_configured() -> ApiError {
    ApiError::new(
        ErrorKind::NotFound,
        "SSO_NOT_CONFIGURED",
        "no enabled identity provider signs people in here",
    )
}

/// Picks the provider: by id, by the email's domain (the verified domain a provider serves), or
/// the org's one enabled provider.
pub async fn provider_for<C: ConnectionTrait>(
    db: &C,
    start: &Start,
) -> Result<sso_provider::Model, ApiError> {
    let given = [start.org.is_some(), start.email.is_some(), start.provider_id.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::validation(
            "provider_id",
            "give exactly one of `org`, `email` and `provider_id`",
        ));
    }
    if let Some(id) = start.provider_id {
        let provider = sso_provider::Entity::find_by_id(id).one(db).await?.ok_or_else(not_configured)?;
        if !provider.enabled {
            return Err(ApiError::forbidden("SSO_PROVIDER_DISABLED", "this identity provider is disabled"));
        }
        return Ok(provider);
    }
    if let Some(raw) = &start.email {
        let address = email::normalize("email", raw)?;
        let candidates = sso_provider::Entity::find()
            .filter(sso_provider::Column::Enabled.eq(true))
            .order_by_asc(sso_provider::Column::Id)
            .all(db)
            .await?;
        for provider in candidates {
            let verified = OrgDomains::load(db, provider.org_id).await?;
            if signin::serves(&provider, &verified, &address) {
                return Ok(provider);
            }
        }
        return Err(not_configured());
    }
    let slug = start.org.as_deref().unwrap_or_default().trim().to_lowercase();
    let org =
        org::Entity::find().filter(org::Column::Slug.eq(slug)).one(db).await?.ok_or_else(not_configured)?;
    let mut enabled = sso_provider::Entity::find()
        .filter(sso_provider::Column::OrgId.eq(org.id))
        .filter(sso_provider::Column::Enabled.eq(true))
        .all(db)
        .await?;
    match enabled.len() {
        0 => Err(not_configured()),
        1 => enabled.pop().ok_or_else(not_configured),
        _ => Err(ApiError::validation(
            "org",
            "this org has several identity providers: sign in with `email` or `provider_id`",
        )),
    }
}

/// `return_to` when allowed (same scheme, host and port as a configured return URL, and a path
/// at or below its path), else the first configured return URL.
pub fn return_to(state: &AppState, requested: Option<&str>) -> Result<String, ApiError> {
    let allowed = &state.config.sso.return_urls;
    let Some(requested) = requested.map(str::trim).filter(|r| !r.is_empty()) else {
        return allowed.first().cloned().ok_or_else(|| {
            ApiError::validation(
                "return_to",
                "is required (the instance configures no default `[sso] return_urls`)",
            )
        });
    };
    let refused = || ApiError::validation("return_to", "is not among the instance's allowed return URLs");
    let url = url::Url::parse(requested).map_err(|_| refused())?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(refused());
    }
    let ok = allowed.iter().filter_map(|a| url::Url::parse(a).ok()).any(|a| {
        a.scheme() == url.scheme()
            && a.host_str() == url.host_str()
            && a.port_or_known_default() == url.port_or_known_default()
            && below(a.path(), url.path())
    });
    if ok { Ok(url.to_string()) } else { Err(refused()) }
}

/// `path` is `base` or below it (on a segment boundary).
fn below(base: &str, path: &str) -> bool {
    if base.ends_with('/') {
        return path.starts_with(base) || path == base.trim_end_matches('/');
    }
    path == base || path.strip_prefix(base).is_some_and(|rest| rest.starts_with('/'))
}

pub fn digest_hex(secret: &str) -> String {
    crypto::digest(secret).iter().map(|b| format!("{b:02x}")).collect()
}

fn random() -> Result<String, ApiError> {
    crypto::new_secret("").map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))
}

/// Starts a sign-in: records it and answers where to send the browser.
pub async fn start(state: &AppState, start: Start) -> Result<Started, ApiError> {
    if start.state.as_ref().is_some_and(|s| s.len() > MAX_CLIENT_STATE) {
        return Err(ApiError::validation("state", format!("is longer than {MAX_CLIENT_STATE} characters")));
    }
    let provider = provider_for(&state.db, &start).await?;
    let return_to = return_to(state, start.return_to.as_deref())?;
    let now = state.clock.now();
    let login_state = random()?;
    let browser_binding = random()?;
    let mut row = sso_login::ActiveModel {
        id: Set(Uuid::now_v7()),
        provider_id: Set(provider.id),
        org_id: Set(provider.org_id),
        state_hash: Set(digest_hex(&login_state)),
        browser_hash: Set(Some(digest_hex(&browser_binding))),
        nonce: Set(None),
        pkce_verifier: Set(None),
        saml_request_id: Set(None),
        return_to: Set(return_to),
        client_state: Set(start.state.clone()),
        created_at: Set(now),
        expires_at: Set(now + Duration::minutes(LOGIN_TTL_MINUTES)),
        finished_at: Set(None),
    };
    let redirect = match Settings::of(&provider)? {
        Settings::Oidc(settings) => {
            let authorization = oidc_flow::authorization(state, &provider, &settings, &login_state)
                .await
                .map_err(|r| unavailable(&r))?;
            row.nonce = Set(Some(authorization.nonce));
            row.pkce_verifier = Set(Some(authorization.pkce_verifier));
            authorization.url
        }
        Settings::Saml(settings) => {
            let base = &state.config.public_base_url;
            let name_id_format = super::saml::NAME_ID_FORMATS
                .iter()
                .find(|(short, _)| *short == settings.name_id_format)
                .map_or(super::saml::EMAIL_NAME_ID, |(_, uri)| *uri);
            let signer = match settings.sign_authn_requests {
                true => Some(super::sp_key::ensure_for(state, &provider).await?),
                false => None,
            };
            let request = super::saml_request::authn_request(&super::saml_request::Request {
                sso_url: &settings.sso_url,
                sp_entity_id: &super::sp_entity_id(base, provider.id),
                acs_url: &super::acs_url(base),
                name_id_format_uri: name_id_format,
                authn_context_class_ref: settings.authn_context_class_ref.as_deref(),
                relay_state: &login_state,
                now,
                signer: signer.as_ref(),
            })?;
            row.saml_request_id = Set(Some(request.id));
            request.redirect_url
        }
    };
    sso_login::Entity::insert(row).exec_without_returning(&state.db).await?;
    Ok(Started { redirect, browser_binding })
}

fn unavailable(rejection: &Rejection) -> ApiError {
    ApiError::new(
        ErrorKind::Unavailable,
        "SSO_IDP_UNREACHABLE",
        format!("the identity provider could not be used: {}", rejection.detail),
    )
}

/// The pending sign-in `login_state` names, claimed for this one callback: see [`claim_row`].
pub async fn claim(
    state: &AppState,
    login_state: &str,
    browser: Option<Option<&str>>,
) -> Result<(sso_login::Model, sso_provider::Model), Stopped> {
    let unknown = || {
        Stopped::refused(Rejection::new(Reason::UnknownLogin, "no sign-in was started with this state"), None)
    };
    let login = pending(state, login_state).await?.ok_or_else(unknown)?;
    claim_row(state, login, browser).await
}

/// The sign-in `login_state` names, if any (not claimed).
pub async fn pending(state: &AppState, login_state: &str) -> Result<Option<sso_login::Model>, Stopped> {
    sso_login::Entity::find()
        .filter(sso_login::Column::StateHash.eq(digest_hex(login_state)))
        .one(&state.db)
        .await
        .map_err(Stopped::error)
}

/// Claims `login` for this one answer: it must not have expired, must have been started in
/// this browser (when `browser` is checked: `Some(cookie)`) and must not have been finished
/// before; its provider must still be enabled.
pub async fn claim_row(
    state: &AppState,
    login: sso_login::Model,
    browser: Option<Option<&str>>,
) -> Result<(sso_login::Model, sso_provider::Model), Stopped> {
    let now = state.clock.now();
    let provider = sso_provider::Entity::find_by_id(login.provider_id)
        .one(&state.db)
        .await
        .map_err(Stopped::error)?
        .ok_or_else(|| {
            Stopped::refused(Rejection::new(Reason::ProviderDisabled, "the provider was removed"), None)
        })?;
    let refuse =
        |reason, detail: &str| Err(Stopped::refused(Rejection::new(reason, detail), Some(&provider)));
    if login.expires_at <= now {
        return refuse(Reason::UnknownLogin, "the sign-in took too long; start again");
    }
    if let Some(cookie) = browser {
        let matches = match (cookie, &login.browser_hash) {
            (Some(cookie), Some(expected)) => {
                subtle::ConstantTimeEq::ct_eq(digest_hex(cookie).as_bytes(), expected.as_bytes()).into()
            }
            _ => false,
        };
        if !matches {
            return refuse(Reason::BrowserMismatch, "this sign-in was started in another browser");
        }
    }
    let finished = sso_login::Entity::update_many()
        .col_expr(sso_login::Column::FinishedAt, Expr::value(now))
        .filter(sso_login::Column::Id.eq(login.id))
        .filter(sso_login::Column::FinishedAt.is_null())
        .exec(&state.writer)
        .await
        .map_err(Stopped::error)?;
    if finished.rows_affected != 1 {
        return refuse(Reason::LoginReplayed, "this sign-in was already finished");
    }
    if !provider.enabled {
        return refuse(Reason::ProviderDisabled, "the provider is disabled");
    }
    Ok((login, provider))
}

/// `return_to` with the code (and the application's `state`) in its query.
pub fn redirect_with_code(return_to: &str, code: &str, client_state: Option<&str>) -> String {
    match url::Url::parse(return_to) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("code", code);
                if let Some(s) = client_state {
                    query.append_pair("state", s);
                }
            }
            url.to_string()
        }
        Err(_) => return_to.to_string(),
    }
}
