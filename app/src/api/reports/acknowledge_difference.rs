use crate::error::AppError;
use leptos::prelude::*;

/// Acknowledges one difference of a customer's reconciliation, with a note; it stays
/// acknowledged until one of its values changes.
#[server(endpoint = "acknowledge_difference")]
pub async fn acknowledge_difference(
    customer_id: i64,
    row_key: String,
    kind: String,
    note: String,
) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::AcknowledgeDifferences)?;
    let db = &state()?.db;
    service::reports::acknowledge(db, &staff, customer_id, &row_key, &kind, &note).await?;
    crate::ssr::status::say("Difference acknowledged.");
    leptos_axum::redirect(&format!("/customers/{customer_id}/reports/reconciliation"));
    Ok(())
}
