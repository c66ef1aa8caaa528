use crate::{error::AppError, model::SyncPage};
use leptos::prelude::*;

/// The newest "all customers" job and its progress.
#[server(endpoint = "get_sync_page")]
pub async fn get_sync_page() -> Result<SyncPage, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ReloadAllCustomers)?;
    service::sync::sync_page(&state()?.db, &staff).await
}
