//! The engine's integration tests in one binary (one link of polars, axum and the sandbox instead
//! of one per file). Each module is a family of scenarios, each test is named after what it
//! proves; `common` holds the helpers (the demo accounts and look-ups shared with the CLI and app
//! tests live in `jhe_sandbox::demo`). Run one family with e.g.
//! `cargo test -p jhe-engine --test engine hostile_server::`.

mod common;
mod golden_support;

mod analysis_metrics;
mod checking_quality;
mod connecting;
mod deidentified_exports;
mod encrypted_exports;
mod export_roundtrip;
mod exporting;
mod fhir_fast_path;
mod files_cannot_hurt;
mod golden_compat;
mod golden_frames;
mod golden_live_python;
mod golden_sandbox;
mod golden_sources;
mod hostile_server;
mod partitioned_exports;
mod reading_back;
mod signing_in;
mod sleep_and_temperature_types;
mod syncing;
