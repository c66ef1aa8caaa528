use crate::{error::AppError, model::ProviderPage};
use leptos::prelude::*;

/// One page of the provider directory: Partner Center's customer tenants with their link
/// state and suggested customers. `show` is `unlinked` (the default), `linked`, `gone` or
/// `all`; `after` the tenant id the page starts after; `for_customer` the customer the page
/// links to when opened from its Provider Tenants section.
#[server(endpoint = "get_provider_page")]
pub async fn get_provider_page(
    #[server(default)] q: String,
    #[server(default)] show: String,
    #[server(default)] after: Option<String>,
    #[server(default)] for_customer: Option<i64>,
) -> Result<ProviderPage, AppError> {
    use crate::{
        model::{LinkFilter, Permission},
        ssr::{auth, service, service::provider::DirectoryRequest, state},
    };
    let staff = auth::authorize(Permission::ViewProviderDirectory)?;
    let state = state()?;
    service::provider::directory_page(
        &state.db,
        &staff,
        state.partner_center.is_some(),
        DirectoryRequest {
            search: &q,
            filter: LinkFilter::parse(&show),
            after: after.as_deref().filter(|a| !a.is_empty()),
            for_customer,
        },
    )
    .await
}
