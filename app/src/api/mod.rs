//! Server functions, one per file, grouped by feature. Each is a public HTTP endpoint under
//! `/api/`: thin, it checks who is asking and whether they may, then calls a service.
//!
//! [`ENDPOINTS`] says, for every endpoint, what a caller needs. The HTTP layer enforces it before
//! a request body is even read, and refuses any endpoint missing from it; each function checks
//! again when it runs (it is also called directly during server-side rendering).

pub mod account_managers;
pub mod auth;
pub mod customers;
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
];

/// The access an endpoint needs; `None` for a path that is not an endpoint.
pub fn access_for(path: &str) -> Option<Access> {
    ENDPOINTS
        .iter()
        .find(|(endpoint, _)| *endpoint == path)
        .map(|(_, access)| *access)
}
