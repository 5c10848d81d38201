//! Configuration: built-in defaults, then the TOML file, then `GUILDHALL_*` environment variables
//! (`__` marks nesting: `GUILDHALL_TOKENS__ACCESS_TTL_SECONDS`), then command-line flags.
//! Everything is validated at start-up; a bad value stops the server with the key that is wrong.

use std::{fmt, net::SocketAddr, path::PathBuf};

use serde::Deserialize;

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(\"[redacted]\")")
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite database, master key and mail spool live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; empty means SQLite in `data_dir/guildhall.db`.
    pub database_url: String,
    /// PostgreSQL only: the schema to use (created if missing). Empty means the default.
    pub database_schema: String,
    pub database_max_connections: u32,
    pub bind: SocketAddr,
    /// The externally visible base URL; the JWT issuer.
    pub public_base_url: String,
    /// Master key (base64 of 32 bytes) that seals signing keys and IdP secrets. Empty means
    /// `data_dir/master.key`, generated on first start. Give it explicitly when several nodes
    /// share one database.
    pub master_key: SecretString,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub log_format: LogFormat,
    /// How often background jobs (audit retention purge) run.
    pub jobs_interval_seconds: u64,
    pub tokens: TokenConfig,
    pub passwords: PasswordConfig,
    pub instance: InstanceDefaults,
    pub mail: MailConfig,
    pub dns: DnsConfig,
    pub events: EventsConfig,
    pub outbound: OutboundConfig,
    pub webhooks: WebhooksConfig,
    pub sso: SsoConfig,
    pub plugins: PluginsConfig,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    pub access_ttl_seconds: u64,
    pub refresh_ttl_seconds: u64,
    /// The `aud` claim of access tokens.
    pub audience: String,
    /// Allowed clock skew when checking `exp`/`nbf`/`iat`.
    pub leeway_seconds: u64,
    /// How long an invitation link stays valid.
    pub invitation_ttl_hours: u64,
    /// How long an email verification link stays valid.
    pub email_verification_ttl_hours: u64,
}

/// Argon2id cost. The defaults are OWASP's minimum (19 MiB, t=2, p=1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once; more wait. 0 means the number of cores.
    pub max_concurrent_hashes: usize,
}

/// Values the instance settings start with; admins change them later through the API.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceDefaults {
    pub signup_open: bool,
    pub approval_required: bool,
    pub password_min_length: u32,
    pub max_login_attempts: u32,
    pub lockout_minutes: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `file` writes each message as an .eml file into `data_dir/mail`; `smtp` sends it.
    pub transport: MailTransport,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_username: String,
    pub smtp_password: SecretString,
    /// `starttls`, `tls` or `none`.
    pub smtp_security: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    File,
    Smtp,
}

/// DNS lookups, which prove that an org controls an email domain.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// The resolver to ask, as `ADDRESS:PORT`; empty means the system's resolvers.
    pub resolver: String,
}

/// The outbox of domain events, read through the Events API and delivered by webhooks.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// How long events stay readable through `GET /api/v1/orgs/{org}/events`.
    pub retention_days: u32,
}

/// Outbound HTTP (webhooks, IdP discovery, metadata): what it may reach.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    /// Allow private, loopback and link-local targets (off: such targets are refused).
    pub allow_private_networks: bool,
    /// Allow plain `http://` targets (off: https only).
    pub allow_http: bool,
}

/// SSO sign-in.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoConfig {
    /// Sign-ins one client address may start a minute on each node (each writes a login
    /// record); default 120.
    pub login_starts_per_minute: u32,
    /// Where a finished SSO sign-in may send the browser back to (`return_to`): absolute http(s)
    /// URLs; a `return_to` matches one when scheme, host and port are the same and its path is
    /// the same or below. The first is the default `return_to`. In the environment, separate
    /// them with commas.
    #[serde(deserialize_with = "string_or_list")]
    pub return_urls: Vec<String>,
}

/// WebAssembly plugins: the limits every call runs under (a plugin may only tighten them).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Instructions (wasmtime fuel) per call; default 10,000,000 (a role mapper needs ~25,000).
    pub fuel: u64,
    /// Linear memory per call, MiB; default 16.
    pub memory_mib: u32,
    /// Wall-clock backstop per call, milliseconds (fuel is the real bound); default 1,000.
    pub timeout_ms: u64,
    /// Serialized input and output per call, KiB; default 64 each.
    pub max_input_kib: u32,
    pub max_output_kib: u32,
    /// The largest component that may be uploaded, KiB; default 4,096.
    pub max_component_kib: u32,
    /// wasm stack per call, KiB (engine-wide); default 512.
    pub max_stack_kib: u32,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            fuel: 10_000_000,
            memory_mib: 16,
            timeout_ms: 1_000,
            max_input_kib: 64,
            max_output_kib: 64,
            max_component_kib: 4_096,
            max_stack_kib: 512,
        }
    }
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self { login_starts_per_minute: 120, return_urls: Vec::new() }
    }
}

/// A list from TOML, or a comma-separated string from the environment.
fn string_or_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => {
            text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        }
        OneOrMany::Many(list) => list,
    })
}

/// Webhook delivery.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// How long one delivery attempt may take.
    pub timeout_seconds: u64,
    /// How often the delivery worker looks for due attempts, in milliseconds.
    pub poll_interval_ms: u64,
    /// Attempts one worker sends at once.
    pub concurrency: usize,
    /// An endpoint failing without a success for this long is disabled.
    pub disable_after_hours: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self { timeout_seconds: 15, poll_interval_ms: 250, concurrency: 16, disable_after_hours: 5 * 24 }
    }
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self { retention_days: 30 }
    }
}

impl DnsConfig {
    /// The configured resolver, or `None` for the system's. Validated at start-up.
    pub fn resolver_addr(&self) -> Option<SocketAddr> {
        self.resolver.parse().ok()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            database_schema: String::new(),
            database_max_connections: 16,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: String::new(),
            master_key: SecretString::default(),
            max_body_bytes: 1 << 20,
            log_format: LogFormat::Text,
            jobs_interval_seconds: 3600,
            tokens: TokenConfig::default(),
            passwords: PasswordConfig::default(),
            instance: InstanceDefaults::default(),
            mail: MailConfig::default(),
            dns: DnsConfig::default(),
            events: EventsConfig::default(),
            outbound: OutboundConfig::default(),
            webhooks: WebhooksConfig::default(),
            sso: SsoConfig::default(),
            plugins: PluginsConfig::default(),
        }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            access_ttl_seconds: 900,
            refresh_ttl_seconds: 30 * 24 * 3600,
            audience: "guildhall".into(),
            leeway_seconds: 30,
            invitation_ttl_hours: 7 * 24,
            email_verification_ttl_hours: 48,
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1, max_concurrent_hashes: 0 }
    }
}

impl Default for InstanceDefaults {
    fn default() -> Self {
        Self {
            signup_open: true,
            approval_required: false,
            password_min_length: 10,
            max_login_attempts: 5,
            lockout_minutes: 15,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransport::File,
            from: "Guildhall <no-reply@localhost>".into(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_username: String::new(),
            smtp_password: SecretString::default(),
            smtp_security: "starttls".into(),
        }
    }
}

/// A configuration error that names the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

/// What the command line may override on top of file and environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub bind: Option<String>,
    pub database_url: Option<String>,
}

impl Config {
    /// Loads defaults, then `file` (if given), then the process environment, then `overrides`.
    /// Returns the configuration and warnings about unknown environment variables.
    pub fn load(
        file: Option<&std::path::Path>,
        overrides: &Overrides,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env, overrides)
    }

    pub fn load_from(
        file: Option<&std::path::Path>,
        env: &[(String, String)],
        overrides: &Overrides,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let mut table = toml::Table::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::new("config", format!("cannot read {}: {e}", path.display())))?;
            table = text.parse::<toml::Table>().map_err(|e| {
                ConfigError::new("config", format!("{} is not valid TOML: {e}", path.display()))
            })?;
        }
        let mut warnings = Vec::new();
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("GUILDHALL_") else { continue };
            // Variables that belong to the command line or to the test harness, not the file.
            if matches!(rest, "CONFIG" | "TEST_DATABASE_URL" | "LOG") {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            if !known_key(&path) {
                warnings.push(format!("unknown environment variable {name} is ignored"));
                continue;
            }
            insert_env(&mut table, &path, value);
        }
        let mut config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let (key, message) = crate::json::describe_error(e.path(), &e.inner().to_string());
                ConfigError::new(if key.is_empty() { "config".into() } else { key }, message)
            })?;
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(bind) = &overrides.bind {
            config.bind = bind
                .parse()
                .map_err(|_| ConfigError::new("bind", format!("`{bind}` is not ADDRESS:PORT")))?;
        }
        if let Some(url) = &overrides.database_url {
            config.database_url = url.clone();
        }
        config.validate()?;
        Ok((config, warnings))
    }

    /// Checks every value and fills the derived ones (database URL, public base URL).
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        if self.database_url.is_empty() {
            let path = self.data_dir.join("guildhall.db");
            self.database_url = format!("sqlite://{}?mode=rwc", path.display());
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "database_url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if !self.database_schema.is_empty()
            && !self.database_schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(ConfigError::new("database_schema", "use letters, digits and _ only"));
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::new("database_max_connections", "must be at least 1"));
        }
        if self.public_base_url.is_empty() {
            self.public_base_url = format!("http://{}", self.bind);
        }
        self.public_base_url = self.public_base_url.trim_end_matches('/').to_string();
        if !(self.public_base_url.starts_with("http://") || self.public_base_url.starts_with("https://")) {
            return Err(ConfigError::new("public_base_url", "must be an http:// or https:// URL"));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::new("max_body_bytes", "must be at least 1024"));
        }
        if !(10..=86_400).contains(&self.jobs_interval_seconds) {
            return Err(ConfigError::new("jobs_interval_seconds", "must be 10..=86400"));
        }
        let t = &self.tokens;
        if !(30..=86_400).contains(&t.access_ttl_seconds) {
            return Err(ConfigError::new("tokens.access_ttl_seconds", "must be 30..=86400"));
        }
        if t.refresh_ttl_seconds < t.access_ttl_seconds {
            return Err(ConfigError::new(
                "tokens.refresh_ttl_seconds",
                "must be at least tokens.access_ttl_seconds",
            ));
        }
        if t.audience.is_empty() {
            return Err(ConfigError::new("tokens.audience", "must not be empty"));
        }
        if t.leeway_seconds > 300 {
            return Err(ConfigError::new("tokens.leeway_seconds", "must be at most 300"));
        }
        if !(1..=24 * 90).contains(&t.invitation_ttl_hours) {
            return Err(ConfigError::new("tokens.invitation_ttl_hours", "must be 1..=2160 (90 days)"));
        }
        if !(1..=24 * 30).contains(&t.email_verification_ttl_hours) {
            return Err(ConfigError::new("tokens.email_verification_ttl_hours", "must be 1..=720 (30 days)"));
        }
        let p = &self.passwords;
        if !(8..=4 * 1024 * 1024).contains(&p.memory_kib) {
            return Err(ConfigError::new("passwords.memory_kib", "must be 8..=4194304"));
        }
        if !(1..=100).contains(&p.iterations) {
            return Err(ConfigError::new("passwords.iterations", "must be 1..=100"));
        }
        if !(1..=64).contains(&p.parallelism) {
            return Err(ConfigError::new("passwords.parallelism", "must be 1..=64"));
        }
        let i = &self.instance;
        if !(8..=256).contains(&i.password_min_length) {
            return Err(ConfigError::new("instance.password_min_length", "must be 8..=256"));
        }
        if !(1..=100).contains(&i.max_login_attempts) {
            return Err(ConfigError::new("instance.max_login_attempts", "must be 1..=100"));
        }
        if !(1..=10_080).contains(&i.lockout_minutes) {
            return Err(ConfigError::new("instance.lockout_minutes", "must be 1..=10080"));
        }
        if self.mail.transport == MailTransport::Smtp && self.mail.smtp_host.is_empty() {
            return Err(ConfigError::new("mail.smtp_host", "required when mail.transport = \"smtp\""));
        }
        if !matches!(self.mail.smtp_security.as_str(), "starttls" | "tls" | "none") {
            return Err(ConfigError::new("mail.smtp_security", "must be starttls, tls or none"));
        }
        if !(1..=60).contains(&self.webhooks.timeout_seconds) {
            return Err(ConfigError::new("webhooks.timeout_seconds", "must be 1..=60"));
        }
        if !(10..=60_000).contains(&self.webhooks.poll_interval_ms) {
            return Err(ConfigError::new("webhooks.poll_interval_ms", "must be 10..=60000"));
        }
        if !(1..=256).contains(&self.webhooks.concurrency) {
            return Err(ConfigError::new("webhooks.concurrency", "must be 1..=256"));
        }
        if self.webhooks.disable_after_hours == 0 {
            return Err(ConfigError::new("webhooks.disable_after_hours", "must be at least 1"));
        }
        if !(1..=3650).contains(&self.events.retention_days) {
            return Err(ConfigError::new("events.retention_days", "must be 1..=3650"));
        }
        if !self.dns.resolver.is_empty() && self.dns.resolver.parse::<SocketAddr>().is_err() {
            return Err(ConfigError::new(
                "dns.resolver",
                format!(
                    "`{}` is not ADDRESS:PORT (e.g. 127.0.0.1:53); leave it empty for the system's resolvers",
                    self.dns.resolver
                ),
            ));
        }
        for (i, raw) in self.sso.return_urls.iter().enumerate() {
            let key = format!("sso.return_urls[{i}]");
            let url = url::Url::parse(raw).map_err(|e| ConfigError::new(&key, format!("not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || url.fragment().is_some() {
                return Err(ConfigError::new(key, "must be an absolute http(s) URL without a fragment"));
            }
        }
        if self.sso.login_starts_per_minute == 0 {
            return Err(ConfigError::new("sso.login_starts_per_minute", "must be at least 1"));
        }
        let plugins = &self.plugins;
        for (key, value, range) in [
            ("plugins.memory_mib", plugins.memory_mib, 1..=4096),
            ("plugins.max_input_kib", plugins.max_input_kib, 1..=16_384),
            ("plugins.max_output_kib", plugins.max_output_kib, 1..=16_384),
            ("plugins.max_component_kib", plugins.max_component_kib, 1..=65_536),
            ("plugins.max_stack_kib", plugins.max_stack_kib, 64..=8192),
        ] {
            if !range.contains(&value) {
                return Err(ConfigError::new(key, format!("must be {}..={}", range.start(), range.end())));
            }
        }
        if plugins.fuel < 1_000 {
            return Err(ConfigError::new("plugins.fuel", "must be at least 1000"));
        }
        if !(1..=60_000).contains(&plugins.timeout_ms) {
            return Err(ConfigError::new("plugins.timeout_ms", "must be 1..=60000"));
        }
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

const SECTIONS: &[(&str, &[&str])] = &[
    (
        "tokens",
        &[
            "access_ttl_seconds",
            "refresh_ttl_seconds",
            "audience",
            "leeway_seconds",
            "invitation_ttl_hours",
            "email_verification_ttl_hours",
        ],
    ),
    ("passwords", &["memory_kib", "iterations", "parallelism", "max_concurrent_hashes"]),
    (
        "instance",
        &["signup_open", "approval_required", "password_min_length", "max_login_attempts", "lockout_minutes"],
    ),
    (
        "mail",
        &["transport", "from", "smtp_host", "smtp_port", "smtp_username", "smtp_password", "smtp_security"],
    ),
    ("dns", &["resolver"]),
    ("events", &["retention_days"]),
    ("outbound", &["allow_private_networks", "allow_http"]),
    ("webhooks", &["timeout_seconds", "poll_interval_ms", "concurrency", "disable_after_hours"]),
    ("sso", &["return_urls", "login_starts_per_minute"]),
    (
        "plugins",
        &[
            "fuel",
            "memory_mib",
            "timeout_ms",
            "max_input_kib",
            "max_output_kib",
            "max_component_kib",
            "max_stack_kib",
        ],
    ),
];

const TOP_LEVEL: &[&str] = &[
    "data_dir",
    "database_url",
    "database_schema",
    "database_max_connections",
    "bind",
    "public_base_url",
    "master_key",
    "max_body_bytes",
    "log_format",
    "jobs_interval_seconds",
];

fn known_key(path: &[String]) -> bool {
    match path {
        [key] => TOP_LEVEL.contains(&key.as_str()),
        [section, key] => SECTIONS.iter().any(|(name, keys)| name == section && keys.contains(&key.as_str())),
        _ => false,
    }
}

/// Environment values are strings; give them the type the key expects so serde accepts them.
fn insert_env(table: &mut toml::Table, path: &[String], raw: &str) {
    let value = if let Ok(b) = raw.parse::<bool>() {
        toml::Value::Boolean(b)
    } else if let Ok(n) = raw.parse::<i64>() {
        toml::Value::Integer(n)
    } else {
        toml::Value::String(raw.to_string())
    };
    let mut current = table;
    let Some((last, parents)) = path.split_last() else { return };
    for part in parents {
        let entry = current.entry(part.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        match entry {
            toml::Value::Table(t) => current = t,
            _ => return,
        }
    }
    // Keys that are strings in the file stay strings even when they look like numbers.
    let keep_string = matches!(
        last.as_str(),
        "database_url"
            | "public_base_url"
            | "master_key"
            | "audience"
            | "from"
            | "smtp_host"
            | "smtp_username"
            | "smtp_password"
            | "data_dir"
            | "bind"
            | "database_schema"
            | "resolver"
    );
    let value = if keep_string { toml::Value::String(raw.to_string()) } else { value };
    current.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_serve_sqlite_in_data_dir_on_loopback() {
        let (c, warnings) = Config::load_from(None, &[], &Overrides::default()).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/guildhall.db?mode=rwc");
        assert_eq!(c.public_base_url, "http://127.0.0.1:8080");
        assert!(warnings.is_empty());
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let vars = env(&[
            ("GUILDHALL_TOKENS__ACCESS_TTL_SECONDS", "120"),
            ("GUILDHALL_INSTANCE__SIGNUP_OPEN", "false"),
            ("GUILDHALL_NOPE", "1"),
        ]);
        let (c, warnings) = Config::load_from(None, &vars, &Overrides::default()).unwrap();
        assert_eq!(c.tokens.access_ttl_seconds, 120);
        assert!(!c.instance.signup_open);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let vars = env(&[("GUILDHALL_TOKENS__ACCESS_TTL_SECONDS", "5")]);
        let err = Config::load_from(None, &vars, &Overrides::default()).unwrap_err();
        assert_eq!(err.key, "tokens.access_ttl_seconds");
        let vars = env(&[("GUILDHALL_LOG_FORMAT", "xml")]);
        let err = Config::load_from(None, &vars, &Overrides::default()).unwrap_err();
        assert_eq!(err.key, "log_format");
        let bad = Overrides { bind: Some("nowhere".into()), ..Default::default() };
        assert_eq!(Config::load_from(None, &[], &bad).unwrap_err().key, "bind");
    }

    #[test]
    fn dns_resolver_is_an_address_or_empty() {
        let (c, _) = Config::load_from(None, &[], &Overrides::default()).unwrap();
        assert_eq!(c.dns.resolver_addr(), None);
        let vars = env(&[("GUILDHALL_DNS__RESOLVER", "127.0.0.1:5353")]);
        let (c, warnings) = Config::load_from(None, &vars, &Overrides::default()).unwrap();
        assert_eq!(c.dns.resolver_addr(), Some(SocketAddr::from(([127, 0, 0, 1], 5353))));
        assert!(warnings.is_empty());
        for bad in ["dns.example", "127.0.0.1", "53"] {
            let vars = env(&[("GUILDHALL_DNS__RESOLVER", bad)]);
            let err = Config::load_from(None, &vars, &Overrides::default()).unwrap_err();
            assert_eq!(err.key, "dns.resolver", "{bad}");
        }
    }

    #[test]
    fn sso_and_plugin_limits_come_from_the_environment_and_are_checked() {
        let vars = env(&[
            ("GUILDHALL_SSO__LOGIN_STARTS_PER_MINUTE", "1000"),
            ("GUILDHALL_PLUGINS__FUEL", "5000000"),
            ("GUILDHALL_PLUGINS__MEMORY_MIB", "8"),
        ]);
        let (c, warnings) = Config::load_from(None, &vars, &Overrides::default()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.sso.login_starts_per_minute, 1000);
        assert_eq!((c.plugins.fuel, c.plugins.memory_mib, c.plugins.max_component_kib), (5_000_000, 8, 4096));
        for (key, value) in [("GUILDHALL_PLUGINS__MEMORY_MIB", "0"), ("GUILDHALL_PLUGINS__FUEL", "10")] {
            let err = Config::load_from(None, &env(&[(key, value)]), &Overrides::default()).unwrap_err();
            assert!(err.key.starts_with("plugins."), "{key}: {}", err.key);
        }
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let dir = std::env::temp_dir().join(format!("gh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, "[tokens]\naccess_ttl = 5\n").unwrap();
        let err = Config::load_from(Some(&path), &[], &Overrides::default()).unwrap_err();
        assert_eq!(err.key, "tokens.access_ttl");
    }
}
