//! Types shared by the browser and the server: what crosses the wire, and the validated
//! newtypes that input is parsed into before any rule or SQL sees it.

mod provider;
mod reports;
mod role;
mod setting;
mod staff;
mod tag;
pub mod text;

pub use provider::{
    parse_customer_name, parse_domain, parse_tenant_id, CustomerRef, DirectoryEntry, LinkFilter,
    LinkSelection, ProviderPage, SuggestionView, CUSTOMER_NAME_MAX_CHARS, PROVIDER_PAGE_SIZE,
    SELECTION_SHOWN,
};
pub use reports::{
    parse_choice, parse_currency, parse_notes, parse_offer_id, parse_optional_bool,
    parse_optional_guid, parse_price, parse_product, parse_quantity, AcknowledgementNote,
    AssignedState, BilledImportView, BilledRecord, ConsumptionReport, CustomerDifferences,
    Difference, DifferenceKind, EndedRowView, ImportAction, ImportLineView, Money,
    PartnerConsumption, PartnerReconciliation, PcSubscription, ProductTotals, ProductUsage,
    ReconciliationReport, ReconciliationRow, UsageSubscription, BILLED_QUANTITY_MAX,
    BILLED_STATUSES, BILLING_CYCLES, IMPORT_LINES_SHOWN, PARTNER_REPORT_PAGE_SIZE, TERMS,
};
pub use role::{Permission, Role};
pub use setting::{resolve, ChoiceOption, SettingKind, ValueSource};
pub use staff::{
    check_new_password, parse_display_name, parse_email, parse_tag_scopes, parse_token_name,
    AccountView, ApiTokenView, NewToken, SessionView, StaffMember, StaffPage, TagScope, TokenScope,
    DISPLAY_NAME_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, TOKEN_NAME_MAX_CHARS,
};
pub use tag::{TagName, TagValue, TAG_NAME_MAX_CHARS, TAG_VALUE_MAX_CHARS};

use serde::{Deserialize, Serialize};

/// A point in time as milliseconds since the Unix epoch, UTC. Both database backends store it
/// as a 64-bit integer, which keeps one SQL set for both.
pub type Millis = i64;

/// Renders a timestamp for people: `2026-11-25 08:30 UTC`. The fields are written with
/// `format!` rather than `time`'s format descriptions: pages call this in the browser too, and
/// the descriptions' formatting code would add 16 KB to the client for one fixed layout.
pub fn format_time(at: Millis) -> String {
    use time::OffsetDateTime;
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000) {
        Ok(t) => {
            let year = t.year();
            let sign = if year < 0 { "-" } else { "" };
            format!(
                "{sign}{:04}-{:02}-{:02} {:02}:{:02} UTC",
                year.unsigned_abs(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => at.to_string(),
    }
}

/// A timestamp as RFC 3339 in UTC (`2026-11-25T08:30:00.123Z`), for JSON and CSV.
pub fn rfc3339(at: Millis) -> String {
    use time::{format_description::well_known::Rfc3339, OffsetDateTime};
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}

/// The name of the cookie that carries a change's status message to its page (see
/// `ssr::status`): `__Host-` prefixed when cookies are `Secure`.
pub fn status_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-portal_status"
    } else {
        "portal_status"
    }
}

/// 1204 as "1,204".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "1 override", "3 overrides": a count with its noun, singular or plural.
pub fn count_of(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// The signed-in staff member as the pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountManager {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// One row of the customer list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub id: i64,
    pub name: String,
    pub primary_domain: String,
    pub tags: Vec<Tag>,
    pub account_managers: Vec<String>,
    pub sync: SyncBadge,
}

/// One page of the customer list, with the cursor of the next page when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPage {
    pub customers: Vec<CustomerSummary>,
    pub next_after: Option<i64>,
    /// How many customers the caller may see, counted up to a cap; `None` for a search (its
    /// matches are not counted).
    pub total: Option<i64>,
    /// Whether more than `total` match (the count stopped at its cap).
    pub total_is_at_least: bool,
    /// Whether the caller may link Partner Center tenants (an empty list then says how to
    /// bring customers in).
    pub can_link: bool,
    /// Whether the caller may restore deleted customers (the list links to them).
    #[serde(default)]
    pub can_restore: bool,
}

/// How many customers one page of the list shows.
pub const CUSTOMER_PAGE_SIZE: i64 = 25;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: String,
    pub name: String,
    pub domain: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerHeader {
    pub id: i64,
    pub name: String,
    pub primary_domain: String,
    pub updated_at: Millis,
    /// The configured payment gateway's name, when there is one (Link to Billing Profile
    /// exists only then).
    #[serde(default)]
    pub billing_gateway: Option<String>,
}

/// The Define Tags section: the tags, and whether this staff member may change them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsSection {
    pub tags: Vec<Tag>,
    pub can_edit: bool,
}

/// The Account Manager Details section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountManagersSection {
    pub assigned: Vec<AccountManager>,
    /// Managers that can still be assigned; empty for staff who may not assign.
    pub assignable: Vec<AccountManager>,
    pub can_assign: bool,
}

/// One setting as a page shows it: the catalog entry, the value in force for a customer (or the
/// default, on the global defaults page), where it comes from, and the versions a change must
/// name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingView {
    pub key: String,
    pub category: String,
    pub label: String,
    pub help: String,
    pub kind: SettingKind,
    /// The global default (canonical text) and as people read it.
    pub default_value: String,
    pub default_display: String,
    pub default_version: i64,
    /// The value in force (canonical text) and as people read it.
    pub value: String,
    pub value_display: String,
    pub source: ValueSource,
    /// The version of the customer's override row; 0 when the setting was never overridden.
    pub override_version: i64,
    /// Who last changed the value in force, and when (for an override, or a default).
    pub changed_by: String,
    pub changed_at: Millis,
}

/// The Customer Configuration section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigurationSection {
    pub settings: Vec<SettingView>,
    pub can_edit: bool,
}

/// The global defaults page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalDefaults {
    /// Every setting; `value` is the default.
    pub settings: Vec<SettingView>,
    pub can_edit: bool,
}

/// One change in a setting's history for a customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingHistoryEntry {
    pub id: i64,
    pub at: Millis,
    pub actor_email: String,
    /// What happened, in words: "Overridden", "Changed", "Reverted to the global default", …
    pub action: String,
    /// The values before and after as people read them; "global default" when none was set.
    pub before: String,
    pub after: String,
    /// Whether this entry's value can be restored (it set an override that is not in force).
    pub restorable: bool,
}

/// A setting's history for one customer, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingHistory {
    pub setting: SettingView,
    pub entries: Vec<SettingHistoryEntry>,
    pub can_edit: bool,
}

/// One override in the override matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub customer_id: i64,
    pub customer_name: String,
    pub setting_key: String,
    pub setting_label: String,
    pub category: String,
    pub value_display: String,
    pub default_display: String,
    pub version: i64,
}

/// A setting as the matrix's filter lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChoice {
    pub key: String,
    pub label: String,
    pub category: String,
}

/// Which customers override which setting, with what value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideMatrix {
    pub rows: Vec<MatrixRow>,
    /// True when there were more rows than are shown.
    pub truncated: bool,
    pub settings: Vec<SettingChoice>,
    pub categories: Vec<String>,
    pub can_revert: bool,
}

/// The most rows the override matrix shows at once; filters narrow it down.
pub const MATRIX_MAX_ROWS: i64 = 500;

/// How a customer's last sync with Partner Center stands, for the badge in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncBadge {
    /// Never synced (or no tenant to sync).
    Never,
    /// The last sync succeeded within [`SYNC_STALE_AFTER_MS`].
    Ok,
    /// The last sync succeeded, but long ago.
    Stale,
    /// The last sync failed.
    Failed,
}

impl SyncBadge {
    pub fn label(self) -> &'static str {
        match self {
            SyncBadge::Never => "Never synced",
            SyncBadge::Ok => "Synced",
            SyncBadge::Stale => "Stale",
            SyncBadge::Failed => "Sync failed",
        }
    }
}

/// A sync older than a day is stale.
pub const SYNC_STALE_AFTER_MS: Millis = 24 * 60 * 60 * 1000;

/// A customer's last sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub finished_at: Millis,
    pub duration_ms: i64,
    pub badge: SyncBadge,
    pub error: Option<String>,
    pub throttle_wait_ms: i64,
}

/// A tenant with the time of its last snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantView {
    pub tenant_id: String,
    pub name: String,
    pub domain: String,
    pub last_synced_at: Option<Millis>,
    /// Why the tenant's licence counts are missing or old, when they are.
    pub licence_note: Option<String>,
}

/// The Provider Tenants section, with the customer's sync status and the reload action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderTenantsSection {
    pub tenants: Vec<TenantView>,
    pub status: Option<SyncStatus>,
    /// A reload of this customer is queued or running.
    pub reload_queued: bool,
    pub can_reload: bool,
    /// Whether the staff member may link tenants to it and unlink them.
    pub can_link: bool,
}

/// The "all customers" job as the sync page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncJobView {
    pub id: i64,
    pub running: bool,
    pub requested_by: String,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub remaining: i64,
    /// Customers finished per minute so far.
    pub per_minute: f64,
    /// Estimated seconds left while running.
    pub seconds_left: Option<i64>,
    /// (customer, reason) of failed customers (the first ones).
    pub failures: Vec<(String, String)>,
}

/// The sync page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncPage {
    pub job: Option<SyncJobView>,
    pub can_start: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_the_format_description_writes_them() {
        use time::{macros::format_description, OffsetDateTime};
        let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        assert_eq!(format_time(1_764_059_400_123), "2025-11-25 08:30 UTC");
        for at in [
            0,
            -1,
            59_999,
            951_782_400_000,     // 2000-02-29
            -62_135_596_800_000, // 0001-01-01
            -62_198_755_200_001, // a moment before year 0
            253_402_300_799_999, // 9999-12-31 23:59:59.999
            1_764_059_400_123,
        ] {
            let expected = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
                .unwrap()
                .format(&fmt)
                .unwrap();
            assert_eq!(format_time(at), expected, "{at}");
        }
        // Out of the calendar's range: the number itself.
        assert_eq!(format_time(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn counts_read_as_people_write_them() {
        assert_eq!(count_of(0, "override", "overrides"), "0 overrides");
        assert_eq!(count_of(1, "override", "overrides"), "1 override");
        assert_eq!(count_of(9, "override", "overrides"), "9 overrides");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1204), "1,204");
        assert_eq!(thousands(20000), "20,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
    }
}

/// What deleting a customer takes with it, and whether the caller may delete it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionPreview {
    pub customer_id: i64,
    pub name: String,
    pub tenants: i64,
    pub billed_rows: i64,
    pub tags: i64,
    pub account_managers: i64,
    pub overrides: i64,
    pub billing_links: i64,
    /// Days a deleted customer can be restored.
    pub retention_days: i64,
    pub can_delete: bool,
}

/// A deleted customer, restorable until `purge_after`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedCustomer {
    pub id: i64,
    pub name: String,
    pub primary_domain: String,
    pub deleted_at: Millis,
    pub deleted_by: String,
    pub purge_after: Millis,
}

/// A billing system's customer as the payment gateway describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingProfileView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub test_mode: bool,
}

/// A customer's link to its billing profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingLinkView {
    pub profile: BillingProfileView,
    /// When the gateway was last asked about it.
    pub checked_at: Millis,
    /// Since when the gateway no longer has it (deleted or missing at a verification).
    pub gone_at: Option<Millis>,
    pub linked_by: String,
    pub linked_at: Millis,
}

/// The Link to Billing Profile section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingSection {
    pub customer_id: i64,
    /// The configured gateway's name ("Stripe").
    pub gateway: String,
    /// The portal is configured against the gateway's test mode.
    pub gateway_test_mode: bool,
    pub link: Option<BillingLinkView>,
    pub can_edit: bool,
}

/// One changed field of an audit entry: its value before and after (`None`: not there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An audit entry as the audit log page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub customer_id: Option<i64>,
    /// `None` once the customer is purged (its entries stay).
    pub customer_name: Option<String>,
    pub subject: String,
    pub changes: Vec<FieldChange>,
}

/// Entries per page of the audit log.
pub const AUDIT_PAGE_SIZE: i64 = 50;

/// A page of the audit log with the filters as understood.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Where the next (older) page starts, when there is one.
    pub next_before: Option<i64>,
    /// Only billing and report actions are shown (the caller is finance).
    pub billing_and_reports_only: bool,
}
