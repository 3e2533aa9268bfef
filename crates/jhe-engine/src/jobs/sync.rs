//! Keeping a local study copy up to date ([`sync_study`]).
//!
//! 1. The study, its participants and types are read again (participants who left take their
//!    readings with them, as on the server); the consents of new participants (of all, when
//!    reconciling).
//! 2. New and changed observations: `_lastUpdated=ge<cursor>&_sort=_lastUpdated` for the whole
//!    study, rows already held with the same write time skipped. What arrives is committed every
//!    [`SyncOptions::commit_rows`] rows, and the cursor moves to the last committed write time
//!    only while the rows came in write-time order, so a crash or a lost network at any page
//!    resumes with no gap (`ge`, from the last commit) and no duplicate (one row per id).
//! 3. Reconcile (when asked, or when the last one is a day old): per type, the server's
//!    `_summary=count` against the copy; where they differ, per participant, and the units that
//!    differ are fetched whole: rows the server no longer has are removed, changed rows replaced.
//!    A *full* reconcile fetches every unit, which also finds rows the server changed without a
//!    new write time.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::api::{ObservationQuery, Session};
use crate::cancel::CancelToken;
use crate::copy::{Change, CopyError, LocalCopy, Row};
use crate::error::{Error, Result};
use crate::fetch::fetch_observations_each;

/// How much checking a sync does besides fetching what is new.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reconcile {
    /// Counts per type when the last reconcile is over a day old.
    #[default]
    Daily,
    /// Counts per type now.
    Counts,
    /// Every participant × type fetched again and compared row by row.
    Full,
}

#[derive(Clone, Debug)]
pub struct SyncOptions {
    pub reconcile: Reconcile,
    /// Rows per commit of the incremental walk.
    pub commit_rows: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            reconcile: Reconcile::Daily,
            commit_rows: 20_000,
        }
    }
}

/// What a sync did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncOutcome {
    pub study_id: u64,
    /// True for the first sync of this copy.
    pub first: bool,
    pub change: Change,
    /// Observations in the copy afterwards.
    pub held: u64,
    pub participants: u64,
    /// Whether a reconcile ran, and if so which.
    pub reconciled: Option<Reconcile>,
    /// Rows the server sent that could not be kept (no readable write time), and rows not asked for.
    pub skipped: u64,
    pub synced_at: String,
    pub bytes: u64,
}

impl SyncOutcome {
    /// "+1,204 readings from 12 participants, 0 removed".
    pub fn sentence(&self) -> String {
        let c = &self.change;
        let mut s = format!(
            "+{} readings from {} participant{}, {} removed",
            thousands(c.added),
            thousands(c.participants),
            if c.participants == 1 { "" } else { "s" },
            thousands(c.removed)
        );
        if c.changed > 0 {
            s.push_str(&format!(", {} changed", thousands(c.changed)));
        }
        s
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl From<CopyError> for Error {
    fn from(e: CopyError) -> Error {
        Error::LocalCopy {
            detail: e.to_string(),
        }
    }
}

/// Tallies changes as they are committed.
#[derive(Default)]
struct Tally {
    added: u64,
    changed: u64,
    removed: u64,
    participants: BTreeSet<u64>,
}

impl Tally {
    /// Sorts `rows` into added / changed against the copy; drops those held unchanged.
    fn classify(
        &mut self,
        copy: &LocalCopy,
        rows: Vec<Row>,
        compare_content: Option<&HashMap<u64, Row>>,
    ) -> Vec<Row> {
        rows.into_iter()
            .filter(|r| {
                let fresh = match copy.held(r.id) {
                    None => {
                        self.added += 1;
                        true
                    }
                    Some(h) => {
                        let differs = match compare_content.and_then(|m| m.get(&r.id)) {
                            Some(old) => old.differs(r),
                            None => h.lu_us != r.lu_us,
                        };
                        if differs {
                            self.changed += 1;
                        }
                        differs
                    }
                };
                if fresh {
                    self.participants.insert(r.patient_id);
                }
                fresh
            })
            .collect()
    }

    fn change(&self) -> Change {
        Change {
            added: self.added,
            changed: self.changed,
            removed: self.removed,
            participants: self.participants.len() as u64,
        }
    }
}

/// Brings `copy` up to date with the server (see the module's steps). `on_rows(n)` is called as
/// rows arrive. On failure or cancel, what was committed stays; the next sync resumes there.
pub async fn sync_study(
    session: &Session,
    copy: &mut LocalCopy,
    opts: &SyncOptions,
    cancel: &CancelToken,
    on_rows: &(dyn Fn(u64) + Send + Sync),
) -> Result<SyncOutcome> {
    let study_id = copy.meta.study_id;
    let first = !copy.exists();
    let mut tally = Tally::default();

    // 1. The study, its participants, its types.
    let study = cancel.run(session.study(study_id)).await?;
    let patients = cancel.run(session.study_patients(study_id)).await?;
    let scopes = cancel.run(session.study_scopes(study_id)).await?;
    let members: HashSet<u64> = patients.iter().map(|p| p.id).collect();
    let gone: Vec<u64> = copy
        .held_all()
        .filter(|(_, h)| !members.contains(&h.patient_id))
        .map(|(id, h)| {
            tally.participants.insert(h.patient_id);
            id
        })
        .collect();
    tally.removed += gone.len() as u64;
    copy.meta.study = Some(study);
    copy.meta.consents.retain(|id, _| members.contains(id));
    copy.meta
        .unreadable
        .retain(|_, p| members.contains(&p.patient_id));
    copy.meta.patients = patients;
    copy.meta.scopes = scopes.clone();
    copy.apply(Vec::new(), &gone)?;
    let due = reconcile_due(copy, opts.reconcile);
    read_consents(session, copy, due, cancel).await?;

    // 2. What is new since the cursor.
    let q = ObservationQuery {
        study_id: Some(study_id),
        updated_since: copy.meta.cursor.clone(),
        ..ObservationQuery::default()
    };
    let inner = cancel.child();
    let mut pending: Vec<Row> = Vec::new();
    let mut failed: Option<CopyError> = None;
    let (mut in_order, mut last_lu, mut max_lu): (bool, i64, Option<(i64, String)>) =
        (true, i64::MIN, None);
    let mut skipped = 0u64;
    let f = {
        let commit_rows = opts.commit_rows.max(1);
        let mut sink = |r: Option<Row>| {
            let Some(r) = r else {
                skipped += 1;
                return;
            };
            if failed.is_some() {
                return;
            }
            in_order &= r.lu_us >= last_lu;
            last_lu = last_lu.max(r.lu_us);
            if max_lu.as_ref().is_none_or(|(m, _)| r.lu_us > *m) {
                max_lu = Some((r.lu_us, r.last_updated.clone()));
            }
            pending.push(r);
            if pending.len() >= commit_rows {
                let rows = tally.classify(copy, std::mem::take(&mut pending), None);
                if in_order {
                    copy.meta.cursor = max_lu.as_ref().map(|(_, s)| s.clone());
                }
                if let Err(e) = copy.apply(rows, &[]) {
                    failed = Some(e);
                    inner.cancel();
                }
            }
        };
        fetch_observations_each(session, &q, &inner, on_rows, &Row::from_raw, &mut sink).await
    };
    if let Some(e) = failed {
        return Err(e.into());
    }
    let f = f?;
    skipped += (f.problems.len() + f.foreign.len()) as u64;
    for p in f.problems {
        copy.meta.unreadable.insert(p.observation_id, p);
    }
    let rows = tally.classify(copy, pending, None);
    if let Some((_, s)) = max_lu {
        copy.meta.cursor = Some(s);
    }
    copy.apply(rows, &[])?;

    // 3. Reconcile.
    let reconciled = if due && !first {
        let full = opts.reconcile == Reconcile::Full;
        reconcile(session, copy, &scopes, full, cancel, &mut tally).await?;
        Some(if full {
            Reconcile::Full
        } else {
            Reconcile::Counts
        })
    } else {
        None
    };
    let now = crate::omh::time::iso_z(chrono::Utc::now().timestamp_micros());
    if due {
        copy.meta.reconciled_at = Some(now.clone());
    }
    copy.meta.synced_at = Some(now.clone());
    copy.meta.last_change = Some(tally.change());
    copy.commit()?;
    copy.compact_if_needed()?;
    Ok(SyncOutcome {
        study_id,
        first,
        change: tally.change(),
        held: copy.len() as u64,
        participants: copy.meta.patients.len() as u64,
        reconciled,
        skipped,
        synced_at: now,
        bytes: copy.size_bytes(),
    })
}

/// Whether this sync reconciles: always when asked, else when the last one is a day old.
fn reconcile_due(copy: &LocalCopy, reconcile: Reconcile) -> bool {
    match reconcile {
        Reconcile::Daily => copy
            .meta
            .reconciled_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_none_or(|t| {
                chrono::Utc::now().signed_duration_since(t) > chrono::Duration::days(1)
            }),
        Reconcile::Counts | Reconcile::Full => true,
    }
}

/// Step 1b: the participants' consents: of every participant when `all` (a reconcile), else of
/// those the copy has none for yet (new participants), four at a time.
async fn read_consents(
    session: &Session,
    copy: &mut LocalCopy,
    all: bool,
    cancel: &CancelToken,
) -> Result<()> {
    use futures_util::{stream, StreamExt};
    let ids: Vec<u64> = copy
        .meta
        .patients
        .iter()
        .map(|p| p.id)
        .filter(|id| all || !copy.meta.consents.contains_key(id))
        .collect();
    let mut each = stream::iter(ids.into_iter().map(|id| async move {
        match cancel.run(session.patient_consents(id)).await {
            Ok(c) => Ok((id, Some(c))),
            // Not visible to this account: none kept (the app says "not visible").
            Err(Error::Forbidden { .. }) | Err(Error::NotFound { .. }) => Ok((id, None)),
            Err(e) => Err(e),
        }
    }))
    .buffer_unordered(4);
    while let Some(r) = each.next().await {
        let (id, c) = r?;
        copy.meta.consents.insert(id, c);
    }
    Ok(())
}

/// Step 3: units whose counts differ (or every unit, `full`) fetched whole and compared.
async fn reconcile(
    session: &Session,
    copy: &mut LocalCopy,
    scopes: &[crate::api::types::CodeableConcept],
    full: bool,
    cancel: &CancelToken,
    tally: &mut Tally,
) -> Result<()> {
    let study_id = copy.meta.study_id;
    let patients: Vec<u64> = copy.meta.patients.iter().map(|p| p.id).collect();
    // Held counts per (code, patient).
    let mut held: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for (_, h) in copy.held_all() {
        *held
            .entry((copy.code(h).to_string(), h.patient_id))
            .or_default() += 1;
    }
    for p in copy.meta.unreadable.values() {
        *held.entry((p.code.clone(), p.patient_id)).or_default() += 1;
    }
    let mut units: Vec<(crate::api::types::CodeableConcept, u64)> = Vec::new();
    for s in scopes {
        let code = (s.coding_system.clone(), s.coding_code.clone());
        let held_of = |p: u64| held.get(&(s.coding_code.clone(), p)).copied().unwrap_or(0);
        if !full {
            let q = ObservationQuery {
                study_id: Some(study_id),
                code: Some(code.clone()),
                ..ObservationQuery::default()
            };
            let server = cancel.run(session.observation_count(&q)).await?;
            let mine: u64 = patients.iter().map(|p| held_of(*p)).sum();
            if server == mine {
                continue;
            }
        }
        for p in &patients {
            if !full {
                let q = ObservationQuery {
                    study_id: Some(study_id),
                    patient_id: Some(*p),
                    code: Some(code.clone()),
                    ..ObservationQuery::default()
                };
                if cancel.run(session.observation_count(&q)).await? == held_of(*p) {
                    continue;
                }
            }
            units.push((s.clone(), *p));
        }
    }
    for (scope, p) in units {
        let q = ObservationQuery {
            study_id: Some(study_id),
            patient_id: Some(p),
            code: Some((scope.coding_system.clone(), scope.coding_code.clone())),
            ..ObservationQuery::default()
        };
        let mut fetched: Vec<Row> = Vec::new();
        let mut sink = |r: Option<Row>| fetched.extend(r);
        let f = fetch_observations_each(session, &q, cancel, &|_| {}, &Row::from_raw, &mut sink)
            .await?;
        let code = scope.coding_code.clone();
        // The unit's unreadable rows are now what this fetch found.
        copy.meta
            .unreadable
            .retain(|_, u| !(u.patient_id == p && u.code == code));
        for u in f.problems {
            copy.meta.unreadable.insert(u.observation_id, u);
        }
        let old: HashMap<u64, Row> = copy
            .rows_where(|h| h.patient_id == p)?
            .into_iter()
            .filter(|r| r.code == code)
            .map(|r| (r.id, r))
            .collect();
        let now: HashSet<u64> = fetched.iter().map(|r| r.id).collect();
        let removed: Vec<u64> = old.keys().filter(|id| !now.contains(id)).copied().collect();
        if !removed.is_empty() {
            tally.removed += removed.len() as u64;
            tally.participants.insert(p);
        }
        let rows = tally.classify(copy, fetched, Some(&old));
        copy.apply(rows, &removed)?;
    }
    Ok(())
}
