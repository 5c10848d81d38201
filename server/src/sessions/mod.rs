//! Sign-up, sign-in and sessions. A session is one sign-in: a family of refresh tokens, each used
//! once. Refreshing rotates the token; presenting a rotated token again is treated as theft and
//! revokes the whole session. Access tokens are short-lived ES256 JWTs naming the session
//! (`sid`), which is checked on every request, so revocation takes effect at once. Failed
//! sign-ins are throttled per account and client address (`throttle`).

pub mod api;
pub mod service;
pub mod signup;
pub mod throttle;
pub mod types;
