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
    service::account_managers::unassign(&state()?.db, &staff, customer_id, account_manager_id).await
}
