use crate::error::AppError;
use leptos::prelude::*;

/// Starts the reload of every linked customer (the provider directory is taken first), or joins
/// the one running; answers with the job's id and whether this request started it (audited
/// either way).
#[server(endpoint = "reload_all_customers")]
pub async fn reload_all_customers() -> Result<(i64, bool), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ReloadAllCustomers)?;
    let state = state()?;
    let client = super::partner_center(&state)?;
    let started =
        service::sync::start_all_with_directory(&state.db, &client, &staff, &state.sync_wakeup)
            .await?;
    crate::ssr::status::say(if started.1 {
        "Reload of all customers started."
    } else {
        "A reload of all customers is already under way."
    });
    leptos_axum::redirect("/sync");
    Ok(started)
}
