use sea_orm::entity::prelude::*;

/// An org's identity provider. `kind` is `oidc` or `saml`; `settings` holds that kind's
/// configuration as JSON (no secrets); `client_secret` is an OIDC client secret sealed with the
/// master key; `domains` is a JSON array of the org's verified domains it serves.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub name: String,
    pub enabled: bool,
    pub domains: String,
    pub jit: bool,
    pub default_role: String,
    pub sso_required: bool,
    pub settings: String,
    pub client_secret: Option<Vec<u8>>,
    /// When the metadata URL of a SAML provider was last fetched.
    pub metadata_refreshed_at: Option<DateTimeUtc>,
    /// A SAML provider's SP private key (PKCS#8 DER), sealed with the master key: it signs our
    /// AuthnRequests and decrypts encrypted assertions.
    pub sp_key: Option<Vec<u8>>,
    /// The self-signed certificate of that key (PEM), published in our SP metadata.
    pub sp_certificate: Option<String>,
    /// A role-mapper plugin of the org that decides the role and teams at sign-in.
    pub role_mapper_plugin_id: Option<Uuid>,
    /// Whether a failing role mapper refuses the sign-in (otherwise the mapping table and
    /// default role decide).
    pub plugin_fail_closed: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
