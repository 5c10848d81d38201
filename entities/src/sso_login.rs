use sea_orm::entity::prelude::*;

/// A started SSO sign-in, finished at most once, within minutes. `state_hash` is the SHA-256 of
/// the `state` (OIDC) or `RelayState` (SAML) the IdP sends back; `browser_hash` that of the
/// cookie binding the sign-in to the browser that started it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider_id: Uuid,
    pub org_id: Uuid,
    pub state_hash: String,
    pub browser_hash: Option<String>,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    pub saml_request_id: Option<String>,
    pub return_to: String,
    /// The application's own `state`, echoed back with the code.
    pub client_state: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
