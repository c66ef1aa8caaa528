use crate::{error::AppError, model::SettingHistory};
use leptos::prelude::*;

/// A setting's history for a customer, newest first.
#[server(endpoint = "get_setting_history")]
pub async fn get_setting_history(
    customer_id: i64,
    key: String,
) -> Result<SettingHistory, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    service::configuration::history(&state()?.db, &staff, customer_id, &key).await
}
