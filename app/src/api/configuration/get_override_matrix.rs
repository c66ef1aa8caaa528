use crate::{error::AppError, model::OverrideMatrix};
use leptos::prelude::*;

/// Which customers override which setting, filtered by setting, category and customer tag
/// (`Name=Value`); an empty filter is off.
#[server(endpoint = "get_override_matrix")]
pub async fn get_override_matrix(
    #[server(default)] setting: String,
    #[server(default)] category: String,
    #[server(default)] tag: String,
) -> Result<OverrideMatrix, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, service::configuration::MatrixQuery, state},
    };
    let staff = auth::authorize(Permission::ViewOverrideMatrix)?;
    let query = MatrixQuery {
        setting_key: setting,
        category,
        tag,
    };
    service::configuration::matrix(&state()?.db, &staff, &query).await
}
