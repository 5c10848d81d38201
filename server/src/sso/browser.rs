//! The browser's side of SSO: plain redirects and form posts, outside the OpenAPI document.
//! `GET /api/v1/auth/sso/login` sends the browser to the IdP; the IdP sends it back to
//! `GET /api/v1/auth/sso/oidc/callback` or `POST /api/v1/auth/sso/saml/acs`, which answer a
//! redirect to `return_to` with a one-time code, or a refusal with its reason: JSON for API
//! clients, a small HTML page for a browser.

use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Form, Query},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    escape,
    login::{self, BROWSER_COOKIE, Start},
    oidc_flow,
    reason::{Reason, Rejection},
    saml_flow,
    service::Settings,
    signin::{self, Failure, Stopped},
    types::SsoKind,
};
use crate::{AppState, error::ApiError, http::RequestMeta};

#[derive(Debug, Deserialize)]
pub struct LoginParams {
    org: Option<String>,
    email: Option<String>,
    provider_id: Option<String>,
    return_to: Option<String>,
    state: Option<String>,
}

fn problem(req: &Request, err: &ApiError) -> Response {
    let meta = req.extensions().get::<RequestMeta>();
    err.to_response(meta.map(|m| m.request_id.as_str()))
}

/// `GET /api/v1/auth/sso/login?org=|email=|provider_id=&return_to=&state=`
#[handler]
pub async fn start(req: &Request, state: Data<&AppState>, params: Query<LoginParams>) -> Response {
    let params = params.0;
    let client = req.extensions().get::<RequestMeta>().and_then(|m| m.ip.clone()).unwrap_or_default();
    if !state.sso_login_starts.allows(&client) {
        let err = ApiError::rate_limited(
            "SSO_LOGIN_RATE_LIMITED",
            format!(
                "at most {} sign-ins may start from one address a minute; try again shortly",
                state.config.sso.login_starts_per_minute
            ),
            1,
        );
        return problem(req, &err);
    }
    let provider_id = match params.provider_id.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(raw) => match raw.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => return problem(req, &ApiError::validation("provider_id", "is not a UUID")),
        },
        None => None,
    };
    let start = Start {
        org: params.org.filter(|o| !o.trim().is_empty()),
        email: params.email.filter(|e| !e.trim().is_empty()),
        provider_id,
        return_to: params.return_to,
        state: params.state,
    };
    match login::start(&state, start).await {
        Ok(started) => {
            let secure = state.config.public_base_url.starts_with("https://");
            let cookie = format!(
                "{BROWSER_COOKIE}={}; Path=/api/v1/auth/sso; Max-Age={}; HttpOnly; SameSite=Lax{}",
                started.browser_binding,
                login::LOGIN_TTL_MINUTES * 60,
                if secure { "; Secure" } else { "" }
            );
            Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, started.redirect)
                .header(header::SET_COOKIE, cookie)
                .header(header::CACHE_CONTROL, "no-store")
                .finish()
        }
        Err(e) => problem(req, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers().get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_string())
        })
    })
}

/// `GET /api/v1/auth/sso/oidc/callback`
#[handler]
pub async fn oidc_callback(req: &Request, state: Data<&AppState>, params: Query<CallbackParams>) -> Response {
    let meta = req.extensions().get::<RequestMeta>().cloned().unwrap_or_default();
    let params = params.0;
    let Some(login_state) = params.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 512) else {
        return refusal(req, &Rejection::new(Reason::InvalidRequest, "the callback carries no `state`"));
    };
    let browser = cookie(req, BROWSER_COOKIE);
    let (login, provider) = match login::claim(&state, login_state, Some(browser.as_deref())).await {
        Ok(found) => found,
        Err(stopped) => return stop(req, &state, &meta, SsoKind::Oidc, stopped).await,
    };
    let fail = async |rejection: Rejection, who: Option<signin::Asserted>| {
        signin::record_failure(&state, &meta, &provider, SsoKind::Oidc, &rejection, who.as_ref()).await;
        refusal(req, &rejection)
    };
    if let Some(error) = params.error {
        let detail = match params.error_description {
            Some(d) => format!("the IdP answered `{error}`: {d}"),
            None => format!("the IdP answered `{error}`"),
        };
        return fail(Rejection::new(Reason::IdpError, detail.chars().take(500).collect::<String>()), None)
            .await;
    }
    let Some(code) = params.code.filter(|c| !c.is_empty() && c.len() <= 4096) else {
        return fail(Rejection::new(Reason::InvalidRequest, "the callback carries no `code`"), None).await;
    };
    let settings = match Settings::of(&provider) {
        Ok(Settings::Oidc(settings)) => settings,
        _ => {
            return fail(Rejection::new(Reason::InvalidRequest, "this provider does not speak OIDC"), None)
                .await;
        }
    };
    let (Some(nonce), Some(verifier)) = (login.nonce.as_deref(), login.pkce_verifier.as_deref()) else {
        return fail(Rejection::new(Reason::UnknownLogin, "the sign-in was not started for OIDC"), None)
            .await;
    };
    let client_secret = match oidc_flow::client_secret(&state, &provider) {
        Ok(secret) => secret,
        Err(e) => return stop(req, &state, &meta, SsoKind::Oidc, Stopped::error(e)).await,
    };
    let callback = oidc_flow::Callback {
        code: &code,
        iss: params.iss.as_deref(),
        nonce,
        pkce_verifier: verifier,
        client_secret,
    };
    let asserted = match oidc_flow::finish(&state, &provider, &settings, callback).await {
        Ok(asserted) => asserted,
        Err((rejection, who)) => return fail(rejection, who).await,
    };
    let back = Back { return_to: &login.return_to, client_state: login.client_state.as_deref() };
    finish(req, &state, &meta, &provider, back, SsoKind::Oidc, asserted).await
}

/// Where the browser goes back to with the code.
struct Back<'a> {
    return_to: &'a str,
    client_state: Option<&'a str>,
}

/// The end shared by both protocols: sign in, then redirect with the code.
async fn finish(
    req: &Request,
    state: &AppState,
    meta: &RequestMeta,
    provider: &guildhall_entities::sso_provider::Model,
    back: Back<'_>,
    method: SsoKind,
    asserted: signin::Asserted,
) -> Response {
    match signin::complete(state, meta, provider, method, asserted.clone()).await {
        Ok(finished) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(
                header::LOCATION,
                login::redirect_with_code(back.return_to, &finished.code, back.client_state),
            )
            .header(header::CACHE_CONTROL, "no-store")
            .finish(),
        Err(failure) => {
            let stopped = Stopped {
                failure,
                provider: Some(Box::new(provider.clone())),
                who: Some(Box::new(asserted)),
            };
            stop(req, state, meta, method, stopped).await
        }
    }
}

/// A sign-in that stopped: a refusal is audited in the provider's org (when known) and shown
/// with its reason; a server failure is a 500 problem.
async fn stop(
    req: &Request,
    state: &AppState,
    meta: &RequestMeta,
    method: SsoKind,
    stopped: Stopped,
) -> Response {
    match stopped.failure {
        Failure::Refused(rejection) => {
            if let Some(provider) = &stopped.provider {
                signin::record_failure(state, meta, provider, method, &rejection, stopped.who.as_deref())
                    .await;
            }
            refusal(req, &rejection)
        }
        Failure::Error(e) => problem(req, &e),
    }
}

fn wants_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A refused sign-in: 403 for what the IdP or the org's rules refused, 400 for a malformed or
/// stale request; the reason code in the problem's `code` (`SSO_` + reason) and in `reason`.
pub fn refusal(req: &Request, rejection: &Rejection) -> Response {
    let status = match rejection.reason {
        Reason::InvalidRequest
        | Reason::UnknownLogin
        | Reason::LoginReplayed
        | Reason::MalformedResponse
        | Reason::ForbiddenDtd => StatusCode::BAD_REQUEST,
        Reason::IdpUnreachable => StatusCode::BAD_GATEWAY,
        _ => StatusCode::FORBIDDEN,
    };
    let code = format!("SSO_{}", rejection.reason.as_str().to_ascii_uppercase());
    let request_id = req.extensions().get::<RequestMeta>().map(|m| m.request_id.clone()).unwrap_or_default();
    if wants_html(req) {
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in refused</title></head>\
             <body><h1>Sign-in refused</h1><p>{}</p><p>Reason: <code>{}</code></p><p>Request id: <code>{}</code></p>\
             <p>Start the sign-in again from your application; if this persists, give the reason and request id \
             to your administrator.</p></body></html>",
            escape(&rejection.detail),
            rejection.reason.as_str(),
            escape(&request_id),
        );
        return Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(page);
    }
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Sign-in refused",
        "status": status.as_u16(),
        "code": code,
        "reason": rejection.reason.as_str(),
        "detail": rejection.detail,
        "request_id": request_id,
    });
    Response::builder()
        .status(status)
        .content_type(crate::error::PROBLEM_CONTENT_TYPE)
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string())
}

#[derive(Debug, Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST /api/v1/auth/sso/saml/acs` (HTTP-POST binding).
#[handler]
pub async fn saml_acs(req: &Request, state: Data<&AppState>, form: poem::Result<Form<AcsForm>>) -> Response {
    let meta = req.extensions().get::<RequestMeta>().cloned().unwrap_or_default();
    let Ok(Form(form)) = form else {
        return refusal(
            req,
            &Rejection::new(Reason::InvalidRequest, "expected an HTML form post (SAMLResponse, RelayState)"),
        );
    };
    let Some(saml_response) = form.saml_response.as_deref().filter(|r| !r.is_empty()) else {
        return refusal(req, &Rejection::new(Reason::InvalidRequest, "the post carries no SAMLResponse"));
    };
    let verified = match saml_flow::accept(&state, saml_response, form.relay_state.as_deref()).await {
        Ok(verified) => verified,
        Err(stopped) => return stop(req, &state, &meta, SsoKind::Saml, stopped).await,
    };
    let default_return = login::return_to(&state, None);
    let back = match &verified.login {
        Some(login) => Back { return_to: &login.return_to, client_state: login.client_state.as_deref() },
        None => match &default_return {
            Ok(return_to) => Back { return_to, client_state: None },
            Err(e) => return problem(req, e),
        },
    };
    finish(req, &state, &meta, &verified.provider, back, SsoKind::Saml, verified.asserted.clone()).await
}
