//! Server functions, one per file, grouped by feature. Each is a public HTTP endpoint under
//! `/api/`: thin, it checks who is asking and whether they may, then calls a service.
//!
//! [`ENDPOINTS`] says, for every endpoint, what a caller needs. The HTTP layer enforces it before
//! a request body is even read, and refuses any endpoint missing from it; each function checks
//! again when it runs (it is also called directly during server-side rendering).

pub mod account_managers;
pub mod auth;
pub mod configuration;
pub mod customers;
pub mod sync;
pub mod tags;

use crate::model::Permission;
use leptos::server_fn::ServerFn;

/// What a caller of an endpoint needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone (only signing in).
    Public,
    /// Any signed-in staff member.
    SignedIn,
    /// A signed-in staff member whose role allows this.
    Requires(Permission),
}

/// Every server function's path and access, checked by a test against the registered ones.
pub const ENDPOINTS: &[(&str, Access)] = &[
    (auth::SignIn::PATH, Access::Public),
    (auth::SignOut::PATH, Access::SignedIn),
    (auth::GetSession::PATH, Access::SignedIn),
    (
        customers::ListCustomers::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    (
        customers::GetCustomer::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    (
        tags::GetTags::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    (tags::AddTag::PATH, Access::Requires(Permission::EditTags)),
    (
        tags::RemoveTag::PATH,
        Access::Requires(Permission::EditTags),
    ),
    (
        account_managers::GetAccountManagers::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    (
        account_managers::AssignAccountManager::PATH,
        Access::Requires(Permission::AssignAccountManagers),
    ),
    (
        account_managers::UnassignAccountManager::PATH,
        Access::Requires(Permission::AssignAccountManagers),
    ),
    (
        configuration::GetConfiguration::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    (
        configuration::SaveOverride::PATH,
        Access::Requires(Permission::EditConfiguration),
    ),
    (
        configuration::RevertOverride::PATH,
        Access::Requires(Permission::EditConfiguration),
    ),
    (
        configuration::GetSettingHistory::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    (
        configuration::RestoreSetting::PATH,
        Access::Requires(Permission::EditConfiguration),
    ),
    (
        configuration::GetGlobalDefaults::PATH,
        Access::Requires(Permission::ManageGlobalDefaults),
    ),
    (
        configuration::SaveGlobalDefault::PATH,
        Access::Requires(Permission::ManageGlobalDefaults),
    ),
    (
        configuration::GetOverrideMatrix::PATH,
        Access::Requires(Permission::ViewOverrideMatrix),
    ),
    (
        configuration::RevertOverrides::PATH,
        Access::Requires(Permission::BulkRevertOverrides),
    ),
    (
        sync::GetProviderTenants::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    (
        sync::ReloadCustomer::PATH,
        Access::Requires(Permission::ReloadCustomer),
    ),
    (
        sync::GetSyncPage::PATH,
        Access::Requires(Permission::ReloadAllCustomers),
    ),
    (
        sync::ReloadAllCustomers::PATH,
        Access::Requires(Permission::ReloadAllCustomers),
    ),
];

/// `GET`: a customer's effective configuration as JSON, for other systems.
pub const CUSTOMER_CONFIGURATION_ROUTE: &str = "/api/customers/{id}/configuration";

/// Plain JSON routes beside the server functions, with what a caller needs. `{id}` stands for a
/// number.
pub const JSON_ROUTES: &[(&str, Access)] = &[(
    CUSTOMER_CONFIGURATION_ROUTE,
    Access::Requires(Permission::ViewCustomers),
)];

/// The access an endpoint needs; `None` for a path that is not an endpoint.
pub fn access_for(path: &str) -> Option<Access> {
    ENDPOINTS
        .iter()
        .chain(JSON_ROUTES)
        .find(|(endpoint, _)| route_matches(endpoint, path))
        .map(|(_, access)| *access)
}

fn route_matches(pattern: &str, path: &str) -> bool {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some("{id}"), Some(id))
                if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {}
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_routes_match_only_numeric_ids() {
        assert!(access_for("/api/customers/42/configuration").is_some());
        assert!(access_for("/api/customers/x/configuration").is_none());
        assert!(access_for("/api/customers//configuration").is_none());
        assert!(access_for("/api/customers/42/configuration/more").is_none());
        assert_eq!(access_for("/api/sign_in"), Some(Access::Public));
    }
}
