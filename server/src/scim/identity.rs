//! Who a SCIM User is: the Guildhall account behind it is found by email, and a user the
//! directory gives no email holds a placeholder identity until a real address arrives.

use chrono::{DateTime, Utc};
use guildhall_entities::user;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::Value;
use uuid::Uuid;

use super::{users::uniqueness, value::invalid_value};
use crate::{error::ApiError, users};

/// The domain of the stand-in identity of a user the directory gave no email: `.invalid` is
/// reserved (RFC 2606), so it never receives mail, and with no password nobody signs in as it.
const PLACEHOLDER_DOMAIN: &str = "directory.invalid";

pub fn placeholder_email() -> String {
    format!("scim-{}@{PLACEHOLDER_DOMAIN}", Uuid::now_v7().simple())
}

pub fn is_placeholder(email: &str) -> bool {
    email.ends_with(&format!("@{PLACEHOLDER_DOMAIN}"))
}

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

/// Gives a user who had only a placeholder the first real address the directory sends, if
/// the org's domains allow it and no other account holds it.
pub async fn settle_identity<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_id: Uuid,
    email: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(email) = email else { return Ok(()) };
    let Some(account) = user::Entity::find_by_id(user_id).one(db).await? else { return Ok(()) };
    if !is_placeholder(&account.email) {
        return Ok(());
    }
    crate::domains::service::require_allowed(db, org_id, &email)
        .await
        .map_err(|e| invalid_value("emails", e.to_string()))?;
    if users::service::find_by_email(db, &email).await?.is_some() {
        return Err(uniqueness(format!("`{email}` belongs to another account")));
    }
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(email))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
