//! The app's local study copies (the engine's encrypted [`LocalCopy`]): a study opened once is
//! kept on this computer, so opening it again shows it at once ("offline — last synced 3 minutes
//! ago") and works with no network; [`sync_study`] brings it up to date, [`check_for_news`] is
//! the background check behind the study list's badges and the desktop notifications.
//!
//! Where: `<data dir>/copies/<server>/study-<id>/` (see `jhe_engine::copy`); the demo exchange's
//! copies are under the server name `demo` and start empty with each demo (its data is new each
//! time). The key is the keychain's `copy-key:<server>` entry, made on first use.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use jhe_engine::api::types as em;
use jhe_engine::api::Session as EngineSession;
use jhe_engine::audit::{Action, Draft};
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use jhe_engine::copy::{self, CopyKey, CopyMeta, LocalCopy};
use jhe_engine::jobs::{sync_study as engine_sync, SyncOptions};
use jhe_engine::omh;
use jhe_engine::omh::time::{iso_z, US_PER_DAY};

use crate::error::{Error, Result};
use crate::ipc::*;
use crate::offline::OfflineData;
use crate::state::{AppState, Source};
use crate::studies::{consent, patient_row, study_dto};
use crate::views;

/// The server name the demo exchange's copies are kept under.
pub const DEMO_SERVER: &str = "demo";

/// A participant counts as "uploading" while their last upload is at most this old.
const UPLOADING_DAYS: i64 = 3;

fn root(state: &AppState) -> Result<PathBuf> {
    state.data_dir().ok_or_else(|| {
        Error::InvalidInput(
            "This computer names no folder for application data, so studies cannot be kept for offline use.".into(),
        )
    })
}

fn key(state: &AppState, server: &str, create: bool) -> Result<Option<CopyKey>> {
    Ok(CopyKey::load(state.secrets.as_ref(), server, create)
        .map_err(jhe_engine::error::Error::from)?)
}

/// The server name of the session's copies: its address, or [`DEMO_SERVER`].
pub(crate) fn server_of(session: &EngineSession, demo: bool) -> String {
    if demo {
        DEMO_SERVER.to_string()
    } else {
        session
            .server()
            .url
            .to_string()
            .trim_end_matches('/')
            .to_string()
    }
}

/// The online session and its copies' server name.
fn online(state: &AppState) -> Result<(EngineSession, String)> {
    match state.source()? {
        Source::Online { session, demo } => {
            let server = server_of(&session, demo);
            Ok((session, server))
        }
        Source::Offline(_) => Err(Error::NotSignedIn),
    }
}

/// Opens the copy in `dir` with `key`, if there is one (blocking: decrypts its index).
fn open_dir(dir: &std::path::Path, key: Option<CopyKey>) -> Result<Option<LocalCopy>> {
    let Some(key) = key else {
        return Ok(None);
    };
    if !dir.join("copy.age").is_file() {
        return Ok(None);
    }
    Ok(LocalCopy::open(dir, key).map_err(jhe_engine::error::Error::from)?)
}

/// Where the copy of `study_id` from `server` is, and its key (`None`: no key yet, so no copy).
fn locate(state: &AppState, server: &str, study_id: u64) -> Result<(PathBuf, Option<CopyKey>)> {
    let dir = LocalCopy::dir_of(&root(state)?, server, study_id);
    let key = if dir.join("copy.age").is_file() {
        key(state, server, false)?
    } else {
        None
    };
    Ok((dir, key))
}

/// The study's overview as the copy holds it (no network).
pub(crate) fn overview_of(copy: &LocalCopy) -> StudyOverview {
    let now_us = chrono::Utc::now().timestamp_micros();
    // As the server's overview: "last data" is the latest reading dated up to today (UTC).
    let today_end = (now_us.div_euclid(US_PER_DAY) + 1) * US_PER_DAY;
    #[derive(Default)]
    struct Acc {
        counts: BTreeMap<String, u64>,
        first: Option<i64>,
        last: Option<i64>,
        last_future: Option<i64>,
        upload: Option<i64>,
    }
    let mut by_patient: HashMap<u64, Acc> = HashMap::new();
    for (_, h) in copy.held_all() {
        let a = by_patient.entry(h.patient_id).or_default();
        *a.counts.entry(copy.code(h).to_string()).or_default() += 1;
        if let Some(t) = h.t_us {
            a.first = Some(a.first.map_or(t, |f| f.min(t)));
            // A reading dated after today comes from a wrong device clock.
            if t < today_end {
                a.last = Some(a.last.map_or(t, |l| l.max(t)));
            } else {
                a.last_future = Some(a.last_future.map_or(t, |l| l.max(t)));
            }
        }
        a.upload = Some(a.upload.map_or(h.lu_us, |u| u.max(h.lu_us)));
    }
    // Malformed rows count as the server counts them (an export lists them as problems).
    for p in copy.meta.unreadable.values() {
        let a = by_patient.entry(p.patient_id).or_default();
        *a.counts.entry(p.code.clone()).or_default() += 1;
    }
    let study_id = copy.meta.study_id;
    let patients: Vec<PatientRow> = copy
        .meta
        .patients
        .iter()
        .map(|p| {
            let mut row = patient_row(p);
            if let Some(c) = copy.meta.consents.get(&p.id) {
                row.consent = copy
                    .meta
                    .scopes
                    .iter()
                    .filter_map(|s| {
                        let state = c.as_ref().map_or(em::ConsentState::NotVisible, |c| {
                            c.state(study_id, &s.coding_system, &s.coding_code)
                        });
                        Some((s.coding_code.clone(), consent(&state)?))
                    })
                    .collect();
            }
            // Every requested type, as the server counts them (0 where there is nothing).
            row.counts = copy
                .meta
                .scopes
                .iter()
                .map(|s| (s.coding_code.clone(), 0))
                .collect();
            if let Some(a) = by_patient.remove(&p.id) {
                for (code, n) in a.counts {
                    if let Some(c) = row.counts.get_mut(&code) {
                        *c = n;
                    }
                }
                row.first_date = a.first.map(iso_z);
                row.last_date = a.last.or(a.last_future).map(iso_z);
                row.days_since_last_upload = a.upload.map(|u| ((now_us - u) / US_PER_DAY).max(0));
            }
            row
        })
        .collect();
    let study = match &copy.meta.study {
        Some(st) => study_dto(st, patients.len() as u64),
        None => Study {
            id: copy.meta.study_id,
            name: format!("Study {}", copy.meta.study_id),
            description: String::new(),
            organization_id: 0,
            organization_name: String::new(),
            patient_count: patients.len() as u64,
        },
    };
    StudyOverview {
        study,
        types: copy
            .meta
            .scopes
            .iter()
            .map(|s| views::scope_type(&s.coding_code))
            .collect(),
        patients,
        synced_at: copy.meta.synced_at.clone(),
    }
}

/// Every observation of the copy, decoded as the participant view shows them.
fn offline_data(copy: &LocalCopy, label: String) -> Result<OfflineData> {
    let rows = copy
        .rows_where(|_| true)
        .map_err(jhe_engine::error::Error::from)?;
    let mut data = OfflineData {
        path: label,
        overview: overview_of(copy),
        exported_at: copy.meta.synced_at.clone(),
        copy: Some((copy.meta.server.clone(), copy.meta.study_id)),
        ..OfflineData::default()
    };
    for r in rows {
        match omh::decode_owned(r.to_raw()) {
            Ok(d) => data.add(Obs::from_decoded(&d)),
            Err(_) => data.skipped += 1,
        }
    }
    data.sort();
    Ok(data)
}

/// One participant's observations from the copy, per type code (the participant view while a
/// study has a copy: no download).
pub(crate) async fn participant_obs(
    state: &AppState,
    study_id: u64,
    patient_id: u64,
) -> Result<Option<(StudyOverview, BTreeMap<String, Vec<Obs>>)>> {
    let Ok((_, server)) = online(state) else {
        return Ok(None);
    };
    let (dir, key) = locate(state, &server, study_id)?;
    tokio::task::spawn_blocking(move || {
        let Some(copy) = open_dir(&dir, key)? else {
            return Ok(None);
        };
        if copy.meta.synced_at.is_none() {
            return Ok(None);
        }
        let mut out: BTreeMap<String, Vec<Obs>> = BTreeMap::new();
        for r in copy
            .participant_rows(patient_id)
            .map_err(jhe_engine::error::Error::from)?
        {
            if let Ok(d) = omh::decode_owned(r.to_raw()) {
                let o = Obs::from_decoded(&d);
                out.entry(o.code.clone()).or_default().push(o);
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|o| (o.t_us, o.observation_id));
        }
        Ok(Some((overview_of(&copy), out)))
    })
    .await?
}

/// The study's overview from its copy, while signed in (`None`: no copy yet).
pub(crate) async fn cached_overview(
    state: &AppState,
    study_id: u64,
) -> Result<Option<(StudyOverview, Vec<em::CodeableConcept>)>> {
    let Ok((_, server)) = online(state) else {
        return Ok(None);
    };
    let (dir, key) = locate(state, &server, study_id)?;
    tokio::task::spawn_blocking(move || {
        Ok(open_dir(&dir, key)?
            .filter(|c| c.meta.synced_at.is_some())
            .map(|c| (overview_of(&c), c.meta.scopes.clone())))
    })
    .await?
}

fn info_of(server: &str, meta: &CopyMeta, bytes: u64) -> LocalCopyInfo {
    LocalCopyInfo {
        server: server.to_string(),
        study_id: meta.study_id,
        study_name: meta
            .study
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("Study {}", meta.study_id)),
        organization_name: meta
            .study
            .as_ref()
            .and_then(|s| s.organization.name.clone())
            .unwrap_or_default(),
        participants: meta.patients.len() as u64,
        synced_at: meta.synced_at.clone(),
        bytes,
    }
}

/// The study copies on this computer of the servers the app knows (recent servers; the demo's
/// only while the demo runs), newest sync first. Works without network.
pub async fn local_copies(state: &AppState) -> Result<Vec<LocalCopyInfo>> {
    let Ok(root) = root(state) else {
        return Ok(Vec::new());
    };
    let mut servers: Vec<String> = state
        .recent_servers()
        .into_iter()
        .map(|r| r.url.trim_end_matches('/').to_string())
        .collect();
    if let Some(Source::Online { demo: true, .. }) = state.source.lock().clone() {
        servers.push(DEMO_SERVER.to_string());
    }
    let listed = copy::list_copies(&root);
    let mut keyed = Vec::new();
    for server in servers {
        let sdir = copy::server_dir(&root, &server);
        let mine: Vec<_> = listed
            .iter()
            .filter(|l| l.dir.parent() == Some(sdir.as_path()))
            .cloned()
            .collect();
        if mine.is_empty() {
            continue;
        }
        if let Some(key) = key(state, &server, false)? {
            keyed.push((server, key, mine));
        }
    }
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for (server, key, mine) in keyed {
            for l in mine {
                match LocalCopy::read_meta(&l.dir, &key) {
                    Ok(Some(meta)) => out.push(info_of(&server, &meta, l.bytes)),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("a local copy could not be read: {e}"),
                }
            }
        }
        out.sort_by(|a, b| b.synced_at.cmp(&a.synced_at));
        Ok::<_, Error>(out)
    })
    .await?
}

/// Opens a study's copy with no network: the study board, participant view, charts, metrics,
/// reports and exports then read it (the session, if any, ends).
pub async fn open_local_copy(
    state: &AppState,
    server: &str,
    study_id: u64,
) -> Result<OfflineReview> {
    let server = server.trim_end_matches('/').to_string();
    let server_name = server.clone();
    let (dir, key) = locate(state, &server, study_id)?;
    let data = tokio::task::spawn_blocking(move || {
        let copy = open_dir(&dir, key)?.ok_or_else(|| {
            Error::NotFound(format!(
                "There is no local copy of study {study_id} from {server} on this computer."
            ))
        })?;
        let name = copy
            .meta
            .study
            .as_ref()
            .map_or_else(|| format!("study {study_id}"), |s| s.name.clone());
        let from = server.split("://").nth(1).unwrap_or(&server).to_string();
        offline_data(&copy, format!("{name} from {from}"))
    })
    .await??;
    let mut entry = crate::offline::open_entry(state, &data).study(study_id);
    entry.server = server_name;
    Ok(crate::offline::start_review(state, data, entry).await)
}

/// Participants uploading (last upload at most [`UPLOADING_DAYS`] old) in the copy.
fn uploading(copy: &LocalCopy) -> HashSet<u64> {
    let since = chrono::Utc::now().timestamp_micros() - UPLOADING_DAYS * US_PER_DAY;
    copy.held_all()
        .filter(|(_, h)| h.lu_us >= since)
        .map(|(_, h)| h.patient_id)
        .collect()
}

/// Brings the study's copy up to date (making it on the first call): what is new since the
/// last sync, deletions found by comparing counts once a day, the consents. Returns what
/// changed and the overview from the copy.
pub async fn sync_study(
    state: &AppState,
    study_id: u64,
    job_id: Option<&str>,
    on_progress: impl Fn(SyncProgress) + Send + Sync + 'static,
) -> Result<SyncResult> {
    let (session, server) = online(state)?;
    let cancel = CancelToken::new();
    if let Some(id) = job_id {
        state.jobs.lock().insert(id.to_string(), cancel.clone());
    }
    let out = sync_one(state, &session, &server, study_id, &cancel, on_progress).await;
    if let Some(id) = job_id {
        state.jobs.lock().remove(id);
    }
    out
}

async fn sync_one(
    state: &AppState,
    session: &EngineSession,
    server: &str,
    study_id: u64,
    cancel: &CancelToken,
    on_progress: impl Fn(SyncProgress) + Send + Sync + 'static,
) -> Result<SyncResult> {
    // One sync of a study at a time (the background check and the study board may both ask).
    let lock = state.copy_lock(server, study_id);
    let _held = lock.lock().await;
    let root = root(state)?;
    let key = key(state, server, true)?
        .ok_or_else(|| Error::Internal("no key for the local copies".into()))?;
    let dir = LocalCopy::dir_of(&root, server, study_id);
    let (srv, k) = (server.to_string(), key.clone());
    let mut copy = tokio::task::spawn_blocking(move || {
        LocalCopy::open_or_new(&dir, k, &srv, study_id).map_err(jhe_engine::error::Error::from)
    })
    .await??;
    let before = uploading(&copy);
    let outcome = engine_sync(
        session,
        &mut copy,
        &SyncOptions::default(),
        cancel,
        &move |n| on_progress(SyncProgress { readings: n }),
    )
    .await?;
    crate::audit::record(
        state,
        crate::audit::draft(state, Action::Sync, session)
            .study(study_id)
            .participants(copy.meta.patients.iter().map(|p| p.id))
            .types(copy.meta.scopes.iter().map(|s| s.coding_code.clone()))
            .rows(outcome.change.added + outcome.change.changed)
            .written_to(copy.dir()),
    );
    let after = uploading(&copy);
    let stopped = before.difference(&after).count() as u64;
    let overview = overview_of(&copy);
    let c = &outcome.change;
    Ok(SyncResult {
        study_id,
        first: outcome.first,
        sentence: outcome.sentence(),
        added: c.added,
        changed: c.changed,
        removed: c.removed,
        participants: c.participants,
        stopped_uploading: stopped,
        synced_at: outcome.synced_at.clone(),
        bytes: copy.size_bytes(),
        overview,
    })
}

/// The text of a study's news ("12 new readings from 3 participants"; "2 participants stopped
/// uploading"), `None` when there is none.
pub fn news_text(r: &SyncResult) -> Option<String> {
    let mut parts = Vec::new();
    if r.added > 0 {
        parts.push(format!(
            "{} new reading{} from {} participant{}",
            r.added,
            if r.added == 1 { "" } else { "s" },
            r.participants,
            if r.participants == 1 { "" } else { "s" }
        ));
    }
    if r.stopped_uploading > 0 {
        parts.push(format!(
            "{} participant{} stopped uploading",
            r.stopped_uploading,
            if r.stopped_uploading == 1 { "" } else { "s" }
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The background check: syncs every study of the signed-in server that has a local copy and
/// returns the news of those with any (a study that fails is skipped and logged; the next check
/// tries again).
pub async fn check_for_news(state: &AppState) -> Result<Vec<StudyNews>> {
    let (session, server) = online(state)?;
    let root = root(state)?;
    let sdir = copy::server_dir(&root, &server);
    let ids: Vec<u64> = copy::list_copies(&root)
        .into_iter()
        .filter(|l| l.dir.parent() == Some(sdir.as_path()))
        .map(|l| l.study_id)
        .collect();
    let mut news = Vec::new();
    for id in ids {
        match sync_one(state, &session, &server, id, &CancelToken::new(), |_| {}).await {
            Ok(r) if !r.first => {
                if let Some(text) = news_text(&r) {
                    news.push(StudyNews {
                        study_id: id,
                        study_name: r.overview.study.name.clone(),
                        added: r.added,
                        participants: r.participants,
                        stopped_uploading: r.stopped_uploading,
                        text,
                    });
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("background sync of study {id}: {:?}", e.kind()),
        }
    }
    Ok(news)
}

/// Removes one study's copy (files and all; the key stays for the server's other copies):
/// of `server`, or (`None`) of the signed-in server.
pub async fn remove_local_copy(
    state: &AppState,
    server: Option<&str>,
    study_id: u64,
) -> Result<()> {
    let server = match server {
        Some(s) => s.trim_end_matches('/').to_string(),
        None => online(state)?.1,
    };
    let dir = LocalCopy::dir_of(&root(state)?, &server, study_id);
    let gone = dir.clone();
    tokio::task::spawn_blocking(move || copy::remove_dir(&gone))
        .await?
        .map_err(jhe_engine::error::Error::from)?;
    let mut entry = Draft::new(Action::CopyRemoved, crate::audit::client(state))
        .study(study_id)
        .written_to(&dir);
    entry.server = server;
    crate::audit::record(state, entry);
    Ok(())
}

/// Removes every copy of the signed-in server's studies (the sign-out's "also delete the local
/// copies"); returns how many.
pub async fn remove_server_copies(state: &AppState) -> Result<u64> {
    let server = online(state)?.1;
    let root = root(state)?;
    let sdir = copy::server_dir(&root, &server);
    tokio::task::spawn_blocking(move || {
        let mut n = 0;
        for l in copy::list_copies(&root) {
            if l.dir.parent() == Some(sdir.as_path()) {
                copy::remove_dir(&l.dir).map_err(jhe_engine::error::Error::from)?;
                n += 1;
            }
        }
        Ok(n)
    })
    .await?
}

/// The demo's copies: removed when a demo starts (its data is generated anew).
pub(crate) fn clear_demo_copies(state: &AppState) {
    if let Ok(root) = root(state) {
        let sdir = copy::server_dir(&root, DEMO_SERVER);
        let _ = copy::remove_dir(&sdir);
    }
}

/// Minutes between background checks for new data (0: off).
pub async fn sync_every(state: &AppState) -> Result<u32> {
    Ok(*state.sync_every.lock())
}

/// Sets the minutes between background checks (0: off; at most a day); returns what was kept.
pub async fn set_sync_every(state: &AppState, minutes: u32) -> Result<u32> {
    state.set_sync_every(minutes);
    Ok(*state.sync_every.lock())
}

/// What the background checks found since each study was last opened (the study list's badges).
pub async fn study_news(state: &AppState) -> Result<Vec<StudyNews>> {
    Ok(state.news.lock().values().cloned().collect())
}

/// Forgets a study's news (the user opened it).
pub async fn clear_study_news(state: &AppState, study_id: u64) -> Result<()> {
    state.news.lock().remove(&study_id);
    Ok(())
}

/// Adds a check's news to what the badges show (counts add up until the study is opened).
fn remember_news(state: &AppState, n: &StudyNews) -> StudyNews {
    let mut all = state.news.lock();
    let e = all.entry(n.study_id).or_insert_with(|| StudyNews {
        added: 0,
        participants: 0,
        stopped_uploading: 0,
        ..n.clone()
    });
    e.added += n.added;
    e.participants = e.participants.max(n.participants);
    e.stopped_uploading += n.stopped_uploading;
    e.text = n.text.clone();
    e.clone()
}

/// The background check, for as long as the app runs: right after each sign-in, then every
/// [`AppState::sync_every`] minutes while signed in (never while offline or switched off), it
/// syncs the signed-in server's study copies; news goes to the badges ([`study_news`]) and to
/// a desktop notification per study.
pub async fn monitor(state: &AppState) {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    let mut last: Option<(u64, Instant)> = None;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let every = *state.sync_every.lock();
        if every == 0 || online(state).is_err() {
            continue;
        }
        let epoch = state.epoch.load(Ordering::Relaxed);
        let due = match last {
            Some((e, at)) => {
                e != epoch || at.elapsed() >= Duration::from_secs(u64::from(every) * 60)
            }
            None => true,
        };
        if !due {
            continue;
        }
        last = Some((epoch, Instant::now()));
        match check_for_news(state).await {
            Ok(news) => {
                // A sign-out while checking: the news belongs to the old session.
                if state.epoch.load(Ordering::Relaxed) != epoch {
                    continue;
                }
                for n in news {
                    let shown = remember_news(state, &n);
                    let title = format!("{}: new data", shown.study_name);
                    if let Err(e) = state.picker.notify(&title, &n.text) {
                        tracing::warn!("notification: {e}");
                    }
                }
            }
            Err(e) => tracing::warn!("background check: {:?}", e.kind()),
        }
    }
}

/// The local copy an export of `study_id` is made from, with its lock held while it runs: the
/// copy under offline review, or (signed in, unless `from_server`, and when no sync of it is
/// running) the signed-in server's.
pub(crate) async fn copy_for_export(
    state: &AppState,
    study_id: u64,
    from_server: bool,
) -> Result<Option<(Arc<LocalCopy>, tokio::sync::OwnedMutexGuard<()>)>> {
    let (server, online) = match state.source()? {
        Source::Offline(data) => match &data.copy {
            Some((server, id)) if *id == study_id => (server.clone(), false),
            _ => return Ok(None),
        },
        Source::Online { session, demo } => {
            if from_server {
                return Ok(None);
            }
            (server_of(&session, demo), true)
        }
    };
    let lock = state.copy_lock(&server, study_id);
    let guard = if online {
        // Signed in, an export never waits behind a sync of the copy (a first one can take
        // minutes): it downloads from the server instead.
        match lock.try_lock_owned() {
            Ok(g) => g,
            Err(_) => return Ok(None),
        }
    } else {
        lock.lock_owned().await
    };
    let (dir, key) = locate(state, &server, study_id)?;
    let copy = tokio::task::spawn_blocking(move || open_dir(&dir, key)).await??;
    Ok(copy
        .filter(|c| c.meta.synced_at.is_some())
        .map(|c| (Arc::new(c), guard)))
}
