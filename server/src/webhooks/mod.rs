//! Webhooks: an org's endpoints receive its events, signed per Standard Webhooks 1.0, at least
//! once, in the order each endpoint's deliveries were queued (retries may overtake). Events come
//! from the outbox the write path fills (`changes`), so a change committed is a change delivered.
//! Endpoints need `webhooks:manage`; their secrets are sealed at rest and shown once.

pub mod api;
pub mod service;
pub mod signing;
pub mod types;
pub mod worker;
