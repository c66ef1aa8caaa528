//! A value a form post without JavaScript hands to the page it redirects to, once (a token
//! shown only at its creation): an HttpOnly, SameSite=Strict cookie limited to that page's path,
//! living a minute, read and cleared by the page's server render.

use leptos_router::location::Url;

const LIFETIME_SECONDS: u32 = 60;

fn secure() -> bool {
    super::state().is_ok_and(|s| s.secure_cookies)
}

/// The cookie's name: `__Secure-` prefixed when cookies are Secure.
fn cookie_name(name: &str) -> String {
    if secure() {
        format!("__Secure-{name}")
    } else {
        name.to_owned()
    }
}

/// Whether this request is a browser's form post without JavaScript (it asks for a page, where
/// the app's script asks for data).
pub fn is_plain_form_post() -> bool {
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(cookie),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Hands `value` to the page at `path`.
pub fn set(name: &str, value: &str, path: &str) {
    let flags = if secure() { "; Secure" } else { "" };
    set_cookie(&format!(
        "{}={}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECONDS}{flags}",
        cookie_name(name),
        Url::escape(value)
    ));
}

/// The value waiting in this request for the page at `path`, if any; clears it.
pub fn take(name: &str, path: &str) -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    let name = cookie_name(name);
    let value = super::auth::cookie_values(&parts.headers, &name)
        .next()
        .map(Url::unescape)?;
    let flags = if secure() { "; Secure" } else { "" };
    set_cookie(&format!(
        "{name}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0{flags}"
    ));
    (!value.is_empty()).then_some(value)
}
