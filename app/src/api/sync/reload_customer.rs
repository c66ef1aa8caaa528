use crate::{error::AppError, model::SyncStatus};
use leptos::prelude::*;

/// Syncs one customer with Partner Center now and answers with how it went (audited).
#[server(endpoint = "reload_customer")]
pub async fn reload_customer(customer_id: i64) -> Result<SyncStatus, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ReloadCustomer)?;
    let state = state()?;
    service::sync::reload_customer(
        &state.db,
        state.partner_center.as_ref(),
        &staff,
        customer_id,
    )
    .await
}
