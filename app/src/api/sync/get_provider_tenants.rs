use crate::{error::AppError, model::ProviderTenantsSection};
use leptos::prelude::*;

/// A customer's Partner Center tenants with their last sync, and the customer's sync status.
#[server(endpoint = "get_provider_tenants")]
pub async fn get_provider_tenants(customer_id: i64) -> Result<ProviderTenantsSection, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    service::sync::tenants_section(&state()?.db, &staff, customer_id).await
}
