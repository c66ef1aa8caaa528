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
    let restored = service::deletion::restore(&state()?.db, &staff, customer_id).await?;
    crate::ssr::status::say(&if restored.left_out.is_empty() {
        format!("Restored {}.", restored.name)
    } else {
        format!(
            "Restored {}; left out: {}.",
            restored.name,
            restored.left_out.join(", ")
        )
    });
    leptos_axum::redirect(&format!("/customers/{customer_id}"));
    Ok(())
}
