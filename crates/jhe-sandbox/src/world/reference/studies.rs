//! The reference world's studies with their scope requests, data sources, clients and enrolled
//! patients, and the consents: the seed patients', then the demo participants' (most consented,
//! some pending or declined).

use super::{scope_id_for_kind, seeded, Seq};
use crate::generate::Kind;
use crate::world::{Consent, DemoParticipant, Study, DEMO_ORG, DEMO_STUDY};

/// The demo study asks for every generated type except body temperature, which some devices
/// upload anyway (out-of-scope data, as real studies have): the reference demo's CGM, wearable
/// and sleep types (sleep duration, the OMH sleep episode and the IEEE sleep stage summary),
/// plus blood pressure and body weight.
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
    // reference capture. The demo study's sleep episode and stage summary come after them, so
    // the reference's scope-request ids stay as captured.
    let later = |k: &Kind| matches!(k, Kind::SleepEpisode | Kind::SleepStageSummary);
    let demo_scopes = demo_kinds()
        .into_iter()
        .filter(|k| !later(k))
        .map(|k| (5, scope_id_for_kind(k)));
    let later_demo_scopes = demo_kinds()
        .into_iter()
        .filter(later)
        .map(|k| (5, scope_id_for_kind(k)));
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
    .chain([50001, 50008, 50005, 50013].map(|scope| (0, scope)))
    .chain(later_demo_scopes);
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

/// How a demo participant stopped uploading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stall {
    /// Their data ends this many days before the data set's end.
    DaysAgo(u32),
    /// Consented, never uploaded anything.
    Never,
}

/// Whether the `i`-th demo participant (0-based) of a study of `n` stopped uploading: in a
/// study of 20 or more, the 9th, 12th, 15th and 19th of every 20 (5, 12 and 30 days ago, and
/// never). Smaller worlds (tests) keep everyone uploading.
pub(super) fn stalled(i: u32, n: u32) -> Option<Stall> {
    if n < 20 {
        return None;
    }
    match i % 20 {
        8 => Some(Stall::DaysAgo(5)),
        11 => Some(Stall::DaysAgo(12)),
        14 => Some(Stall::DaysAgo(30)),
        18 => Some(Stall::Never),
        _ => None,
    }
}

pub(super) struct Consents {
    pub consents: Vec<Consent>,
    pub ids: Seq,
    /// What each demo participant consented to (and so has data for).
    pub demo: Vec<DemoParticipant>,
}

/// The seed patients' consents, then the demo participants': most consented to everything;
/// every 7th is still pending for the wearables (sleep, activity, respiratory rate), every 9th
/// declined blood pressure, and one in 97 declined CGM. Only consented types have data (uploads
/// need consent); a few upload out-of-scope temperature. In a study of 20 or more, of every 20
/// participants one stopped uploading 5 days before the data's end, one 12 and one 30 days
/// before, and one consented to everything but never uploaded (see [`stalled`]), so the demo
/// has someone to nudge.
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
                    Kind::SleepDuration
                        | Kind::SleepEpisode
                        | Kind::SleepStageSummary
                        | Kind::PhysicalActivity
                        | Kind::RespiratoryRate
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
        let stall = stalled(i, demo_patients);
        let mut extra_kinds = if i % 5 == 2 {
            vec![Kind::BodyTemperature]
        } else {
            vec![]
        };
        if stall == Some(Stall::Never) {
            kinds.clear();
            extra_kinds.clear();
        }
        demo.push(DemoParticipant {
            patient_id: pid,
            kinds,
            extra_kinds,
            stopped_days_ago: match stall {
                Some(Stall::DaysAgo(d)) => d,
                _ => 0,
            },
        });
    }
    Consents {
        consents,
        ids,
        demo,
    }
}
