use crate::{error::AppError, model::BilledImportView};
use leptos::prelude::*;

/// An uploaded billing export: the dry run of its import against the billed record as it is
/// now, or, once imported, what the import did.
#[server(endpoint = "get_billed_import")]
pub async fn get_billed_import(id: i64) -> Result<BilledImportView, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    service::billed_import::review(&state()?.db, &staff, id).await
}
