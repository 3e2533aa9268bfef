//! The reference world's studies with their scope requests, data sources, clients and enrolled
//! patients, and the consents: the seed patients', then the demo participants' (most consented,
//! some pending or declined).

use super::{scope_id_for_kind, seeded, Seq};
use crate::generate::Kind;
use crate::world::{Consent, DemoParticipant, Study, DEMO_ORG, DEMO_STUDY};

/// The demo study asks for every generated type except body temperature, which some devices
/// upload anyway (out-of-scope data, as real studies have).
fn demo_kinds() -> Vec<Kind> {
    Kind::ALL
        .iter()
        .copied()
        .filter(|k| *k != Kind::BodyTemperature)
        .collect()
}

pub(super) struct Studies {
    pub studies: Vec<Study>,
    pub scope_requests: Seq,
    pub enrolments: Seq,
}

/// Studies 30001–30005 and the demo study, linked and enrolled; `demo_patients` participants
/// (40006..) in the demo study.
pub(super) fn studies(demo_patients: u32) -> Studies {
    let study = |id, name: &str, desc: &str, org| Study {
        id,
        name: name.to_string(),
        description: desc.to_string(),
        org,
        last_updated: seeded(),
        scope_requests: vec![],
        data_sources: vec![],
        clients: vec![],
        patients: vec![],
    };
    let mut studies = vec![
        study(
            30001,
            "Lifespan Study on BP & HR",
            "Blood Pressure & Heart Rate",
            20003,
        ),
        study(30002, "Lifespan Study on BP", "Blood Pressure", 20003),
        study(30003, "Cardiology Div Study on BGL", "Blood Glucose", 20006),
        study(
            30004,
            "Nep Pulse Lab Study on BT",
            "Body Temperature",
            20007,
        ),
        study(
            30005,
            "Cosmic Cardio Lab Study on O2",
            "Oxygen Saturation",
            20008,
        ),
        study(
            DEMO_STUDY,
            "CGM & Wearables Demo",
            "Synthetic CGM + Oura wearable demo data.",
            DEMO_ORG,
        ),
    ];
    // (index in `studies`, scope id); Peter's samples added the last four to 30001 in the
    // reference capture.
    let demo_scopes = demo_kinds().into_iter().map(|k| (5, scope_id_for_kind(k)));
    let scope_requests = [
        (0, 50002),
        (0, 50004),
        (0, 50011),
        (1, 50002),
        (1, 50011),
        (2, 50001),
        (3, 50003),
        (4, 50005),
    ]
    .into_iter()
    .chain(demo_scopes)
    .chain([50001, 50008, 50005, 50013].map(|scope| (0, scope)));
    let mut sr = Seq::default();
    for (i, scope) in scope_requests {
        studies[i].scope_requests.push((sr.next(), scope));
    }
    // (index in `studies`, data source id)
    let data_sources = [
        (0, 70001),
        (0, 70005),
        (1, 70001),
        (1, 70005),
        (3, 70003),
        (2, 70002),
        (5, 70002),
        (5, 70004),
        (5, 70001),
        (5, 70003),
    ];
    let mut link = Seq::default();
    for (i, ds) in data_sources {
        studies[i].data_sources.push((link.next(), ds));
    }
    studies[0].clients = vec![(1, 1), (3, 3)];
    studies[1].clients = vec![(2, 1)];
    studies[3].clients = vec![(4, 2)];
    studies[2].clients = vec![(5, 2)];
    studies[5].clients = vec![(6, 2)];
    // (index in `studies`, patient id)
    let enrolments = [
        (0, 40001),
        (1, 40001),
        (0, 40002),
        (1, 40002),
        (3, 40003),
        (4, 40004),
        (2, 40005),
        (4, 40005),
    ]
    .into_iter()
    .chain((0..demo_patients).map(|i| (5, 40006 + i)));
    let mut sp = Seq::default();
    for (i, patient) in enrolments {
        studies[i].patients.push((sp.next(), patient));
    }
    Studies {
        studies,
        scope_requests: sr,
        enrolments: sp,
    }
}

pub(super) struct Consents {
    pub consents: Vec<Consent>,
    pub ids: Seq,
    /// What each demo participant consented to (and so has data for).
    pub demo: Vec<DemoParticipant>,
}

/// The seed patients' consents, then the demo participants': most consented to everything;
/// every 7th is still pending for the wearables, every 9th declined blood pressure, and one in
/// 97 declined CGM. Only consented types have data (uploads need consent); a few upload
/// out-of-scope temperature.
pub(super) fn consents(demo_patients: u32) -> Consents {
    let mut consents = Vec::new();
    let mut ids = Seq::default();
    let mut consent = |study, patient, scope, consented| {
        consents.push(Consent {
            id: ids.next(),
            study,
            patient,
            scope,
            consented,
            time: seeded(),
        });
    };
    for scope in [50002, 50004, 50011, 50001, 50008, 50005, 50013] {
        consent(30001, 40001, scope, true);
    }
    for scope in [50002, 50004, 50011] {
        consent(30001, 40002, scope, true);
    }
    for scope in [50002, 50011] {
        consent(30002, 40002, scope, true);
    }
    consent(30004, 40003, 50003, true);
    consent(30005, 40004, 50005, true);
    consent(30003, 40005, 50001, true);
    consent(30005, 40005, 50005, true);

    let demo_kinds = demo_kinds();
    let mut demo = Vec::new();
    for i in 0..demo_patients {
        let pid = 40006 + i;
        let mut kinds = Vec::new();
        for k in &demo_kinds {
            let scope = scope_id_for_kind(*k);
            let pending = i % 7 == 3
                && matches!(
                    k,
                    Kind::SleepDuration | Kind::PhysicalActivity | Kind::RespiratoryRate
                );
            let declined = (i % 9 == 4 && *k == Kind::BloodPressure)
                || (i % 97 == 6 && *k == Kind::BloodGlucose);
            if pending {
                continue;
            }
            consent(DEMO_STUDY, pid, scope, !declined);
            if !declined {
                kinds.push(*k);
            }
        }
        let extra_kinds = if i % 5 == 2 {
            vec![Kind::BodyTemperature]
        } else {
            vec![]
        };
        demo.push(DemoParticipant {
            patient_id: pid,
            kinds,
            extra_kinds,
        });
    }
    Consents {
        consents,
        ids,
        demo,
    }
}
