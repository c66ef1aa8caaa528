//! The HTTP layer in front of every route: gives each request an id and a tracing span, resolves
//! the session cookie once, and enforces [`app::api::ENDPOINTS`] before any server function reads
//! its input. Pages need a session too; without one the browser is sent to `/sign-in`.

use app::{
    api::{access_for, Access},
    error::AppError,
    ssr::{auth, AppState, RequestId},
};
use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tracing::Instrument;

/// Paths anyone may fetch: the sign-in page, health, and the static assets.
fn is_public_page(path: &str) -> bool {
    path == "/sign-in"
        || path == "/healthz"
        || path == "/favicon.svg"
        || path == "/favicon.ico"
        || path.starts_with("/pkg/")
}

pub async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %req.method(),
        path = %req.uri().path()
    );
    async move {
        let started = std::time::Instant::now();
        req.extensions_mut().insert(RequestId(request_id.clone()));
        let mut res = admit(&state, req, next, &request_id).await;
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            res.headers_mut().insert("x-request-id", value);
        }
        tracing::info!(
            status = res.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        res
    }
    .instrument(span)
    .await
}

async fn admit(state: &AppState, mut req: Request, next: Next, request_id: &str) -> Response {
    let staff = match auth::token_from_cookies(req.headers()) {
        None => None,
        Some(token) => match auth::resolve(state, &token).await {
            Ok(staff) => staff,
            Err(err) => {
                tracing::error!(error = %err, "could not look up the session");
                return error_response(AppError::Internal {
                    request_id: request_id.to_owned(),
                });
            }
        },
    };
    req.extensions_mut()
        .insert(auth::Authenticated(staff.clone()));
    let path = req.uri().path().to_owned();

    if path.starts_with("/api/") {
        let refusal = match (access_for(&path), &staff) {
            (None, _) => Some(AppError::not_found("That endpoint")),
            (Some(Access::Public), _) => None,
            (Some(_), None) => Some(AppError::Unauthenticated),
            (Some(Access::SignedIn), Some(_)) => None,
            (Some(Access::Requires(permission)), Some(staff)) => {
                (!staff.role.allows(permission)).then_some(AppError::Forbidden)
            }
        };
        if let Some(error) = refusal {
            tracing::info!(status = error.status(), "refused by access policy");
            return error_response(error);
        }
        return with_error_status(next.run(req).await).await;
    }

    match (&staff, is_public_page(&path)) {
        (None, false) => Redirect::to("/sign-in").into_response(),
        (Some(_), _) if path == "/sign-in" || path == "/" => {
            Redirect::to("/customers").into_response()
        }
        _ => next.run(req).await,
    }
}

/// An error answered by the gate itself, in the same JSON shape server functions use.
pub fn error_response(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&error).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Server functions answer every error with 500; this gives it the status the error stands for
/// (400 bad input, 403, 404, 409…). Form posts without JavaScript are redirects and stay so.
async fn with_error_status(res: Response) -> Response {
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
