//! Walking paged answers safely, for the FHIR searches ([`crate::fetch`]) and the Admin API's
//! lists ([`crate::api`]): the next page's address keeps the original query's filters, and a walk
//! has a bound, so a lying server can neither widen a search nor keep the client paging forever.

use std::collections::HashSet;

use crate::api::with_query;
use crate::error::{Error, Result};
use crate::http;

/// Pages a walk may take beyond what the server's `total` needs (rows uploaded while walking).
const PAGE_MARGIN: u64 = 3;
/// Pages in a row that bring nothing new before the walk is stopped (first walk).
const IDLE_PAGES_MAX: u32 = 3;

/// Keeps a walk finite: at most ceil(total ÷ page size) + a margin pages, and never a run of
/// pages that bring nothing new, whatever `next` links the server sends. The total is the one
/// the walk's first page states: a server that raises it page by page (or a caller counting
/// repeated rows) cannot move the bound.
#[derive(Default)]
pub(crate) struct PageBound {
    pages: u64,
    idle: u32,
    page_size: u64,
    total: Option<u64>,
}

impl PageBound {
    pub(crate) fn new_walk(&mut self) {
        self.pages = 0;
        self.idle = 0;
        self.total = None;
    }

    /// Called for each page that has a `next` link, after its rows were counted.
    /// `new_rows` is `None` where pages may legitimately repeat rows (a second walk) or rows
    /// have no id to compare.
    pub(crate) fn check(
        &mut self,
        what: &str,
        page_len: u64,
        new_rows: Option<u64>,
        total: u64,
    ) -> Result<()> {
        self.pages += 1;
        if self.pages == 1 || self.page_size == 0 {
            self.page_size = self.page_size.max(page_len);
        }
        let total = *self.total.get_or_insert(total);
        let size = self.page_size.max(1);
        let needed = total.div_ceil(size);
        let max = needed + PAGE_MARGIN + needed / 10;
        if self.pages >= max {
            return Err(Error::bad_response(format!(
                "{what}: the server kept sending pages: {} pages for {total} observations at {size} a page, and still a next page. Stopped; try again later, or tell the server's administrator",
                self.pages
            )));
        }
        if let Some(new_rows) = new_rows {
            self.idle = if new_rows == 0 { self.idle + 1 } else { 0 };
            if self.idle >= IDLE_PAGES_MAX {
                return Err(Error::bad_response(format!(
                    "{what}: the server kept sending pages that bring nothing new ({} in a row). Stopped; try again later, or tell the server's administrator",
                    self.idle
                )));
            }
        }
        Ok(())
    }
}

/// The next page's address: the paging parameters of the server's `next` link, on the endpoint
/// this session was configured with, and every parameter of the original search as it was sent,
/// whatever the link says about them. A `next` link that drops or changes `patient`, `code`,
/// `date`, the study filter, `_sort` or `_count` therefore cannot widen or change the search.
pub(crate) fn next_url(
    endpoint: &str,
    original: &[(String, String)],
    next: &str,
) -> Result<String> {
    let rebased = http::rebase_next(endpoint, next)?;
    let query = rebased.split_once('?').map_or("", |(_, q)| q);
    let ours: HashSet<&str> = original.iter().map(|(k, _)| k.as_str()).collect();
    let mut params = original.to_vec();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if !ours.contains(k.as_ref()) {
            params.push((k.into_owned(), v.into_owned()));
        }
    }
    Ok(with_query(endpoint, &params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_cannot_drop_or_change_the_search_filters() {
        let original: Vec<(String, String)> = [
            ("patient", "40001"),
            ("code", "https://w3id.org/openmhealth|omh:blood-glucose:4.0"),
            ("date", "ge2026-01-01"),
            ("date", "le2026-02-01"),
            ("_sort", "_lastUpdated"),
            ("_count", "1000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let next = "http://elsewhere:9/FHIR/R5/Observation?_count=3&patient=40002&_page=2";
        let url = next_url(
            "https://jhe.example.org/FHIR/R5/Observation",
            &original,
            next,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (base, q) = url.split_once('?').unwrap_or((&url, ""));
        assert_eq!(base, "https://jhe.example.org/FHIR/R5/Observation");
        let got: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        let mut want = original.clone();
        want.push(("_page".into(), "2".into()));
        assert_eq!(got, want, "the original filters, then the link's paging");
    }

    #[test]
    fn a_walk_is_bounded_by_the_total_and_by_pages_without_news() {
        let mut b = PageBound::default();
        b.new_walk();
        // 2,500 observations at 1,000 a page need 3 pages: a 6th next link is one too many.
        for _ in 0..5 {
            assert!(b.check("q", 1000, None, 2500).is_ok());
        }
        assert!(b.check("q", 1000, None, 2500).is_err());
        let mut b = PageBound::default();
        b.new_walk();
        assert!(b.check("q", 1000, Some(1000), 100_000).is_ok());
        assert!(b.check("q", 1000, Some(0), 100_000).is_ok());
        assert!(b.check("q", 1000, Some(0), 100_000).is_ok());
        let e = b
            .check("q", 1000, Some(0), 100_000)
            .map(|_| ())
            .expect_err("idle pages");
        assert!(e.to_string().contains("nothing new"), "{e}");
    }

    #[test]
    fn a_total_that_grows_page_by_page_does_not_move_the_bound() {
        let mut b = PageBound::default();
        b.new_walk();
        // 3 rows a page, a total that claims 3 more each page: stopped at page 1 + margin.
        let stopped = (1..=100u64).find(|p| b.check("q", 3, None, 3 * p).is_err());
        assert_eq!(
            stopped,
            Some(1 + PAGE_MARGIN),
            "bounded by the first page's total"
        );
    }
}
