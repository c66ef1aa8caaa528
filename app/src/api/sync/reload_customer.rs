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
    service::sync::reload_customer(&state()?, &staff, customer_id).await
}
