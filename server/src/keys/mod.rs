//! Signing keys and the JWKS. Exactly one key is active (the newest without `retired_at`);
//! rotation retires it and creates another. A retired key's public half stays in the JWKS,
//! and still verifies, until every token it signed has expired (access TTL + leeway).
//! Private keys are sealed with the master key. Nodes read keys from the database and
//! reload them every few seconds or on an unknown `kid`, so rotation needs no restart.

pub mod api;
pub mod jwt;
pub mod store;

pub use jwt::AccessClaims;
pub use store::KeyStore;
