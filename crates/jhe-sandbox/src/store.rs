//! The observation store: compact rows (generated points are rendered to JSON only when served),
//! a per-patient index, and the query engine both APIs share.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::generate::{self, GenPoint, Kind};
use crate::time::{Bound, Cmp};

pub const NO_TIME: i64 = i64::MIN;

#[derive(Clone, Debug)]
pub enum Payload {
    Gen(Kind, GenPoint),
    Raw(Arc<RawObs>),
}

#[derive(Debug)]
pub struct RawObs {
    pub omh: Value,
    pub identifiers: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Obs {
    pub id: u32,
    pub patient_id: u32,
    pub scope_id: u32,
    pub last_updated_us: i64,
    /// `effectiveDateTime`, or `effectivePeriod.start`; `NO_TIME` when the payload has no frame.
    pub eff_start_us: i64,
    /// `effectivePeriod.end` for interval frames, else `NO_TIME`.
    pub eff_end_us: i64,
    pub payload: Payload,
}

impl Obs {
    pub fn omh(&self) -> Value {
        match &self.payload {
            Payload::Gen(kind, point) => generate::render_point(*kind, point),
            Payload::Raw(raw) => raw.omh.clone(),
        }
    }
    pub fn identifiers(&self) -> &[(String, String)] {
        match &self.payload {
            Payload::Gen(..) => &[],
            Payload::Raw(raw) => &raw.identifiers,
        }
    }
    pub fn is_period(&self) -> bool {
        self.eff_end_us != NO_TIME
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Date,
    DateDesc,
    LastUpdated,
    LastUpdatedDesc,
}

/// A resolved observation query: every filter already checked for authorization.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Patients whose rows may appear (already intersected with what the caller may see).
    pub patients: Vec<u32>,
    /// Allowed scope ids; `None` = any.
    pub scopes: Option<Vec<u32>>,
    pub id: Option<u32>,
    pub date: Vec<(Cmp, Bound)>,
    pub last_updated: Vec<(Cmp, Bound)>,
    /// Empty = the store's default order (newest write first).
    pub sort: Vec<SortKey>,
    /// Matches nothing (e.g. a code without a system).
    pub empty: bool,
}

impl Query {
    fn cache_key(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
            self.patients,
            self.scopes,
            self.id,
            self.date,
            self.last_updated,
            self.sort,
            self.empty
        )
    }
}

/// (query key, store version, matching row indices in order)
type CacheEntry = (String, u64, Arc<Vec<u32>>);

#[derive(Default)]
pub struct Store {
    rows: Vec<Obs>,
    /// Ids are dense and assigned in row order: row index = id - first_id.
    first_id: u32,
    by_patient: HashMap<u32, Vec<u32>>,
    identifiers: HashSet<(String, String)>,
    next_id: u32,
    version: u64,
    cache: parking_lot::Mutex<Vec<CacheEntry>>,
}

const CACHE_ENTRIES: usize = 16;

impl Store {
    /// Builds the store from rows already ordered by write time; ids are assigned from
    /// `first_id` in that order, so "newest write first" is "highest id first".
    pub fn from_rows(mut rows: Vec<Obs>, first_id: u32) -> Store {
        rows.sort_by_key(|r| r.last_updated_us);
        let mut store = Store {
            next_id: first_id,
            first_id,
            ..Default::default()
        };
        store.rows.reserve(rows.len());
        for mut r in rows {
            r.id = store.next_id;
            store.next_id += 1;
            store.insert_row(r);
        }
        store
    }

    fn insert_row(&mut self, r: Obs) {
        let idx = self.rows.len() as u32;
        for ident in r.identifiers() {
            self.identifiers.insert(ident.clone());
        }
        self.by_patient.entry(r.patient_id).or_default().push(idx);
        self.rows.push(r);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn rows(&self) -> &[Obs] {
        &self.rows
    }
    /// Observation `id`, unless it was never stored or was deleted ([`Store::remove`]).
    pub fn get(&self, id: u32) -> Option<&Obs> {
        let idx = id.checked_sub(self.first_id)?;
        let r = self.rows.get(idx as usize).filter(|r| r.id == id)?;
        self.patient_rows(r.patient_id)
            .binary_search(&idx)
            .is_ok()
            .then_some(r)
    }
    pub fn row(&self, idx: u32) -> &Obs {
        &self.rows[idx as usize]
    }
    pub fn identifier_exists(&self, system: &str, value: &str) -> bool {
        self.identifiers
            .contains(&(system.to_string(), value.to_string()))
    }
    pub fn patient_rows(&self, patient: u32) -> &[u32] {
        self.by_patient
            .get(&patient)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Stores an upload; returns the new id. `last_updated_us` must not go backwards.
    pub fn append(
        &mut self,
        patient_id: u32,
        scope_id: u32,
        eff: (i64, i64),
        last_updated_us: i64,
        raw: RawObs,
    ) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        let last_updated_us = self.rows.last().map_or(last_updated_us, |r| {
            last_updated_us.max(r.last_updated_us + 1)
        });
        self.insert_row(Obs {
            id,
            patient_id,
            scope_id,
            last_updated_us,
            eff_start_us: eff.0,
            eff_end_us: eff.1,
            payload: Payload::Raw(Arc::new(raw)),
        });
        self.version += 1;
        id
    }

    /// Deletes observation `id` (as the real server does when its patient leaves their last
    /// organization: the row is gone, nothing signals it). Returns whether it was there.
    pub fn remove(&mut self, id: u32) -> bool {
        let Some(idx) = id.checked_sub(self.first_id) else {
            return false;
        };
        let Some(patient) = self.get(id).map(|r| r.patient_id) else {
            return false;
        };
        let Some(list) = self.by_patient.get_mut(&patient) else {
            return false;
        };
        let before = list.len();
        list.retain(|i| *i != idx);
        let removed = list.len() < before;
        if removed {
            self.version += 1;
        }
        removed
    }

    /// Replaces observation `id`'s OMH body **without** a new `lastUpdated` (a change made
    /// behind the API's back, e.g. in the database; only a full reconcile can notice it).
    pub fn rewrite(&mut self, id: u32, omh: Value) -> bool {
        if !self.is_live(id) {
            return false;
        }
        let idx = (id - self.first_id) as usize;
        let identifiers = self.rows[idx].identifiers().to_vec();
        self.rows[idx].payload = Payload::Raw(Arc::new(RawObs { omh, identifiers }));
        self.version += 1;
        true
    }

    /// Stores a copy of observation `id` as a new upload (a new id, a new `lastUpdated` and a
    /// new header uuid; same patient, type and measurement time). Returns the new id.
    pub fn append_copy(&mut self, id: u32, uuid: &str) -> Option<u32> {
        if !self.is_live(id) {
            return None;
        }
        let r = self.rows[(id - self.first_id) as usize].clone();
        let mut omh = r.omh();
        if let Some(h) = omh.get_mut("header").and_then(Value::as_object_mut) {
            h.insert("uuid".into(), Value::String(uuid.to_string()));
        }
        let identifiers = r.identifiers().to_vec();
        let now = self.rows.last().map_or(0, |l| l.last_updated_us) + 1;
        Some(self.append(
            r.patient_id,
            r.scope_id,
            (r.eff_start_us, r.eff_end_us),
            now,
            RawObs { omh, identifiers },
        ))
    }

    /// New uploads for tests and demos: copies (as [`Store::append_copy`]) of the `count` most
    /// recent live observations of the patients `of` accepts, oldest first. Returns the new ids
    /// and their patients.
    pub fn upload_copies(&mut self, count: usize, of: impl Fn(u32) -> bool) -> Vec<(u32, u32)> {
        let mut src: Vec<u32> = self
            .rows
            .iter()
            .rev()
            .filter(|r| of(r.patient_id))
            .map(|r| r.id)
            .filter(|id| self.is_live(*id))
            .take(count)
            .collect();
        src.reverse();
        let mut out = Vec::with_capacity(src.len());
        for id in src {
            let uuid = format!("5a5a5a5a-0000-4000-8000-{:012x}", self.next_id);
            if let Some(new) = self.append_copy(id, &uuid) {
                let patient = self.rows[(new - self.first_id) as usize].patient_id;
                out.push((new, patient));
            }
        }
        out
    }

    /// Whether `id` is stored and not deleted.
    pub fn is_live(&self, id: u32) -> bool {
        self.get(id).is_some()
    }

    /// Row indices matching `q`, in the requested order. Results are cached per query until the
    /// next write, so walking the pages of a large result costs one scan, not one per page.
    pub fn search(&self, q: &Query) -> Arc<Vec<u32>> {
        let key = q.cache_key();
        {
            let cache = self.cache.lock();
            if let Some((_, _, hit)) = cache
                .iter()
                .find(|(k, v, _)| *v == self.version && *k == key)
            {
                return hit.clone();
            }
        }
        let result = Arc::new(self.search_uncached(q));
        let mut cache = self.cache.lock();
        cache.retain(|(_, v, _)| *v == self.version);
        if cache.len() >= CACHE_ENTRIES {
            cache.remove(0);
        }
        cache.push((key, self.version, result.clone()));
        result
    }

    /// How many rows match, without ordering them.
    pub fn count(&self, q: &Query) -> usize {
        if q.empty {
            return 0;
        }
        q.patients
            .iter()
            .map(|p| {
                self.patient_rows(*p)
                    .iter()
                    .filter(|i| self.matches(&self.rows[**i as usize], q))
                    .count()
            })
            .sum()
    }

    fn matches(&self, r: &Obs, q: &Query) -> bool {
        if let Some(id) = q.id {
            if r.id != id {
                return false;
            }
        }
        if let Some(scopes) = &q.scopes {
            if !scopes.contains(&r.scope_id) {
                return false;
            }
        }
        for (cmp, b) in &q.date {
            if r.eff_start_us == NO_TIME || !b.test(*cmp, r.eff_start_us) {
                return false;
            }
        }
        for (cmp, b) in &q.last_updated {
            if !b.test(*cmp, r.last_updated_us) {
                return false;
            }
        }
        true
    }

    fn search_uncached(&self, q: &Query) -> Vec<u32> {
        if q.empty {
            return Vec::new();
        }
        let mut out: Vec<u32> = Vec::new();
        for p in &q.patients {
            out.extend(
                self.patient_rows(*p)
                    .iter()
                    .copied()
                    .filter(|i| self.matches(&self.rows[*i as usize], q)),
            );
        }
        let rows = &self.rows;
        if q.sort.is_empty() {
            // Newest write first. Row index order is id order is write order.
            out.sort_unstable_by(|a, b| b.cmp(a));
        } else {
            out.sort_unstable_by(|a, b| {
                let (ra, rb) = (&rows[*a as usize], &rows[*b as usize]);
                for key in &q.sort {
                    let ord = match key {
                        SortKey::Date | SortKey::DateDesc => {
                            // Rows without a date sort last either way.
                            match (ra.eff_start_us == NO_TIME, rb.eff_start_us == NO_TIME) {
                                (true, false) => std::cmp::Ordering::Greater,
                                (false, true) => std::cmp::Ordering::Less,
                                _ if *key == SortKey::Date => ra.eff_start_us.cmp(&rb.eff_start_us),
                                _ => rb.eff_start_us.cmp(&ra.eff_start_us),
                            }
                        }
                        SortKey::LastUpdated => ra.last_updated_us.cmp(&rb.last_updated_us),
                        SortKey::LastUpdatedDesc => rb.last_updated_us.cmp(&ra.last_updated_us),
                    };
                    if ord != std::cmp::Ordering::Equal {
                        return ord;
                    }
                }
                ra.id.cmp(&rb.id)
            });
        }
        out
    }
}
