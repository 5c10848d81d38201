//! Service accounts: non-human members of one org, with a role and their own API tokens
//! (`gh_pat_...`, shown once). They are users of kind `service` that cannot sign in with a
//! password, are listed apart from people and do not count against `max_users`. Deleting one
//! deletes its tokens.

pub mod api;
pub mod service;
pub mod types;
