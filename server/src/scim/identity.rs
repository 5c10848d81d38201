//! Which address a SCIM User names. What account that address leads to, and under which
//! consent, is the provisioning area's rule (`crate::provisioning`).

use serde_json::Value;

use crate::{error::ApiError, users};

/// The address that identifies the person: the primary email, else the first one, else an
/// email-shaped `userName`. None when the directory gave neither (RFC 7643 requires only
/// `userName`): the user then gets a placeholder until a real address arrives.
pub fn identity_email(doc: &Value, user_name: &str) -> Result<Option<String>, ApiError> {
    let emails = doc.get("emails").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let primary = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| emails.first())
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str);
    let invalid = |e: ApiError| e.with_scim_type("invalidValue");
    match primary {
        Some(email) => users::email::normalize("emails.value", email).map(Some).map_err(invalid),
        None if user_name.contains('@') => {
            users::email::normalize("userName", user_name).map(Some).map_err(invalid)
        }
        None => Ok(None),
    }
}
