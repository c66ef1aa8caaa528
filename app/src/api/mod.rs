//! Server functions, one per file, grouped by feature. Each is a public HTTP endpoint under
//! `/api/`: thin, it checks who is asking and whether they may, then calls a service.
//!
//! [`ENDPOINTS`] says, for every endpoint, what a caller needs. The HTTP layer enforces it before
//! a request body is even read, and refuses any endpoint missing from it; each function checks
//! again when it runs (it is also called directly during server-side rendering).

pub mod account;
pub mod account_managers;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod configuration;
pub mod customers;
pub mod provider;
pub mod reports;
pub mod staff;
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

/// An endpoint: its path, what a caller needs, and whether it acts on customers (then the
/// customer's visibility to the caller is checked before anything is read, parsed or written,
/// and a customer the caller may not see answers exactly as a missing one: 404).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub path: &'static str,
    pub access: Access,
    pub customer_scoped: bool,
    /// The largest request body accepted, in bytes; a larger one is refused with 413 before
    /// the function runs.
    pub max_body: usize,
}

/// Request bodies of most endpoints are a few short fields.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024;

impl Endpoint {
    const fn customer(path: &'static str, access: Access) -> Self {
        Endpoint {
            path,
            access,
            customer_scoped: true,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    const fn global(path: &'static str, access: Access) -> Self {
        Endpoint {
            path,
            access,
            customer_scoped: false,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    const fn max_body(self, bytes: usize) -> Self {
        Endpoint {
            max_body: bytes,
            ..self
        }
    }
}

/// A link of many ticked tenants: a page holds 50, "all matching" is sent as a search instead
/// of ids; the command line links larger batches.
pub const LINK_MAX_BODY: usize = 64 * 1024;

/// Every server function and JSON route, checked by a test against the registered ones.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint::global(auth::SignIn::PATH, Access::Public),
    Endpoint::global(auth::SignOut::PATH, Access::SignedIn),
    Endpoint::global(auth::GetSession::PATH, Access::SignedIn),
    Endpoint::global(
        customers::ListCustomers::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        customers::GetCustomer::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        billing::GetBillingSection::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        billing::CheckBillingProfile::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::customer(
        billing::LinkBillingProfile::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::customer(
        billing::VerifyBillingProfile::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::customer(
        billing::UnlinkBillingProfile::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::customer(
        customers::GetDeletionPreview::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        customers::DeleteCustomer::PATH,
        Access::Requires(Permission::DeleteCustomers),
    ),
    Endpoint::global(
        customers::RestoreCustomer::PATH,
        Access::Requires(Permission::DeleteCustomers),
    ),
    Endpoint::global(
        audit::GetAuditPage::PATH,
        Access::Requires(Permission::ViewAuditLog),
    ),
    Endpoint::global(AUDIT_CSV_ROUTE, Access::Requires(Permission::ViewAuditLog)),
    Endpoint::global(OPENAPI_ROUTE, Access::Public),
    Endpoint::customer(
        audit::GetCustomerActivity::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::global(
        staff::GetStaffPage::PATH,
        Access::Requires(Permission::ManageStaff),
    ),
    Endpoint::global(
        staff::AddStaffMember::PATH,
        Access::Requires(Permission::ManageStaff),
    ),
    Endpoint::global(
        staff::ChangeStaffRole::PATH,
        Access::Requires(Permission::ManageStaff),
    ),
    Endpoint::global(
        staff::SetStaffScopes::PATH,
        Access::Requires(Permission::ManageStaff),
    ),
    Endpoint::global(
        staff::SetStaffEnabled::PATH,
        Access::Requires(Permission::ManageStaff),
    ),
    Endpoint::global(
        staff::ResetStaffPassword::PATH,
        Access::Requires(Permission::ManageStaff),
    ),
    Endpoint::global(
        staff::EndStaffSession::PATH,
        Access::Requires(Permission::ManageStaff),
    ),
    Endpoint::global(
        staff::tokens::GetApiTokens::PATH,
        Access::Requires(Permission::ManageApiTokens),
    ),
    Endpoint::global(
        staff::tokens::CreateApiToken::PATH,
        Access::Requires(Permission::ManageApiTokens),
    ),
    Endpoint::global(
        staff::tokens::RevokeApiToken::PATH,
        Access::Requires(Permission::ManageApiTokens),
    ),
    Endpoint::global(account::GetAccount::PATH, Access::SignedIn),
    Endpoint::global(account::ChangePassword::PATH, Access::SignedIn),
    Endpoint::global(account::EndOwnSession::PATH, Access::SignedIn),
    Endpoint::global(
        customers::ReleaseTenants::PATH,
        Access::Requires(Permission::DeleteCustomers),
    ),
    Endpoint::global(
        customers::GetDeletedCustomers::PATH,
        Access::Requires(Permission::DeleteCustomers),
    ),
    Endpoint::customer(
        tags::GetTags::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(tags::AddTag::PATH, Access::Requires(Permission::EditTags)),
    Endpoint::customer(
        tags::RemoveTag::PATH,
        Access::Requires(Permission::EditTags),
    ),
    Endpoint::customer(
        account_managers::GetAccountManagers::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        account_managers::AssignAccountManager::PATH,
        Access::Requires(Permission::AssignAccountManagers),
    ),
    Endpoint::customer(
        account_managers::UnassignAccountManager::PATH,
        Access::Requires(Permission::AssignAccountManagers),
    ),
    Endpoint::customer(
        configuration::GetConfiguration::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        configuration::SaveOverride::PATH,
        Access::Requires(Permission::EditConfiguration),
    ),
    Endpoint::customer(
        configuration::RevertOverride::PATH,
        Access::Requires(Permission::EditConfiguration),
    ),
    Endpoint::customer(
        configuration::GetSettingHistory::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        configuration::RestoreSetting::PATH,
        Access::Requires(Permission::EditConfiguration),
    ),
    Endpoint::global(
        configuration::GetGlobalDefaults::PATH,
        Access::Requires(Permission::ManageGlobalDefaults),
    ),
    Endpoint::global(
        configuration::SaveGlobalDefault::PATH,
        Access::Requires(Permission::ManageGlobalDefaults),
    ),
    Endpoint::global(
        configuration::GetOverrideMatrix::PATH,
        Access::Requires(Permission::ViewOverrideMatrix),
    ),
    Endpoint::customer(
        configuration::RevertOverrides::PATH,
        Access::Requires(Permission::BulkRevertOverrides),
    )
    .max_body(crate::model::MATRIX_MAX_ROWS as usize * 128),
    Endpoint::customer(
        sync::GetProviderTenants::PATH,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        sync::ReloadCustomer::PATH,
        Access::Requires(Permission::ReloadCustomer),
    ),
    Endpoint::global(
        sync::GetSyncPage::PATH,
        Access::Requires(Permission::ReloadAllCustomers),
    ),
    Endpoint::global(
        sync::ReloadAllCustomers::PATH,
        Access::Requires(Permission::ReloadAllCustomers),
    ),
    Endpoint::global(
        provider::GetProviderPage::PATH,
        Access::Requires(Permission::ViewProviderDirectory),
    ),
    Endpoint::global(
        provider::GetLinkSelection::PATH,
        Access::Requires(Permission::LinkTenants),
    )
    .max_body(LINK_MAX_BODY),
    Endpoint::global(
        provider::RefreshProviderDirectory::PATH,
        Access::Requires(Permission::LinkTenants),
    ),
    // Links to an existing customer check its visibility in the service.
    Endpoint::global(
        provider::LinkTenants::PATH,
        Access::Requires(Permission::LinkTenants),
    )
    .max_body(LINK_MAX_BODY),
    Endpoint::global(
        provider::AcceptSuggestions::PATH,
        Access::Requires(Permission::LinkTenants),
    )
    .max_body(LINK_MAX_BODY),
    Endpoint::customer(
        provider::UnlinkTenant::PATH,
        Access::Requires(Permission::LinkTenants),
    ),
    Endpoint::customer(
        CUSTOMER_CONFIGURATION_ROUTE,
        Access::Requires(Permission::ViewCustomers),
    ),
    Endpoint::customer(
        reports::GetReconciliation::PATH,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::customer(
        reports::GetConsumption::PATH,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::global(
        reports::GetPartnerReconciliation::PATH,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::global(
        reports::GetPartnerConsumption::PATH,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::global(
        PARTNER_RECONCILIATION_ROUTE,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::global(
        PARTNER_CONSUMPTION_CSV_ROUTE,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::global(
        PARTNER_RECONCILIATION_CSV_ROUTE,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::customer(
        reports::AdoptBilled::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::customer(
        reports::SaveBilled::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::global(
        BILLED_IMPORT_UPLOAD_ROUTE,
        Access::Requires(Permission::ManageBilled),
    )
    .max_body(BILLED_IMPORT_MAX_BODY),
    Endpoint::global(
        reports::GetBilledImport::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::global(
        reports::ApplyBilledImport::PATH,
        Access::Requires(Permission::ManageBilled),
    ),
    Endpoint::customer(
        reports::AcknowledgeDifference::PATH,
        Access::Requires(Permission::AcknowledgeDifferences),
    ),
    Endpoint::customer(
        CUSTOMER_RECONCILIATION_ROUTE,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::customer(
        CUSTOMER_RECONCILIATION_CSV_ROUTE,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::customer(
        CUSTOMER_CONSUMPTION_ROUTE,
        Access::Requires(Permission::ViewReports),
    ),
    Endpoint::customer(
        CUSTOMER_CONSUMPTION_CSV_ROUTE,
        Access::Requires(Permission::ViewReports),
    ),
];

/// `GET`: the JSON API's OpenAPI 3 document (public: it describes, it holds no data).
pub const OPENAPI_ROUTE: &str = "/api/openapi.json";

/// My account's page: a member who must change their password is sent here.
pub const ACCOUNT_PAGE: &str = "/account";

/// The endpoints a member who must change their password may call meanwhile.
pub const ALLOWED_BEFORE_PASSWORD_CHANGE: [&str; 5] = [
    account::GetAccount::PATH,
    account::ChangePassword::PATH,
    auth::SignOut::PATH,
    auth::GetSession::PATH,
    auth::SignIn::PATH,
];

/// `GET`: a customer's effective configuration as JSON, for other systems (a plain JSON route
/// beside the server functions).
pub const CUSTOMER_CONFIGURATION_ROUTE: &str = "/api/customers/{id}/configuration";

/// The plain JSON and CSV routes beside the server functions (served by the axum host).
pub const PLAIN_ROUTES: [&str; 11] = [
    CUSTOMER_CONFIGURATION_ROUTE,
    OPENAPI_ROUTE,
    AUDIT_CSV_ROUTE,
    BILLED_IMPORT_UPLOAD_ROUTE,
    PARTNER_RECONCILIATION_ROUTE,
    PARTNER_RECONCILIATION_CSV_ROUTE,
    PARTNER_CONSUMPTION_CSV_ROUTE,
    CUSTOMER_RECONCILIATION_ROUTE,
    CUSTOMER_RECONCILIATION_CSV_ROUTE,
    CUSTOMER_CONSUMPTION_ROUTE,
    CUSTOMER_CONSUMPTION_CSV_ROUTE,
];

/// `GET`: the partner-wide License Reconciliation as JSON (`?tag=Name=Value&kind=...&acknowledged=1
/// &page=N`), for other systems.
pub const PARTNER_RECONCILIATION_ROUTE: &str = "/api/reports/reconciliation";
/// `GET`: the same as CSV, one line per customer and currency of money at stake, streamed (the
/// same filters; `?excel=1`: with a byte order mark for Excel).
pub const PARTNER_RECONCILIATION_CSV_ROUTE: &str = "/api/reports/reconciliation.csv";

/// `GET`: the licence counts of every customer the caller may see as CSV, one line per tenant
/// product, streamed (`?tag=Name=Value`; `?excel=1`: with a byte order mark for Excel).
pub const PARTNER_CONSUMPTION_CSV_ROUTE: &str = "/api/reports/consumption.csv";

/// `GET`: the audit log as CSV with the page's filters (`customer`, `staff`, `action`, `from`,
/// `to`; `excel=1` adds a byte order mark), newest first, one line per changed field, streamed.
pub const AUDIT_CSV_ROUTE: &str = "/api/audit.csv";

/// `POST` (multipart/form-data, the file in field `file`): keeps a billing export uploaded in
/// the browser and answers 303 to its page (`/reports/billed-import/{id}`), where its dry run is shown
/// and it is imported.
pub const BILLED_IMPORT_UPLOAD_ROUTE: &str = "/api/billed-import";
/// The largest upload: the file and the form around it.
pub const BILLED_IMPORT_MAX_BODY: usize = 16 * 1024 * 1024 + 64 * 1024;

/// `GET`: a customer's License Reconciliation as JSON, for other systems.
pub const CUSTOMER_RECONCILIATION_ROUTE: &str = "/api/customers/{id}/reports/reconciliation";
/// `GET`: the same as CSV (`?excel=1`: with a byte order mark for Excel).
pub const CUSTOMER_RECONCILIATION_CSV_ROUTE: &str =
    "/api/customers/{id}/reports/reconciliation.csv";
/// `GET`: a customer's License Consumption as JSON.
pub const CUSTOMER_CONSUMPTION_ROUTE: &str = "/api/customers/{id}/reports/consumption";
/// `GET`: the same as CSV (`?excel=1`: with a byte order mark for Excel).
pub const CUSTOMER_CONSUMPTION_CSV_ROUTE: &str = "/api/customers/{id}/reports/consumption.csv";

/// The endpoint a path is (`{id}` in a route stands for a number); `None` for any other path.
pub fn endpoint_for(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| route_matches(e.path, path))
}

/// The largest body an endpoint takes (for a path that is not an endpoint: none at all).
pub fn max_body_for(path: &str) -> usize {
    endpoint_for(path).map_or(0, |e| e.max_body)
}

/// The access an endpoint needs; `None` for a path that is not an endpoint.
pub fn access_for(path: &str) -> Option<Access> {
    endpoint_for(path).map(|e| e.access)
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
