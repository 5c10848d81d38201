//! Email-domain rules of an org. When an org lists any domain, everyone who joins it (added,
//! invited, auto-joined, and later SSO/SCIM-provisioned) must have an email in one of them;
//! `alice@eu.example.com` matches `example.com`, `alice@badexample.com` does not. A listed domain
//! is only a filter until the org proves it controls it (a DNS TXT record, or an instance admin's
//! say); a verified domain belongs to one org, overlaps no other org's, and only then does its
//! `auto_join` pull in users with a verified matching email. Public mail providers and public
//! suffixes cannot be claimed.

pub mod api;
pub mod dns;
pub mod names;
pub mod service;
pub mod types;
