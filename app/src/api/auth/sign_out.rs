use crate::error::AppError;
use leptos::prelude::*;

/// Ends the session and sends the browser to the sign-in page.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    let staff = auth::signed_in()?;
    let state = state()?;
    if let Some(token) = use_context::<http::request::Parts>()
        .and_then(|parts| auth::token_from_cookies(&parts.headers, state.secure_cookies))
    {
        auth::sign_out(&state, &token).await?;
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let cookie = auth::session_cookie(None, state.secure_cookies);
    response.insert_header(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&cookie).map_err(|e| crate::ssr::internal_error(&e))?,
    );
    tracing::info!(staff = %staff.email, "signed out");
    leptos_axum::redirect("/sign-in");
    Ok(())
}
