//! Provider Tenants and Reload Reconciliation.

mod get_provider_tenants;
mod get_sync_page;
mod reload_all_customers;
mod reload_customer;

pub use get_provider_tenants::*;
pub use get_sync_page::*;
pub use reload_all_customers::*;
pub use reload_customer::*;

/// The client, or a refusal that says reconciliation is not set up on this server.
#[cfg(feature = "ssr")]
fn partner_center(
    state: &crate::ssr::AppState,
) -> Result<crate::ssr::partner_center::PartnerCenterClient, crate::error::AppError> {
    state
        .partner_center
        .clone()
        .ok_or_else(crate::ssr::service::sync::not_configured)
}
