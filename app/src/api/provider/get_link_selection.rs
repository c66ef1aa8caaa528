use crate::{error::AppError, model::LinkSelection};
use leptos::prelude::*;

/// The tenants about to be linked (the first ones, with their state and suggestions; counts
/// over all), for the question asked before a link: those ticked (`items`), or with `all_q` every unlinked tenant matching it.
#[server(endpoint = "get_link_selection")]
pub async fn get_link_selection(
    #[server(default)] items: Vec<String>,
    #[server(default)] all_q: Option<String>,
) -> Result<LinkSelection, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    auth::authorize(Permission::LinkTenants)?;
    service::provider::selection_summary(&state()?.db, &super::selection(items, all_q, None)).await
}
