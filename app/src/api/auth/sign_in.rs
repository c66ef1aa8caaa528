use crate::{error::AppError, model::StaffView};
use leptos::prelude::*;

/// Signs a staff member in. Its endpoint is fixed (`POST /api/sign_in`) so that the sign-in form
/// posts to it without JavaScript; on success the browser is sent to the customer list.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<StaffView, AppError> {
    use crate::{
        error::FieldErrors,
        ssr::{auth, state},
    };
    let state = state()?;
    let mut errors = FieldErrors::default();
    errors.check(
        "email",
        (!email.trim().is_empty())
            .then_some(())
            .ok_or_else(|| "Enter your e-mail address.".to_owned()),
    );
    errors.check(
        "password",
        (!password.is_empty())
            .then_some(())
            .ok_or_else(|| "Enter your password.".to_owned()),
    );
    errors.into_result()?;

    let parts = use_context::<http::request::Parts>();
    let previous = parts
        .as_ref()
        .and_then(|parts| auth::token_from_cookies(&parts.headers, state.secure_cookies));
    let peer = parts
        .as_ref()
        .and_then(|parts| auth::peer_address(&parts.extensions));
    let (token, staff) = auth::sign_in(&state, &email, password, previous.as_deref(), peer).await?;
    let cookie = auth::session_cookie(Some(&token), state.secure_cookies);
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.insert_header(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&cookie).map_err(|e| crate::ssr::internal_error(&e))?,
    );
    // A member whose password an admin set chooses their own first.
    let must_change =
        crate::ssr::store::staff::find(&mut *state.db.pool().acquire().await?, staff.id)
            .await?
            .is_some_and(|row| row.password_change_required);
    leptos_axum::redirect(if must_change {
        crate::api::ACCOUNT_PAGE
    } else {
        "/customers"
    });
    Ok(staff)
}
