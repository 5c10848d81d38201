//! Organizations and memberships. A user belongs to many orgs with one role in each; an org
//! always has at least one owner. This foundation creates an org at signup and resolves the
//! active org of a session; the org endpoints build on it.

pub mod service;

pub use service::{ActiveOrg, MembershipStatus, Role};
