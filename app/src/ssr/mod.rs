//! Server-only code: the database, the services that hold the rules, sign-in and sessions.
//! Compiled only with the `ssr` feature; the browser build never sees it.

pub mod auth;
pub mod client_files;
pub mod consumption;
pub mod db;
pub mod gateway;
pub mod matching;
pub mod one_time_cookie;
pub mod partner_center;
pub mod reconcile;
pub mod service;
pub mod status;
pub mod store;

use crate::error::AppError;
use db::Db;

/// Whether a request is for a page (a GET outside `/api/`): rendered by Leptos, writing
/// nothing. Page renders remember the customers they found visible
/// ([`service::customers::VisibleInThisPage`]) and are given up when they stall.
pub fn is_page_render(method: &http::Method, path: &str) -> bool {
    method == http::Method::GET && !path.starts_with("/api/")
}

/// What every request handler and server function can reach, provided once as Leptos context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// Whether session cookies carry `Secure` (off only when explicitly served over plain HTTP).
    pub secure_cookies: bool,
    /// The Partner Center client; `None` when no credentials are configured.
    pub partner_center: Option<partner_center::PartnerCenterClient>,
    /// Wakes this process's sync worker when a job is started here.
    pub sync_wakeup: std::sync::Arc<tokio::sync::Notify>,
    /// New single-customer reloads each staff member may still start.
    pub reloads: std::sync::Arc<governor::DefaultKeyedRateLimiter<i64>>,
    /// The liveness of this process's sync worker; `None` when it runs none.
    pub sync_worker: Option<std::sync::Arc<service::sync::WorkerHealth>>,
    /// Sign-in throttling and the bounded pool of password checks.
    pub sign_in: auth::SignInGuard,
    /// A session unused for this long ends.
    pub session_idle_timeout_ms: i64,
    /// Origins (`https://portal.example`) besides the request's own host that may post to
    /// `/api/*`: the public address when a proxy rewrites `Host`.
    pub allowed_origins: Vec<String>,
    /// Days a deleted customer can be restored before it is purged.
    pub delete_retention_days: i64,
    /// The payment gateway for Link to Billing Profile; `None`: the section does not exist.
    pub gateway: Option<gateway::Gateway>,
}

impl AppState {
    pub fn new(db: Db, secure_cookies: bool) -> Self {
        AppState {
            db,
            secure_cookies,
            partner_center: None,
            sync_wakeup: Default::default(),
            reloads: service::sync::reload_limiter(),
            sync_worker: None,
            sign_in: Default::default(),
            session_idle_timeout_ms: auth::DEFAULT_SESSION_IDLE_MS,
            allowed_origins: Vec::new(),
            delete_retention_days: service::deletion::DEFAULT_RETENTION_DAYS,
            gateway: None,
        }
    }
}

/// The application state from the Leptos context of this request.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| internal_error(&"the application state was not provided to this request"))
}

/// The id given to this request by the HTTP layer, for logs and for messages to the user.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn current_request_id() -> String {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestId>().map(|r| r.0.clone()))
        .unwrap_or_else(|| "none".to_owned())
}

/// Logs an internal failure with its cause chain and answers with an opaque error that names the
/// request, so that a message from a user can be found in the logs.
pub fn internal_error(err: &dyn std::fmt::Display) -> AppError {
    let request_id = current_request_id();
    tracing::error!(%request_id, error = %err, "internal error");
    AppError::Internal { request_id }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        internal_error(&chain)
    }
}
