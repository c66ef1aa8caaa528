//! Staff roles and what each may do. This table is the one place that answers "may this role
//! do that"; the HTTP layer and the server functions both ask it.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Sees everything, changes nothing.
    Reader,
    /// Sees everything; reports and billing.
    Finance,
    /// Sees only customers whose tags match a tag pair assigned to the staff member.
    Helpdesk,
}

/// Something a server function does, named so a role can be allowed it or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    ViewCustomers,
    EditTags,
    AssignAccountManagers,
    /// Override, change, revert and restore a customer's settings (Help Desk: within their tags).
    EditConfiguration,
    /// See and change the global defaults.
    ManageGlobalDefaults,
    /// See which customers override which setting.
    ViewOverrideMatrix,
    /// Revert many customers' overrides at once from the matrix.
    BulkRevertOverrides,
    /// Reload one customer's reconciliation from Partner Center (Help Desk: within their tags).
    ReloadCustomer,
    /// Start the reload of all customers.
    ReloadAllCustomers,
    /// See the provider directory (Partner Center's customers) and what is linked to what.
    ViewProviderDirectory,
    /// Refresh the directory, link tenants to customers (creating customers), unlink them.
    LinkTenants,
    /// See the reports (reconciliation, consumption) of the customers one may see.
    ViewReports,
    /// Add, edit, end, adopt and import billed subscriptions; link the billing profile.
    ManageBilled,
    /// Acknowledge a reconciliation difference.
    AcknowledgeDifferences,
    /// Delete a customer from the portal, restore a deleted one.
    DeleteCustomers,
    /// Read the audit log (finance: its billing and report entries only).
    ViewAuditLog,
    /// See the staff, add them, change their role, scopes and status, reset passwords, end
    /// sessions.
    ManageStaff,
    /// Create, list and revoke API tokens.
    ManageApiTokens,
}

impl Permission {
    /// Whether the permission changes data (used by tests that call every write as a reader).
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Permission::ViewCustomers
                | Permission::ViewOverrideMatrix
                | Permission::ViewProviderDirectory
                | Permission::ViewReports
                | Permission::ViewAuditLog
        )
    }
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Reader, Role::Finance, Role::Helpdesk];

    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Reader => matches!(
                permission,
                ViewCustomers
                    | ViewOverrideMatrix
                    | ViewProviderDirectory
                    | ViewReports
                    | ViewAuditLog
            ),
            Role::Finance => matches!(
                permission,
                ViewCustomers
                    | ReloadCustomer
                    | ViewReports
                    | ManageBilled
                    | AcknowledgeDifferences
                    | ViewAuditLog
            ),
            Role::Helpdesk => matches!(
                permission,
                ViewCustomers | EditConfiguration | ReloadCustomer | ViewReports
            ),
        }
    }

    /// Whether the role's view of customers is limited by tag scopes.
    pub fn is_scoped_by_tags(self) -> bool {
        matches!(self, Role::Helpdesk)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reader => "reader",
            Role::Finance => "finance",
            Role::Helpdesk => "helpdesk",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "System Admin",
            Role::Reader => "System Reader",
            Role::Finance => "Finance Admin",
            Role::Helpdesk => "Help Desk",
        }
    }
}

impl Permission {
    /// The roles that have this permission, for people: "System Admin or Help Desk".
    pub fn granted_to(self) -> String {
        let labels: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(self))
            .map(Role::label)
            .collect();
        match labels.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown role {s:?}: expected admin, reader, finance or helpdesk")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_PERMISSIONS: [Permission; 18] = [
        Permission::ViewCustomers,
        Permission::EditTags,
        Permission::AssignAccountManagers,
        Permission::EditConfiguration,
        Permission::ManageGlobalDefaults,
        Permission::ViewOverrideMatrix,
        Permission::BulkRevertOverrides,
        Permission::ReloadCustomer,
        Permission::ReloadAllCustomers,
        Permission::ViewProviderDirectory,
        Permission::LinkTenants,
        Permission::ViewReports,
        Permission::ManageBilled,
        Permission::AcknowledgeDifferences,
        Permission::DeleteCustomers,
        Permission::ViewAuditLog,
        Permission::ManageStaff,
        Permission::ManageApiTokens,
    ];

    #[test]
    fn who_has_a_permission_is_said_in_words() {
        assert_eq!(
            Permission::EditConfiguration.granted_to(),
            "System Admin or Help Desk"
        );
        assert_eq!(Permission::EditTags.granted_to(), "System Admin");
        assert_eq!(
            Permission::ViewOverrideMatrix.granted_to(),
            "System Admin or System Reader"
        );
    }

    fn writes_allowed(role: Role) -> Vec<Permission> {
        ALL_PERMISSIONS
            .into_iter()
            .filter(|p| p.is_write() && role.allows(*p))
            .collect()
    }

    #[test]
    fn admin_is_allowed_every_permission() {
        for p in ALL_PERMISSIONS {
            assert!(Role::Admin.allows(p));
        }
    }

    #[test]
    fn every_role_may_view_customers() {
        for role in Role::ALL {
            assert!(role.allows(Permission::ViewCustomers));
        }
    }

    #[test]
    fn reader_is_refused_every_write() {
        assert_eq!(writes_allowed(Role::Reader), []);
    }

    #[test]
    fn finance_may_reload_a_customer_and_keep_the_billed_record_and_nothing_else() {
        assert_eq!(
            writes_allowed(Role::Finance),
            [
                Permission::ReloadCustomer,
                Permission::ManageBilled,
                Permission::AcknowledgeDifferences
            ]
        );
    }

    #[test]
    fn only_admin_deletes_and_restores_customers() {
        assert_eq!(Permission::DeleteCustomers.granted_to(), "System Admin");
    }

    #[test]
    fn every_role_sees_reports() {
        for role in Role::ALL {
            assert!(role.allows(Permission::ViewReports));
        }
    }

    #[test]
    fn helpdesk_may_edit_configuration_and_reload_and_nothing_else() {
        assert_eq!(
            writes_allowed(Role::Helpdesk),
            [Permission::EditConfiguration, Permission::ReloadCustomer]
        );
    }

    #[test]
    fn only_admin_and_reader_see_the_override_matrix() {
        let allowed: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Permission::ViewOverrideMatrix))
            .collect();
        assert_eq!(allowed, [Role::Admin, Role::Reader]);
    }

    #[test]
    fn only_admin_links_tenants_and_only_admin_and_reader_see_the_directory() {
        let linkers: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Permission::LinkTenants))
            .collect();
        assert_eq!(linkers, [Role::Admin]);
        let viewers: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Permission::ViewProviderDirectory))
            .collect();
        assert_eq!(viewers, [Role::Admin, Role::Reader]);
    }

    #[test]
    fn role_parses_from_its_name_in_any_case() {
        assert_eq!("Helpdesk".parse::<Role>(), Ok(Role::Helpdesk));
        assert_eq!(" admin ".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
