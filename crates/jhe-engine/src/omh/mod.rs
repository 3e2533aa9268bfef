//! Open mHealth (OMH) decoding: from the two wire shapes JHE serves (FHIR `Observation`
//! resources with a base64 OMH attachment, and Admin API `results[]` items with decoded
//! `omhData`) to one [`DecodedObservation`] per observation, with parsed times, header facts and
//! typed, unit-normalised values for the clear views.
//!
//! Both sources give identical decoded records for the same observation, except for
//! `Observation.identifier`, which only the FHIR API returns ([`Envelope::identifiers`]).
//!
//! The tidy "compat" rows (column-for-column what `jupyterhealth_client.tidy_observation`
//! produces) are in [`compat`]; the typed DataFrames in [`crate::frame`].

pub mod compat;
mod decode;
pub(crate) mod fast;
mod record;
mod source;
pub mod time;
pub mod types;
pub mod units;

pub use self::decode::{decode, decode_owned};
pub use self::fast::{from_admin_json, from_fhir_json};
pub(crate) use self::fast::{not_text, read_page_fast, PageText};
pub use self::record::*;
pub use self::source::{from_admin_result, from_admin_result_owned, from_fhir_resource};
pub use self::types::{DataType, Field, FieldRef, TypeSpec};

/// `code.coding[].system` of OMH codes.
pub const OMH_SYSTEM: &str = "https://w3id.org/openmhealth";
/// `meta.source` of every JHE FHIR resource.
pub const JHE_SOURCE: &str = "https://jupyterhealth.org/jhe";
/// `subject.identifier.system` of JHE FHIR observations (the value is the patient's JHE user id).
pub const JHE_USER_ID_SYSTEM: &str = "https://jupyterhealth.org/fhir/identifier/jhe-user-id";
