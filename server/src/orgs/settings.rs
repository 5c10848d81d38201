//! Org fields and settings: validation of each value, and the effective value of a setting
//! (the org's own, else the instance's). Pure functions, unit-tested below.

use guildhall_entities::{instance_settings, org};

use crate::error::ApiError;

pub const MAX_NAME: usize = 100;
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub welcome_text: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgAuthSettings {
    pub password_min_length: Option<i32>,
    pub require_mfa: Option<bool>,
    pub session_ttl_minutes: Option<i32>,
    pub max_login_attempts: Option<i32>,
    pub lockout_minutes: Option<i32>,
}

pub fn branding(org: &org::Model) -> Branding {
    Branding {
        logo_url: org.logo_url.clone(),
        primary_color: org.primary_color.clone(),
        welcome_text: org.welcome_text.clone(),
    }
}

pub fn effective_branding(org: &org::Model, instance: &instance_settings::Model) -> Branding {
    Branding {
        logo_url: org.logo_url.clone().or_else(|| instance.logo_url.clone()),
        primary_color: org.primary_color.clone().or_else(|| instance.primary_color.clone()),
        welcome_text: org.welcome_text.clone().or_else(|| instance.welcome_text.clone()),
    }
}

pub fn auth_settings(org: &org::Model) -> OrgAuthSettings {
    OrgAuthSettings {
        password_min_length: org.password_min_length,
        require_mfa: org.require_mfa,
        session_ttl_minutes: org.session_ttl_minutes,
        max_login_attempts: org.max_login_attempts,
        lockout_minutes: org.lockout_minutes,
    }
}

pub fn effective_auth_settings(org: &org::Model, instance: &instance_settings::Model) -> OrgAuthSettings {
    OrgAuthSettings {
        password_min_length: Some(org.password_min_length.unwrap_or(instance.password_min_length)),
        require_mfa: Some(org.require_mfa.unwrap_or(instance.require_mfa)),
        session_ttl_minutes: Some(org.session_ttl_minutes.unwrap_or(instance.session_ttl_minutes)),
        max_login_attempts: Some(org.max_login_attempts.unwrap_or(instance.max_login_attempts)),
        lockout_minutes: Some(org.lockout_minutes.unwrap_or(instance.lockout_minutes)),
    }
}

fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::validation(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ApiError::validation(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::validation(field, "must not contain control characters"));
    }
    Ok(value.to_string())
}

pub fn name(value: &str) -> Result<String, ApiError> {
    text("name", value, MAX_NAME)
}

pub fn slug(value: &str) -> Result<String, ApiError> {
    let ok = (2..=48).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if !ok {
        return Err(ApiError::validation("slug", "use 2-48 of a-z, 0-9 and single dashes inside"));
    }
    // A slug shaped like an id would make `{org}` ambiguous.
    if value.parse::<uuid::Uuid>().is_ok() {
        return Err(ApiError::validation("slug", "must not look like an id"));
    }
    Ok(value.to_string())
}

pub fn metadata(value: &serde_json::Value) -> Result<String, ApiError> {
    if !value.is_object() {
        return Err(ApiError::validation("metadata", "must be a JSON object"));
    }
    let text = value.to_string();
    if text.len() > MAX_METADATA_BYTES {
        return Err(ApiError::validation(
            "metadata",
            format!("must be at most {MAX_METADATA_BYTES} bytes as JSON"),
        ));
    }
    Ok(text)
}

pub fn in_range(field: &str, value: i32, min: i32, max: i32) -> Result<i32, ApiError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::validation(field, format!("must be between {min} and {max}")))
    }
}

pub fn max_users(value: i32) -> Result<i32, ApiError> {
    in_range("max_users", value, 1, 1_000_000)
}

pub fn retention_days(value: i32) -> Result<i32, ApiError> {
    in_range("data_retention_days", value, 7, 3650)
}

pub fn logo_url(value: &str) -> Result<String, ApiError> {
    let field = "branding.logo_url";
    let value = value.trim();
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && value.len() <= 2048 && !value.chars().any(char::is_whitespace) => {
            Ok(value.to_string())
        }
        _ => Err(ApiError::validation(field, "must be an http(s) URL of at most 2048 characters")),
    }
}

pub fn primary_color(value: &str) -> Result<String, ApiError> {
    let ok =
        value.len() == 7 && value.starts_with('#') && value.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ApiError::validation("branding.primary_color", "must be a color like #1a2b3c"))
    }
}

pub fn welcome_text(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.chars().count() > 500 {
        return Err(ApiError::validation("branding.welcome_text", "must be at most 500 characters"));
    }
    Ok(value.to_string())
}

pub fn password_min_length(v: i32) -> Result<i32, ApiError> {
    in_range("auth_settings.password_min_length", v, 8, 256)
}

pub fn session_ttl_minutes(v: i32) -> Result<i32, ApiError> {
    in_range("auth_settings.session_ttl_minutes", v, 5, 525_600)
}

pub fn max_login_attempts(v: i32) -> Result<i32, ApiError> {
    in_range("auth_settings.max_login_attempts", v, 1, 100)
}

pub fn lockout_minutes(v: i32) -> Result<i32, ApiError> {
    in_range("auth_settings.lockout_minutes", v, 1, 10_080)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<impl std::fmt::Debug, ApiError>) -> String {
        r.unwrap_err().field_errors()[0].field.clone()
    }

    #[test]
    fn values_are_checked_and_name_their_field() {
        assert_eq!(slug("acme-eu").unwrap(), "acme-eu");
        for bad in [
            "a",
            "-acme",
            "acme-",
            "ac--me",
            "Acme",
            "acme_eu",
            &"a".repeat(49),
            "01912345-1234-7123-8123-123456789abc",
        ] {
            assert_eq!(field_of(slug(bad)), "slug", "{bad}");
        }
        assert_eq!(primary_color("#A1B2C3").unwrap(), "#a1b2c3");
        for bad in ["a1b2c3", "#a1b2c", "#ggghhh", "#a1b2c3d"] {
            assert_eq!(field_of(primary_color(bad)), "branding.primary_color", "{bad}");
        }
        assert!(logo_url("https://cdn.example.com/logo.png").is_ok());
        for bad in ["ftp://x", "https://", "javascript:alert(1)", "https://a b"] {
            assert_eq!(field_of(logo_url(bad)), "branding.logo_url", "{bad}");
        }
        assert_eq!(field_of(metadata(&serde_json::json!([1]))), "metadata");
        assert_eq!(field_of(metadata(&serde_json::json!({ "k": "v".repeat(9000) }))), "metadata");
        assert_eq!(field_of(retention_days(6)), "data_retention_days");
        assert!(retention_days(3650).is_ok());
        assert_eq!(field_of(name(" ")), "name");
    }
}
