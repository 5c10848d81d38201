//! Teams: named groups of an org's members (SCIM Groups map onto them).

pub mod api;
pub mod service;
pub mod types;
