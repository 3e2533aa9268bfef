//! The UI-free engine of JHE Desktop: the app, the `jhe` CLI and the tests call the same
//! functions. Data flows one way: server → [`api`]/[`fetch`] → [`omh`] records → [`frame`]
//! DataFrames → [`export`] files and [`chart`]s; [`jobs`] ties them into exports and overviews.

// Data half: OMH decoding, tidy rows and DataFrames, export.
pub mod analysis;
pub mod chart;
pub mod copy;
pub mod export;
pub mod frame;
pub mod omh;
pub mod report;

// Network half: server checks, sign-in, HTTP with retries, the JHE APIs and their wire types,
// cancelling, fetching, jobs.
pub mod api;
pub mod audit;
pub mod auth;
pub mod cancel;
pub mod error;
pub mod fetch;
pub mod http;
pub mod jobs;
mod paging;
pub mod server_check;

/// Process-wide defaults for programs built on the engine; call first thing in `main`, while
/// no other thread exists (it sets environment variables).
///
/// Polars' thread pool is kept to one thread unless `POLARS_MAX_THREADS` is set: the engine's
/// polars work is many small frames (one per participant and type), and an idle pool spinning
/// in `sched_yield` took CPU away from the downloads (and, on a small machine, from the
/// server).
pub fn init_process_defaults() {
    if std::env::var_os("POLARS_MAX_THREADS").is_none() {
        std::env::set_var("POLARS_MAX_THREADS", "1");
    }
}
