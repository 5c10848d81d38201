//! Teams: named groups of an org's members (SCIM Groups map onto them). A team's name is unique
//! in its org regardless of case; only members of the org can be in its teams, so leaving or
//! being removed from the org removes a user from all of its teams. Another org's team is
//! "not found".

pub mod api;
pub mod service;
pub mod types;
