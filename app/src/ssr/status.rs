//! The status message of a change ("Saved: Billing cycle is Annual for Contoso"): one short
//! sentence a server function leaves, after it succeeded, for the page that shows the result.
//!
//! It travels in a short-lived cookie readable by the page's script (it holds nothing secret).
//! Without JavaScript, the form's redirect lands on a page whose render shows the message and
//! clears the cookie; with JavaScript, the page reads and clears it when the action finishes
//! (see `components::feedback`). Either way it is said once.

use crate::model::status_cookie_name;
use leptos_router::location::Url;

/// How long a message waits for its page, in seconds: long enough for a redirect.
const LIFETIME_SECONDS: u32 = 60;

/// The longest message kept, in characters.
const MAX_CHARS: usize = 300;

fn secure() -> bool {
    super::state().is_ok_and(|s| s.secure_cookies)
}

/// Leaves `message` for the page that shows this change's result.
pub fn say(message: &str) {
    let secure = secure();
    let name = status_cookie_name(secure);
    // Short enough that, percent-encoded, it always fits in a cookie (4 KB).
    let short: String = message.chars().take(MAX_CHARS).collect();
    let value = Url::escape(&short);
    let flags = if secure { "; Secure" } else { "" };
    set_cookie(&format!(
        "{name}={value}; Path=/; SameSite=Strict; Max-Age={LIFETIME_SECONDS}{flags}"
    ));
}

/// Leaves a message about a customer, made by `message` from the customer's name.
pub async fn say_for_customer(
    db: &super::db::Db,
    customer_id: i64,
    message: impl FnOnce(&str) -> String,
) {
    let name = match db.pool().acquire().await {
        Ok(mut conn) => super::store::customers::find(&mut conn, customer_id)
            .await
            .ok()
            .flatten()
            .map(|(_, name, ..)| name),
        Err(_) => None,
    };
    say(&message(name.as_deref().unwrap_or("this customer")));
}

/// During a page render: the message waiting in the request, if any, and clears it (the
/// browser drops the cookie with the page's response).
pub fn take() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    let secure = secure();
    let name = status_cookie_name(secure);
    let value = super::auth::cookie_values(&parts.headers, name)
        .next()
        .map(Url::unescape)?;
    let flags = if secure { "; Secure" } else { "" };
    set_cookie(&format!(
        "{name}=; Path=/; SameSite=Strict; Max-Age=0{flags}"
    ));
    let value = value.trim();
    (!value.is_empty()).then(|| value.chars().take(MAX_CHARS).collect())
}

fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(cookie),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}
