//! The export's fetch step: units fetched in tasks (at most `parallelism` at a time), each
//! decoded completely, then written by the caller one at a time; a table's final file is merged
//! as soon as its last unit is written. Tasks are aborted when the step ends early.

use super::*;

enum Msg {
    Rows(u64),
    /// Boxed: a unit's tables are large, a row count is not.
    Done(String, Result<Box<FetchedUnit>>),
}

/// A unit fetched completely and decoded, waiting to be written.
struct FetchedUnit {
    server_total: u64,
    received: u64,
    complete: bool,
    prepared: PreparedUnit,
}

/// What the fetch step did.
#[derive(Default)]
pub(super) struct Fetched {
    pub(super) units: usize,
    pub(super) rows: u64,
    /// Units that came up short of the server's total, as sentences.
    pub(super) short_units: Vec<String>,
}

/// The fetch step: units fetched in tasks, written here one at a time.
pub(super) struct Fetch {
    /// Units still to come per table (one file per type): once a table has all of its units,
    /// its final file is merged while the other units download, instead of in `finish`.
    left_per_table: HashMap<String, usize>,
    unit_table: HashMap<String, String>,
}

impl Fetch {
    pub(super) fn new(req: &ExportRequest, todo: &[Unit]) -> Fetch {
        let table_of = |u: &Unit| DataType::from_code(&u.code.coding_code).name();
        let mut left_per_table: HashMap<String, usize> = HashMap::new();
        if req.layout == Layout::PerType {
            for u in todo {
                *left_per_table.entry(table_of(u)).or_default() += 1;
            }
        }
        let unit_table = todo.iter().map(|u| (u.key.clone(), table_of(u))).collect();
        Fetch {
            left_per_table,
            unit_table,
        }
    }

    /// The table `key` completes, if it is the last unit of its table.
    fn completes(&mut self, key: &str) -> Option<String> {
        let t = self.unit_table.get(key)?;
        let left = self.left_per_table.get_mut(t)?;
        *left -= 1;
        (*left == 0).then(|| t.clone())
    }

    /// Fetches `todo` in tasks, `parallelism` at a time, and writes each unit as it comes in.
    /// `inner` stops the other tasks after a failure; it is also cancelled with `cancel`. On
    /// failure or cancel the export is left for a later run to resume.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run(
        mut self,
        session: &Session,
        req: &ExportRequest,
        mut export: Export,
        todo: Vec<Unit>,
        parallelism: usize,
        cancel: &CancelToken,
        report: &mut Reporter<'_>,
    ) -> Result<(Export, Fetched)> {
        let inner = cancel.child();
        let (tx, mut rx) = mpsc::channel::<Msg>(parallelism * 4);
        let tasks = spawn_fetches(session, req, &todo, parallelism, &inner, tx);

        let mut first_error: Option<Error> = None;
        let mut done = Fetched::default();
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Rows(n) => {
                    report.p.fetched += n;
                    report.send();
                }
                Msg::Done(key, Ok(f)) => {
                    let (total, n) = (f.server_total, f.received);
                    if !f.complete {
                        done.short_units
                            .push(format!("{key}: {n} of {total} observations"));
                    }
                    let table = self.completes(&key);
                    let (ex, written) = blocking(move || {
                        let r = export.commit_unit(&key, f.prepared, Some(total));
                        if let (Ok(_), Some(t)) = (&r, table) {
                            // only an optimisation: `finish` merges whatever is not merged here
                            if let Err(e) = export.merge_early(&t) {
                                tracing::warn!(
                                    "merging {t} early failed ({e}); finishing will retry"
                                );
                            }
                        }
                        Ok((export, r))
                    })
                    .await?;
                    export = ex;
                    if let Err(e) = written {
                        first_error.get_or_insert(e.into());
                        inner.cancel();
                        continue;
                    }
                    done.units += 1;
                    done.rows += n;
                    // Page events may have been dropped under load: settle the count per unit.
                    report.p.fetched = report.p.fetched.max(done.rows);
                    report.p.units_done += 1;
                    report.send();
                }
                Msg::Done(_, Err(Error::Cancelled)) => {}
                Msg::Done(_, Err(e)) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                        inner.cancel();
                    }
                }
            }
        }
        tasks.join().await;
        if let Some(e) = first_error {
            export.abort();
            return Err(e);
        }
        if cancel.is_cancelled() {
            export.abort();
            return Err(Error::Cancelled);
        }
        Ok((export, done))
    }
}

/// Starts one task per unit; at most `parallelism` of them fetch at a time.
fn spawn_fetches(
    session: &Session,
    req: &ExportRequest,
    todo: &[Unit],
    parallelism: usize,
    inner: &CancelToken,
    tx: mpsc::Sender<Msg>,
) -> AbortOnDrop {
    let sem = Arc::new(Semaphore::new(parallelism));
    let mut tasks = AbortOnDrop(Vec::with_capacity(todo.len()));
    for u in todo {
        let q = req.query(&u.code, Some(u.patient_id));
        let key = u.key.clone();
        let (layout, flagged, expected) = (req.layout, req.flagged, u.expected);
        let deid = req.deidentify.clone();
        let session = session.clone();
        let sem = sem.clone();
        let tx = tx.clone();
        let inner = inner.clone();
        tasks.0.push(tokio::spawn(async move {
            let Ok(_permit) = sem.acquire().await else {
                return;
            };
            if inner.is_cancelled() {
                let _ = tx.send(Msg::Done(key, Err(Error::Cancelled))).await;
                return;
            }
            let rows_tx = tx.clone();
            let on_rows = move |n: u64| {
                let _ = rows_tx.try_send(Msg::Rows(n));
            };
            let how = (layout, flagged, deid);
            let r = fetch_unit(&session, &q, how, expected, &inner, &on_rows).await;
            let _ = tx.send(Msg::Done(key, r.map(Box::new))).await;
        }));
    }
    tasks
}

/// Fetches one unit, decoding each page as it arrives into the unit's column builders: the
/// fetch tasks share the decoding and tidying, and the single writer is left only the file
/// work.
async fn fetch_unit(
    session: &Session,
    q: &ObservationQuery,
    (layout, flagged, deid): (Layout, Flagged, Option<Deidentify>),
    expected: u64,
    cancel: &CancelToken,
    on_rows: &(dyn Fn(u64) + Send + Sync),
) -> Result<FetchedUnit> {
    let mut unit =
        UnitBuilder::new(layout, flagged, expected.min(1 << 20) as usize).deidentified(deid);
    let f = fetch_observations_each(
        session,
        q,
        cancel,
        on_rows,
        &|raw: RawObservation| (raw.id, omh::decode_owned(raw)),
        &mut |(id, decoded)| unit.push(id, decoded),
    )
    .await?;
    let (server_total, received, complete) = (f.server_total, f.received(), f.is_complete());
    for p in f.problems {
        unit.push_unreadable(p);
    }
    unit.push_foreign(f.foreign);
    let prepared = blocking(move || unit.finish()).await?;
    Ok(FetchedUnit {
        server_total,
        received,
        complete,
        prepared,
    })
}

/// Aborts the fetch tasks when the export is dropped (e.g. the app closes the window).
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    /// Waits for every task to end.
    async fn join(mut self) {
        for h in self.0.drain(..) {
            let _ = h.await;
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

// ----- finish -----------------------------------------------------------------------------------
