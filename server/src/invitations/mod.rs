//! Invitations: an admin invites an email with a role; the invitee gets a single-use link by
//! email (7 days by default). One pending invitation per email and org; resending issues a new
//! token and kills the old link. The invitee joins by presenting the token while signed in as
//! that email, by signing up with it, or automatically on sign-in once their email is verified.
//! Expired, revoked, used and mismatched tokens fail with distinct codes.

pub mod api;
pub mod service;
pub mod types;
