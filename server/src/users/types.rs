use chrono::{DateTime, Utc};
use guildhall_entities::user;
use poem_openapi::{Enum, Object};

/// Whether a user can sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum UserStatusDto {
    /// Waiting for an instance admin's approval.
    Pending,
    Active,
    Disabled,
}

impl UserStatusDto {
    fn from_str(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "disabled" => Self::Disabled,
            _ => Self::Active,
        }
    }

    pub fn domain(self) -> super::UserStatus {
        match self {
            Self::Pending => super::UserStatus::Pending,
            Self::Active => super::UserStatus::Active,
            Self::Disabled => super::UserStatus::Disabled,
        }
    }
}

/// A user of this instance.
#[derive(Object)]
pub struct UserResponse {
    pub id: uuid::Uuid,
    /// The user's identity, lowercased; never changes.
    pub email: String,
    pub status: UserStatusDto,
    pub is_instance_admin: bool,
    /// Whether the user proved they own the address.
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<user::Model> for UserResponse {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            status: UserStatusDto::from_str(&u.status),
            email: u.email,
            is_instance_admin: u.is_instance_admin,
            email_verified: u.email_verified_at.is_some(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

/// A page of users.
#[derive(Object)]
pub struct UserPage {
    pub data: Vec<UserResponse>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}
