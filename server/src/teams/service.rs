use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::ApiError;

/// Removes a user from every team of an org (called when they leave or are removed).
pub async fn remove_from_all<C: ConnectionTrait>(_db: &C, _org_id: Uuid, _user_id: Uuid) -> Result<(), ApiError> {
    Ok(())
}
