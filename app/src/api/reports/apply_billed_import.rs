use crate::error::AppError;
use leptos::prelude::*;

/// Imports an uploaded billing export into the billed record, all or nothing: refused while a
/// line is rejected, and once it is imported.
#[server(endpoint = "apply_billed_import")]
pub async fn apply_billed_import(id: i64) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    let said = service::billed_import::apply_upload(&state()?.db, &staff, id).await?;
    crate::ssr::status::say(&said);
    leptos_axum::redirect(&format!("/reports/billed-import/{id}"));
    Ok(())
}
