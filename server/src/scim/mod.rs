//! SCIM 2.0 (RFC 7643/7644) service provider. The SCIM token decides the org.

pub mod filter;
