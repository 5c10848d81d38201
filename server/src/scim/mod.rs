//! SCIM 2.0 (RFC 7643/7644) service provider that Okta and Entra ID provision into. A SCIM token
//! (`gh_scim_`) decides the org and works only under `/scim/v2`; errors there are SCIM Error
//! responses. `schema` is the one table of attributes that discovery, validation (`resource`),
//! PATCH (`patch`) and filtering (`query`) all read.

pub mod api;
pub mod auth;
pub mod bulk;
pub mod bulk_api;
pub mod discovery;
pub mod filter;
pub mod group_members;
pub mod groups;
pub mod identity;
pub mod json;
pub mod list;
pub mod patch;
pub mod query;
pub mod resource;
pub mod resources_api;
pub mod schema;
pub mod tokens;
pub mod types;
pub mod user_views;
pub mod users;
pub mod value;
pub mod value_filter;

use sea_orm::DatabaseTransaction;

use crate::{AppState, error::ApiError, group_commit::Applied};
use tokens::ScimContext;

/// Applies a directory write through group commit: the org's role mapper is prepared before,
/// and its calls are recorded after, whether the write committed or was refused.
pub async fn commit<I, O, F>(state: &AppState, ctx: &ScimContext, input: I, apply: F) -> Result<O, ApiError>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
    F: for<'a> Fn(&'a I, &'a DatabaseTransaction) -> Applied<'a, O> + Send + 'static,
{
    let mapper = ctx.prepare_role_mapper(state).await?;
    let result = state.commits.run(input, apply).await;
    if let Some(mapper) = mapper {
        mapper.flush(state, ctx.meta()).await;
    }
    result
}
