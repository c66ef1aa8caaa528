use crate::{error::AppError, model::ConfigurationSection};
use leptos::prelude::*;

/// Every setting as in force for a customer, and whether the caller may change them.
#[server(endpoint = "get_configuration")]
pub async fn get_configuration(customer_id: i64) -> Result<ConfigurationSection, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    service::configuration::section(&state()?.db, &staff, customer_id).await
}
