//! Personal API tokens. A token acts as its user in one org (the org that was active when it was
//! made), with the user's role there. The secret (`gh_pat_...`) is shown once; only its SHA-256
//! is stored. Tokens work as `Authorization: Bearer` exactly like access JWTs. Each user has at
//! most one default token per org, created on first request.

pub mod api;
pub mod service;
pub mod types;
