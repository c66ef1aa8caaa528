use crate::error::AppError;
use leptos::prelude::*;

/// Releases a deleted customer's tenants, so other customers may link them before the purge.
#[server(endpoint = "release_tenants")]
pub async fn release_tenants(customer_id: i64) -> Result<usize, AppError> {
    use crate::{
        model::{count_of, Permission},
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::DeleteCustomers)?;
    let released = service::deletion::release_tenants(&state()?.db, &staff, customer_id).await?;
    crate::ssr::status::say(&format!(
        "Released {}: they can be linked to other customers now.",
        count_of(released, "tenant", "tenants")
    ));
    leptos_axum::redirect("/deleted-customers");
    Ok(released)
}
