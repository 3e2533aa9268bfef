//! What the JHE Admin API returns, as the running server spells it (camelCase), lenient about
//! missing fields. Serialised back out (for the UI and `--json`) with the same names.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// `GET /api/v1/users/profile`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Profile {
    pub id: u64,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `practitioner` or `patient`.
    pub user_type: String,
    pub is_superuser: bool,
    pub patient: Option<Value>,
}

impl Profile {
    pub fn is_patient(&self) -> bool {
        self.user_type.eq_ignore_ascii_case("patient")
            || self.patient.as_ref().is_some_and(|p| !p.is_null())
    }

    /// "First Last <email>", or what is there.
    pub fn display_name(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        match (&self.email, name.is_empty()) {
            (Some(e), true) => e.clone(),
            (Some(e), false) => format!("{name} <{e}>"),
            (None, false) => name,
            (None, true) => format!("user {}", self.id),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Organization {
    pub id: u64,
    pub name: String,
    /// `edu`, `team`, `laboratory`, `prov`, `dept`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub part_of: Option<u64>,
    /// `manager`, `member`, `viewer`, `super_user` or none.
    pub current_user_role: Option<String>,
}

/// A study's organization: an object in most places, a bare id in some.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OrgRef {
    pub id: u64,
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for OrgRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(match v {
            Value::Number(n) => OrgRef {
                id: n.as_u64().unwrap_or_default(),
                name: None,
            },
            Value::Object(o) => OrgRef {
                id: o.get("id").and_then(Value::as_u64).unwrap_or_default(),
                name: o.get("name").and_then(Value::as_str).map(str::to_string),
            },
            _ => OrgRef::default(),
        })
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Study {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub organization: OrgRef,
    pub icon_url: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Identifier {
    pub id: Option<u64>,
    pub system: Option<String>,
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Patient {
    pub id: u64,
    pub jhe_user_id: Option<u64>,
    pub identifiers: Vec<Identifier>,
    pub name_family: Option<String>,
    pub name_given: Option<String>,
    pub birth_date: Option<String>,
    pub telecom_phone: Option<String>,
    pub telecom_email: Option<String>,
    pub organizations: Vec<Organization>,
}

impl Patient {
    pub fn display_name(&self) -> String {
        let n = [self.name_given.as_deref(), self.name_family.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if n.is_empty() {
            format!("patient {}", self.id)
        } else {
            n
        }
    }
}

/// A data type ("scope"): `{id, codingSystem, codingCode, text}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CodeableConcept {
    pub id: u64,
    pub coding_system: String,
    pub coding_code: String,
    pub text: Option<String>,
}

impl CodeableConcept {
    /// `system|code`, the FHIR token form.
    pub fn token(&self) -> String {
        format!("{}|{}", self.coding_system, self.coding_code)
    }
}

/// `GET /api/v1/studies/{id}/scope_requests` item.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ScopeRequest {
    pub id: u64,
    pub scope_code: CodeableConcept,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DataSource {
    pub id: u64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub supported_scopes: Vec<CodeableConcept>,
}

/// `GET /api/v1/studies/{id}/data_sources` item.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StudyDataSource {
    pub id: u64,
    pub data_source: DataSource,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ScopeConsent {
    pub code: CodeableConcept,
    /// `None` while pending.
    pub consented: Option<bool>,
    pub consented_time: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StudyConsents {
    pub id: u64,
    pub name: String,
    #[serde(alias = "pendingScopeConsents")]
    pub scope_consents: Vec<ScopeConsent>,
}

/// `GET /api/v1/patients/{id}/consents` (never with `reset=true`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PatientConsents {
    pub consolidated_consented_scopes: Vec<CodeableConcept>,
    pub studies_pending_consent: Vec<StudyConsents>,
    pub studies: Vec<StudyConsents>,
}

/// Consent of one patient to one type in one study.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Consented,
    Declined,
    /// Requested by the study, not answered yet.
    Pending,
    /// The study does not appear in the patient's consents for this type.
    Unknown,
    /// The server does not let this user see the participant's consents (403/404).
    NotVisible,
}

impl PatientConsents {
    /// The consent state for `coding_code` in `study_id`.
    pub fn state(&self, study_id: u64, coding_system: &str, coding_code: &str) -> ConsentState {
        let find = |list: &[StudyConsents]| {
            list.iter()
                .filter(|s| s.id == study_id)
                .flat_map(|s| s.scope_consents.iter())
                .find(|c| {
                    c.code.coding_code == coding_code && c.code.coding_system == coding_system
                })
                .cloned()
        };
        if let Some(c) = find(&self.studies) {
            return match c.consented {
                Some(true) => ConsentState::Consented,
                Some(false) => ConsentState::Declined,
                None => ConsentState::Pending,
            };
        }
        if find(&self.studies_pending_consent).is_some() {
            return ConsentState::Pending;
        }
        ConsentState::Unknown
    }
}

/// An Admin API page: `{count, next, previous, results}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Page<T> {
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
}

/// A FHIR searchset Bundle (only what a client walks).
#[derive(Clone, Debug, Deserialize)]
pub struct Bundle {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub entry: Vec<BundleEntry>,
    #[serde(default)]
    pub link: Vec<BundleLink>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct BundleEntry {
    #[serde(default)]
    pub resource: Value,
}

#[derive(Clone, Debug, Deserialize)]
pub struct BundleLink {
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub url: String,
}

impl Bundle {
    pub fn next(&self) -> Option<&str> {
        self.link
            .iter()
            .find(|l| l.relation == "next")
            .map(|l| l.url.as_str())
            .filter(|u| !u.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_shapes_parse() {
        let s: Study = serde_json::from_str(
            r#"{"id":30006,"name":"CGM","description":null,"organization":{"id":20001,"name":"P","type":"edu"},"iconUrl":null}"#,
        )
        .unwrap_or_default();
        assert_eq!(s.organization.id, 20001);
        let s: Study =
            serde_json::from_str(r#"{"id":1,"name":"x","organization":20003}"#).unwrap_or_default();
        assert_eq!(s.organization.id, 20003);
        let c: PatientConsents = serde_json::from_str(
            r#"{"studies":[{"id":30001,"name":"x","scopeConsents":[{"code":{"id":50002,"codingSystem":"s","codingCode":"bp"},"consented":false,"consentedTime":null}]}],
                "studiesPendingConsent":[{"id":30002,"name":"y","pendingScopeConsents":[{"code":{"id":50002,"codingSystem":"s","codingCode":"bp"},"consented":null}]}]}"#,
        )
        .unwrap_or_default();
        assert_eq!(c.state(30001, "s", "bp"), ConsentState::Declined);
        assert_eq!(c.state(30002, "s", "bp"), ConsentState::Pending);
        assert_eq!(c.state(30003, "s", "bp"), ConsentState::Unknown);
    }
}
