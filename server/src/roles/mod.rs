//! Roles of an org: the built-in `owner`, `admin` and `member`, plus custom roles (named sets of
//! permissions) an org defines. Built-in roles cannot be changed or deleted; a custom role that
//! members hold cannot be deleted; nobody grants a permission they do not hold themselves.

pub mod api;
pub mod service;
pub mod types;
