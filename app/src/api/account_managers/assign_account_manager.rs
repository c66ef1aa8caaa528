use crate::error::AppError;
use leptos::prelude::*;

/// Makes an account manager responsible for a customer (audited).
#[server(endpoint = "assign_account_manager")]
pub async fn assign_account_manager(
    customer_id: i64,
    account_manager_id: i64,
) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::AssignAccountManagers)?;
    let db = &state()?.db;
    let manager =
        service::account_managers::assign(db, &staff, customer_id, account_manager_id).await?;
    crate::ssr::status::say_for_customer(db, customer_id, |customer| {
        format!("Assigned {} to {customer}.", manager.name)
    })
    .await;
    Ok(())
}
