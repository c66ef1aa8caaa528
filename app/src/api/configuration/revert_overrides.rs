use crate::error::AppError;
use leptos::prelude::*;

/// Reverts the selected overrides of the matrix, all or none (each audited on its customer).
/// Each item is `customer_id:setting_key:version`, as the matrix's checkboxes send it.
#[server(endpoint = "revert_overrides")]
pub async fn revert_overrides(#[server(default)] items: Vec<String>) -> Result<usize, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, service::configuration::RevertItem, state},
    };
    let staff = auth::authorize(Permission::BulkRevertOverrides)?;
    let items = items
        .iter()
        .map(|item| RevertItem::parse(item))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|message| AppError::field("items", message))?;
    service::configuration::bulk_revert(&state()?.db, &staff, &items).await
}
