use poem_openapi::Object;
use serde::Deserialize;

use super::service::{RoleDefinition, RoleView};
use crate::{error::ApiError, permissions};

/// A role: built-in (`owner`, `admin`, `member`) or defined by the org.
#[derive(Object)]
pub struct RoleResponse {
    /// Stable identifier, used in member records and tokens (`org_role`).
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// Permission names, e.g. `members:write`.
    pub permissions: Vec<String>,
    pub built_in: bool,
}

impl From<RoleView> for RoleResponse {
    fn from(r: RoleView) -> Self {
        Self {
            key: r.key,
            name: r.name,
            description: r.description,
            permissions: permissions::to_names(&r.permissions),
            built_in: r.built_in,
        }
    }
}

#[derive(Object)]
pub struct RoleList {
    pub data: Vec<RoleResponse>,
}

/// A new custom role.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// 1..=40 characters of `a-z`, `0-9`, `_` and `-`, starting with a letter; not a built-in key.
    pub key: String,
    /// 1..=100 characters.
    pub name: String,
    /// At most 500 characters.
    pub description: Option<String>,
    /// Permission names; see the `permissions` of the built-in `owner` role for the full list.
    pub permissions: Vec<String>,
}

/// The whole new definition of a custom role.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

pub fn validate_key(key: &str) -> Result<String, ApiError> {
    let ok = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(key.to_string())
    } else {
        Err(ApiError::validation("key", "use 1-40 of a-z, 0-9, _ and -, starting with a letter"))
    }
}

pub fn definition(
    name: String,
    description: Option<String>,
    names: Vec<String>,
) -> Result<RoleDefinition, ApiError> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation("name", "must be 1 to 100 characters"));
    }
    let description = description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    if description.as_ref().is_some_and(|d| d.chars().count() > 500) {
        return Err(ApiError::validation("description", "must be at most 500 characters"));
    }
    let permissions = permissions::parse_set(names.iter().map(String::as_str)).map_err(|unknown| {
        ApiError::validation(
            "permissions",
            format!("unknown permission `{unknown}`; known: {}", permissions::Permission::names().join(", ")),
        )
    })?;
    Ok(RoleDefinition { name, description, permissions })
}
