//! The reference world's OAuth applications: the public ones (CareX, CommonHealth, Patient
//! Access, the JHE Admin UI, this desktop app) and one practitioner API client per practitioner,
//! with secrets drawn from the world's generator.

use rand_chacha::ChaCha8Rng;

use super::{seeded, Seq};
use crate::world::{alnum, App, Grant, User, DESKTOP_CLIENT_ID};

pub(super) struct Apps {
    pub apps: Vec<App>,
    /// The pk the next application gets.
    pub next_pk: u32,
    pub practitioner_clients: Seq,
}

/// Apps: 1 CareX, 2 CommonHealth, 3 Patient Access, 4 JHE Admin UI, 5 jhe-desktop, then one
/// practitioner API client per practitioner.
pub(super) fn apps(rng: &mut ChaCha8Rng, users: &[User]) -> Apps {
    let site_callback = || vec!["{SITE}/auth/callback".to_string()];
    let public = [
        (
            1,
            "CareX",
            Some("https://carex.ai/invitation/CODE"),
            site_callback(),
        ),
        (
            2,
            "CommonHealth",
            Some("https://commonhealth.tcp.org?invitation=CODE"),
            site_callback(),
        ),
        (
            3,
            "Patient Access",
            Some("http://localhost:8001/clients/patient-access/?code=CODE"),
            site_callback(),
        ),
        (4, "JHE Admin UI", None, site_callback()),
        (
            5,
            "JHE Desktop",
            None,
            vec![
                "http://127.0.0.1/callback".to_string(),
                "http://[::1]/callback".to_string(),
            ],
        ),
    ];
    let mut apps: Vec<App> = public
        .into_iter()
        .map(|(pk, name, invitation, redirect_uris)| App {
            pk,
            client_id: alnum(rng, 40),
            client_secret: None,
            name: name.to_string(),
            public: true,
            grant: Grant::AuthorizationCode,
            redirect_uris,
            user_id: None,
            invitation_url: invitation.map(str::to_string),
            created: seeded(),
            label: None,
            practitioner_client_id: None,
        })
        .collect();
    if let Some(desktop) = apps.iter_mut().find(|a| a.pk == 5) {
        desktop.client_id = DESKTOP_CLIENT_ID.to_string();
    }
    let mut practitioner_clients = Seq::default();
    let mut next_pk = 6;
    for uid in [10002u32, 10008, 10003, 10004, 10005] {
        let Some(user) = users.iter().find(|u| u.id == uid) else {
            continue;
        };
        apps.push(App {
            pk: next_pk,
            client_id: alnum(rng, 16),
            client_secret: Some(alnum(rng, 32)),
            name: format!(
                "_practitioner_client_{}_20260105090000",
                user.practitioner_id.unwrap_or_default()
            ),
            public: false,
            grant: Grant::ClientCredentials,
            redirect_uris: vec![],
            user_id: Some(uid),
            invitation_url: None,
            created: seeded(),
            label: Some(format!("jhe-sandbox demo key ({})", user.email)),
            practitioner_client_id: Some(practitioner_clients.next()),
        });
        next_pk += 1;
    }
    Apps {
        apps,
        next_pk,
        practitioner_clients,
    }
}
