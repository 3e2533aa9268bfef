//! The reference world: organizations, people, studies, scopes, data sources, consents and OAuth
//! applications, with the ids the real JHE `seed` + `seed_rich_demo` commands give them (see
//! `tests/fixtures/jhe-contract/`), so captured requests replay against the sandbox verbatim.
//!
//! This module holds the records and the lookups JHE's authorization rules use; `reference`
//! builds the reference world.

mod reference;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub use reference::scope_id_for_kind;

use crate::generate::Kind;

pub const OMH_SYSTEM: &str = "https://w3id.org/openmhealth";

pub const DEMO_STUDY: u32 = 30006;

pub const DEMO_ORG: u32 = 20001;

pub const DESKTOP_CLIENT_ID: &str = "jhe-desktop";

pub const PASSWORD: &str = "Jhe1234!";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Manager,
    Member,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Org {
    pub id: u32,
    pub name: String,
    pub kind: &'static str,
    pub part_of: Option<u32>,
    pub last_updated: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserType {
    Practitioner,
    Patient,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: u32,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub is_superuser: bool,
    pub practitioner_id: Option<u32>,
    pub patient_id: Option<u32>,
    pub current_org: Option<u32>,
    pub current_study: Option<u32>,
    pub last_updated: String,
}

#[derive(Clone, Debug)]
pub struct Identifier {
    pub id: u32,
    pub system: String,
    pub value: String,
}

#[derive(Clone, Debug)]
pub struct Patient {
    pub id: u32,
    pub jhe_user_id: u32,
    pub identifiers: Vec<Identifier>,
    pub name_family: String,
    pub name_given: String,
    pub birth_date: String,
    pub phone: String,
    pub email: String,
    pub orgs: Vec<u32>,
    pub last_updated: String,
}

#[derive(Clone, Debug)]
pub struct Scope {
    pub id: u32,
    pub system: &'static str,
    pub code: &'static str,
    pub text: &'static str,
}

#[derive(Clone, Debug)]
pub struct DataSource {
    pub id: u32,
    pub name: &'static str,
    pub kind: &'static str,
    /// (link id, scope id)
    pub scopes: Vec<(u32, u32)>,
    pub last_updated: String,
}

#[derive(Clone, Debug)]
pub struct Study {
    pub id: u32,
    pub name: String,
    pub description: String,
    pub org: u32,
    pub last_updated: String,
    /// (scope request id, scope id)
    pub scope_requests: Vec<(u32, u32)>,
    /// (link id, data source id)
    pub data_sources: Vec<(u32, u32)>,
    /// (link id, application pk)
    pub clients: Vec<(u32, u32)>,
    /// (study-patient id, patient id)
    pub patients: Vec<(u32, u32)>,
}

#[derive(Clone, Debug)]
pub struct Consent {
    pub id: u32,
    pub study: u32,
    pub patient: u32,
    pub scope: u32,
    pub consented: bool,
    pub time: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    ClientCredentials,
}

#[derive(Clone, Debug)]
pub struct App {
    pub pk: u32,
    pub client_id: String,
    /// Plain secret (confidential clients only). JHE stores practitioner secrets unhashed.
    pub client_secret: Option<String>,
    pub name: String,
    pub public: bool,
    pub grant: Grant,
    pub redirect_uris: Vec<String>,
    /// Owner (practitioner API keys act as this user).
    pub user_id: Option<u32>,
    pub invitation_url: Option<String>,
    pub created: String,
    /// For practitioner clients: the label shown in the UI.
    pub label: Option<String>,
    pub practitioner_client_id: Option<u32>,
}

impl App {
    pub fn api_key(&self) -> Option<String> {
        use base64::Engine;
        let secret = self.client_secret.as_ref()?;
        Some(
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.client_id, secret)),
        )
    }
}

#[derive(Clone, Debug)]
pub struct AuxRecord {
    pub id: String,
    pub patient: u32,
    pub patient_fhir_id: &'static str,
    pub source: u32,
    pub authored: &'static str,
    pub answers: [i64; 3],
}

/// Everything but observations and tokens.
#[derive(Clone, Debug)]
pub struct World {
    pub site_url_placeholder: (),
    pub orgs: Vec<Org>,
    pub users: Vec<User>,
    /// (user id, org id, role)
    pub memberships: Vec<(u32, u32, Role)>,
    pub patients: Vec<Patient>,
    pub scopes: Vec<Scope>,
    pub data_sources: Vec<DataSource>,
    pub studies: Vec<Study>,
    pub consents: Vec<Consent>,
    pub apps: Vec<App>,
    pub aux: Vec<AuxRecord>,
    pub next_ids: NextIds,
}

#[derive(Clone, Debug, Default)]
pub struct NextIds {
    pub scope_request: u32,
    pub consent: u32,
    pub app: u32,
    pub practitioner_client: u32,
    pub study_patient: u32,
}

/// What kind of patient a demo participant is; drives which types they have data for and how
/// their consents look.
#[derive(Clone, Debug)]
pub struct DemoParticipant {
    pub patient_id: u32,
    pub kinds: Vec<Kind>,
    pub extra_kinds: Vec<Kind>,
    /// Days before the data's end that this participant's data (and uploads) stop: 0 for one
    /// who still uploads.
    pub stopped_days_ago: u32,
}

/// Random secrets like DOT's: `len` characters of [A-Za-z0-9].
pub fn alnum(rng: &mut ChaCha8Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl World {
    pub fn org(&self, id: u32) -> Option<&Org> {
        self.orgs.iter().find(|o| o.id == id)
    }
    pub fn user(&self, id: u32) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }
    pub fn patient(&self, id: u32) -> Option<&Patient> {
        self.patients.iter().find(|p| p.id == id)
    }
    pub fn study(&self, id: u32) -> Option<&Study> {
        self.studies.iter().find(|s| s.id == id)
    }
    pub fn scope(&self, id: u32) -> Option<&Scope> {
        self.scopes.iter().find(|s| s.id == id)
    }
    pub fn scope_by_code(&self, system: &str, code: &str) -> Option<&Scope> {
        self.scopes
            .iter()
            .find(|s| s.system == system && s.code == code)
    }
    pub fn data_source(&self, id: u32) -> Option<&DataSource> {
        self.data_sources.iter().find(|d| d.id == id)
    }
    pub fn app_by_client_id(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }
    pub fn app(&self, pk: u32) -> Option<&App> {
        self.apps.iter().find(|a| a.pk == pk)
    }

    /// The caller's direct memberships (JHE does not inherit down the tree).
    pub fn member_orgs(&self, user_id: u32) -> Vec<u32> {
        self.memberships
            .iter()
            .filter(|m| m.0 == user_id)
            .map(|m| m.1)
            .collect()
    }
    pub fn role(&self, user_id: u32, org: u32) -> Option<Role> {
        self.memberships
            .iter()
            .find(|m| m.0 == user_id && m.1 == org)
            .map(|m| m.2)
    }
    /// A practitioner sees a patient when both are direct members of one organization.
    pub fn can_see_patient(&self, user_id: u32, patient: &Patient) -> bool {
        let orgs = self.member_orgs(user_id);
        patient.orgs.iter().any(|o| orgs.contains(o))
    }
    pub fn can_see_study(&self, user_id: u32, study: &Study) -> bool {
        self.member_orgs(user_id).contains(&study.org)
    }
    pub fn study_scope_ids(&self, study: &Study) -> Vec<u32> {
        study.scope_requests.iter().map(|(_, s)| *s).collect()
    }
    pub fn patient_studies(&self, patient: u32) -> Vec<&Study> {
        self.studies
            .iter()
            .filter(|s| s.patients.iter().any(|(_, p)| *p == patient))
            .collect()
    }
    /// A type may be uploaded for a patient once it is consented in any study.
    pub fn consented_anywhere(&self, patient: u32, scope: u32) -> bool {
        self.consents
            .iter()
            .any(|c| c.patient == patient && c.scope == scope && c.consented)
    }
    pub fn practitioner_users(&self) -> impl Iterator<Item = &User> {
        self.users
            .iter()
            .filter(|u| u.user_type == UserType::Practitioner && !u.is_superuser)
    }
}
