//! SCIM filter and PATCH path parsing (RFC 7644 §3.4.2.2, §3.5.2). Work in progress.
