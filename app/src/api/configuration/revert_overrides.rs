use crate::error::AppError;
use leptos::prelude::*;

/// Reverts the selected overrides of the matrix, all or none (each audited on its customer).
/// Each item is `customer_id:setting_key:version`, as the matrix's checkboxes send it. The
/// filters (`setting`, `category`, `tag`) only say where the page goes back to afterwards.
#[server(endpoint = "revert_overrides")]
pub async fn revert_overrides(
    #[server(default)] items: Vec<String>,
    #[server(default)] setting: String,
    #[server(default)] category: String,
    #[server(default)] tag: String,
) -> Result<usize, AppError> {
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
    let reverted = service::configuration::bulk_revert(&state()?.db, &staff, &items).await?;
    crate::ssr::status::say(&format!(
        "Reverted {} to the global default.",
        crate::model::count_of(reverted, "override", "overrides")
    ));
    let filters: Vec<String> = [
        ("setting", &setting),
        ("category", &category),
        ("tag", &tag),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(name, value)| format!("{name}={}", leptos_router::location::Url::escape(value)))
    .collect();
    leptos_axum::redirect(&if filters.is_empty() {
        "/settings/overrides".to_owned()
    } else {
        format!("/settings/overrides?{}", filters.join("&"))
    });
    Ok(reverted)
}
