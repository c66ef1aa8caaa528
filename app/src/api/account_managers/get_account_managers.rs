use crate::{error::AppError, model::AccountManagersSection};
use leptos::prelude::*;

/// The account managers of a customer, and (for those who may assign) the others.
#[server(endpoint = "get_account_managers")]
pub async fn get_account_managers(customer_id: i64) -> Result<AccountManagersSection, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    service::account_managers::section(&state()?.db, &staff, customer_id).await
}
