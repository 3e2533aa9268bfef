//! The fast JSON path: reading JHE's wire JSON without building a `serde_json::Value` tree.
//!
//! * [`resource`]: a FHIR Observation resource or an Admin API item, straight from the page's
//!   text into a [`super::RawObservation`] (strict: anything unusual goes to the tree reader in
//!   [`super::source`], so both always agree);
//! * [`payload`]: the OMH data point, scanned for the fields the engine needs (lenient);
//! * [`text`]: a page body with invalid UTF-8 in some resources, so only those fail.

mod payload;
mod resource;
mod text;

pub(crate) use self::payload::*;
pub(crate) use self::resource::read_page_fast;
pub use self::resource::{from_admin_json, from_fhir_json};
pub(crate) use self::text::{not_text, PageText};
