use crate::{error::AppError, model::SettingView};
use leptos::prelude::*;

/// Changes a setting's global default (validated, version-checked, audited). Customers without
/// an override follow it at once; overrides stay.
#[server(endpoint = "save_global_default")]
pub async fn save_global_default(
    key: String,
    value: Option<String>,
    version: i64,
) -> Result<SettingView, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageGlobalDefaults)?;
    let input = value.unwrap_or_default();
    let saved =
        service::configuration::save_default(&state()?.db, &staff, &key, &input, version).await?;
    crate::ssr::status::say(&format!(
        "Saved: the global default of {} is {}.",
        saved.label, saved.value_display
    ));
    leptos_axum::redirect(&format!(
        "/settings/defaults#{}",
        crate::pages::dom_id("setting", &key)
    ));
    Ok(saved)
}
