use crate::{error::AppError, model::ConsumptionReport};
use leptos::prelude::*;

/// The License Consumption report of one customer.
#[server(endpoint = "get_consumption")]
pub async fn get_consumption(customer_id: i64) -> Result<ConsumptionReport, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewReports)?;
    service::reports::consumption(&state()?.db, &staff, customer_id).await
}
