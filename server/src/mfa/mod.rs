//! Second factors. A TOTP authenticator counts only once confirmed with a real code; each code
//! works once (the accepted time step only grows) and each recovery code works once. A password
//! alone never yields tokens for an account with a confirmed authenticator: sign-in pauses at a
//! short-lived, single-use challenge that dies after a few wrong codes. Secrets are sealed with
//! the master key, recovery codes and challenge tokens kept as SHA-256. See `policy` for
//! `require_mfa`.

pub mod api;
pub mod policy;
pub mod service;
pub mod totp;
pub mod types;
