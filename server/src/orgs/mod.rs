//! Organizations. A user belongs to many orgs with one role in each. An org always keeps at
//! least one owner; only owners delete an org or transfer ownership; nobody deletes the org
//! they are currently in or leaves themselves without an org. Deleting an org removes its
//! memberships, roles and tokens (by cascade) and revokes sessions active in it.

pub mod api;
pub mod manage;
pub mod service;
pub mod settings;
pub mod types;

pub use service::{ActiveOrg, MembershipStatus};
