use crate::{error::AppError, model::SettingView};
use leptos::prelude::*;

/// Overrides a setting for a customer, or changes its override. `version` is the override
/// version the page showed (0: never overridden); a stale one is refused with 409. A missing
/// `value` is an empty input (an unticked checkbox sends nothing).
#[server(endpoint = "save_override")]
pub async fn save_override(
    customer_id: i64,
    key: String,
    value: Option<String>,
    version: i64,
) -> Result<SettingView, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::EditConfiguration)?;
    let input = value.unwrap_or_default();
    let saved = service::configuration::save_override(
        &state()?.db,
        &staff,
        customer_id,
        &key,
        &input,
        version,
    )
    .await?;
    super::show_setting(customer_id, &key, |customer| {
        format!(
            "Saved: {} is {} for {customer}.",
            saved.label, saved.value_display
        )
    })
    .await;
    Ok(saved)
}
