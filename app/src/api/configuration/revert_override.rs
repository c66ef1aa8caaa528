use crate::{error::AppError, model::SettingView};
use leptos::prelude::*;

/// Returns a customer's setting to the global default (version-checked; audited).
#[server(endpoint = "revert_override")]
pub async fn revert_override(
    customer_id: i64,
    key: String,
    version: i64,
) -> Result<SettingView, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::EditConfiguration)?;
    let reverted =
        service::configuration::revert(&state()?.db, &staff, customer_id, &key, version).await?;
    super::show_setting(customer_id, &key, |customer| {
        format!(
            "Reverted: {} follows the global default ({}) for {customer}.",
            reverted.label, reverted.value_display
        )
    })
    .await;
    Ok(reverted)
}
