use crate::{error::AppError, model::DeletedCustomer};
use leptos::prelude::*;

/// The deleted customers, the most recently deleted first, with the day each is purged.
#[server(endpoint = "get_deleted_customers")]
pub async fn get_deleted_customers() -> Result<Vec<DeletedCustomer>, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::DeleteCustomers)?;
    let state = state()?;
    service::deletion::deleted(&state.db, &staff, state.delete_retention_days).await
}
