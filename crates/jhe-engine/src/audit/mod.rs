//! The audit log (issue #12): one line per retrieval, overview, check, metrics run, sync, export,
//! report and offline open, saying who (the signed-in account), which server, what (study,
//! participant ids, type codes, day window), when, how many observations and where the result
//! was written, by which client (`jhe` or JHE Desktop).
//!
//! **No PHI.** An entry holds ids, type codes, counts, dates of the *requested window*, paths
//! and the account of the practitioner who did it, never a participant's name, MRN, birth date,
//! identifier or reading. A patient account is recorded as `patient user <id>`, not by its
//! e-mail address.
//!
//! **On disk.** `<data dir>/audit.jsonl` ([`AuditLog::default_path`], the folder of the local
//! copies, `JHE_DATA_DIR` overrides it): one JSON object per line, the file 0600 in a 0700
//! folder. Entries are only ever appended (`O_APPEND`, then fsync).
//!
//! **Tamper-evident.** Every [`Entry`] carries `hash`, the SHA-256 (hex) of its canonical JSON
//! (the entry as written, in field order, without `hash`), and `prev`, the `hash` of the entry
//! before it (`"0"` × 64 for the first). [`verify`] recomputes both and names the first line
//! that breaks the chain: an edited entry fails its own hash; a removed, inserted or reordered
//! entry fails the `prev` of the entry after it; a skipped number fails `seq`. What a chain
//! cannot show by itself: entries cut off *at the end*, or a whole log rewritten with new hashes
//! (anyone who can write the file can recompute them). Note the `last_hash` that
//! `jhe audit verify` prints somewhere else (a ticket, a lab notebook) to anchor the log up to
//! that point.
//!
//! **Crashes and concurrency.** Appends take a process-wide mutex and an exclusive lock on the
//! file (so the CLI and the app can append at once). A crash in the middle of an append can
//! leave a *torn* last line (no newline, not a whole entry); that entry was never acknowledged
//! to its caller. [`verify`] reports it as `torn_tail` without failing the chain, and the next
//! append cuts it off and chains to the last whole entry. A whole last line that is not an entry
//! is damage, not a crash: [`AuditLog::append`] then refuses ([`AuditError::Damaged`]) rather
//! than hide it.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::types::Profile;
use crate::api::Session;
use crate::jobs::ExportOutcome;

#[cfg(test)]
mod tests;

/// The log's file name in the data folder.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// `client` of the entries the CLI writes.
pub const CLIENT_CLI: &str = "jhe";
/// `client` of the entries the desktop app writes.
pub const CLIENT_APP: &str = "JHE Desktop";

/// Longest last line [`AuditLog::append`] reads back to find the previous hash.
const MAX_LINE: u64 = 64 << 20;

/// Appends in this process, one at a time (the file lock orders them between processes).
static APPEND: Mutex<()> = Mutex::new(());

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("The audit log {path} could not be {op} ({source}). Check that the disk is not full and that you can write to the folder.")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("The audit log {path} ends in a damaged entry (line {line}), so no new entry can be chained to it. Run `jhe audit verify` to see what is wrong; keep the file as evidence and move it aside to start a new log.")]
    Damaged { path: PathBuf, line: u64 },
    #[error("This system names no folder for application data: set JHE_DATA_DIR to the folder that should hold the audit log.")]
    NoDataDir,
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> AuditError + 'a {
    move |source| AuditError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Observations read from the server to be shown (a participant view, `jhe fetch`-like reads).
    Retrieve,
    /// A study's overview: participants with counts and consent (`jhe summary`, the study table).
    Overview,
    /// The data-quality check (`jhe check`).
    Check,
    /// Clinical metrics (`jhe metrics`).
    Metrics,
    /// A sync of the local copy; `rows` = readings added, changed and removed.
    Sync,
    /// An export; `rows` = observations written, `written_to` = its folder.
    Export,
    /// A report written; `written_to` = its file.
    Report,
    /// An export opened for offline review.
    OfflineOpen,
    /// A local study copy deleted.
    CopyRemoved,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Retrieve => "retrieve",
            Action::Overview => "overview",
            Action::Check => "check",
            Action::Metrics => "metrics",
            Action::Sync => "sync",
            Action::Export => "export",
            Action::Report => "report",
            Action::OfflineOpen => "offline_open",
            Action::CopyRemoved => "copy_removed",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        ALL_ACTIONS.into_iter().find(|a| a.as_str() == s)
    }
}

pub const ALL_ACTIONS: [Action; 9] = [
    Action::Retrieve,
    Action::Overview,
    Action::Check,
    Action::Metrics,
    Action::Sync,
    Action::Export,
    Action::Report,
    Action::OfflineOpen,
    Action::CopyRemoved,
];

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The requested days (UTC, inclusive); `None` ends are open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 1, 2, 3, … in the file's order.
    pub seq: u64,
    /// When (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// The account: its e-mail address, or `practitioner <id>` / `patient user <id>`.
    pub who: String,
    /// The server's base address (scheme, host, port and path; never a query or credentials);
    /// empty for what touched no server (an offline open).
    pub server: String,
    pub action: Action,
    pub study: Option<u64>,
    /// Participant ids, ascending (empty: none in particular, e.g. a sync of the whole study).
    pub participants: Vec<u64>,
    /// Type codes, e.g. `omh:heart-rate:2.0`.
    pub types: Vec<String>,
    pub window: Option<Window>,
    /// Observations involved (read, written, or changed by a sync).
    pub rows: u64,
    /// Where the result was written (folder or file), if anywhere; for `offline_open` the
    /// export opened, for `copy_removed` the folder deleted.
    pub written_to: Option<String>,
    /// `jhe` or `JHE Desktop` ([`CLIENT_CLI`], [`CLIENT_APP`]), with a version when known.
    pub client: String,
    /// `hash` of the previous entry; [`GENESIS`] for the first.
    pub prev: String,
    /// SHA-256 (hex) of this entry's canonical JSON without `hash` ([`Entry::compute_hash`]).
    pub hash: String,
}

impl Entry {
    /// SHA-256 (hex) of the entry's canonical JSON: its fields in order, without `hash`, as
    /// `serde_json` writes them (no spaces). `hash` is the last field: the entry's JSON with an
    /// empty `hash`, that field cut off.
    pub fn compute_hash(&self) -> String {
        let unhashed = Entry {
            hash: String::new(),
            ..self.clone()
        };
        // Serializing plain numbers and strings cannot fail.
        let json = serde_json::to_string(&unhashed).unwrap_or_default();
        let canonical = json.strip_suffix(r#","hash":""}"#).unwrap_or_default();
        hex(&Sha256::digest(format!("{canonical}}}")))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What to record; [`AuditLog::append`] adds the number, time and chain.
#[derive(Clone, Debug)]
pub struct Draft {
    pub action: Action,
    pub who: String,
    pub server: String,
    pub client: String,
    pub study: Option<u64>,
    pub participants: Vec<u64>,
    pub types: Vec<String>,
    pub window: Option<Window>,
    pub rows: u64,
    pub written_to: Option<String>,
}

/// How an account is named in the log: a practitioner by e-mail address (or id), a patient
/// account by id only (its e-mail address would be a participant's).
pub fn who_of(p: &Profile) -> String {
    if p.is_patient() {
        return format!("patient user {}", p.id);
    }
    match p.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => e.to_string(),
        None => format!("practitioner {}", p.id),
    }
}

impl Draft {
    /// An entry of `action` by `client` (e.g. `"jhe 0.4.0"`); who and where are empty until
    /// [`Draft::by`].
    pub fn new(action: Action, client: impl Into<String>) -> Draft {
        Draft {
            action,
            who: String::new(),
            server: String::new(),
            client: client.into(),
            study: None,
            participants: Vec::new(),
            types: Vec::new(),
            window: None,
            rows: 0,
            written_to: None,
        }
    }

    /// Who is signed in on `session`, and its server.
    pub fn by(mut self, session: &Session) -> Draft {
        self.who = who_of(session.profile());
        self.server = session.server().url.as_str().to_string();
        self
    }

    pub fn study(mut self, id: u64) -> Draft {
        self.study = Some(id);
        self
    }

    /// Participant ids (sorted, each once).
    pub fn participants(mut self, ids: impl IntoIterator<Item = u64>) -> Draft {
        self.participants.extend(ids);
        self.participants.sort_unstable();
        self.participants.dedup();
        self
    }

    /// Type codes (sorted, each once).
    pub fn types<S: Into<String>>(mut self, codes: impl IntoIterator<Item = S>) -> Draft {
        self.types.extend(codes.into_iter().map(Into::into));
        self.types.sort();
        self.types.dedup();
        self
    }

    /// The participants of a report and the types it shows.
    pub fn report_of(self, input: &crate::report::ReportInput) -> Draft {
        let people = &input.participants;
        self.participants(people.iter().map(|p| p.id))
            .types(people.iter().flat_map(|p| p.obs.keys().cloned()))
    }

    /// The requested days; nothing when both ends are open.
    pub fn window(mut self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Draft {
        self.window = (from.is_some() || to.is_some()).then_some(Window { from, to });
        self
    }

    pub fn rows(mut self, n: u64) -> Draft {
        self.rows = n;
        self
    }

    pub fn written_to(mut self, path: &Path) -> Draft {
        self.written_to = Some(path.display().to_string());
        self
    }

    /// What a finished export records: its study, the participants and types of its units, its
    /// day window, the observations written and its folder.
    pub fn export(o: &ExportOutcome, client: impl Into<String>) -> Draft {
        let m = &o.manifest;
        let day = |d: &Option<String>| {
            d.as_deref()
                .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
        };
        let mut d = Draft::new(Action::Export, client)
            .participants(m.units.iter().filter_map(|u| {
                u.unit
                    .split_once('/')
                    .and_then(|(p, _)| p.parse::<u64>().ok())
            }))
            .participants(m.filters.patient_ids.iter().copied())
            .types(
                m.units
                    .iter()
                    .filter_map(|u| u.unit.split_once('/').map(|(_, c)| c.to_string())),
            )
            .window(day(&m.filters.date_from), day(&m.filters.date_to))
            .rows(m.total_observations)
            .written_to(&o.out_dir);
        d.server = m.server.clone();
        d.study = m.study_id;
        d
    }
}

/// Which entries [`read`] returns.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only the last N (after the other filters).
    pub last: Option<usize>,
    pub study: Option<u64>,
    pub action: Option<Action>,
}

/// Where the first break in the chain is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Break {
    /// 1-based line of the file.
    pub line: u64,
    /// The entry's number, when the line could be read.
    pub seq: Option<u64>,
    pub reason: Reason,
}

/// What is wrong at a [`Break`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The entry's content does not match its hash: it was edited.
    Edited,
    /// The entry's `prev` is not the hash of the line before: an entry was removed, inserted or
    /// moved here, or the entry before was edited and re-hashed.
    Unchained,
    /// Numbers skip or repeat.
    SeqGap { expected: u64, found: u64 },
    /// The line is not an entry (not JSON, or fields missing or added).
    NotAnEntry { detail: String },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.seq {
            Some(s) => format!("line {} (entry {s})", self.line),
            None => format!("line {}", self.line),
        };
        match &self.reason {
            Reason::Edited => write!(f, "{what} was edited: its content does not match its hash"),
            Reason::Unchained => write!(
                f,
                "{what} does not follow the entry before it: an entry was removed, inserted or reordered there, or the previous entry was altered"
            ),
            Reason::SeqGap { expected, found } => write!(
                f,
                "{what} is numbered {found} where {expected} was expected: entries were removed or reordered"
            ),
            Reason::NotAnEntry { detail } => {
                write!(f, "{what} is not an audit entry ({detail})")
            }
        }
    }
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Whole lines in the log (a torn last line not counted).
    pub entries: u64,
    /// Entries checked intact, from the first up to the first break.
    pub intact: u64,
    /// True when no line breaks the chain.
    pub ok: bool,
    pub first_break: Option<Break>,
    /// The line number of a torn last line (a crash during an append; not a break).
    pub torn_tail: Option<u64>,
    /// The hash of the last intact entry (note it elsewhere to anchor the log).
    pub last_hash: Option<String>,
}

/// Checks the whole chain of the log at `path` (a missing file is an empty, intact log).
pub fn verify(path: &Path) -> Result<VerifyReport, AuditError> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(VerifyReport {
                ok: true,
                ..VerifyReport::default()
            })
        }
        Err(e) => return Err(io_err("read", path)(e)),
    };
    let mut r = BufReader::new(f);
    let mut report = VerifyReport::default();
    let (mut prev, mut seq) = (GENESIS.to_string(), 1u64);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(io_err("read", path))?;
        if n == 0 {
            break;
        }
        line += 1;
        let whole = buf.last() == Some(&b'\n');
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let parsed = serde_json::from_slice::<Entry>(text);
        if !whole && parsed.is_err() {
            report.torn_tail = Some(line);
            break;
        }
        report.entries += 1;
        if report.first_break.is_some() {
            continue;
        }
        let brk = |seq, reason| Break { line, seq, reason };
        let e = match parsed {
            Ok(e) => e,
            Err(err) => {
                let detail = err.to_string();
                report.first_break = Some(brk(None, Reason::NotAnEntry { detail }));
                continue;
            }
        };
        let reason = if e.compute_hash() != e.hash {
            Some(Reason::Edited)
        } else if e.prev != prev {
            Some(Reason::Unchained)
        } else if e.seq != seq {
            Some(Reason::SeqGap {
                expected: seq,
                found: e.seq,
            })
        } else {
            None
        };
        match reason {
            Some(reason) => report.first_break = Some(brk(Some(e.seq), reason)),
            None => {
                report.intact += 1;
                seq = e.seq + 1;
                prev = e.hash;
            }
        }
    }
    report.ok = report.first_break.is_none();
    report.last_hash = (report.intact > 0).then_some(prev);
    Ok(report)
}

/// The entries of the log at `path` that `filter` keeps, oldest first (lines that are not
/// entries are skipped: [`verify`] reports them).
pub fn read(path: &Path, filter: &Filter) -> Result<Vec<Entry>, AuditError> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("read", path)(e)),
    };
    let mut out = std::collections::VecDeque::new();
    for l in BufReader::new(f).split(b'\n') {
        let l = l.map_err(io_err("read", path))?;
        let Ok(e) = serde_json::from_slice::<Entry>(&l) else {
            continue;
        };
        if filter.study.is_some_and(|s| e.study != Some(s))
            || filter.action.is_some_and(|a| e.action != a)
        {
            continue;
        }
        out.push_back(e);
        if filter.last.is_some_and(|n| out.len() > n) {
            out.pop_front();
        }
    }
    Ok(out.into())
}

/// The CSV columns of [`to_csv`].
pub const CSV_COLUMNS: [&str; 15] = [
    "seq",
    "at",
    "who",
    "server",
    "action",
    "study",
    "participants",
    "types",
    "window_from",
    "window_to",
    "rows",
    "written_to",
    "client",
    "prev",
    "hash",
];

fn csv_cell(out: &mut String, cell: &str) {
    let cell = crate::export::formula_safe(cell);
    if cell.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&cell);
    }
}

/// Writes `entries` as CSV with a header ([`CSV_COLUMNS`]); participants and types are
/// separated by spaces; text cells that a spreadsheet would run as a formula are neutralised.
pub fn to_csv(entries: &[Entry], mut w: impl Write) -> io::Result<()> {
    let mut s = CSV_COLUMNS.join(",");
    s.push('\n');
    let join = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for e in entries {
        let window = e.window.clone().unwrap_or_default();
        let cells = [
            e.seq.to_string(),
            e.at.clone(),
            e.who.clone(),
            e.server.clone(),
            e.action.to_string(),
            e.study.map(|s| s.to_string()).unwrap_or_default(),
            join(&e.participants),
            e.types.join(" "),
            day(window.from),
            day(window.to),
            e.rows.to_string(),
            e.written_to.clone().unwrap_or_default(),
            e.client.clone(),
            e.prev.clone(),
            e.hash.clone(),
        ];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            csv_cell(&mut s, c);
        }
        s.push('\n');
        if s.len() > 1 << 20 {
            w.write_all(s.as_bytes())?;
            s.clear();
        }
    }
    w.write_all(s.as_bytes())?;
    w.flush()
}

/// The audit log in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn at(path: impl Into<PathBuf>) -> AuditLog {
        AuditLog { path: path.into() }
    }

    /// `<data dir>/audit.jsonl` (see [`crate::copy::data_dir`]; `JHE_DATA_DIR` overrides it).
    pub fn default_path() -> Option<PathBuf> {
        Some(crate::copy::data_dir()?.join(AUDIT_FILE))
    }

    /// The log at [`AuditLog::default_path`].
    pub fn open_default() -> Result<AuditLog, AuditError> {
        AuditLog::default_path()
            .map(AuditLog::at)
            .ok_or(AuditError::NoDataDir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn verify(&self) -> Result<VerifyReport, AuditError> {
        verify(&self.path)
    }

    pub fn read(&self, filter: &Filter) -> Result<Vec<Entry>, AuditError> {
        read(&self.path, filter)
    }

    /// Appends `draft` as the next entry (numbered, timed, chained), durably: the line is
    /// written with one `write` in append mode and fsynced before this returns.
    pub fn append(&self, draft: Draft) -> Result<Entry, AuditError> {
        let _one = APPEND.lock().unwrap_or_else(|p| p.into_inner());
        let path = &self.path;
        let mut created_dir = false;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                private_dir_all(dir).map_err(io_err("created", dir))?;
                created_dir = true;
            }
        }
        let mut o = OpenOptions::new();
        o.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(path).map_err(io_err("opened", path))?;
        f.lock().map_err(io_err("locked", path))?;
        let (prev, seq) = self.chain_end(&mut f)?;
        let mut e = Entry {
            seq,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            who: draft.who,
            server: draft.server,
            action: draft.action,
            study: draft.study,
            participants: draft.participants,
            types: draft.types,
            window: draft.window,
            rows: draft.rows,
            written_to: draft.written_to,
            client: draft.client,
            prev,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        let mut line = serde_json::to_vec(&e).unwrap_or_default();
        line.push(b'\n');
        f.write_all(&line).map_err(io_err("written", path))?;
        f.sync_all().map_err(io_err("written", path))?;
        if seq == 1 || created_dir {
            sync_parent(path);
        }
        Ok(e)
    }

    /// The hash and next number to chain to, with `f` locked; cuts off a torn last line.
    fn chain_end(&self, f: &mut File) -> Result<(String, u64), AuditError> {
        let path = &self.path;
        loop {
            let len = f.metadata().map_err(io_err("read", path))?.len();
            if len == 0 {
                return Ok((GENESIS.to_string(), 1));
            }
            let (start, last) = last_line(f, len).map_err(io_err("read", path))?;
            let whole = last.last() == Some(&b'\n');
            let text = last.strip_suffix(b"\n").unwrap_or(&last);
            match serde_json::from_slice::<Entry>(text) {
                Ok(e) => {
                    if !whole {
                        // The entry is complete but its newline was lost: finish the line.
                        f.write_all(b"\n").map_err(io_err("written", path))?;
                    }
                    return Ok((e.hash, e.seq + 1));
                }
                Err(_) if !whole => {
                    // A torn append (never acknowledged): cut it off, chain to the line before.
                    let w = OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(io_err("repaired", path))?;
                    w.set_len(start).map_err(io_err("repaired", path))?;
                    w.sync_all().map_err(io_err("repaired", path))?;
                    tracing::warn!(
                        "audit log: cut off a torn last line (a crash during an append)"
                    );
                }
                Err(_) => {
                    let line = count_lines(f, start).map_err(io_err("read", path))? + 1;
                    return Err(AuditError::Damaged {
                        path: path.clone(),
                        line,
                    });
                }
            }
        }
    }
}

/// The start offset and bytes of the file's last line (with its newline, if any), reading only
/// the tail.
fn last_line(f: &mut File, len: u64) -> io::Result<(u64, Vec<u8>)> {
    let mut window = 16 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::take(&mut *f, len - start).read_to_end(&mut buf)?;
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if let Some(i) = body.iter().rposition(|&b| b == b'\n') {
            return Ok((start + i as u64 + 1, buf[i + 1..].to_vec()));
        }
        if start == 0 {
            return Ok((0, buf));
        }
        if window >= MAX_LINE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the last line is longer than any entry",
            ));
        }
        window *= 4;
    }
}

/// Newlines before `end` (to name a damaged line; only read on that error).
fn count_lines(f: &mut File, end: u64) -> io::Result<u64> {
    f.seek(SeekFrom::Start(0))?;
    let mut n = 0u64;
    let mut r = BufReader::new(Read::take(&mut *f, end));
    let mut buf = Vec::new();
    while r.read_until(b'\n', &mut buf)? > 0 {
        n += 1;
        buf.clear();
    }
    Ok(n)
}

fn private_dir_all(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Makes a new file's directory entry durable (Unix; not possible nor needed on Windows).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(d) = path.parent().and_then(|d| File::open(d).ok()) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}
