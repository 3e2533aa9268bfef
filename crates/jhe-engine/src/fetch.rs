//! Walking FHIR Observation searches completely: every page, `next` links re-applied to the
//! configured base URL, de-duplication by id, the server's `total` checked, cancellation
//! between pages.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::types::BundleLink;
use crate::api::{with_query, ObservationQuery, Session, PAGE_SIZE};
use crate::cancel::CancelToken;
use crate::error::{Error, Result};

use crate::omh::{self, Problem, RawObservation};
use crate::paging::{next_url, PageBound};

/// Everything one search returned.
#[derive(Clone, Debug)]
pub struct Fetched<T = RawObservation> {
    /// The observations, de-duplicated by id, in server order (empty from
    /// [`fetch_observations_each`], which hands them to its sink instead).
    pub observations: Vec<T>,
    /// Distinct observations received.
    pub rows: u64,
    /// Resources that could not be read as observations (reported, never fatal).
    pub problems: Vec<Problem>,
    /// The `total` of the last page the server sent.
    pub server_total: u64,
    /// Rows that came twice (pages shifting under concurrent uploads) and were dropped.
    pub duplicates: u64,
    /// Rows the search did not ask for (another participant, another type, or dated outside the
    /// window), dropped: a server that sends them is broken or lying.
    pub foreign: Vec<Problem>,
    pub pages: u64,
    /// Walks of the search (a second walk is made when the first came up short).
    pub walks: u32,
}

impl<T> Default for Fetched<T> {
    fn default() -> Self {
        Fetched {
            observations: Vec::new(),
            rows: 0,
            problems: Vec::new(),
            server_total: 0,
            duplicates: 0,
            foreign: Vec::new(),
            pages: 0,
            walks: 0,
        }
    }
}

impl<T> Fetched<T> {
    /// Distinct resources received (observations and unreadable ones).
    pub fn received(&self) -> u64 {
        self.rows + self.problems.len() as u64
    }
    pub fn is_complete(&self) -> bool {
        self.received() == self.server_total
    }
}

/// One searchset page, read straight from its bytes.
struct Page<T> {
    total: Option<u64>,
    next: Option<String>,
    items: Vec<Item<T>>,
}

enum Item<T> {
    /// The observation's id and what `map` made of it.
    Observation(u64, T),
    /// A row the search did not ask for, and why (as a problem to report).
    Foreign(Problem),
    /// An unreadable resource and its JSON text (the de-duplication key when it has no id).
    Problem(Problem, String),
}

#[derive(Deserialize)]
struct PageWire<'a> {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default, borrow)]
    entry: Vec<EntryWire<'a>>,
    #[serde(default)]
    link: Vec<BundleLink>,
}

#[derive(Deserialize)]
struct EntryWire<'a> {
    #[serde(default, borrow)]
    resource: Option<&'a RawValue>,
}

/// What a search asked for, to check every row the server sends against (made once a search).
struct Asked<'q> {
    q: &'q ObservationQuery,
    /// The window as UTC microseconds: from the first day's midnight, to the midnight after
    /// the last day (exclusive).
    from_us: Option<i64>,
    to_us: Option<i64>,
    /// `updated_since` as UTC microseconds.
    since_us: Option<i64>,
}

impl<'q> Asked<'q> {
    fn new(q: &'q ObservationQuery) -> Asked<'q> {
        Asked {
            q,
            from_us: q.date_from.map(day_start_us),
            to_us: q.date_to.and_then(|d| d.succ_opt()).map(day_start_us),
            since_us: q
                .updated_since
                .as_deref()
                .and_then(omh::time::parse_date_time)
                .map(|t| t.utc_us),
        }
    }

    /// Why the server's row `o` is not one that was asked for, if it is not.
    fn off(&self, o: &RawObservation) -> Option<String> {
        let q = self.q;
        if let Some(p) = q.patient_id.filter(|p| *p != o.patient_id) {
            return Some(format!("of participant {} (asked: {p})", o.patient_id));
        }
        if let Some((system, code)) = &q.code {
            let other_system = !o.coding_system.is_empty() && o.coding_system != *system;
            if o.coding_code != *code || other_system {
                return Some(format!("of type {} (asked: {code})", o.coding_code));
            }
        }
        if let Some(since) = self.since_us {
            let at = o
                .last_updated
                .as_deref()
                .and_then(omh::time::parse_date_time);
            match at {
                Some(t) if t.utc_us < since => {
                    return Some(format!(
                        "written {}, before the asked {}",
                        o.last_updated.as_deref().unwrap_or_default(),
                        q.updated_since.as_deref().unwrap_or_default()
                    ))
                }
                None => return Some("without a readable lastUpdated".into()),
                Some(_) => {}
            }
        }
        if self.from_us.is_none() && self.to_us.is_none() {
            return None;
        }
        self.outside_window(o)
    }

    fn outside_window(&self, o: &RawObservation) -> Option<String> {
        let (from_us, to_us) = (self.from_us, self.to_us);
        let when = match &o.envelope.effective {
            Some(omh::Effective::DateTime(t)) => Some(t.as_str()),
            Some(omh::Effective::Period { start, end }) => start.as_deref().or(end.as_deref()),
            None => None,
        }?;
        let at = omh::time::parse_date_time(when)?.utc_us;
        let before = from_us.is_some_and(|f| at < f);
        let after = to_us.is_some_and(|t| at >= t);
        (before || after).then(|| format!("dated {when}, outside the asked dates"))
    }
}

/// Midnight UTC of `d`, in microseconds since the epoch.
fn day_start_us(d: chrono::NaiveDate) -> i64 {
    d.and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_micros()
}

/// The page's observations as `map` makes them, or as [`Item::Foreign`] where `check` says
/// the row was not asked for.
fn item<T>(
    o: RawObservation,
    check: &(dyn Fn(&RawObservation) -> Option<String> + Sync),
    map: &(dyn Fn(RawObservation) -> T + Sync),
) -> Item<T> {
    match check(&o) {
        Some(why) => Item::Foreign(Problem {
            observation_id: o.id,
            patient_id: o.patient_id,
            code: o.coding_code.clone(),
            message: format!("not asked for: {why}; left out"),
            not_asked: true,
        }),
        None => Item::Observation(o.id, map(o)),
    }
}

fn parse_page<T>(
    body: &[u8],
    check: &(dyn Fn(&RawObservation) -> Option<String> + Sync),
    map: &(dyn Fn(RawObservation) -> T + Sync),
) -> serde_json::Result<Page<T>> {
    if let Some((total, next, observations)) = omh::read_page_fast(body) {
        let items = observations
            .into_iter()
            .map(|o| item(o, check, map))
            .collect();
        return Ok(Page { total, next, items });
    }
    parse_page_careful(body, check, map)
}

/// Reads a page resource by resource, so unreadable resources become problems.
fn parse_page_careful<T>(
    body: &[u8],
    check: &(dyn Fn(&RawObservation) -> Option<String> + Sync),
    map: &(dyn Fn(RawObservation) -> T + Sync),
) -> serde_json::Result<Page<T>> {
    let text = omh::PageText::new(body);
    let w: PageWire = serde_json::from_str(text.as_str())?;
    let next = w
        .link
        .iter()
        .find(|l| l.relation == "next" && !l.url.is_empty())
        .map(|l| l.url.clone());
    let items = w
        .entry
        .iter()
        .map(|e| {
            let json = e.resource.map_or("null", RawValue::get);
            if text.is_damaged(json) {
                return Item::Problem(omh::not_text(omh::from_fhir_json(json)), json.to_string());
            }
            match omh::from_fhir_json(json) {
                Ok(o) => item(o, check, map),
                Err(p) => Item::Problem(p, json.to_string()),
            }
        })
        .collect();
    Ok(Page {
        total: w.total,
        next,
        items,
    })
}

/// Fetches every observation of `q`, sorted by `_lastUpdated` (new uploads land at the end, so
/// pages do not shift), and reads each page into observations as it arrives. When fewer
/// unique rows than the server's `total` arrive, the search is walked once more and the rows
/// merged. `on_rows(n)` is called with the number of new rows after every page.
pub async fn fetch_observations(
    session: &Session,
    q: &ObservationQuery,
    cancel: &CancelToken,
    on_rows: &(dyn Fn(u64) + Send + Sync),
) -> Result<Fetched> {
    fetch_observations_map(session, q, cancel, on_rows, &|o| o).await
}

/// Like [`fetch_observations`], passing each observation through `map` as its page is read
/// (e.g. decoding it while the page is hot in cache, instead of keeping its base64 text until
/// the whole search arrived).
pub async fn fetch_observations_map<T: Send>(
    session: &Session,
    q: &ObservationQuery,
    cancel: &CancelToken,
    on_rows: &(dyn Fn(u64) + Send + Sync),
    map: &(dyn Fn(RawObservation) -> T + Sync),
) -> Result<Fetched<T>> {
    let mut all = Vec::new();
    let f = fetch_observations_each(session, q, cancel, on_rows, map, &mut |o| all.push(o)).await?;
    Ok(Fetched {
        observations: all,
        rows: f.rows,
        problems: f.problems,
        server_total: f.server_total,
        duplicates: f.duplicates,
        foreign: f.foreign,
        pages: f.pages,
        walks: f.walks,
    })
}

/// Like [`fetch_observations_map`], handing each new observation to `sink` as soon as its page
/// is read, so nothing of the search is kept here (e.g. to fill column builders page by page).
/// The result's `observations` stay empty.
pub async fn fetch_observations_each<T>(
    session: &Session,
    q: &ObservationQuery,
    cancel: &CancelToken,
    on_rows: &(dyn Fn(u64) + Send + Sync),
    map: &(dyn Fn(RawObservation) -> T + Sync),
    sink: &mut (dyn FnMut(T) + Send),
) -> Result<Fetched<()>> {
    let endpoint = session.fhir_observation_endpoint();
    let mut params = q.params();
    params.push(("_sort".into(), "_lastUpdated".into()));
    params.push(("_count".into(), PAGE_SIZE.to_string()));
    let first = with_query(&endpoint, &params);
    let what = q.describe();
    let mut bound = PageBound::default();
    let mut out = Fetched::default();
    let mut seen_ids: HashSet<u64> = HashSet::new();
    let mut seen_bad: HashSet<String> = HashSet::new();
    let mut seen_foreign: HashSet<u64> = HashSet::new();
    let asked = Asked::new(q);
    for walk in 1..=2u32 {
        out.walks = walk;
        let mut url = first.clone();
        let mut visited = HashSet::new();
        bound.new_walk();
        loop {
            if !visited.insert(url.clone()) {
                return Err(Error::bad_response(format!(
                    "{what}: the server's next-page link points back to a page already read"
                )));
            }
            let page = cancel
                .run(session.get_url_parsed(&url, &what, &|b: &[u8]| {
                    parse_page(b, &|o| asked.off(o), map)
                }))
                .await?;
            out.pages += 1;
            if let Some(t) = page.total {
                out.server_total = t;
            }
            let mut new_rows = 0;
            let page_len = page.items.len() as u64;
            for item in page.items {
                let fresh = match item {
                    Item::Observation(id, o) => {
                        let fresh = seen_ids.insert(id);
                        if fresh {
                            out.rows += 1;
                            sink(o);
                        }
                        fresh
                    }
                    Item::Foreign(p) => {
                        if seen_foreign.insert(p.observation_id) {
                            tracing::warn!(
                                "{what}: the server sent observation {}, which was not asked for; left out",
                                p.observation_id
                            );
                            out.foreign.push(p);
                        }
                        continue;
                    }
                    Item::Problem(p, json) => {
                        let key = if p.observation_id != 0 {
                            p.observation_id.to_string()
                        } else {
                            json
                        };
                        let fresh = seen_bad.insert(key);
                        if fresh {
                            out.problems.push(p);
                        }
                        fresh
                    }
                };
                if fresh {
                    new_rows += 1;
                } else if walk == 1 {
                    out.duplicates += 1;
                }
            }
            if new_rows > 0 {
                on_rows(new_rows);
            }
            let Some(n) = page.next else { break };
            let news = (walk == 1).then_some(new_rows);
            bound.check(&what, page_len, news, out.server_total.max(out.received()))?;
            url = next_url(&endpoint, &params, &n)?;
            cancel.check()?;
        }
        if out.received() >= out.server_total {
            break;
        }
        tracing::warn!(
            "{what}: {} of {} arrived; walking the search again",
            out.received(),
            out.server_total
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: u64) -> String {
        format!(
            r#"{{"resourceType":"Observation","id":"{id}","meta":{{"lastUpdated":"2026-11-20T10:00:00Z","source":"https://jupyterhealth.org/jhe"}},"status":"final","code":{{"coding":[{{"system":"https://w3id.org/openmhealth","code":"omh:heart-rate:2.0"}}]}},"effectiveDateTime":"2026-11-20T09:59:00Z","subject":{{"reference":"Patient/40006"}},"valueAttachment":{{"contentType":"application/json","data":"e30="}}}}"#
        )
    }

    fn page(resources: &[String]) -> Vec<u8> {
        let entries: Vec<String> = resources
            .iter()
            .map(|r| format!(r#"{{"fullUrl":"x","resource":{r}}}"#))
            .collect();
        format!(
            r#"{{"resourceType":"Bundle","type":"searchset","total":9,"link":[{{"relation":"self","url":"a"}},{{"relation":"next","url":"b?_page=2"}}],"entry":[{}]}}"#,
            entries.join(",")
        )
        .into_bytes()
    }

    fn ids(p: &Page<RawObservation>) -> Vec<String> {
        p.items
            .iter()
            .map(|i| match i {
                Item::Observation(id, o) => format!("{id}:{}", o.patient_id),
                Item::Problem(p, _) => format!("problem {}", p.observation_id),
                Item::Foreign(p) => format!("foreign {}", p.observation_id),
            })
            .collect()
    }

    #[test]
    fn one_pass_and_careful_reading_agree() {
        let body = page(&[resource(1), resource(2), resource(3)]);
        assert!(
            omh::read_page_fast(&body).is_some(),
            "a clean page takes one pass"
        );
        let fast = parse_page(&body, &|_| None, &|o| o).expect("page");
        let careful = parse_page_careful(&body, &|_| None, &|o| o).expect("page");
        assert_eq!(ids(&fast), ["1:40006", "2:40006", "3:40006"]);
        assert_eq!(ids(&fast), ids(&careful));
        for (a, b) in fast.items.iter().zip(&careful.items) {
            if let (Item::Observation(_, a), Item::Observation(_, b)) = (a, b) {
                assert_eq!(a, b);
            }
        }
        assert_eq!(
            (fast.total, fast.next.as_deref()),
            (Some(9), Some("b?_page=2"))
        );
        assert_eq!(
            (careful.total, careful.next),
            (Some(9), Some("b?_page=2".into()))
        );
    }

    #[test]
    fn a_page_with_an_unreadable_resource_is_read_carefully() {
        let bad = resource(2).replace(r#""subject":{"reference":"Patient/40006"},"#, "");
        let body = page(&[resource(1), bad, resource(3)]);
        assert!(omh::read_page_fast(&body).is_none());
        let p = parse_page(&body, &|_| None, &|o| o).expect("page");
        assert_eq!(ids(&p), ["1:40006", "problem 2", "3:40006"]);
    }

    #[test]
    fn a_cut_page_is_an_eof_error() {
        let body = page(&[resource(1), resource(2)]);
        let cut = &body[..body.len() / 2];
        let e = parse_page(cut, &|_| None, &|o| o)
            .err()
            .expect("cut page fails");
        assert!(e.is_eof(), "{e}");
    }

    #[test]
    fn rows_are_checked_against_the_participant_type_and_dates_asked_for() {
        let q = ObservationQuery {
            patient_id: Some(40006),
            code: Some((
                "https://w3id.org/openmhealth".into(),
                "omh:heart-rate:2.0".into(),
            )),
            date_from: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
            date_to: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
            ..Default::default()
        };
        let body = page(&[resource(1)]);
        let row = |edit: &dyn Fn(&mut RawObservation)| {
            let p = parse_page(&body, &|_| None, &|o| o).expect("page");
            let Some(Item::Observation(_, mut o)) = p.items.into_iter().next() else {
                panic!("one observation");
            };
            edit(&mut o);
            Asked::new(&q).off(&o)
        };
        assert_eq!(row(&|_| {}), None, "the row asked for");
        assert!(row(&|o| o.patient_id = 40007).is_some_and(|w| w.contains("participant 40007")));
        assert!(row(&|o| o.coding_code = "omh:step-count:2.0".into()).is_some());
        assert!(row(&|o| o.coding_system = "http://loinc.org".into()).is_some());
        let at = |t: &'static str| {
            move |o: &mut RawObservation| {
                o.envelope.effective = Some(omh::Effective::DateTime(t.into()));
            }
        };
        assert_eq!(
            row(&at("2026-11-20T00:00:00Z")),
            None,
            "first instant of the day"
        );
        assert_eq!(row(&at("2026-11-20T23:59:59.999Z")), None, "last instant");
        assert!(
            row(&at("2026-11-21T00:00:00Z")).is_some(),
            "the next day (UTC)"
        );
        assert!(
            row(&at("2026-11-20T23:30:00-01:00")).is_some(),
            "00:30 UTC next day"
        );
        assert!(row(&at("2026-11-19T23:59:59Z")).is_some(), "the day before");
        assert_eq!(
            row(&|o| o.envelope.effective = None),
            None,
            "no time: not judged here"
        );
    }
}
