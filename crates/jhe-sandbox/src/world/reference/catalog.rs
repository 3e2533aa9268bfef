//! The reference server's fixed tables: scope codes (and which one each generated type uploads
//! under), data sources with their supported scopes, and the seeded QuestionnaireResponses.

use super::seeded;
use crate::generate::{Kind, IEEE_SYSTEM};
use crate::world::{AuxRecord, DataSource, Scope, OMH_SYSTEM};

pub(super) fn scopes() -> Vec<Scope> {
    let s = |id, system, code, text| Scope {
        id,
        system,
        code,
        text,
    };
    vec![
        s(50001, OMH_SYSTEM, "omh:blood-glucose:4.0", "Blood glucose"),
        s(
            50002,
            OMH_SYSTEM,
            "omh:blood-pressure:4.0",
            "Blood pressure",
        ),
        s(
            50003,
            OMH_SYSTEM,
            "omh:body-temperature:4.0",
            "Body temperature",
        ),
        s(50004, OMH_SYSTEM, "omh:heart-rate:2.0", "Heart Rate"),
        s(
            50005,
            OMH_SYSTEM,
            "omh:oxygen-saturation:2.0",
            "Oxygen saturation",
        ),
        s(
            50006,
            OMH_SYSTEM,
            "omh:respiratory-rate:2.0",
            "Respiratory rate",
        ),
        s(50007, OMH_SYSTEM, "omh:rr-interval:1.0", "RR Interval"),
        s(50008, OMH_SYSTEM, "omh:body-weight:3.0", "Body weight"),
        s(
            50009,
            OMH_SYSTEM,
            "omh:forced-vital-capacity:1.0",
            "Forced vital capacity",
        ),
        s(
            50010,
            OMH_SYSTEM,
            "omh:forced-expiratory-volume-1-second:1.0",
            "Forced expiratory volume 1 second",
        ),
        s(
            50011,
            "http://hl7.org/fhir/resource-types",
            "QuestionnaireResponse",
            "FHIR QuestionnaireResponse",
        ),
        s(
            50012,
            OMH_SYSTEM,
            "omh:physical-activity:1.2",
            "Physical activity",
        ),
        s(50013, OMH_SYSTEM, "omh:step-count:3.0", "Step count"),
        s(
            50014,
            IEEE_SYSTEM,
            "ieee:sleep-stage-summary:1.0",
            "Sleep stage summary",
        ),
        s(50015, OMH_SYSTEM, "omh:sleep-episode:1.1", "Sleep episode"),
        s(
            50016,
            OMH_SYSTEM,
            "omh:sleep-duration:2.0",
            "Sleep duration",
        ),
    ]
}

/// The scope (CodeableConcept) a generated kind is stored and rendered under: its system and
/// code are the kind's ([`Kind::system`], [`Kind::code`]).
pub fn scope_id_for_kind(kind: Kind) -> u32 {
    match kind {
        Kind::BloodGlucose => 50001,
        Kind::BloodPressure => 50002,
        Kind::BodyTemperature => 50003,
        Kind::HeartRate => 50004,
        Kind::OxygenSaturation => 50005,
        Kind::RespiratoryRate => 50006,
        Kind::BodyWeight => 50008,
        Kind::PhysicalActivity => 50012,
        Kind::StepCount => 50013,
        Kind::SleepDuration => 50016,
        Kind::SleepStageSummary => 50014,
        Kind::SleepEpisode => 50015,
    }
}

pub(super) fn data_sources() -> Vec<DataSource> {
    let ds = |id, name, kind, scopes| DataSource {
        id,
        name,
        kind,
        scopes,
        last_updated: seeded(),
    };
    vec![
        ds(
            70001,
            "CareX",
            "personal_device",
            vec![(1, 50002), (2, 50004)],
        ),
        ds(70002, "Dexcom", "personal_device", vec![(3, 50001)]),
        ds(
            70003,
            "iHealth",
            "personal_device",
            vec![(4, 50003), (5, 50004)],
        ),
        ds(70004, "Oura", "personal_device", vec![(6, 50004)]),
        ds(70005, "Questionnaire", "patient_app", vec![(7, 50011)]),
        ds(70006, "Patient Access API", "medical_device", vec![]),
    ]
}

/// The reference server's QuestionnaireResponses: (id, patient, patient FHIR id, FHIR source,
/// authored, answers for cough, dyspnea and fatigue severity).
type AuxRow = (&'static str, u32, &'static str, u32, &'static str, [i64; 3]);
const AUX_QR: [AuxRow; 7] = [
    (
        "c3d4e5f6-a1b2-4c3d-8e5f-6a1b2c3d4e5f",
        40001,
        "a1b2c3d4e5f6",
        90001,
        "2025-10-01",
        [42, 18, 65],
    ),
    (
        "d4e5f6a1-b2c3-4d4e-9f6a-1b2c3d4e5f6a",
        40001,
        "a1b2c3d4e5f6",
        90001,
        "2025-10-08",
        [55, 30, 72],
    ),
    (
        "e5f6a1b2-c3d4-4e5f-8a1b-2c3d4e5f6a1b",
        40001,
        "a1b2c3d4e5f6",
        90001,
        "2025-10-15",
        [38, 22, 48],
    ),
    (
        "f6a1b2c3-d4e5-4f6a-9b2c-3d4e5f6a1b2c",
        40002,
        "b2c3d4e5f6a1",
        90002,
        "2025-10-03",
        [60, 45, 80],
    ),
    (
        "a2b3c4d5-e6f7-4a2b-8c4d-5e6f7a2b3c4d",
        40002,
        "b2c3d4e5f6a1",
        90002,
        "2025-10-10",
        [50, 35, 70],
    ),
    (
        "b3c4d5e6-f7a2-4b3c-9d5e-6f7a2b3c4d5e",
        40002,
        "b2c3d4e5f6a1",
        90002,
        "2025-10-17",
        [25, 10, 40],
    ),
    (
        "c4d5e6f7-a2b3-4c4d-8e6f-7a2b3c4d5e6f",
        40002,
        "b2c3d4e5f6a1",
        90002,
        "2025-10-24",
        [70, 55, 90],
    ),
];

pub(super) fn aux() -> Vec<AuxRecord> {
    AUX_QR
        .iter()
        .map(
            |&(id, patient, patient_fhir_id, source, authored, answers)| AuxRecord {
                id: id.to_string(),
                patient,
                patient_fhir_id,
                source,
                authored,
                answers,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_scope_with_its_system_and_code() {
        let scopes = scopes();
        for k in Kind::ALL {
            let id = scope_id_for_kind(k);
            let s = scopes.iter().find(|s| s.id == id);
            assert_eq!(
                s.map(|s| (s.system, s.code)),
                Some((k.system(), k.code())),
                "{k:?}"
            );
        }
        let sss = scope_id_for_kind(Kind::SleepStageSummary);
        assert_eq!(sss, 50014);
        assert_eq!(
            Kind::SleepStageSummary.system(),
            "https://w3id.org/ieee1752"
        );
        assert_eq!(scope_id_for_kind(Kind::SleepEpisode), 50015);
        assert_eq!(Kind::SleepEpisode.system(), OMH_SYSTEM);
    }
}
