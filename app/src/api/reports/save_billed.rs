// A billed row is a dozen form fields, each its own argument (the form posts them by name);
// the server macro also writes a client function with the same list.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use leptos::prelude::*;

/// Adds a billed row, or (with `id` and the `version` the form showed) changes one; a row
/// changed by someone else meanwhile is refused (409). Answers the row's id.
#[server(endpoint = "save_billed")]
pub async fn save_billed(
    customer_id: i64,
    #[server(default)] id: Option<i64>,
    #[server(default)] version: Option<i64>,
    product: String,
    quantity: String,
    #[server(default)] offer_id: String,
    #[server(default)] pc_subscription_id: String,
    #[server(default)] tenant_id: String,
    #[server(default)] billing_cycle: String,
    #[server(default)] term: String,
    #[server(default)] status: String,
    #[server(default)] auto_renew: String,
    #[server(default)] unit_price: String,
    #[server(default)] currency: String,
    #[server(default)] notes: String,
) -> Result<i64, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, service::reports::BilledInput, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    let row = match (id, version) {
        (Some(id), Some(version)) => Some((id, version)),
        (None, _) => None,
        (Some(_), None) => {
            return Err(AppError::BadRequest {
                message: "A change names the version it was made from.".into(),
            })
        }
    };
    let input = BilledInput {
        product,
        offer_id,
        pc_subscription_id,
        tenant_id,
        quantity,
        billing_cycle,
        term,
        status,
        auto_renew,
        unit_price,
        currency,
        notes,
    };
    let db = &state()?.db;
    let saved = service::reports::save_billed(db, &staff, customer_id, row, &input).await?;
    crate::ssr::status::say(&format!(
        "Saved billed row {saved}: {}.",
        input.product.trim()
    ));
    leptos_axum::redirect(&format!("/customers/{customer_id}/reports/reconciliation"));
    Ok(saved)
}
