use crate::{error::AppError, model::ReconciliationReport};
use leptos::prelude::*;

/// The License Reconciliation of one customer: Partner Center's subscriptions against the
/// billed record, every difference typed.
#[server(endpoint = "get_reconciliation")]
pub async fn get_reconciliation(customer_id: i64) -> Result<ReconciliationReport, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewReports)?;
    service::reports::reconciliation(&state()?.db, &staff, customer_id).await
}
