//! Reading SCIM Users: loading a user with their membership, rendering the resource (with
//! `groups`, the manager's `displayName` and a content version), and filtered, sorted pages.
//! What a user shows from outside its document comes from its own org only.

use std::collections::HashMap;

use guildhall_entities::{membership, scim_user, team, team_member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    list::{self, ListParams},
    query::{self, Resource},
    schema::{ENTERPRISE_USER_URN, USER_URN},
    tokens::ScimContext,
};
use crate::{AppState, error::ApiError, orgs::MembershipStatus};

/// A SCIM User as stored: the document plus what lives elsewhere.
pub struct Loaded {
    pub row: scim_user::Model,
    pub membership: membership::Model,
}

impl Loaded {
    pub(super) fn active(&self) -> bool {
        self.membership.status == MembershipStatus::Active.as_str()
    }
}

/// The rendered resource and its version.
pub struct Rendered {
    pub resource: Value,
    pub version: String,
    pub location: String,
}

fn location(state: &AppState, id: Uuid) -> String {
    format!("{}/scim/v2/Users/{id}", state.config.public_base_url)
}

pub async fn load<C: ConnectionTrait>(db: &C, org_id: Uuid, id: Uuid) -> Result<Loaded, ApiError> {
    let (row, membership) = scim_user::Entity::find_by_id(id)
        .filter(scim_user::Column::OrgId.eq(org_id))
        .find_also_related(membership::Entity)
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let membership = membership.ok_or_else(ApiError::not_found)?;
    Ok(Loaded { row, membership })
}

/// What rendered users show from outside their documents: the teams each is in (`groups`) and
/// their managers' `displayName` (enterprise `manager.displayName`, RFC 7643 §4.3), both looked
/// up in the users' own org.
pub struct Related {
    /// `user_id -> [(team id, name)]`.
    groups: HashMap<Uuid, Vec<(Uuid, String)>>,
    /// SCIM id of a manager -> their `displayName`.
    manager_names: HashMap<Uuid, String>,
}

impl Related {
    pub async fn load<C: ConnectionTrait>(db: &C, org_id: Uuid, users: &[&Loaded]) -> Result<Self, ApiError> {
        let groups = groups_of(db, org_id, users.iter().map(|l| l.row.user_id).collect()).await?;
        let managers: Vec<Uuid> = users.iter().filter_map(|l| manager_of(&l.row)).collect();
        let manager_names = display_names(db, org_id, managers).await?;
        Ok(Self { groups, manager_names })
    }

    /// For a membership made just now, which cannot be in any team yet: only the managers.
    pub async fn load_new<C: ConnectionTrait>(
        db: &C,
        org_id: Uuid,
        loaded: &Loaded,
    ) -> Result<Self, ApiError> {
        let managers: Vec<Uuid> = manager_of(&loaded.row).into_iter().collect();
        Ok(Self { groups: HashMap::new(), manager_names: display_names(db, org_id, managers).await? })
    }

    /// The same teams, the managers looked up again (after the document changed).
    pub async fn with_managers_of<C: ConnectionTrait>(
        self,
        db: &C,
        org_id: Uuid,
        loaded: &Loaded,
    ) -> Result<Self, ApiError> {
        let managers: Vec<Uuid> = manager_of(&loaded.row).into_iter().collect();
        Ok(Self { groups: self.groups, manager_names: display_names(db, org_id, managers).await? })
    }

    fn groups(&self, loaded: &Loaded) -> &[(Uuid, String)] {
        self.groups.get(&loaded.row.user_id).map(Vec::as_slice).unwrap_or_default()
    }
}

/// The SCIM id in `manager.value`, when it names another user.
fn manager_of(row: &scim_user::Model) -> Option<Uuid> {
    let value = row.attributes.get(ENTERPRISE_USER_URN)?.get("manager")?.get("value")?.as_str()?;
    Uuid::parse_str(value).ok().filter(|id| *id != row.id)
}

/// The `displayName` of each of these SCIM users of `org_id` that has one.
async fn display_names<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = scim_user::Entity::find()
        .filter(scim_user::Column::OrgId.eq(org_id))
        .filter(scim_user::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let name = row.attributes.get("displayName")?.as_str()?.to_string();
            Some((row.id, name))
        })
        .collect())
}

/// The teams each user is in: `user_id -> [(team id, name)]`.
async fn groups_of<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<(Uuid, String)>>, ApiError> {
    let mut map: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(map);
    }
    let rows: Vec<(team_member::Model, Option<team::Model>)> = team_member::Entity::find()
        .filter(team_member::Column::OrgId.eq(org_id))
        .filter(team_member::Column::UserId.is_in(user_ids))
        .find_also_related(team::Entity)
        .order_by_asc(team_member::Column::Id)
        .all(db)
        .await?;
    for (member, team) in rows {
        if let Some(team) = team {
            map.entry(member.user_id).or_default().push((team.id, team.name));
        }
    }
    Ok(map)
}

pub fn render(state: &AppState, loaded: &Loaded, related: &Related) -> Rendered {
    let base = &state.config.public_base_url;
    let row = &loaded.row;
    let mut out = Map::new();
    let doc = row.attributes.as_object().cloned().unwrap_or_default();
    let mut schemas = vec![json!(USER_URN)];
    if doc.contains_key(ENTERPRISE_USER_URN) {
        schemas.push(json!(ENTERPRISE_USER_URN));
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(row.id));
    let assigned = doc.contains_key("active");
    for (key, value) in doc {
        out.insert(key, value);
    }
    if assigned || !loaded.active() {
        out.insert("active".into(), json!(loaded.active()));
    }
    let groups = related.groups(loaded);
    if !groups.is_empty() {
        let groups: Vec<Value> = groups
            .iter()
            .map(|(id, name)| {
                json!({ "value": id, "$ref": format!("{base}/scim/v2/Groups/{id}"), "display": name, "type": "direct" })
            })
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    if let Some(manager) =
        out.get_mut(ENTERPRISE_USER_URN).and_then(|e| e.get_mut("manager")).and_then(Value::as_object_mut)
        && let Some(id) = manager.get("value").and_then(Value::as_str).map(str::to_string)
    {
        manager.insert("$ref".into(), json!(format!("{base}/scim/v2/Users/{id}")));
        if let Some(name) = manager_of(row).and_then(|id| related.manager_names.get(&id)) {
            manager.insert("displayName".into(), json!(name));
        }
    }
    let version = list::version_of(&out);
    let location = location(state, row.id);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": list::time(row.created_at),
            "lastModified": list::time(row.updated_at),
            "location": location,
            "version": version,
        }),
    );
    Rendered { resource: Value::Object(out), version, location }
}

pub async fn get(state: &AppState, ctx: &ScimContext, id: Uuid) -> Result<Rendered, ApiError> {
    let loaded = load(&state.db, ctx.org.id, id).await?;
    let related = Related::load(&state.db, ctx.org.id, &[&loaded]).await?;
    Ok(render(state, &loaded, &related))
}

/// One page of users matching `params`, and how many match in all.
pub async fn list(
    state: &AppState,
    ctx: &ScimContext,
    params: &ListParams,
) -> Result<(u64, Vec<Rendered>), ApiError> {
    let db: &DatabaseConnection = &state.db;
    let backend = db.get_database_backend();
    let mut base = scim_user::Entity::find()
        .join(JoinType::InnerJoin, scim_user::Relation::Membership.def())
        .filter(scim_user::Column::OrgId.eq(ctx.org.id));
    if let Some(filter) = &params.filter {
        base = base.filter(query::condition(backend, Resource::Users, filter)?);
    }
    let total = base.clone().count(db).await?;
    if params.count == 0 || params.start_index > total {
        return Ok((total, Vec::new()));
    }
    let page = base.select_also(membership::Entity);
    let page =
        list::page(page, backend, Resource::Users, (scim_user::Entity, scim_user::Column::Id), params)?;
    let rows = page.all(db).await?;
    let loaded: Vec<Loaded> =
        rows.into_iter().filter_map(|(row, m)| m.map(|membership| Loaded { row, membership })).collect();
    let related = Related::load(db, ctx.org.id, &loaded.iter().collect::<Vec<_>>()).await?;
    let rendered = loaded.iter().map(|l| render(state, l, &related)).collect();
    Ok((total, rendered))
}
