//! Cursor pagination: a page size and an opaque cursor that points after the last item seen.
//! Items are ordered by their time-ordered id, so the order is stable while rows are added.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use super::validation::FieldError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A validated request for one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// Return items whose id sorts after this one.
    pub after: Option<Uuid>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl PageRequest {
    /// Parses a client's `limit` and `cursor`; `limit_field` and `cursor_field` name them in
    /// errors (REST says `limit`/`cursor`, GraphQL `first`/`after`).
    pub fn parse(
        limit: Option<i64>,
        cursor: Option<&str>,
        limit_field: &str,
        cursor_field: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => n as u32,
            Some(_) => {
                errors.push(FieldError::new(
                    limit_field,
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
                DEFAULT_LIMIT
            }
        };
        // An empty cursor is not one this service gave out (the first page sends none).
        let after = match cursor {
            None => None,
            Some(c) => match decode_cursor(c) {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError::new(
                        cursor_field,
                        "is not a cursor this service gave out",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Self { limit, after })
        } else {
            Err(errors)
        }
    }
}

/// One page of items and the cursor for the next one (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only tells that more exist.
    pub fn from_rows<I: Into<Uuid>>(
        mut rows: Vec<T>,
        request: PageRequest,
        id_of: impl Fn(&T) -> I,
    ) -> Self {
        let limit = request.limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(id_of(last).into()))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// One page of a short list already held whole and in its own order (the members or
    /// sessions of one piece of work): the items after the cursor's item, up to the limit. A
    /// cursor naming an item not in the list gives an empty page.
    pub fn slice<I: Into<Uuid>>(
        items: Vec<T>,
        request: PageRequest,
        id_of: impl Fn(&T) -> I,
    ) -> Self {
        let start = match request.after {
            None => 0,
            Some(after) => items
                .iter()
                .position(|i| id_of(i).into() == after)
                .map_or(items.len(), |p| p + 1),
        };
        let rows: Vec<T> = items
            .into_iter()
            .skip(start)
            .take(request.limit as usize + 1)
            .collect();
        Self::from_rows(rows, request, id_of)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

const CURSOR_PREFIX: &str = "c1:";

/// A cursor is the id of the last item seen: any id is a position in the keyset order, so
/// every UUID is a valid cursor (the OpenAPI document says `format: uuid`, and means it).
pub fn encode_cursor(id: Uuid) -> String {
    id.to_string()
}

/// Reads a cursor: a UUID, or the encoded form earlier versions gave out.
pub fn decode_cursor(cursor: &str) -> Option<Uuid> {
    if let Ok(id) = cursor.parse() {
        return Some(id);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let id = crate::domain::new_id();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
    }

    #[test]
    fn limits_outside_one_to_two_hundred_are_refused() {
        assert!(PageRequest::parse(Some(0), None, "limit", "cursor").is_err());
        assert!(PageRequest::parse(Some(201), None, "limit", "cursor").is_err());
        assert_eq!(
            PageRequest::parse(Some(200), None, "limit", "cursor")
                .map(|p| p.limit)
                .ok(),
            Some(200)
        );
    }

    #[test]
    fn a_forged_cursor_is_refused() {
        let errors = PageRequest::parse(None, Some("bm90LWEtY3Vyc29y"), "limit", "cursor")
            .expect_err("forged");
        assert_eq!(errors[0].field, "cursor");
    }

    #[test]
    fn a_list_held_whole_is_paged_in_its_own_order() {
        let ids: Vec<Uuid> = (0..5).map(|_| crate::domain::new_id()).rev().collect();
        let first = Page::slice(
            ids.clone(),
            PageRequest {
                limit: 2,
                after: None,
            },
            |id| *id,
        );
        assert_eq!(first.items, ids[..2]);
        let second = Page::slice(
            ids.clone(),
            PageRequest {
                limit: 2,
                after: Some(ids[1]),
            },
            |id| *id,
        );
        assert_eq!(second.items, ids[2..4]);
        let last = Page::slice(
            ids.clone(),
            PageRequest {
                limit: 2,
                after: Some(ids[3]),
            },
            |id| *id,
        );
        assert_eq!(last.items, ids[4..]);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn the_extra_row_makes_a_next_cursor() {
        let ids: Vec<Uuid> = (0..3).map(|_| crate::domain::new_id()).collect();
        let req = PageRequest {
            limit: 2,
            after: None,
        };
        let page = Page::from_rows(ids.clone(), req, |id| *id);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor, Some(encode_cursor(ids[1])));
        let last = Page::from_rows(ids[..2].to_vec(), req, |id| *id);
        assert_eq!(last.next_cursor, None);
    }
}
