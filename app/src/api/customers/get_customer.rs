use crate::{error::AppError, model::CustomerHeader};
use leptos::prelude::*;

/// A customer's name and domain, for the header of its settings page.
#[server(endpoint = "get_customer")]
pub async fn get_customer(customer_id: i64) -> Result<CustomerHeader, AppError> {
    use crate::ssr::gateway::PaymentGateway;
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    let state = state()?;
    let mut header = service::customers::header(&state.db, &staff, customer_id).await?;
    header.billing_gateway = state.gateway.as_ref().map(|g| g.name().to_owned());
    Ok(header)
}
