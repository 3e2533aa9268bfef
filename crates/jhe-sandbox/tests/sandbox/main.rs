//! The sandbox's integration tests, in one test binary (one link instead of five): the captured
//! contract replayed, sign-in, client scenarios, generated data against the schemas, and the
//! hostile-server modes. Shared helpers are in `common`.

mod common;
mod contract;
mod generated_data;
mod hostile;
mod oauth;
mod scenarios;
