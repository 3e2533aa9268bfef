//! Builds the reference world: JHE's seed organizations, users, patients, scopes, data sources,
//! applications, studies and consents, plus the demo study's participants (names, identifiers,
//! pending and declined consents), deterministic for a seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

const TS_SEED: &str = "2026-01-05T09:00:00.000000Z";

fn scopes() -> Vec<Scope> {
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
            "https://w3id.org/ieee1752",
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
    }
}

/// The 20 participants of the reference server's rich demo (names as `seed_rich_demo` has them).
const DEMO_PEOPLE: [(&str, &str, &str, &str); 20] = [
    ("Nguyen", "May", "1984-07-11", "265-642-0143"),
    ("Smith", "Olivia", "1976-03-23", "187-554-0198"),
    ("Chen", "Liang", "1948-11-30", "997-576-0102"),
    ("Patel", "Anika", "1989-01-17", "345-233-0170"),
    ("Garcia", "Carlos", "1955-05-04", "609-442-0186"),
    ("Okafor", "Chinelo", "1962-08-19", "435-287-0116"),
    ("Kowalski", "Zofia", "1945-02-14", "399-765-0124"),
    ("Tanaka", "Hiroshi", "1958-10-01", "298-443-0131"),
    ("Abdullah", "Layla", "1973-12-25", "198-619-0149"),
    ("Dubois", "Emile", "1981-06-03", "400-870-0162"),
    ("Singh", "Raj", "1992-09-12", "398-112-0181"),
    ("Martinez", "Sofia", "1967-07-27", "229-998-0108"),
    ("Kim", "Jisoo", "1950-04-20", "988-889-0157"),
    ("Ivanov", "Dmitri", "1983-02-05", "799-443-0129"),
    ("Mbatha", "Sipho", "1979-11-08", "762-112-0140"),
    ("Rossi", "Giulia", "1960-05-30", "772-981-0169"),
    ("Hernandez", "Luis", "1952-03-14", "118-112-0194"),
    ("Yilmaz", "Aylin", "1972-01-01", "388-887-0175"),
    ("Andersson", "Lars", "1988-10-10", "334-874-0111"),
    ("Ali", "Zara", "1947-06-06", "202-555-0188"),
];

const EXTRA_GIVEN: [&str; 24] = [
    "Amara", "Bjorn", "Chiara", "Dev", "Elena", "Farid", "Grace", "Hamid", "Ines", "Jonas",
    "Keiko", "Lucia", "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Samir", "Tove",
    "Umar", "Vera", "Wen", "Yara",
];

const EXTRA_FAMILY: [&str; 24] = [
    "Adeyemi", "Berg", "Costa", "Dlamini", "Eriksen", "Fischer", "Gonzalez", "Haddad", "Ito",
    "Jensen", "Kaur", "Lopez", "Moreau", "Novak", "Olsen", "Petrov", "Quispe", "Reyes", "Sato",
    "Torres", "Usman", "Virtanen", "Wang", "Zhou",
];

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

impl World {
    /// Builds the reference world with `demo_patients` participants in the demo study 30006
    /// (the reference server has 20). Keys and names are deterministic for a given `seed`.
    pub fn reference(seed: u64, demo_patients: u32) -> (World, Vec<DemoParticipant>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05ee_d0f3_ea1d);
        let ts = |s: &str| s.to_string();
        let org = |id, name: &str, kind, part_of| Org {
            id,
            name: name.to_string(),
            kind,
            part_of,
            last_updated: ts(TS_SEED),
        };
        let orgs = vec![
            org(0, "ROOT", "root", None),
            org(20001, "Planetary Research Institute", "edu", Some(0)),
            org(20002, "Saturn School of Data Science", "team", Some(20001)),
            org(20003, "Lifespan Lab", "laboratory", Some(20002)),
            org(20004, "Neptune Health System", "prov", Some(0)),
            org(20005, "Department of Medicine", "dept", Some(20004)),
            org(20006, "Cardiology Division", "dept", Some(20005)),
            org(20007, "Neptunian Pulse Lab", "laboratory", Some(20006)),
            org(20008, "Cosmic Cardio Lab", "laboratory", Some(20006)),
        ];
        let last_names = [
            "Richmond",
            "Willis",
            "Logan",
            "Mckee",
            "Higgins",
            "Johnson",
            "Hale",
            "Gillespie",
            "Barker",
            "Brown",
        ];
        let mut users = Vec::new();
        let mut practitioner_seq = 80001;
        let mut mk_user = |id: u32, email: &str, user_type: UserType, last: &str| {
            let first = email
                .split('@')
                .next()
                .unwrap_or_default()
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    match c.next() {
                        Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                        None => String::new(),
                    }
                })
                .collect::<String>();
            let practitioner_id = if user_type == UserType::Practitioner {
                practitioner_seq += 1;
                Some(practitioner_seq)
            } else {
                None
            };
            User {
                id,
                email: email.to_string(),
                first_name: first,
                last_name: last.to_string(),
                user_type,
                is_superuser: false,
                practitioner_id,
                patient_id: None,
                current_org: None,
                current_study: None,
                last_updated: ts(TS_SEED),
            }
        };
        const PRACTITIONER: UserType = UserType::Practitioner;
        const PATIENT: UserType = UserType::Patient;
        let mut admin = mk_user(10001, "admin@example.com", PRACTITIONER, "Admin");
        admin.is_superuser = true;
        admin.first_name = String::new();
        admin.last_name = String::new();
        users.push(admin);
        users.push(mk_user(
            10002,
            "manager_mary@example.com",
            PRACTITIONER,
            last_names[0],
        ));
        users.push(mk_user(
            10003,
            "member_megan@example.com",
            PRACTITIONER,
            last_names[1],
        ));
        users.push(mk_user(
            10004,
            "viewer_victor@example.com",
            PRACTITIONER,
            last_names[2],
        ));
        users.push(mk_user(
            10005,
            "three_org_tom@example.com",
            PRACTITIONER,
            last_names[3],
        ));
        users.push(mk_user(
            10006,
            "ll_patient_peter@example.com",
            PATIENT,
            last_names[4],
        ));
        users.push(mk_user(
            10007,
            "ll_patient_pamela@example.com",
            PATIENT,
            last_names[5],
        ));
        users.push(mk_user(
            10008,
            "manager_mark@example.com",
            PRACTITIONER,
            last_names[6],
        ));
        users.push(mk_user(
            10009,
            "npl_patient_percy@example.com",
            PATIENT,
            last_names[7],
        ));
        users.push(mk_user(
            10010,
            "ccl_patient_paul@example.com",
            PATIENT,
            last_names[8],
        ));
        users.push(mk_user(
            10011,
            "ccl_cardio_patient_pat@example.com",
            PATIENT,
            last_names[9],
        ));
        for (uid, org, study) in [
            (10002, 20003, 30001),
            (10003, 20003, 30001),
            (10004, 20003, 30001),
            (10008, 20007, 30004),
            (10005, 20008, 30005),
        ] {
            if let Some(u) = users.iter_mut().find(|u| u.id == uid) {
                u.current_org = Some(org);
                u.current_study = Some(study);
            }
        }
        use Role::{Manager, Member, Viewer};
        let mut memberships = vec![
            (10002, 20001, Manager),
            (10002, 20002, Manager),
            (10002, 20003, Manager),
            (10003, 20003, Member),
            (10004, 20003, Viewer),
            (10005, 20003, Viewer),
            (10008, 20004, Manager),
            (10008, 20005, Manager),
            (10008, 20006, Manager),
            (10008, 20007, Manager),
            (10005, 20007, Member),
            (10005, 20008, Manager),
        ];
        // The desktop app's coordinators work on the demo study too.
        memberships.push((10003, 20001, Member));
        memberships.push((10004, 20001, Viewer));

        let phone = |rng: &mut ChaCha8Rng| {
            format!(
                "+1-{:03}-{:03}-{:04}",
                rng.random_range(100..999),
                rng.random_range(100..999),
                rng.random_range(0..9999)
            )
        };
        let mut patients = Vec::new();
        let base_patients = [
            (40001, 10006, vec![20003], "1995-12-20"),
            (40002, 10007, vec![20003], "1996-12-15"),
            (40003, 10009, vec![20007], "1990-05-11"),
            (40004, 10010, vec![20008], "1987-03-02"),
            (40005, 10011, vec![20006, 20008], "1983-09-27"),
        ];
        for (pid, uid, porgs, birth) in base_patients {
            let Some(u) = users.iter_mut().find(|u| u.id == uid) else {
                continue;
            };
            u.patient_id = Some(pid);
            patients.push(Patient {
                id: pid,
                jhe_user_id: uid,
                identifiers: Vec::new(),
                name_family: u.last_name.clone(),
                name_given: u.first_name.clone(),
                birth_date: birth.to_string(),
                phone: phone(&mut rng),
                email: u.email.clone(),
                orgs: porgs,
                last_updated: ts(TS_SEED),
            });
        }
        patients[0].identifiers = vec![
            Identifier {
                id: 1,
                system: "https://openwearables.io/ns/patient-id".into(),
                value: "abc123".into(),
            },
            Identifier {
                id: 2,
                system: "urn:oid:1.2.3.4".into(),
                value: "E1234".into(),
            },
        ];

        // Demo participants: 40006.. with user ids 10012.., identifiers 3..
        let mut demo = Vec::new();
        for i in 0..demo_patients {
            let pid = 40006 + i;
            let uid = 10012 + i;
            let (family, given, birth, tel) = if (i as usize) < DEMO_PEOPLE.len() {
                let p = DEMO_PEOPLE[i as usize];
                (
                    p.0.to_string(),
                    p.1.to_string(),
                    p.2.to_string(),
                    p.3.to_string(),
                )
            } else {
                let g = EXTRA_GIVEN[rng.random_range(0..EXTRA_GIVEN.len())];
                let f = EXTRA_FAMILY[rng.random_range(0..EXTRA_FAMILY.len())];
                (
                    f.to_string(),
                    g.to_string(),
                    format!(
                        "{}-{:02}-{:02}",
                        rng.random_range(1940..2004),
                        rng.random_range(1..13),
                        rng.random_range(1..29)
                    ),
                    format!(
                        "{:03}-{:03}-{:04}",
                        rng.random_range(100..999),
                        rng.random_range(100..999),
                        rng.random_range(0..9999)
                    ),
                )
            };
            let email = if (i as usize) < DEMO_PEOPLE.len() {
                format!(
                    "{}.{}@example.com",
                    given.to_lowercase(),
                    family.to_lowercase()
                )
            } else {
                format!(
                    "{}.{}.{}@example.com",
                    given.to_lowercase(),
                    family.to_lowercase(),
                    pid
                )
            };
            users.push(User {
                id: uid,
                email: email.clone(),
                first_name: given.clone(),
                last_name: family.clone(),
                user_type: PATIENT,
                is_superuser: false,
                practitioner_id: None,
                patient_id: Some(pid),
                current_org: None,
                current_study: None,
                last_updated: ts(TS_SEED),
            });
            let mut identifiers = vec![Identifier {
                id: 3 + i * 2,
                system: "demo".into(),
                value: email.clone(),
            }];
            // Study staff look participants up by medical record number.
            identifiers.push(Identifier {
                id: 4 + i * 2,
                system: "urn:oid:2.16.840.1.113883.3.7418.mrn".into(),
                value: format!("MRN-{:06}", 100000 + i * 37 + (seed % 97) as u32),
            });
            patients.push(Patient {
                id: pid,
                jhe_user_id: uid,
                identifiers,
                name_family: family,
                name_given: given,
                birth_date: birth,
                phone: tel,
                email,
                orgs: vec![DEMO_ORG],
                last_updated: ts(TS_SEED),
            });
        }

        let data_sources = vec![
            DataSource {
                id: 70001,
                name: "CareX",
                kind: "personal_device",
                scopes: vec![(1, 50002), (2, 50004)],
                last_updated: ts(TS_SEED),
            },
            DataSource {
                id: 70002,
                name: "Dexcom",
                kind: "personal_device",
                scopes: vec![(3, 50001)],
                last_updated: ts(TS_SEED),
            },
            DataSource {
                id: 70003,
                name: "iHealth",
                kind: "personal_device",
                scopes: vec![(4, 50003), (5, 50004)],
                last_updated: ts(TS_SEED),
            },
            DataSource {
                id: 70004,
                name: "Oura",
                kind: "personal_device",
                scopes: vec![(6, 50004)],
                last_updated: ts(TS_SEED),
            },
            DataSource {
                id: 70005,
                name: "Questionnaire",
                kind: "patient_app",
                scopes: vec![(7, 50011)],
                last_updated: ts(TS_SEED),
            },
            DataSource {
                id: 70006,
                name: "Patient Access API",
                kind: "medical_device",
                scopes: vec![],
                last_updated: ts(TS_SEED),
            },
        ];

        // Apps: 1 CareX, 2 CommonHealth, 3 Patient Access, 4 JHE Admin UI, 5 jhe-desktop, then
        // one practitioner API client per practitioner.
        let mut apps = Vec::new();
        let mut public_app =
            |pk, name: &str, invitation: Option<&str>, redirect: Vec<String>| App {
                pk,
                client_id: alnum(&mut rng, 40),
                client_secret: None,
                name: name.to_string(),
                public: true,
                grant: Grant::AuthorizationCode,
                redirect_uris: redirect,
                user_id: None,
                invitation_url: invitation.map(str::to_string),
                created: ts(TS_SEED),
                label: None,
                practitioner_client_id: None,
            };
        let site_callback = vec!["{SITE}/auth/callback".to_string()];
        apps.push(public_app(
            1,
            "CareX",
            Some("https://carex.ai/invitation/CODE"),
            site_callback.clone(),
        ));
        apps.push(public_app(
            2,
            "CommonHealth",
            Some("https://commonhealth.tcp.org?invitation=CODE"),
            site_callback.clone(),
        ));
        apps.push(public_app(
            3,
            "Patient Access",
            Some("http://localhost:8001/clients/patient-access/?code=CODE"),
            site_callback.clone(),
        ));
        apps.push(public_app(4, "JHE Admin UI", None, site_callback));
        let mut desktop = public_app(
            5,
            "JHE Desktop",
            None,
            vec![
                "http://127.0.0.1/callback".to_string(),
                "http://[::1]/callback".to_string(),
            ],
        );
        desktop.client_id = DESKTOP_CLIENT_ID.to_string();
        apps.push(desktop);
        let mut next_pc = 1;
        let mut next_app = 6;
        for uid in [10002u32, 10008, 10003, 10004, 10005] {
            let Some(user) = users.iter().find(|u| u.id == uid) else {
                continue;
            };
            apps.push(App {
                pk: next_app,
                client_id: alnum(&mut rng, 16),
                client_secret: Some(alnum(&mut rng, 32)),
                name: format!(
                    "_practitioner_client_{}_20260105090000",
                    user.practitioner_id.unwrap_or_default()
                ),
                public: false,
                grant: Grant::ClientCredentials,
                redirect_uris: vec![],
                user_id: Some(uid),
                invitation_url: None,
                created: ts(TS_SEED),
                label: Some(format!("jhe-sandbox demo key ({})", user.email)),
                practitioner_client_id: Some(next_pc),
            });
            next_pc += 1;
            next_app += 1;
        }

        let study = |id, name: &str, desc: &str, org| Study {
            id,
            name: name.to_string(),
            description: desc.to_string(),
            org,
            last_updated: ts(TS_SEED),
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
        let mut sr_id = 0;
        let mut add_sr = |s: &mut Study, scope| {
            sr_id += 1;
            s.scope_requests.push((sr_id, scope));
        };
        add_sr(&mut studies[0], 50002);
        add_sr(&mut studies[0], 50004);
        add_sr(&mut studies[0], 50011);
        add_sr(&mut studies[1], 50002);
        add_sr(&mut studies[1], 50011);
        add_sr(&mut studies[2], 50001);
        add_sr(&mut studies[3], 50003);
        add_sr(&mut studies[4], 50005);
        // The demo study asks for every generated type except body temperature, which some
        // devices upload anyway (out-of-scope data, as real studies have).
        let demo_kinds: Vec<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| *k != Kind::BodyTemperature)
            .collect();
        for k in &demo_kinds {
            add_sr(&mut studies[5], scope_id_for_kind(*k));
        }
        // Peter's samples (the reference capture added these scope requests to 30001).
        for scope in [50001, 50008, 50005, 50013] {
            add_sr(&mut studies[0], scope);
        }
        let mut link = 0;
        let mut add_ds = |s: &mut Study, ds| {
            link += 1;
            s.data_sources.push((link, ds));
        };
        for s in studies.iter_mut().take(2) {
            add_ds(s, 70001);
            add_ds(s, 70005);
        }
        add_ds(&mut studies[3], 70003);
        add_ds(&mut studies[2], 70002);
        for ds in [70002, 70004, 70001, 70003] {
            add_ds(&mut studies[5], ds);
        }
        studies[0].clients = vec![(1, 1), (3, 3)];
        studies[1].clients = vec![(2, 1)];
        studies[3].clients = vec![(4, 2)];
        studies[2].clients = vec![(5, 2)];
        studies[5].clients = vec![(6, 2)];

        let mut sp = 0;
        let mut enroll = |s: &mut Study, p| {
            sp += 1;
            s.patients.push((sp, p));
        };
        enroll(&mut studies[0], 40001);
        enroll(&mut studies[1], 40001);
        enroll(&mut studies[0], 40002);
        enroll(&mut studies[1], 40002);
        enroll(&mut studies[3], 40003);
        enroll(&mut studies[4], 40004);
        enroll(&mut studies[2], 40005);
        enroll(&mut studies[4], 40005);
        for i in 0..demo_patients {
            enroll(&mut studies[5], 40006 + i);
        }

        let mut consents = Vec::new();
        let mut cid = 0;
        let mut consent = |study, patient, scope, consented| {
            cid += 1;
            consents.push(Consent {
                id: cid,
                study,
                patient,
                scope,
                consented,
                time: ts(TS_SEED),
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

        // Demo participants: most consented to everything; every 7th is still pending for the
        // wearables, every 9th declined blood pressure, and one in 97 declined CGM. Only consented
        // types have data (uploads need consent); a few upload out-of-scope temperature.
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

        let aux = AUX_QR
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
            .collect();

        let next_ids = NextIds {
            scope_request: sr_id + 1,
            consent: cid + 1,
            app: next_app,
            practitioner_client: next_pc,
            study_patient: sp + 1,
        };
        (
            World {
                site_url_placeholder: (),
                orgs,
                users,
                memberships,
                patients,
                scopes: scopes(),
                data_sources,
                studies,
                consents,
                apps,
                aux,
                next_ids,
            },
            demo,
        )
    }
}
