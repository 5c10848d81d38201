//! Users of the instance. A user's identity is their email, lowercased and immutable. A user is
//! `pending` (waiting for approval), `active` or `disabled`; only active users sign in.
//! Instance admins list, approve, disable, enable and delete users; the last instance admin
//! cannot be disabled or deleted, and a user who is the only owner of an org with other
//! members cannot be deleted.

pub mod api;
pub mod email;
pub mod service;
pub mod types;
pub mod verification;

pub use service::UserStatus;
