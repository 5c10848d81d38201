//! Email-domain rules of an org. When an org lists any domain, everyone who joins it (added,
//! invited, auto-joined, and later SSO/SCIM-provisioned) must have an email in one of them;
//! `alice@eu.example.com` matches `example.com`, `alice@badexample.com` does not. A domain
//! with `auto_join` lets users with a verified matching email join with its default role.
//! Public mail providers cannot be claimed.

pub mod api;
pub mod names;
pub mod service;
pub mod types;
