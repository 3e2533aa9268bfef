//! placeholder

// Data half: OMH decoding, tidy rows and DataFrames, export.
pub mod chart;
pub mod export;
pub mod frame;
pub mod omh;

// Network half: server checks, sign-in, HTTP with retries, the JHE APIs, fetching, jobs.
pub mod api;
pub mod auth;
pub mod error;
pub mod fetch;
pub mod http;
pub mod job;
pub mod models;
pub mod server;
