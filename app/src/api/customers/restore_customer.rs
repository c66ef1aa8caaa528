use crate::error::AppError;
use leptos::prelude::*;

/// Restores a deleted customer as it was.
#[server(endpoint = "restore_customer")]
pub async fn restore_customer(customer_id: i64) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::DeleteCustomers)?;
    let name = service::deletion::restore(&state()?.db, &staff, customer_id).await?;
    crate::ssr::status::say(&format!("Restored {name}."));
    leptos_axum::redirect(&format!("/customers/{customer_id}"));
    Ok(())
}
