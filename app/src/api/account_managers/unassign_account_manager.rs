use crate::error::AppError;
use leptos::prelude::*;

/// Removes an account manager from a customer (audited).
#[server(endpoint = "unassign_account_manager")]
pub async fn unassign_account_manager(
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
        service::account_managers::unassign(db, &staff, customer_id, account_manager_id).await?;
    let name = manager.map_or_else(|| "The account manager".to_owned(), |m| m.name);
    crate::ssr::status::say_for_customer(db, customer_id, |customer| {
        format!("Unassigned {name} from {customer}.")
    })
    .await;
    Ok(())
}
