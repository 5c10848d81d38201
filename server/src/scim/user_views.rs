//! Reading SCIM Users: loading a user with their membership, rendering the resource (with
//! `groups` and a content version), and filtered, sorted pages.

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

/// The teams each user is in: `user_id -> [(team id, name)]`.
pub(super) async fn groups_of<C: ConnectionTrait>(
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

pub fn render(state: &AppState, loaded: &Loaded, groups: &[(Uuid, String)]) -> Rendered {
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
    let groups = groups_of(&state.db, ctx.org.id, vec![loaded.row.user_id]).await?;
    Ok(render(state, &loaded, groups.get(&loaded.row.user_id).map(Vec::as_slice).unwrap_or_default()))
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
    let groups = groups_of(db, ctx.org.id, loaded.iter().map(|l| l.row.user_id).collect()).await?;
    let rendered = loaded
        .iter()
        .map(|l| render(state, l, groups.get(&l.row.user_id).map(Vec::as_slice).unwrap_or_default()))
        .collect();
    Ok((total, rendered))
}
