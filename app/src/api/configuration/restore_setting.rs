use crate::{error::AppError, model::SettingView};
use leptos::prelude::*;

/// Sets a customer's setting back to the value a history entry set (version-checked; audited).
#[server(endpoint = "restore_setting")]
pub async fn restore_setting(
    customer_id: i64,
    key: String,
    history_id: i64,
    version: i64,
) -> Result<SettingView, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::EditConfiguration)?;
    let restored = service::configuration::restore(
        &state()?.db,
        &staff,
        customer_id,
        &key,
        history_id,
        version,
    )
    .await?;
    super::show_setting(customer_id, &key, |customer| {
        format!(
            "Restored: {} is {} for {customer}.",
            restored.label, restored.value_display
        )
    })
    .await;
    Ok(restored)
}
