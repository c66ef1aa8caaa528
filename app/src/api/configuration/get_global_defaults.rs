use crate::{error::AppError, model::GlobalDefaults};
use leptos::prelude::*;

/// Every setting with its global default.
#[server(endpoint = "get_global_defaults")]
pub async fn get_global_defaults() -> Result<GlobalDefaults, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageGlobalDefaults)?;
    service::configuration::defaults(&state()?.db, &staff).await
}
