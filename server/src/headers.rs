//! Security headers on every response, set with tower-http.
//!
//! Pages get a Content-Security-Policy that allows scripts only from the portal itself and the
//! one inline hydration script carrying this request's nonce (the gate makes a fresh nonce per
//! page request, Leptos puts it on the scripts it writes, the gate names it in the policy), and
//! styles only from the portal and the page's inline stylesheet (the same nonce); WebAssembly
//! needs `'wasm-unsafe-eval'`, never `'unsafe-inline'`. Every other response gets a policy that
//! allows nothing. Framing is refused (destructive one-click confirmations exist), MIME sniffing
//! is off, the referrer stays on the portal (form posts without JavaScript return to it), and
//! HSTS is sent when cookies are Secure (the portal is then served over HTTPS).

use axum::{
    http::{header, HeaderValue},
    Router,
};
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of a page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of everything that is not a page (JSON, assets, errors).
pub const NON_PAGE_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The nonce of one page request: made by the gate, given to Leptos for the scripts it writes,
/// and named in that response's policy.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

impl CspNonce {
    pub fn new() -> Self {
        CspNonce(uuid::Uuid::new_v4().simple().to_string())
    }
}

impl Default for CspNonce {
    fn default() -> Self {
        Self::new()
    }
}

/// Called in the Leptos context of every render: the scripts Leptos writes carry the nonce the
/// gate made for this request (and put in the response's policy).
pub fn provide_request_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// Sets the page policy with `nonce` on an HTML response.
pub fn set_page_policy(res: &mut axum::response::Response, nonce: &CspNonce) {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce.0)) {
            res.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Adds the headers to every response of `router`.
pub fn apply(router: Router, secure: bool) -> Router {
    let router = router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NON_PAGE_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            http::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ));
    if secure {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    }
}
