//! One unit's tables before they are written: [`UnitBuilder`] turns decoded observations into
//! column builders as pages arrive, and [`PreparedUnit`] holds the sorted tables, ready for
//! [`super::Export::commit_unit`].

use std::collections::{BTreeMap, HashSet};

use polars::prelude::*;

use super::merge::sort_df;
use super::{Deidentify, ExportError, Flagged, Layout, LONG_TABLE};
use crate::analysis::quality::{Checker, Finding, WRONG_KINDS};
use crate::frame::{LongBuilder, ViewBuilder};
use crate::omh::{self, decode_owned, DecodedObservation, Problem, RawObservation};

/// Builds one unit's tables while its pages arrive: each decoded observation goes straight into
/// column builders and is dropped, so a unit waiting for the writer holds columns, not records
/// (this cut an export's peak memory, and the page faults that came with it).
pub struct UnitBuilder {
    ids: HashSet<u64>,
    written_ids: Vec<u64>,
    fetch_problems: Vec<Problem>,
    decode_problems: Vec<Problem>,
    duplicates: u64,
    foreign: Vec<Problem>,
    per_view: BTreeMap<omh::DataType, (ViewBuilder, u64)>,
    long: Option<LongBuilder>,
    capacity: usize,
    /// The data-quality check of the unit's observations, as they arrive.
    checker: Checker,
    flagged: Flagged,
    /// Applied to each observation after the check, before its row is built.
    deidentify: Option<Deidentify>,
}

impl UnitBuilder {
    /// `capacity`: the expected number of observations (a hint). Every observation is checked
    /// ([`Checker`]); with [`Flagged::LeaveOut`] those with a finding of
    /// [`WRONG_KINDS`] are left out of the tables when the unit is finished.
    pub fn new(layout: Layout, flagged: Flagged, capacity: usize) -> UnitBuilder {
        UnitBuilder {
            checker: Checker::new(&[], chrono::Utc::now().timestamp_micros()),
            flagged,
            deidentify: None,
            ids: HashSet::with_capacity(capacity),
            written_ids: Vec::with_capacity(capacity),
            fetch_problems: Vec::new(),
            decode_problems: Vec::new(),
            duplicates: 0,
            foreign: Vec::new(),
            per_view: BTreeMap::new(),
            long: match layout {
                Layout::Long => Some(LongBuilder::with_capacity(capacity)),
                // the partitioned layout's tables are the per-type ones, split when merged
                Layout::PerType | Layout::Partitioned => None,
            },
            capacity,
        }
    }

    /// De-identifies every observation pushed from now on ([`Deidentify::observation`]: after
    /// the data-quality check, which sees the real times, before the row is built). An export
    /// that is de-identified takes only units built with its own key.
    pub fn deidentified(mut self, d: Option<Deidentify>) -> UnitBuilder {
        self.deidentify = d;
        self
    }

    /// Adds an observation: decoded, or the problem that kept it from decoding (see
    /// [`decode_owned`]). A second observation with the same id is a duplicate.
    pub fn push(&mut self, id: u64, item: Result<DecodedObservation, Problem>) {
        if !self.ids.insert(id) {
            self.duplicates += 1;
            if let Ok(o) = &item {
                self.checker.push(o);
            }
            return;
        }
        let obs = match item {
            Ok(o) => o,
            // Readable, but not the type its code says (OMH `schema_id`): a lying server's row.
            Err(p) if p.not_asked => {
                self.foreign.push(p);
                return;
            }
            Err(p) => {
                self.decode_problems.push(p);
                return;
            }
        };
        self.checker.push(&obs);
        self.written_ids.push(id);
        let mut obs = obs;
        if let Some(d) = &self.deidentify {
            d.observation(&mut obs);
        }
        match &mut self.long {
            Some(l) => {
                l.push(&obs);
            }
            None => {
                let cap = self.capacity;
                let entry = self
                    .per_view
                    .entry(obs.view.clone())
                    .or_insert_with(|| (ViewBuilder::with_capacity(obs.view.clone(), cap), 0));
                entry.0.push(&obs);
                entry.1 += 1;
            }
        }
    }

    /// Notes rows the fetcher left out because the search did not ask for them.
    pub fn push_foreign(&mut self, rows: Vec<Problem>) {
        self.foreign.extend(rows);
    }

    /// Adds a resource the fetcher could not even read as an observation.
    pub fn push_unreadable(&mut self, p: Problem) {
        self.fetch_problems.push(p);
    }

    /// Builds and sorts the unit's tables (CPU work, no I/O).
    pub fn finish(mut self) -> Result<PreparedUnit, ExportError> {
        let fetched = self.ids.len() as u64 + self.duplicates + self.fetch_problems.len() as u64;
        self.checker.not_asked_for(&self.foreign);
        let findings = self.checker.finish();
        let mut tables = Vec::new();
        if let Some(l) = self.long {
            let n = self.written_ids.len() as u64;
            tables.push((LONG_TABLE.to_string(), None, sort_df(l.finish()?, None)?, n));
        }
        for (view, (b, n)) in self.per_view {
            let df = sort_df(b.finish()?, Some(&view))?;
            tables.push((view.name(), Some(view), df, n));
        }
        let mut unit = PreparedUnit {
            fetched,
            tables,
            written_ids: self.written_ids,
            fetch_problems: self.fetch_problems,
            decode_problems: self.decode_problems,
            duplicates: self.duplicates,
            foreign: self.foreign,
            findings,
            flagged_left_out: 0,
            deidentified: self.deidentify.as_ref().map(Deidentify::key_check),
        };
        if self.flagged == Flagged::LeaveOut {
            unit.leave_out_wrong()?;
        }
        Ok(unit)
    }
}

/// One unit's tables, built by a [`UnitBuilder`], ready for [`super::Export::commit_unit`].
pub struct PreparedUnit {
    /// What the fetcher got: the records plus the resources it could not even read.
    pub(super) fetched: u64,
    /// (table, view, sorted rows, observations in it)
    pub(super) tables: Vec<(String, Option<omh::DataType>, DataFrame, u64)>,
    pub(super) written_ids: Vec<u64>,
    pub(super) fetch_problems: Vec<Problem>,
    pub(super) decode_problems: Vec<Problem>,
    pub(super) duplicates: u64,
    /// Rows the search did not ask for, left out by the fetcher.
    pub(super) foreign: Vec<Problem>,
    /// What the data-quality check found in the unit.
    pub(super) findings: Vec<Finding>,
    /// Observations left out because a finding of [`WRONG_KINDS`] flagged them.
    pub(super) flagged_left_out: u64,
    /// The key check of the [`Deidentify`] the unit was built with, if any.
    pub(super) deidentified: Option<String>,
}

impl PreparedUnit {
    /// Decodes and tidies `records` (CPU work, no I/O); `problems` are the resources the
    /// fetcher could not read as observations.
    pub fn decode(
        layout: Layout,
        flagged: Flagged,
        records: Vec<RawObservation>,
        problems: Vec<Problem>,
    ) -> Result<PreparedUnit, ExportError> {
        let mut b = UnitBuilder::new(layout, flagged, records.len());
        for p in problems {
            b.push_unreadable(p);
        }
        for raw in records {
            b.push(raw.id, decode_owned(raw));
        }
        b.finish()
    }
}

impl PreparedUnit {
    /// The ids of the observations written or found malformed.
    pub(super) fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.written_ids
            .iter()
            .chain(self.decode_problems.iter().map(|p| &p.observation_id))
            .copied()
    }

    /// Leaves out the observations a finding of [`WRONG_KINDS`] flags (they stay listed in
    /// the findings), counting them in `flagged_left_out`.
    fn leave_out_wrong(&mut self) -> PolarsResult<()> {
        let wrong: HashSet<u64> = self
            .findings
            .iter()
            .filter(|f| WRONG_KINDS.contains(&f.kind))
            .flat_map(|f| f.observation_ids.iter().copied())
            .collect();
        if wrong.is_empty() {
            return Ok(());
        }
        let before = self.written_ids.len();
        self.written_ids.retain(|id| !wrong.contains(id));
        self.flagged_left_out += (before - self.written_ids.len()) as u64;
        self.tables = std::mem::take(&mut self.tables)
            .into_iter()
            .map(|(table, view, df, n)| {
                let (df, lost) = drop_observations(df, &wrong)?;
                Ok((table, view, df, n - lost))
            })
            .collect::<PolarsResult<_>>()?;
        Ok(())
    }

    /// Drops the observations in `ids` (another unit wrote them), counting them as duplicates.
    pub(super) fn drop_ids(&mut self, ids: &HashSet<u64>) -> PolarsResult<()> {
        let before = self.written_ids.len() + self.decode_problems.len();
        self.written_ids.retain(|id| !ids.contains(id));
        self.decode_problems
            .retain(|p| !ids.contains(&p.observation_id));
        self.duplicates += (before - self.written_ids.len() - self.decode_problems.len()) as u64;
        self.tables = std::mem::take(&mut self.tables)
            .into_iter()
            .map(|(table, view, df, n)| {
                let (df, lost) = drop_observations(df, ids)?;
                Ok((table, view, df, n - lost))
            })
            .collect::<PolarsResult<_>>()?;
        Ok(())
    }
}

/// Drops the rows of the observations in `drop` (matched by `observation_id`); returns the
/// table and how many distinct observations it lost.
fn drop_observations(df: DataFrame, drop: &HashSet<u64>) -> PolarsResult<(DataFrame, u64)> {
    let ids = df.column("observation_id")?.cast(&DataType::UInt64)?;
    let mut lost = HashSet::new();
    let keep: BooleanChunked = ids
        .u64()?
        .iter()
        .map(|v| match v {
            Some(v) if drop.contains(&v) => {
                lost.insert(v);
                false
            }
            _ => true,
        })
        .collect();
    Ok((df.filter(&keep)?, lost.len() as u64))
}
