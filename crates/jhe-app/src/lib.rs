//! What JHE Desktop does, without a window: the app's operations as plain `async fn`s over an
//! [`AppState`], so the Tauri shell (`src-tauri`) is one-line command wrappers and everything
//! here is testable (and usable by the CLI) without Tauri.
//!
//! * [`session`] — recent servers, checking an address, sign-in (API key, browser, demo), sign-out;
//! * [`studies`] — organizations, studies with participant counts, a study's overview;
//! * [`participant`] — one participant's charts and statistics, pages of readings;
//! * [`export`] — export jobs with progress and cancel, the folder dialogs around them;
//! * [`offline`] — reading an export back for review;
//! * [`copies`] — the encrypted local copy of each study opened: shown at once and offline,
//!   brought up to date by a sync, checked in the background for new data;
//! * [`report`] — "Write report…": a study's or participant's HTML report, live or offline;
//! * [`views`] — observations → what the participant view shows (live and offline alike; each
//!   card's clinical summary is the engine's `analysis::summary`, shared with the report);
//! * [`ipc`] — the payloads, exported to TypeScript ([`bindings`]); [`error`] — `{kind, message}`;
//! * [`state`] — what is remembered between operations; [`picker`] — the desktop's dialogs;
//! * [`about`] — the About dialog, "Copy diagnostics" (no PHI) and the opt-in update check;
//! * [`audit`] — every data operation recorded in the tamper-evident audit log; viewing,
//!   verifying and exporting it.

pub mod about;
pub mod audit;
pub mod bindings;
pub mod copies;
pub mod error;
pub mod export;
pub mod ipc;
pub mod offline;
pub mod participant;
pub mod picker;
pub mod report;
pub mod session;
pub mod state;
pub mod studies;
pub mod views;

pub use error::{Error, Result};
pub use state::AppState;
