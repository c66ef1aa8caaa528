//! Link to Provider: the provider directory (Partner Center's customers), linking its tenants
//! to portal customers, and unlinking them.

mod accept_suggestions;
mod get_link_selection;
mod get_provider_page;
mod link_tenants;
mod refresh_provider_directory;
mod unlink_tenant;

pub use accept_suggestions::*;
pub use get_link_selection::*;
pub use get_provider_page::*;
pub use link_tenants::*;
pub use refresh_provider_directory::*;
pub use unlink_tenant::*;

/// The tenants a form names: those ticked (`items`), or with `all_q` every unlinked tenant
/// matching that search ("select all N matching"; `all_n` is the N the person was shown).
#[cfg(feature = "ssr")]
fn selection(
    items: Vec<String>,
    all_q: Option<String>,
    all_n: Option<usize>,
) -> crate::ssr::service::provider::Selection {
    use crate::ssr::service::provider::Selection;
    match all_q {
        Some(search) => Selection::AllUnlinkedMatching {
            search,
            expected: all_n,
        },
        None => Selection::Tenants(items),
    }
}

/// "3 tenants", and " A sync of each is queued." when one was.
#[cfg(feature = "ssr")]
fn sync_note(queued: bool, customers: usize) -> &'static str {
    match (queued, customers) {
        (false, _) | (true, 0) => "",
        (true, 1) => " Its first sync is queued.",
        (true, _) => " The first sync of each customer is queued.",
    }
}
