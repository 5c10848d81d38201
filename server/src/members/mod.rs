//! Members of an org: people (and later service accounts) with one role each. Only owners grant
//! or revoke `owner`; the last owner cannot be demoted, removed or leave; nobody is left
//! without an org; `max_users` caps the count. A member may remove themself (leave).

pub mod api;
pub mod service;
pub mod types;
