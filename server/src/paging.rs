//! Cursor paging for lists: `limit` (1..=200, default 50) and an opaque `cursor`. Rows are
//! ordered by their UUIDv7 id (creation order); the cursor is the last id seen.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::validation("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = match cursor {
            None | Some("") => None,
            Some(c) => Some(
                decode(c).ok_or_else(|| ApiError::validation("cursor", "is not a cursor from this API"))?,
            ),
        };
        Ok(Self { limit, after })
    }

    /// Rows to fetch: one more than the page, to learn whether more follow.
    pub fn fetch(&self) -> u64 {
        self.limit + 1
    }

    /// Trims the extra row and returns `(rows, next_cursor, has_more)`.
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> Uuid) -> (Vec<T>, Option<String>, bool) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next = if has_more { rows.last().map(|r| encode(id_of(r))) } else { None };
        (rows, next, has_more)
    }
}

fn encode(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_limits_are_checked() {
        let id = Uuid::now_v7();
        let page = PageRequest::parse(Some(2), Some(&encode(id))).unwrap();
        assert_eq!(page.after, Some(id));
        let (rows, next, more) = page.finish(vec![Uuid::nil(), id, Uuid::max()], |u| *u);
        assert_eq!((rows.len(), next, more), (2, Some(encode(id)), true));
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert!(PageRequest::parse(None, Some("!!")).is_err());
    }
}
