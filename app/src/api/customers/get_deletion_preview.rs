use crate::{error::AppError, model::DeletionPreview};
use leptos::prelude::*;

/// What deleting the customer would take with it, and whether the caller may delete it.
#[server(endpoint = "get_deletion_preview")]
pub async fn get_deletion_preview(customer_id: i64) -> Result<DeletionPreview, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    let state = state()?;
    service::deletion::preview(&state.db, &staff, customer_id, state.delete_retention_days).await
}
