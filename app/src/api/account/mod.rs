//! My account (every signed-in member): change one's password, see and end one's sessions.

use crate::{error::AppError, model::AccountView};
use leptos::prelude::*;

#[server(endpoint = "get_account")]
pub async fn get_account() -> Result<AccountView, AppError> {
    use crate::ssr::{auth, service, state};
    let staff = auth::signed_in()?;
    service::staff::account(&state()?, &staff).await
}

/// Changes one's own password; the current one is required. Other sessions end.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    repeated: String,
) -> Result<(), AppError> {
    use crate::ssr::{auth, service, state, status};
    let staff = auth::signed_in()?;
    service::staff::change_own_password(&state()?, &staff, current, new, repeated).await?;
    status::say("Password changed; your other sessions have ended.");
    Ok(())
}

/// Ends one of one's own sessions (the current one too: that signs out).
#[server(endpoint = "end_own_session")]
pub async fn end_own_session(handle: String) -> Result<(), AppError> {
    use crate::ssr::{auth, service, state, status};
    let staff = auth::signed_in()?;
    service::staff::end_own_session(&state()?.db, &staff, &handle).await?;
    status::say("Session ended.");
    Ok(())
}
