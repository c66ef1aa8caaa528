//! License Reconciliation: what crosses the wire. One row per Partner Center subscription with
//! its matched billed row (and one per billed row that matches nothing), the three numbers side
//! by side (bought, assigned, billed) and every difference typed.

use serde::{Deserialize, Serialize};

/// The billing cycles a billed row may record.
pub const BILLING_CYCLES: [&str; 5] = ["monthly", "annual", "triennial", "one_time", "none"];
/// The terms a billed row may record (ISO 8601 durations, as Partner Center writes them).
pub const TERMS: [&str; 3] = ["P1M", "P1Y", "P3Y"];
/// A billed row's statuses.
pub const BILLED_STATUSES: [&str; 3] = ["active", "suspended", "ended"];

/// The kinds of difference, with the names the JSON API and the CSV use.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Partner Center has it, the billed record does not: unbilled.
    MissingInPortal,
    /// Billed, but Partner Center has no such subscription, or it has ended there.
    MissingInPartnerCenter,
    /// More bought from Microsoft than billed to the customer: lost margin.
    QuantityBoughtOverBilled,
    /// More billed than bought.
    QuantityBilledOverBought,
    /// More licences assigned than the product's subscriptions hold: another channel, or shadow IT.
    AssignedOverBought,
    /// More billed than assigned: a refund risk.
    BilledOverAssigned,
    Status,
    BillingCycle,
    Term,
    AutoRenew,
    /// Two billed rows claim one Partner Center subscription.
    DuplicateBilled,
}

impl DifferenceKind {
    pub const ALL: [DifferenceKind; 11] = [
        DifferenceKind::MissingInPortal,
        DifferenceKind::MissingInPartnerCenter,
        DifferenceKind::QuantityBoughtOverBilled,
        DifferenceKind::QuantityBilledOverBought,
        DifferenceKind::AssignedOverBought,
        DifferenceKind::BilledOverAssigned,
        DifferenceKind::Status,
        DifferenceKind::BillingCycle,
        DifferenceKind::Term,
        DifferenceKind::AutoRenew,
        DifferenceKind::DuplicateBilled,
    ];

    /// The name in JSON, CSV and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::MissingInPortal => "missing_in_portal",
            DifferenceKind::MissingInPartnerCenter => "missing_in_partner_center",
            DifferenceKind::QuantityBoughtOverBilled => "quantity_bought_over_billed",
            DifferenceKind::QuantityBilledOverBought => "quantity_billed_over_bought",
            DifferenceKind::AssignedOverBought => "assigned_over_bought",
            DifferenceKind::BilledOverAssigned => "billed_over_assigned",
            DifferenceKind::Status => "status",
            DifferenceKind::BillingCycle => "billing_cycle",
            DifferenceKind::Term => "term",
            DifferenceKind::AutoRenew => "auto_renew",
            DifferenceKind::DuplicateBilled => "duplicate_billed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// For people: what the difference means.
    pub fn label(self) -> &'static str {
        match self {
            DifferenceKind::MissingInPortal => "Not billed",
            DifferenceKind::MissingInPartnerCenter => "Billed, not in Partner Center",
            DifferenceKind::QuantityBoughtOverBilled => "Bought more than billed",
            DifferenceKind::QuantityBilledOverBought => "Billed more than bought",
            DifferenceKind::AssignedOverBought => "Assigned more than bought",
            DifferenceKind::BilledOverAssigned => "Billed more than assigned",
            DifferenceKind::Status => "Status differs",
            DifferenceKind::BillingCycle => "Billing cycle differs",
            DifferenceKind::Term => "Term differs",
            DifferenceKind::AutoRenew => "Auto-renew differs",
            DifferenceKind::DuplicateBilled => "Billed twice",
        }
    }
}

/// One difference of a row: the value on each side, as text (`None` where a side has none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub kind: DifferenceKind,
    pub pc: Option<String>,
    pub billed: Option<String>,
    pub acknowledged: bool,
    /// Who acknowledged it, when and why (while it is acknowledged).
    #[serde(default)]
    pub acknowledgement: Option<AcknowledgementNote>,
}

/// Who acknowledged a difference, when, and the note they gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgementNote {
    pub by: String,
    pub at: crate::model::Millis,
    pub note: String,
}

/// Whether a row's licence count is known.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignedState {
    /// Counted by the last sync.
    Counted,
    /// Only app credentials are configured: Partner Center gives licence counts to App+User
    /// tokens alone.
    NeedsDelegatedConsent,
    /// Not known: not synced, the licence call failed, or no licence matches the product.
    NotCounted,
}

/// A Partner Center subscription as a report shows it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcSubscription {
    pub id: String,
    pub tenant_id: String,
    pub offer_id: String,
    pub offer_name: String,
    pub quantity: i64,
    pub status: String,
    pub billing_cycle: String,
    pub term: String,
    pub auto_renew: bool,
    pub is_trial: bool,
    pub commitment_end: String,
}

/// A billed row (the partner's own record) as a report shows it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BilledRecord {
    pub id: i64,
    pub version: i64,
    pub product: String,
    pub offer_id: Option<String>,
    pub pc_subscription_id: Option<String>,
    pub tenant_id: Option<String>,
    pub quantity: i64,
    /// monthly, annual, triennial, one_time or none; `None` when not recorded.
    pub billing_cycle: Option<String>,
    /// P1M, P1Y or P3Y; `None` when not recorded.
    pub term: Option<String>,
    /// active, suspended or ended.
    pub status: String,
    pub auto_renew: Option<bool>,
    /// An exact decimal, as text.
    pub unit_price: Option<String>,
    pub currency: Option<String>,
    pub notes: String,
}

/// One row of the reconciliation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationRow {
    /// Stable across syncs: `pc:{subscription id}` or `billed:{billed row id}`; what an
    /// acknowledgement is attached to.
    pub key: String,
    pub product: String,
    pub offer_id: Option<String>,
    pub pc_subscription_id: Option<String>,
    pub bought: Option<i64>,
    pub assigned: Option<i64>,
    pub assigned_state: AssignedState,
    pub billed: Option<i64>,
    pub pc: Option<PcSubscription>,
    pub billed_record: Option<BilledRecord>,
    pub differences: Vec<Difference>,
}

/// The License Reconciliation of one customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationReport {
    pub customer_id: i64,
    pub customer_name: String,
    /// When the oldest snapshot of the customer's tenants was taken; `None` when a tenant was
    /// never synced (or the customer has none).
    pub snapshot_at: Option<crate::model::Millis>,
    /// The snapshot is older than a day (the sync badge's rule).
    pub stale: bool,
    pub rows: Vec<ReconciliationRow>,
    /// May the caller add, edit, end and adopt billed rows.
    pub can_edit_billed: bool,
    /// May the caller acknowledge a difference.
    pub can_acknowledge: bool,
}

/// The largest quantity a billed row may record.
pub const BILLED_QUANTITY_MAX: i64 = 1_000_000;
/// The longest product name, and the longest notes.
pub const BILLED_PRODUCT_MAX_CHARS: usize = 200;
pub const BILLED_NOTES_MAX_CHARS: usize = 1_000;

/// A product name: trimmed, 1 to 200 characters.
pub fn parse_product(text: &str) -> Result<String, String> {
    let t = text.trim();
    let chars = t.chars().count();
    if chars == 0 {
        return Err("Enter the product, as the customer is billed for it.".into());
    }
    if chars > BILLED_PRODUCT_MAX_CHARS {
        return Err(format!(
            "The product is {chars} characters long; {BILLED_PRODUCT_MAX_CHARS} at most."
        ));
    }
    Ok(t.to_owned())
}

/// A quantity: a whole number from 0 to 1,000,000.
pub fn parse_quantity(text: &str) -> Result<i64, String> {
    let t = text.trim();
    match t.parse::<i64>() {
        Ok(n) if (0..=BILLED_QUANTITY_MAX).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "{t} is out of range: a quantity is from 0 to {}.",
            crate::model::thousands(BILLED_QUANTITY_MAX)
        )),
        Err(_) if t.is_empty() => Err("Enter the quantity billed.".into()),
        Err(_) => Err(format!("{t:?} is not a whole number.")),
    }
}

/// An optional offer id such as `CFQ7TTC0LDPB:0001`: letters, digits, `:`, `_`, `-`, at most
/// 64 characters.
pub fn parse_offer_id(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() > 64
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
    {
        return Err(format!(
            "{t:?} is not an offer id: letters, digits, ':' '_' '-', such as CFQ7TTC0LDPB:0001."
        ));
    }
    Ok(Some(t.to_ascii_uppercase()))
}

/// An optional GUID (a subscription or tenant id), in lower case.
pub fn parse_optional_guid(text: &str, what: &str) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    crate::model::parse_tenant_id(text).map(Some).map_err(|_| {
        format!(
            "{:?} is not a {what}: a GUID such as 0f4b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d.",
            text.trim()
        )
    })
}

/// An optional value from a fixed list, compared in any case, kept as the list writes it.
pub fn parse_choice(
    text: &str,
    allowed: &[&'static str],
    what: &str,
) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(t))
        .map(|a| Some((*a).to_owned()))
        .ok_or_else(|| format!("{t:?} is not a {what}: one of {}.", allowed.join(", ")))
}

/// An optional yes / no: true, false (or yes, no).
pub fn parse_optional_bool(text: &str) -> Result<Option<bool>, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" => Ok(Some(true)),
        "false" | "no" => Ok(Some(false)),
        other => Err(format!("{other:?} is not true or false.")),
    }
}

/// An optional unit price: an exact decimal with up to 12 digits before the point and 4 after,
/// kept as text (never a float), without leading zeros.
pub fn parse_price(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 12
        || fraction.len() > 4
        || !digits(whole)
        || !digits(fraction)
        || (t.contains('.') && fraction.is_empty())
    {
        return Err(format!(
            "{t:?} is not a price: digits with a '.' for decimals (at most 4), such as 12.50."
        ));
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    Ok(Some(if fraction.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{fraction}")
    }))
}

/// An optional ISO 4217 currency code (three letters), in upper case.
pub fn parse_currency(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(Some(t.to_ascii_uppercase()))
    } else {
        Err(format!(
            "{t:?} is not a currency: three letters such as EUR or USD."
        ))
    }
}

/// Notes: at most 1,000 characters (trimmed).
pub fn parse_notes(text: &str) -> Result<String, String> {
    let t = text.trim();
    let chars = t.chars().count();
    if chars > BILLED_NOTES_MAX_CHARS {
        return Err(format!(
            "The notes are {chars} characters long; {BILLED_NOTES_MAX_CHARS} at most."
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_whole_numbers_in_range() {
        assert_eq!(parse_quantity(" 25 "), Ok(25));
        assert_eq!(parse_quantity("0"), Ok(0));
        assert_eq!(parse_quantity("1000000"), Ok(1_000_000));
        assert!(parse_quantity("1000001")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_quantity("-1").unwrap_err().contains("out of range"));
        assert!(parse_quantity("2.5")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse_quantity("").unwrap_err().contains("Enter"));
    }

    #[test]
    fn prices_are_exact_decimals_kept_as_text() {
        assert_eq!(parse_price("12.50"), Ok(Some("12.50".into())));
        assert_eq!(parse_price("0012"), Ok(Some("12".into())));
        assert_eq!(parse_price("0.0001"), Ok(Some("0.0001".into())));
        assert_eq!(parse_price(""), Ok(None));
        for bad in ["12,50", "1e3", "-1", "12.", ".5", "1.23456", "1 000", "NaN"] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn choices_compare_in_any_case_and_name_the_allowed_values() {
        assert_eq!(
            parse_choice("Annual", &BILLING_CYCLES, "billing cycle"),
            Ok(Some("annual".into()))
        );
        assert_eq!(parse_choice("p1y", &TERMS, "term"), Ok(Some("P1Y".into())));
        let err = parse_choice("weekly", &BILLING_CYCLES, "billing cycle").unwrap_err();
        assert!(
            err.contains("monthly, annual, triennial, one_time, none"),
            "{err}"
        );
    }

    #[test]
    fn ids_currencies_and_flags_are_checked() {
        assert_eq!(
            parse_offer_id("cfq7ttc0ldpb:0001"),
            Ok(Some("CFQ7TTC0LDPB:0001".into()))
        );
        assert!(parse_offer_id("CFQ7 TTC0").is_err());
        assert_eq!(
            parse_optional_guid("0F4B1C2D-3E4F-5A6B-7C8D-9E0F1A2B3C4D", "subscription id"),
            Ok(Some("0f4b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d".into()))
        );
        assert!(parse_optional_guid("sub-1", "subscription id")
            .unwrap_err()
            .contains("not a subscription id"));
        assert_eq!(parse_currency("eur"), Ok(Some("EUR".into())));
        assert!(parse_currency("EURO").is_err());
        assert_eq!(parse_optional_bool("Yes"), Ok(Some(true)));
        assert!(parse_optional_bool("maybe").is_err());
        assert!(parse_product("  ").is_err());
        assert!(parse_notes(&"x".repeat(1001)).is_err());
    }
}

/// One subscription behind a product of the License Consumption report.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSubscription {
    pub id: String,
    pub offer_name: String,
    pub quantity: i64,
    pub term: String,
    pub billing_cycle: String,
    /// As Partner Center gives it (a date, or a date and time).
    pub commitment_end: String,
    /// The date by which to decide on renewing (an annual or three-year commitment ending within
    /// the customer's renewal reminder days), ISO 8601.
    pub renewal_decision: Option<String>,
}

/// One product (subscribed SKU) of a tenant: its licence counts and the subscriptions behind it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductUsage {
    pub tenant_id: String,
    pub product: String,
    pub sku_part_number: String,
    pub purchased: i64,
    pub active: i64,
    pub warning: i64,
    pub suspended: i64,
    pub assigned: i64,
    pub unassigned: i64,
    /// Assigned as a share of purchased, in whole percent; `None` with nothing purchased.
    pub utilisation_percent: Option<i64>,
    pub over_assigned: bool,
    pub under_used: bool,
    pub subscriptions: Vec<UsageSubscription>,
}

/// The License Consumption report of one customer.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionReport {
    pub customer_id: i64,
    pub customer_name: String,
    pub snapshot_at: Option<crate::model::Millis>,
    pub stale: bool,
    /// Below this utilisation a product is flagged under-used (the customer's setting).
    pub under_used_percent: i64,
    /// Commitments ending within this many days get a renewal decision date (the customer's
    /// setting; 0: none).
    pub renewal_reminder_days: i64,
    /// Tenants whose licence counts need delegated consent (none are shown for them).
    pub tenants_needing_consent: Vec<String>,
    pub products: Vec<ProductUsage>,
}

/// An amount of money in one currency: an exact decimal as text.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: String,
    pub amount: String,
}

/// One customer's line of the partner-wide reconciliation.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDifferences {
    pub customer_id: i64,
    pub customer_name: String,
    /// How many differences of each kind (those with none left out), in kind order: `[kind,
    /// count]` pairs.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<serde_json::Value>>))]
    pub counts: Vec<(DifferenceKind, i64)>,
    /// All of them.
    pub differences: i64,
    /// What they put at stake per currency, largest first (only where billed rows have prices).
    pub money_at_stake: Vec<Money>,
    pub snapshot_at: Option<crate::model::Millis>,
    pub stale: bool,
}

/// The License Reconciliation of every customer the caller may see, one line per customer with
/// differences, those with the most money at stake first.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerReconciliation {
    /// Customers looked at: those in the caller's scope (and the tag filter) with a billed
    /// record or a Partner Center subscription.
    pub customers: i64,
    /// Of those, the ones listed (with a difference, of the kind asked for if any).
    pub customers_listed: i64,
    /// Differences of each kind over all customers looked at (the kind filter aside): `[kind,
    /// count]` pairs.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<serde_json::Value>>))]
    pub totals: Vec<(DifferenceKind, i64)>,
    /// This page of the listed customers.
    pub rows: Vec<CustomerDifferences>,
    /// 1-based page number, and how many pages there are.
    pub page: i64,
    pub pages: i64,
    /// The filters as understood: tag `Name=Value` (or empty), kind, acknowledged included.
    pub tag: String,
    pub kind: Option<DifferenceKind>,
    pub include_acknowledged: bool,
    /// The caller may import a billing export into the billed record.
    pub can_import_billed: bool,
}

/// Customers per page of the partner-wide reconciliation.
pub const PARTNER_REPORT_PAGE_SIZE: i64 = 50;

/// One product's licences summed over every customer looked at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductTotals {
    pub product: String,
    /// Customers and tenants that have it.
    pub customers: i64,
    pub tenants: i64,
    pub purchased: i64,
    pub active: i64,
    pub warning: i64,
    pub suspended: i64,
    pub assigned: i64,
    pub unassigned: i64,
    /// Assigned as a share of purchased, in whole percent; `None` with nothing purchased.
    pub utilisation_percent: Option<i64>,
    /// Tenants with more of it assigned than purchased.
    pub over_assigned_tenants: i64,
}

/// License Consumption over every customer the caller may see (of a tag, if asked): totals per
/// product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerConsumption {
    /// The tag filter as understood (`Name=Value`, or empty).
    pub tag: String,
    pub products: Vec<ProductTotals>,
}

/// What an import does with one line of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportAction {
    Create,
    Change,
    Unchanged,
    Reject,
}

impl ImportAction {
    pub fn label(self) -> &'static str {
        match self {
            ImportAction::Create => "New billed row",
            ImportAction::Change => "Changes a billed row",
            ImportAction::Unchanged => "Unchanged",
            ImportAction::Reject => "Rejected",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImportAction::Create => "create",
            ImportAction::Change => "change",
            ImportAction::Unchanged => "unchanged",
            ImportAction::Reject => "reject",
        }
    }
}

/// One line of an uploaded file and what importing it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLineView {
    /// The line number in the file (1 is the header).
    pub line: u64,
    /// The customer as the file names it, and who that is when found.
    pub customer_given: String,
    pub customer: Option<super::CustomerRef>,
    pub product: String,
    pub quantity: String,
    pub action: ImportAction,
    /// Which fields change, or why the line is rejected.
    pub detail: String,
}

/// A billed row an import ends (its customer is named by the file, the row by no line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedRowView {
    pub customer: super::CustomerRef,
    pub billed_row: i64,
    pub product: String,
}

/// Lines of an import shown at most; the rejected ones come first.
pub const IMPORT_LINES_SHOWN: usize = 500;

/// An uploaded billing export: its dry run against the billed record as it is now, or what its
/// import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BilledImportView {
    pub id: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: crate::model::Millis,
    /// Why the file cannot be imported at all (the line and what is wrong with it).
    pub file_error: Option<String>,
    pub lines_total: usize,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// The lines shown (the rejected first, then in file order), at most [`IMPORT_LINES_SHOWN`].
    pub lines: Vec<ImportLineView>,
    pub ended: Vec<EndedRowView>,
    /// (when, by whom, what was done) once imported.
    pub applied: Option<(crate::model::Millis, String, String)>,
}
