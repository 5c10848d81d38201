//! Instance-wide settings: whether signup is open, whether new accounts wait for approval, and
//! the password and lockout defaults. One row, created from the configuration on first start;
//! instance admins change it through the API.

pub mod api;
pub mod service;
pub mod types;

pub use service::Settings;
