use chrono::{DateTime, Utc};
use poem_openapi::{Object, types::MaybeUndefined};
use serde::Deserialize;
use uuid::Uuid;

use super::service::{NewTeam, Team, TeamChange, TeamDetail, TeamMember};
use crate::error::ApiError;

pub const MAX_NAME: usize = 100;
pub const MAX_EXTERNAL_ID: usize = 255;

/// A team of the org.
#[derive(Object)]
pub struct TeamResponse {
    pub id: Uuid,
    pub name: String,
    /// The directory's id for the team (SCIM `externalId`), if any.
    pub external_id: Option<String>,
    pub member_count: u64,
    pub created_at: DateTime<Utc>,
    /// Also changes when members are added or removed.
    pub updated_at: DateTime<Utc>,
}

impl From<Team> for TeamResponse {
    fn from(t: Team) -> Self {
        Self {
            id: t.row.id,
            name: t.row.name,
            external_id: t.row.external_id,
            member_count: t.member_count,
            created_at: t.row.created_at,
            updated_at: t.row.updated_at,
        }
    }
}

/// A member of a team.
#[derive(Object)]
pub struct TeamMemberResponse {
    pub user_id: Uuid,
    pub email: String,
    /// When the user was added to the team.
    pub added_at: DateTime<Utc>,
}

impl From<TeamMember> for TeamMemberResponse {
    fn from(m: TeamMember) -> Self {
        Self { user_id: m.user_id, email: m.email, added_at: m.added_at }
    }
}

/// A team with its members, in the order they were added.
#[derive(Object)]
pub struct TeamDetailResponse {
    pub id: Uuid,
    pub name: String,
    /// The directory's id for the team (SCIM `externalId`), if any.
    pub external_id: Option<String>,
    pub member_count: u64,
    pub created_at: DateTime<Utc>,
    /// Also changes when members are added or removed.
    pub updated_at: DateTime<Utc>,
    pub members: Vec<TeamMemberResponse>,
}

impl From<TeamDetail> for TeamDetailResponse {
    fn from(d: TeamDetail) -> Self {
        let team = TeamResponse::from(d.team);
        Self {
            id: team.id,
            name: team.name,
            external_id: team.external_id,
            member_count: team.member_count,
            created_at: team.created_at,
            updated_at: team.updated_at,
            members: d.members.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Object)]
pub struct TeamPage {
    pub data: Vec<TeamResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// A new team.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamRequest {
    /// 1..=100 characters, unique in the org regardless of case.
    pub name: String,
    /// The directory's id for the team, at most 255 characters.
    pub external_id: Option<String>,
}

/// Changes to a team: only the fields named change; `"external_id": null` clears it.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeamRequest {
    /// 1..=100 characters, unique in the org regardless of case.
    pub name: Option<String>,
    /// The directory's id for the team, at most 255 characters; `null` clears it.
    #[serde(default)]
    pub external_id: MaybeUndefined<String>,
}

impl TryFrom<CreateTeamRequest> for NewTeam {
    type Error = ApiError;

    fn try_from(req: CreateTeamRequest) -> Result<Self, ApiError> {
        Ok(Self { name: name(&req.name)?, external_id: req.external_id.map(external_id).transpose()? })
    }
}

impl TryFrom<UpdateTeamRequest> for TeamChange {
    type Error = ApiError;

    fn try_from(req: UpdateTeamRequest) -> Result<Self, ApiError> {
        let external_id = match req.external_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(v) => Some(Some(external_id(v)?)),
        };
        Ok(Self { name: req.name.as_deref().map(name).transpose()?, external_id })
    }
}

/// A team name: trimmed, 1..=100 characters, no control characters.
pub fn name(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::validation("name", "must not be empty"));
    }
    if value.chars().count() > MAX_NAME {
        return Err(ApiError::validation("name", format!("must be at most {MAX_NAME} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::validation("name", "must not contain control characters"));
    }
    Ok(value.to_string())
}

/// A directory's id, kept exactly as sent: 1..=255 characters, not blank, no control characters.
pub fn external_id(value: String) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::validation("external_id", "must not be blank; send null to clear it"));
    }
    if value.chars().count() > MAX_EXTERNAL_ID {
        return Err(ApiError::validation(
            "external_id",
            format!("must be at most {MAX_EXTERNAL_ID} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::validation("external_id", "must not contain control characters"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_external_ids_are_checked() {
        assert_eq!(name("  Platform  ").unwrap(), "Platform");
        assert_eq!(name(&"é".repeat(100)).unwrap().chars().count(), 100);
        for bad in ["", "   ", "a\tb", "a\u{0}b", &"x".repeat(101)] {
            assert!(name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(external_id(" 00g1 ".into()).unwrap(), " 00g1 ");
        assert!(external_id("x".repeat(255)).is_ok());
        for bad in ["", " ", "a\nb", &"x".repeat(256)] {
            assert!(external_id(bad.to_string()).is_err(), "{bad:?}");
        }
    }
}
