//! A page body as text even when some of its bytes are not UTF-8: JSON must be UTF-8, and one
//! resource with broken bytes (a hostile or buggy server) must fail only that resource, not the
//! page it came in. Invalid sequences become U+FFFD, and [`PageText::is_damaged`] tells which
//! parts of the text (e.g. one resource's raw JSON) held one, so those are reported as problems
//! and nothing repaired is ever exported as if the server had sent it.

use std::borrow::Cow;

use crate::omh::{Problem, RawObservation};

/// The problem of a resource whose text held bytes that are not UTF-8, with whatever ids were
/// read from its repaired text.
pub(crate) fn not_text(read: Result<RawObservation, Problem>) -> Problem {
    let mut p = read.map_or_else(
        |p| p,
        |o| Problem {
            observation_id: o.id,
            patient_id: o.patient_id,
            code: o.coding_code,
            ..Problem::default()
        },
    );
    p.message = "the server sent bytes that are not text (invalid UTF-8); left out".into();
    p.not_asked = false;
    p
}

pub(crate) struct PageText<'a> {
    text: Cow<'a, str>,
    /// Byte offsets in `text` of each U+FFFD put in for invalid bytes, ascending.
    marks: Vec<usize>,
}

impl<'a> PageText<'a> {
    pub(crate) fn new(body: &'a [u8]) -> PageText<'a> {
        if let Ok(text) = std::str::from_utf8(body) {
            return PageText {
                text: Cow::Borrowed(text),
                marks: Vec::new(),
            };
        }
        let mut text = String::with_capacity(body.len() + 16);
        let mut marks = Vec::new();
        for chunk in body.utf8_chunks() {
            text.push_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                marks.push(text.len());
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
        PageText {
            text: Cow::Owned(text),
            marks,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `part` (a slice of [`Self::as_str`], e.g. a borrowed `RawValue`) covers bytes
    /// that were not UTF-8. A `part` from elsewhere is not damaged.
    pub(crate) fn is_damaged(&self, part: &str) -> bool {
        if self.marks.is_empty() {
            return false;
        }
        let base = self.text.as_ptr() as usize;
        let start = (part.as_ptr() as usize).wrapping_sub(base);
        if start > self.text.len() {
            return false;
        }
        let end = start + part.len();
        let i = self.marks.partition_point(|&m| m < start);
        self.marks.get(i).is_some_and(|&m| m < end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_parts_with_broken_bytes_are_damaged() {
        let body = b"[{\"a\":\"ok\"},{\"b\":\"\xff\xfe\"},{\"c\":\"\xc3\xa9\"}]";
        let t = PageText::new(body);
        let items: Vec<&serde_json::value::RawValue> =
            serde_json::from_str(t.as_str()).expect("the repaired text is JSON");
        let damaged: Vec<bool> = items.iter().map(|r| t.is_damaged(r.get())).collect();
        assert_eq!(damaged, [false, true, false]);
        assert!(!t.is_damaged("elsewhere"));
    }

    #[test]
    fn valid_text_is_borrowed_and_never_damaged() {
        let t = PageText::new("{\"x\":\"\u{FFFD} sent by the server\"}".as_bytes());
        assert!(matches!(t.text, Cow::Borrowed(_)));
        assert!(!t.is_damaged(t.as_str()));
    }
}
