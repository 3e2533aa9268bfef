//! Exporting a study from its local copy ([`export_from_copy`]): the same export as
//! [`super::export_study`] — the same units, files, dictionary, manifest and resume — with the
//! units read from the encrypted copy on this computer instead of the server: no network, and
//! no load on the server. The participants and their consents are the copy's too.
//!
//! The period is applied as the server applies it: by each reading's effective time (its start,
//! for an interval), from `date_from` 00:00 UTC to the end of `date_to` (UTC); readings without
//! an effective time are left out when a period is given.

use std::sync::Arc;

use super::*;
use crate::copy::LocalCopy;
use crate::omh::time::US_PER_DAY;

/// The UTC microseconds `[from, to)` of the request's days (either end open).
fn window(req: &ExportRequest) -> (Option<i64>, Option<i64>) {
    let day_us = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_micros())
    };
    (
        req.date_from.and_then(day_us),
        req.date_to.and_then(day_us).map(|t| t + US_PER_DAY),
    )
}

fn in_window(t_us: Option<i64>, (from, to): (Option<i64>, Option<i64>)) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    t_us.is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e))
}

/// Exports `req` from `copy` (which must be the copy of `req.study_id`): plans the units as an
/// export from the server does, skips those an interrupted earlier run wrote, reads each
/// participant's rows from the copy and writes their units, then the final files.
pub async fn export_from_copy(
    copy: Arc<LocalCopy>,
    req: ExportRequest,
    progress: impl Fn(Progress) + Send + Sync,
    cancel: CancelToken,
) -> Result<ExportOutcome> {
    check_dates(&req)?;
    let study_id = req.study_id;
    if copy.meta.study_id != study_id {
        return Err(Error::InvalidInput(format!(
            "This local copy holds study {}, not study {study_id}.",
            copy.meta.study_id
        )));
    }
    let mut report = Reporter::offline("export (local copy)", &progress);
    report.enter(Phase::Planning);
    let codes = select_codes(&copy.meta.scopes, req.codes.as_deref(), study_id)?;
    let patients = select_patients(
        copy.meta.patients.clone(),
        req.patient_ids.as_deref(),
        study_id,
    )?;
    let mut plan = Plan::open(&copy.meta.server, &req, codes, patients).await?;
    report.p.units_total = plan.units_total;
    report.p.units_resumed = plan.resumed;
    report.p.units_done = plan.resumed;

    // Counting is reading the copy's index.
    report.enter(Phase::Counting);
    let win = window(&req);
    let mut counts: HashMap<(u64, String), u64> = HashMap::new();
    for (_, h) in copy.held_all() {
        if in_window(h.t_us, win) {
            *counts
                .entry((h.patient_id, copy.code(h).to_string()))
                .or_default() += 1;
        }
    }
    // Unreadable rows have no time: they count only without a period, as on the server.
    let mut unreadable: HashMap<(u64, String), Vec<crate::omh::Problem>> = HashMap::new();
    if req.date_from.is_none() && req.date_to.is_none() {
        for p in copy.meta.unreadable.values() {
            unreadable
                .entry((p.patient_id, p.code.clone()))
                .or_default()
                .push(p.clone());
        }
    }
    for u in &mut plan.todo {
        let key = (u.patient_id, u.code.coding_code.clone());
        u.expected = counts.get(&key).copied().unwrap_or(0)
            + unreadable.get(&key).map_or(0, |v| v.len() as u64);
    }
    report.p.expected = plan.todo.iter().map(|u| u.expected).sum();
    report.enter(Phase::Fetching);

    let Plan {
        mut export,
        todo,
        units_total,
        resumed,
        patients,
        codes,
        ..
    } = plan;
    // One participant at a time: their rows decrypted once, each of their units written.
    let mut by_patient: Vec<(u64, Vec<Unit>)> = Vec::new();
    for u in todo {
        match by_patient.iter_mut().find(|(p, _)| *p == u.patient_id) {
            Some((_, units)) => units.push(u),
            None => by_patient.push((u.patient_id, vec![u])),
        }
    }
    let (mut units_written, mut rows_written) = (0usize, 0u64);
    for (patient_id, units) in by_patient {
        if cancel.is_cancelled() {
            export.abort();
            return Err(Error::Cancelled);
        }
        let c = copy.clone();
        let (layout, flagged, deid) = (req.layout, req.flagged, req.deidentify.clone());
        let bad: Vec<Vec<crate::omh::Problem>> = units
            .iter()
            .map(|u| {
                unreadable
                    .remove(&(u.patient_id, u.code.coding_code.clone()))
                    .unwrap_or_default()
            })
            .collect();
        let step = blocking(move || {
            let rows = c
                .participant_rows(patient_id)
                .map_err(|e| ExportError::Io {
                    op: "read the local copy in",
                    path: c.dir().to_path_buf(),
                    source: std::io::Error::other(e.to_string()),
                })?;
            let mut written = Vec::with_capacity(units.len());
            for (u, bad) in units.into_iter().zip(bad) {
                let mut unit = UnitBuilder::new(layout, flagged, u.expected as usize)
                    .deidentified(deid.clone());
                let mut n = 0u64;
                for r in rows
                    .iter()
                    .filter(|r| r.code == u.code.coding_code && in_window(r.t_us, win))
                {
                    n += 1;
                    unit.push(r.id, omh::decode_owned(r.to_raw()));
                }
                for p in bad {
                    n += 1;
                    unit.push_unreadable(p);
                }
                let prepared = unit.finish()?;
                if let Err(e) = export.commit_unit(&u.key, prepared, Some(n)) {
                    return Ok((export, written, Some(e)));
                }
                written.push(n);
            }
            Ok((export, written, None))
        })
        .await?;
        let (ex, written, failed) = step;
        export = ex;
        for n in written {
            units_written += 1;
            rows_written += n;
            report.p.units_done += 1;
            report.p.fetched += n;
        }
        report.send();
        if let Some(e) = failed {
            export.abort();
            return Err(e.into());
        }
    }
    let people = patients
        .iter()
        .map(|p| {
            let consents = copy.meta.consents.get(&p.id).and_then(Option::as_ref);
            participant_of(&req, p, consents, &codes)
        })
        .collect();
    export.set_participants(
        people,
        codes.iter().map(|c| c.coding_code.clone()).collect(),
    );

    report.enter(Phase::Finishing);
    let out_dir = export.spec().out_dir.clone();
    let manifest = blocking(move || export.finish()).await?;
    let (complete, mut warnings) = warnings(&manifest, Vec::new());
    warnings.insert(
        0,
        format!(
            "Made from the copy on this computer (last synced {}), not downloaded again.",
            copy.meta
                .synced_at
                .as_deref()
                .map_or(
                    "never".to_string(),
                    |t| match chrono::DateTime::parse_from_rfc3339(t) {
                        Ok(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
                        Err(_) => t.to_string(),
                    }
                )
        ),
    );
    report.enter(Phase::Done);
    Ok(ExportOutcome {
        out_dir,
        complete,
        warnings,
        units_total,
        units_resumed: resumed,
        units_fetched: units_written,
        fetched: rows_written,
        expected: report.p.expected,
        manifest,
        http: crate::http::HttpStatsSnapshot::default(),
    })
}
