use crate::error::AppError;
use leptos::prelude::*;

/// Ends the link between a customer and one of its tenants (audited): the tenant is unlinked
/// in the provider directory again; what was synced from it is kept as history but no longer
/// counts for the customer.
#[server(endpoint = "unlink_tenant")]
pub async fn unlink_tenant(customer_id: i64, tenant_id: String) -> Result<String, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::LinkTenants)?;
    let db = &state()?.db;
    let name = service::provider::unlink(db, &staff, customer_id, &tenant_id).await?;
    crate::ssr::status::say_for_customer(db, customer_id, |customer| {
        format!("Unlinked {name} from {customer}; the tenant is back in the provider directory as unlinked.")
    })
    .await;
    leptos_axum::redirect(&format!("/customers/{customer_id}/tenants"));
    Ok(name)
}
