use crate::error::AppError;
use leptos::prelude::*;

/// Queues the reload of one customer from Partner Center (or joins the one queued) and answers
/// at once with the job's id and whether this request started it (audited either way).
#[server(endpoint = "reload_customer")]
pub async fn reload_customer(customer_id: i64) -> Result<(i64, bool), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ReloadCustomer)?;
    let state = state()?;
    let queued = service::sync::reload_customer(&state, &staff, customer_id).await?;
    crate::ssr::status::say_for_customer(&state.db, customer_id, |customer| {
        if queued.1 {
            format!("Reload queued for {customer}: this section updates when it is done.")
        } else {
            format!("A reload of {customer} is already under way: this section updates when it is done.")
        }
    })
    .await;
    Ok(queued)
}
