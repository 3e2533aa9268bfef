//! Builds the reference world: JHE's seed organizations, users, patients, scopes, data sources,
//! applications, studies and consents, plus the demo study's participants (names, identifiers,
//! pending and declined consents), deterministic for a seed.
//!
//! The parts are built by job: `catalog` (scopes, data sources, questionnaire answers), `people`
//! (organizations, users, memberships, patients), `apps` (OAuth applications and API keys) and
//! `studies` (studies, their links and enrolments, consents).

mod apps;
mod catalog;
mod people;
mod studies;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use catalog::scope_id_for_kind;

use super::{DemoParticipant, NextIds, World};

/// `last_updated` (and `created`, `time`) of every seeded record.
const TS_SEED: &str = "2026-01-05T09:00:00.000000Z";

fn seeded() -> String {
    TS_SEED.to_string()
}

/// Ids handed out one after another from 1 (scope requests, study links, enrolments, consents,
/// practitioner clients).
#[derive(Default)]
struct Seq(u32);

impl Seq {
    fn next(&mut self) -> u32 {
        self.0 += 1;
        self.0
    }
    /// The id the next record made at run time gets.
    fn following(&self) -> u32 {
        self.0 + 1
    }
}

impl World {
    /// Builds the reference world with `demo_patients` participants in the demo study 30006
    /// (the reference server has 20). Keys and names are deterministic for a given `seed`.
    pub fn reference(seed: u64, demo_patients: u32) -> (World, Vec<DemoParticipant>) {
        // One generator, drawn in this order: patients' phones, extra demo people, app secrets.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05ee_d0f3_ea1d);
        let people = people::people(&mut rng, seed, demo_patients);
        let apps = apps::apps(&mut rng, &people.users);
        let studies = studies::studies(demo_patients);
        let consents = studies::consents(demo_patients);
        let next_ids = NextIds {
            scope_request: studies.scope_requests.following(),
            consent: consents.ids.following(),
            app: apps.next_pk,
            practitioner_client: apps.practitioner_clients.following(),
            study_patient: studies.enrolments.following(),
        };
        (
            World {
                site_url_placeholder: (),
                orgs: people::orgs(),
                users: people.users,
                memberships: people::memberships(),
                patients: people.patients,
                scopes: catalog::scopes(),
                data_sources: catalog::data_sources(),
                studies: studies.studies,
                consents: consents.consents,
                apps: apps.apps,
                aux: catalog::aux(),
                next_ids,
            },
            consents.demo,
        )
    }
}
