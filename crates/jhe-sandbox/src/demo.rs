//! The demo world's well-known accounts and study, in one place for the app's demo sign-in, the
//! sandbox's start-up banner and the tests of every crate (engine, CLI, app), with the look-ups
//! they all need: a practitioner's API key and a study's observation count.

use crate::{Config, SandboxInfo};

/// Study manager in every demo organization (the app's demo exchange signs in as her).
pub const MARY: &str = "manager_mary@example.com";
/// Practitioner in three organizations.
pub const TOM: &str = "three_org_tom@example.com";
/// A participant (patient account).
pub const PETER: &str = "ll_patient_peter@example.com";
/// The demo study ("CGM & Wearables Demo").
pub const DEMO_STUDY: u64 = crate::world::DEMO_STUDY as u64;

impl SandboxInfo {
    /// The API key of the practitioner with this e-mail address.
    pub fn api_key(&self, email: &str) -> Option<&str> {
        self.practitioners
            .iter()
            .find(|p| p.email == email)
            .map(|p| p.api_key.as_str())
    }

    /// The observations the study filter returns for the whole study.
    pub fn study_observations(&self, study: u64) -> Option<u64> {
        self.studies
            .iter()
            .find(|s| u64::from(s.id) == study)
            .map(|s| s.observations as u64)
    }
}

impl Config {
    /// A world small enough for a test: 3 participants in the demo study, 2 days of data.
    pub fn small() -> Config {
        Config {
            patients: 3,
            days: 2,
            ..Default::default()
        }
    }
}
