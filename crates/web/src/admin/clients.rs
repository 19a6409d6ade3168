//! 接入系统管理: system administrators register the departments' systems that sign their users
//! in through the platform (OpenID Connect relying parties), disable them and rotate their
//! secrets. A secret is shown once, on the page that answers its creation; only its Argon2id
//! hash is kept. Authorization is decided by the service (`identity::oidc`: system
//! administrators only); every change is in the audit log.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::identity::oidc::{self, Client};

use super::{AdminForm, chrome, local_time};
use crate::Shared;
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

#[derive(Template)]
#[template(path = "admin/clients.html")]
struct ClientsPage {
    chrome: Chrome,
    csrf: String,
    clients: Vec<ClientRow>,
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scope: String,
    errors: Vec<(String, String)>,
    /// (client id, secret) just created or rotated: shown this once.
    secret: Option<(String, String)>,
}

struct ClientRow {
    client_id: String,
    name: String,
    redirect_uris: String,
    scopes: String,
    disabled: bool,
    created_at: String,
}

impl From<Client> for ClientRow {
    fn from(c: Client) -> Self {
        ClientRow {
            client_id: c.client_id,
            name: c.name,
            redirect_uris: c.redirect_uris.join("\n"),
            scopes: c.scopes.join(" "),
            disabled: c.disabled,
            created_at: local_time(&c.created_at),
        }
    }
}

/// The posted registration.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ClientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    scope: String,
}

/// A posted button: only the CSRF token.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ButtonForm {
    #[serde(default)]
    csrf: String,
}

fn lines(s: &str) -> Vec<String> {
    s.split(['\n', ' ', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn page(s: &Shared, session: &StaffSession) -> Result<ClientsPage, PageError> {
    let clients = oidc::list_clients(&s.platform, Some(&session.staff))
        .await
        .map_err(|e| session.err(e))?;
    Ok(ClientsPage {
        chrome: chrome(session, session.lang.t("接入系统管理", "Client systems")),
        csrf: session.csrf.clone(),
        clients: clients.into_iter().map(ClientRow::from).collect(),
        name: String::new(),
        redirect_uris: String::new(),
        post_logout_redirect_uris: String::new(),
        scope: "openid profile".into(),
        errors: Vec::new(),
        secret: None,
    })
}

/// `GET /admin/clients`: the registered systems and the registration form.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: StaffSession,
) -> Result<Response, PageError> {
    Ok(html(StatusCode::OK, &page(&s, &session).await?))
}

/// `POST /admin/clients`: registers a system; the answer shows its secret once.
pub(crate) async fn add(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<ClientForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let result = oidc::add_client(
        &s.platform,
        Some(&session.staff),
        &f.name,
        &lines(&f.redirect_uris),
        &lines(&f.post_logout_redirect_uris),
        &f.scope,
    )
    .await;
    match result {
        Ok((id, secret)) => {
            let mut p = page(&s, &session).await?;
            p.secret = Some((id, secret));
            Ok(html(StatusCode::OK, &p))
        }
        Err(ServiceError::Invalid(errs)) => {
            let mut p = page(&s, &session).await?;
            p.errors = super::field_messages(session.lang, &errs);
            p.name = f.name;
            p.redirect_uris = f.redirect_uris;
            p.post_logout_redirect_uris = f.post_logout_redirect_uris;
            p.scope = f.scope;
            Ok(html(StatusCode::BAD_REQUEST, &p))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/clients/{id}/disable`.
pub(crate) async fn disable(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<ButtonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    oidc::disable_client(&s.platform, Some(&session.staff), &id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(super::see_other("/admin/clients"))
}

/// `POST /admin/clients/{id}/secret`: a new secret, shown once; the old one stops working.
pub(crate) async fn rotate(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<ButtonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let secret = oidc::rotate_secret(&s.platform, Some(&session.staff), &id)
        .await
        .map_err(|e| session.err(e))?;
    let mut p = page(&s, &session).await?;
    p.secret = Some((id, secret));
    Ok(html(StatusCode::OK, &p))
}
