//! The HTTP layer in front of every route: gives each request an id and a tracing span, refuses
//! paths that are not in normal form and cross-site writes, limits sign-in attempts per client
//! address, resolves the session cookie once, and enforces [`app::api::ENDPOINTS`] before any
//! server function reads its input. Pages need a session too; without one the browser is sent
//! to `/sign-in`. Redirects that server functions answer form posts with stay on the portal.

use app::{
    api::{access_for, Access},
    error::AppError,
    ssr::{auth, AppState, RequestId},
};
use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::{net::IpAddr, num::NonZeroU32, sync::Arc};
use tracing::Instrument;

/// What the gate enforces besides the session: the access table (always in a served portal;
/// tests of the server functions' own checks switch it off) and the per-address sign-in limit.
#[derive(Clone)]
pub struct GateState {
    pub app: AppState,
    pub enforce_access_table: bool,
    sign_in_per_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Signs the error a form post without JavaScript carries back to its page, so that a page
    /// shows only messages this server wrote (see [`sign_error_query`]).
    message_key: Arc<[u8; 32]>,
}

/// Sign-in attempts one client address may make by default: a burst of 10, then 10 a minute
/// (`--sign-in-per-minute`). Guessing one account is slowed further by its own failure count.
pub const SIGN_IN_PER_MINUTE: u32 = 10;

impl GateState {
    pub fn new(app: AppState) -> Self {
        Self::with_sign_in_limit(app, SIGN_IN_PER_MINUTE)
    }

    /// A gate that lets one client address try to sign in `per_minute` times a minute, with a
    /// burst of as many.
    pub fn with_sign_in_limit(app: AppState, per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(per_minute);
        GateState {
            app,
            enforce_access_table: true,
            sign_in_per_address: Arc::new(RateLimiter::keyed(quota)),
            message_key: Arc::new(rand::random()),
        }
    }
}

impl GateState {
    /// Forgets client addresses whose sign-in allowance is full again, so the table of addresses
    /// stays as small as the recent traffic (call it now and then).
    pub fn forget_idle_addresses(&self) {
        self.sign_in_per_address.retain_recent();
        self.sign_in_per_address.shrink_to_fit();
    }
}

/// The built assets: served to anyone, without looking up a session.
fn is_static_asset(path: &str) -> bool {
    path == "/favicon.svg" || path == "/favicon.ico" || path.starts_with("/pkg/")
}

/// Paths anyone may fetch: the sign-in page, health, and the static assets.
fn is_public_page(path: &str) -> bool {
    path == "/sign-in" || path == "/healthz" || is_static_asset(path)
}

/// Whether a path is in normal form: no `.` or `..` segment, plain or percent-encoded, and no
/// encoded slash or backslash. Anything else is refused before a decision is made on it, so that
/// `/pkg/../customers` cannot pass as a public asset path.
pub fn is_normal_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains('\\') {
        return false;
    }
    !lower
        .split('/')
        .map(|segment| segment.replace("%2e", "."))
        .any(|segment| segment == "." || segment == "..")
}

pub async fn gate(State(state): State<GateState>, mut req: Request, next: Next) -> Response {
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

async fn admit(state: &GateState, mut req: Request, next: Next, request_id: &str) -> Response {
    let path = req.uri().path().to_owned();
    if !is_normal_path(&path) {
        tracing::info!("refused: path not in normal form");
        return error_response(AppError::BadRequest {
            message: "That address is not in normal form.".into(),
        });
    }
    let is_api = path.starts_with("/api/");
    if is_api && !is_safe_method(req.method()) {
        if let Some(refusal) = cross_site_refusal(req.headers(), &state.app.allowed_origins) {
            tracing::warn!(reason = refusal, peer = ?auth::peer_address(req.extensions()), "refused: cross-site request");
            return error_response(AppError::Forbidden);
        }
    }
    if path == <app::api::auth::SignIn as server_fn::ServerFn>::PATH {
        if let Some(ip) = auth::peer_address(req.extensions()) {
            if let Err(not_until) = state.sign_in_per_address.check_key(&ip) {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                tracing::warn!(peer = %ip, "sign-in refused: too many attempts from this address");
                return error_response(AppError::TooManyRequests {
                    message: "Too many sign-in attempts from this network. Try again in a minute."
                        .into(),
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }
    }

    if is_static_asset(&path) {
        return next.run(req).await;
    }
    if let Some(bearer) = bearer_token(req.headers()) {
        return admit_token(state, req, next, &path, &bearer).await;
    }
    let secure = state.app.secure_cookies;
    let session = match auth::token_from_cookies(req.headers(), secure) {
        None => None,
        Some(token) => match auth::resolve_session(&state.app, &token).await {
            Ok(session) => session,
            Err(err) => {
                tracing::error!(error = %err, "could not look up the session");
                return error_response(AppError::Internal {
                    request_id: request_id.to_owned(),
                });
            }
        },
    };
    let must_change_password = session.as_ref().is_some_and(|s| s.password_change_required);
    let staff = session.map(|s| s.staff);
    req.extensions_mut()
        .insert(auth::Authenticated(staff.clone()));
    if must_change_password {
        // Until they choose their own password, a member may only do that or sign out.
        if is_api && !app::api::ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&path.as_str()) {
            tracing::info!("refused: password must be changed first");
            return error_response(AppError::Conflict {
                message: "Choose your own password first, on My account.".into(),
            });
        }
        if !is_api && path != app::api::ACCOUNT_PAGE && !is_public_page(&path) {
            return Redirect::to(app::api::ACCOUNT_PAGE).into_response();
        }
    }

    if is_api {
        let refusal = match (access_for(&path), &staff) {
            (None, _) => Some(AppError::not_found("That endpoint")),
            _ if !state.enforce_access_table => None,
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
        let req = match checked_body(req, app::api::max_body_for(&path)).await {
            Ok(req) => req,
            Err(res) => return res,
        };
        let own = own_origins(req.headers(), &state.app.allowed_origins);
        let res = with_error_status(next.run(req).await).await;
        return confine_redirect(res, &own, &state.message_key);
    }

    match (&staff, is_public_page(&path)) {
        (None, false) => Redirect::to("/sign-in").into_response(),
        (Some(_), _) if path == "/sign-in" || path == "/" => {
            Redirect::to("/customers").into_response()
        }
        _ => {
            if let Some(uri) = without_unsigned_error(req.uri(), &state.message_key) {
                tracing::warn!("dropped an error message this server did not write");
                *req.uri_mut() = uri;
            }
            let nonce = crate::headers::CspNonce::new();
            req.extensions_mut().insert(nonce.clone());
            let mut res = next.run(req).await;
            crate::headers::set_page_policy(&mut res, &nonce);
            res
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// A request with an API token: allowed on the JSON API only (never on a page or a form
/// endpoint), with the token's scope checked against the endpoint's permission; the session
/// cookie, if any, is ignored. The token's name (never the token) is logged.
async fn admit_token(
    state: &GateState,
    mut req: Request,
    next: Next,
    path: &str,
    bearer: &str,
) -> Response {
    let endpoint =
        app::api::endpoint_for(path).filter(|e| app::api::PLAIN_ROUTES.contains(&e.path));
    let Some(endpoint) = endpoint else {
        tracing::info!("refused: API token outside the JSON API");
        let mut res = error_response(AppError::BadRequest {
            message: "An API token works only on the JSON API (see /api/openapi.json); pages and forms need a signed-in session.".into(),
        });
        *res.status_mut() = StatusCode::FORBIDDEN;
        return res;
    };
    let (staff, scope) =
        match app::ssr::service::api_tokens::authenticate(&state.app.db, bearer).await {
            Ok(found) => found,
            Err(error) => {
                let mut res = error_response(error);
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                return res;
            }
        };
    let allowed = match endpoint.access {
        app::api::Access::Public | app::api::Access::SignedIn => true,
        app::api::Access::Requires(permission) => scope.allows(permission),
    };
    if !allowed {
        tracing::info!(token = %staff.display_name, "refused: token scope does not allow");
        return error_response(AppError::Forbidden);
    }
    tracing::info!(token = %staff.display_name, "request by API token");
    req.extensions_mut().insert(auth::TokenCaller(scope));
    req.extensions_mut()
        .insert(auth::Authenticated(Some(staff)));
    let req = match checked_body(req, endpoint.max_body).await {
        Ok(req) => req,
        Err(res) => return res,
    };
    with_error_status(next.run(req).await).await
}

/// Reads the request body, at most `max` bytes (413 beyond, before the function runs), and
/// refuses text that is not UTF-8 (400) rather than letting it be replaced and stored: a form's
/// fields are checked after percent-decoding.
async fn checked_body(req: Request, max: usize) -> Result<Request, Response> {
    let too_large = || {
        tracing::info!(max, "refused: request body too large");
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&AppError::BadRequest {
                message: format!("The request is larger than the {max} bytes this endpoint takes."),
            })
            .unwrap_or_default(),
        )
            .into_response()
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, max).await.map_err(|_| too_large())?;
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let valid = if is_form {
        bytes.split(|b| *b == b'&' || *b == b'=').all(|piece| {
            percent_encoding::percent_decode(piece)
                .decode_utf8()
                .is_ok()
        })
    } else {
        std::str::from_utf8(&bytes).is_ok()
    };
    if !valid {
        tracing::info!("refused: request text is not UTF-8");
        return Err(error_response(AppError::BadRequest {
            message: "The request contains text that is not valid UTF-8.".into(),
        }));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The origins a request may come from: the request's own host (over HTTP or HTTPS) and the
/// configured ones.
fn own_origins(headers: &HeaderMap, allowed: &[String]) -> Vec<String> {
    let mut own: Vec<String> = allowed
        .iter()
        .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
        .collect();
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        let host = host.to_ascii_lowercase();
        own.push(format!("http://{host}"));
        own.push(format!("https://{host}"));
    }
    own
}

/// Why a state-changing request looks cross-site, if it does: the browser says so
/// (`Sec-Fetch-Site: cross-site`), or it names an `Origin` that is not the portal's own
/// (`null` included). Requests without either header (other programs) pass: they carry no
/// browser's ambient cookies by accident.
pub fn cross_site_refusal(headers: &HeaderMap, allowed: &[String]) -> Option<&'static str> {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if fetch_site.as_deref() == Some("cross-site") {
        return Some("sec-fetch-site: cross-site");
    }
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("null").to_ascii_lowercase();
    if own_origins(headers, allowed).contains(&origin) {
        None
    } else {
        Some("origin is not the portal's")
    }
}

/// Server functions answer a form post without JavaScript with a redirect, to the `Referer`
/// when the function set none: a redirect may only lead to a path of this portal, never to
/// another site (an open redirect). Any other target becomes the customer list.
fn confine_redirect(mut res: Response, own: &[String], key: &[u8; 32]) -> Response {
    if !res.status().is_redirection() {
        return res;
    }
    let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
    else {
        return res;
    };
    let confined = confine_location(location, own);
    if confined != location {
        tracing::warn!(%location, "redirect confined to the portal");
    }
    let signed = sign_error_query(&confined, key);
    if signed != location {
        if let Ok(value) = HeaderValue::from_str(&signed) {
            res.headers_mut().insert(header::LOCATION, value);
        }
    }
    res
}

/// The MAC of the error a redirect carries (`__path` and `__err`, as written in the query).
fn error_mac(key: &[u8; 32], path: &str, err: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(path.as_bytes());
    mac.update(b"\n");
    mac.update(err.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The raw value of `name` in a query string.
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A redirect target carrying a server function's error (`__path`, `__err`) gets `__sig`, the
/// MAC of that error under this server's key.
pub fn sign_error_query(location: &str, key: &[u8; 32]) -> String {
    let Some((_, query)) = location.split_once('?') else {
        return location.to_owned();
    };
    let Some(err) = query_value(query, "__err") else {
        return location.to_owned();
    };
    let path = query_value(query, "__path").unwrap_or_default();
    format!("{location}&__sig={}", error_mac(key, path, err))
}

/// The page address without `__path`, `__err` and `__sig` when it carries an error this server
/// did not sign (a crafted link that would make a real page show any text); `None` otherwise.
pub fn without_unsigned_error(uri: &http::Uri, key: &[u8; 32]) -> Option<http::Uri> {
    let query = uri.query()?;
    let err = query_value(query, "__err");
    let path = query_value(query, "__path");
    if err.is_none() && path.is_none() {
        return None;
    }
    let expected = error_mac(key, path.unwrap_or_default(), err.unwrap_or_default());
    let given = query_value(query, "__sig").unwrap_or_default();
    let valid = err.is_some()
        && given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if valid {
        return None;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !matches!(name, "__path" | "__err" | "__sig")
        })
        .collect();
    let rebuilt = if kept.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), kept.join("&"))
    };
    rebuilt.parse().ok()
}

/// `location` as a path of this portal: a local path stays; an absolute URL of one of `own`
/// becomes its path; anything else becomes `/customers`.
pub fn confine_location(location: &str, own: &[String]) -> String {
    let is_local_path = |p: &str| {
        let path = p.split(['?', '#']).next().unwrap_or_default();
        path.starts_with('/') && !path.starts_with("//") && is_normal_path(path)
    };
    if is_local_path(location) {
        return location.to_owned();
    }
    let lower = location.to_ascii_lowercase();
    for origin in own {
        if let Some(rest) = lower.strip_prefix(origin.as_str()) {
            let path = &location[location.len() - rest.len()..];
            if path.is_empty() {
                return "/".to_owned();
            }
            if is_local_path(path) {
                return path.to_owned();
            }
        }
    }
    "/customers".to_owned()
}

/// An error answered by the gate itself, in the same JSON shape server functions use.
pub fn error_response(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&error).unwrap_or_default();
    let mut res = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    add_retry_after(&mut res, &error);
    res
}

fn add_retry_after(res: &mut Response, error: &AppError) {
    if let AppError::TooManyRequests {
        retry_after_secs, ..
    } = error
    {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
}

/// Server functions answer every error with 500; this gives it the status the error stands for
/// (400 bad input, 403, 404, 409, 429…). Form posts without JavaScript are redirects and stay so.
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
        let mut res = Response::from_parts(parts, Body::from(bytes));
        add_retry_after(&mut res, &error);
        return res;
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_and_encoded_separators_are_not_normal() {
        for path in [
            "/pkg/../customers",
            "/pkg/%2e%2e/customers",
            "/pkg/.%2E/customers",
            "/./customers",
            "/pkg/x%2fy",
            "/pkg/a\\b",
        ] {
            assert!(!is_normal_path(path), "{path}");
        }
        for path in [
            "/customers",
            "/pkg/portal.wasm",
            "/customers/1/configuration",
            "/a..b",
        ] {
            assert!(is_normal_path(path), "{path}");
        }
    }

    #[test]
    fn only_errors_this_server_signed_reach_a_page() {
        let key = [7u8; 32];
        let signed = sign_error_query("/sign-in?__path=%2Fapi%2Fsign_in&__err=abc", &key);
        let uri: http::Uri = signed.parse().unwrap();
        assert_eq!(without_unsigned_error(&uri, &key), None);
        let crafted: http::Uri = "/sign-in?x=1&__path=%2Fapi%2Fsign_in&__err=Y2FsbA"
            .parse()
            .unwrap();
        assert_eq!(
            without_unsigned_error(&crafted, &key).unwrap(),
            "/sign-in?x=1"
        );
        let other_key = sign_error_query("/sign-in?__err=abc", &[8u8; 32]);
        let uri: http::Uri = other_key.parse().unwrap();
        assert_eq!(without_unsigned_error(&uri, &key).unwrap(), "/sign-in");
        let plain: http::Uri = "/customers?q=x".parse().unwrap();
        assert_eq!(without_unsigned_error(&plain, &key), None);
    }

    #[test]
    fn redirects_stay_on_the_portal() {
        let own = vec!["http://portal.test".to_owned()];
        assert_eq!(
            confine_location("/customers/1?x=2", &own),
            "/customers/1?x=2"
        );
        assert_eq!(
            confine_location("http://portal.test/sign-in?e=1", &own),
            "/sign-in?e=1"
        );
        assert_eq!(confine_location("http://portal.test", &own), "/");
        for hostile in [
            "https://evil.test/phish",
            "//evil.test/x",
            "/\\evil.test",
            "http://portal.test.evil.test/x",
            "http://portal.test@evil.test/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(confine_location(hostile, &own), "/customers", "{hostile}");
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn cross_site_writes_are_recognised() {
        let none: Vec<String> = Vec::new();
        let same = headers(&[("host", "portal.test"), ("origin", "http://portal.test")]);
        assert_eq!(cross_site_refusal(&same, &none), None);
        let cli = headers(&[("host", "portal.test")]);
        assert_eq!(cross_site_refusal(&cli, &none), None);
        let other = headers(&[("host", "portal.test"), ("origin", "https://evil.test")]);
        assert!(cross_site_refusal(&other, &none).is_some());
        let null = headers(&[("host", "portal.test"), ("origin", "null")]);
        assert!(cross_site_refusal(&null, &none).is_some());
        let fetch = headers(&[("host", "portal.test"), ("sec-fetch-site", "cross-site")]);
        assert!(cross_site_refusal(&fetch, &none).is_some());
        // Behind a proxy that rewrites Host, the public origin is configured.
        let proxied = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://portal.example"),
        ]);
        assert!(cross_site_refusal(&proxied, &none).is_some());
        assert_eq!(
            cross_site_refusal(&proxied, &["https://portal.example/".to_owned()]),
            None
        );
    }
}
