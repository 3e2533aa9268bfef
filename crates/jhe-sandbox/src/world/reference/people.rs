//! The reference world's people: JHE's seed organizations, staff and patient users with their
//! memberships, the seed patients, and the demo study's participants (the 20 named ones of the
//! reference server, then generated names).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::seeded;
use crate::world::{Identifier, Org, Patient, Role, User, UserType, DEMO_ORG};

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

pub(super) fn orgs() -> Vec<Org> {
    let org = |id, name: &str, kind, part_of| Org {
        id,
        name: name.to_string(),
        kind,
        part_of,
        last_updated: seeded(),
    };
    vec![
        org(0, "ROOT", "root", None),
        org(20001, "Planetary Research Institute", "edu", Some(0)),
        org(20002, "Saturn School of Data Science", "team", Some(20001)),
        org(20003, "Lifespan Lab", "laboratory", Some(20002)),
        org(20004, "Neptune Health System", "prov", Some(0)),
        org(20005, "Department of Medicine", "dept", Some(20004)),
        org(20006, "Cardiology Division", "dept", Some(20005)),
        org(20007, "Neptunian Pulse Lab", "laboratory", Some(20006)),
        org(20008, "Cosmic Cardio Lab", "laboratory", Some(20006)),
    ]
}

/// (user id, org id, role) of the staff.
pub(super) fn memberships() -> Vec<(u32, u32, Role)> {
    use Role::{Manager, Member, Viewer};
    vec![
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
        // The desktop app's coordinators work on the demo study too.
        (10003, 20001, Member),
        (10004, 20001, Viewer),
    ]
}

/// The users and patients of the reference world.
pub(super) struct People {
    pub users: Vec<User>,
    pub patients: Vec<Patient>,
}

/// The seed users and patients, then `demo_patients` demo participants (patients 40006.., users
/// 10012.., identifiers 3..).
pub(super) fn people(rng: &mut ChaCha8Rng, seed: u64, demo_patients: u32) -> People {
    let mut users = seed_users();
    let mut patients = seed_patients(rng, &mut users);
    for i in 0..demo_patients {
        let (user, patient) = demo_participant(rng, seed, i);
        users.push(user);
        patients.push(patient);
    }
    People { users, patients }
}

/// `Manager Mary` from `manager_mary@example.com`.
fn first_name_of(email: &str) -> String {
    email
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
        .collect::<String>()
}

/// The superuser, the staff and the seed patients' users, with their current organization and
/// study.
fn seed_users() -> Vec<User> {
    use UserType::{Patient, Practitioner};
    let seed_users = [
        (10001, "admin@example.com", Practitioner, "Admin"),
        (10002, "manager_mary@example.com", Practitioner, "Richmond"),
        (10003, "member_megan@example.com", Practitioner, "Willis"),
        (10004, "viewer_victor@example.com", Practitioner, "Logan"),
        (10005, "three_org_tom@example.com", Practitioner, "Mckee"),
        (10006, "ll_patient_peter@example.com", Patient, "Higgins"),
        (10007, "ll_patient_pamela@example.com", Patient, "Johnson"),
        (10008, "manager_mark@example.com", Practitioner, "Hale"),
        (10009, "npl_patient_percy@example.com", Patient, "Gillespie"),
        (10010, "ccl_patient_paul@example.com", Patient, "Barker"),
        (
            10011,
            "ccl_cardio_patient_pat@example.com",
            Patient,
            "Brown",
        ),
    ];
    let mut practitioner_seq = 80001;
    let mut users: Vec<User> = seed_users
        .into_iter()
        .map(|(id, email, user_type, last)| {
            let practitioner_id = (user_type == Practitioner).then(|| {
                practitioner_seq += 1;
                practitioner_seq
            });
            User {
                id,
                email: email.to_string(),
                first_name: first_name_of(email),
                last_name: last.to_string(),
                user_type,
                is_superuser: false,
                practitioner_id,
                patient_id: None,
                current_org: None,
                current_study: None,
                last_updated: seeded(),
            }
        })
        .collect();
    if let Some(admin) = users.first_mut() {
        admin.is_superuser = true;
        admin.first_name = String::new();
        admin.last_name = String::new();
    }
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
    users
}

/// Patients 40001–40005 of the seed users 10006.., with a random phone each; Peter's two
/// identifiers.
fn seed_patients(rng: &mut ChaCha8Rng, users: &mut [User]) -> Vec<Patient> {
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
            phone: phone(rng),
            email: u.email.clone(),
            orgs: porgs,
            last_updated: seeded(),
        });
    }
    if let Some(peter) = patients.first_mut() {
        peter.identifiers = vec![
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
    }
    patients
}

/// A seed patient's phone: `+1-` and a random local number.
fn phone(rng: &mut ChaCha8Rng) -> String {
    format!("+1-{}", local_phone(rng))
}

/// `NNN-NNN-NNNN`, random.
fn local_phone(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{:03}-{:03}-{:04}",
        rng.random_range(100..999),
        rng.random_range(100..999),
        rng.random_range(0..9999)
    )
}

/// The `i`-th demo participant's user and patient: one of the reference server's 20, then
/// generated names, birth dates and phones.
fn demo_participant(rng: &mut ChaCha8Rng, seed: u64, i: u32) -> (User, Patient) {
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
            local_phone(rng),
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
    let user = User {
        id: uid,
        email: email.clone(),
        first_name: given.clone(),
        last_name: family.clone(),
        user_type: UserType::Patient,
        is_superuser: false,
        practitioner_id: None,
        patient_id: Some(pid),
        current_org: None,
        current_study: None,
        last_updated: seeded(),
    };
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
    let patient = Patient {
        id: pid,
        jhe_user_id: uid,
        identifiers,
        name_family: family,
        name_given: given,
        birth_date: birth,
        phone: tel,
        email,
        orgs: vec![DEMO_ORG],
        last_updated: seeded(),
    };
    (user, patient)
}
