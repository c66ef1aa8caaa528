//! CSV downloads of a customer's reports: RFC 4180 written by the `csv` crate (no hand-made
//! quoting), a fixed column list (documented in the README) in the screen's terms, nested
//! subscription terms flattened into columns (one line per product and subscription), numbers
//! without thousands separators and with `.` decimals, dates ISO 8601, UTF-8 with a byte order
//! mark when asked for Excel, and formula injection neutralised: a cell that starts with `=`,
//! `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, unless it is a plain number.

use app::model::{
    ConsumptionReport, CustomerDifferences, DifferenceKind, ProductUsage, ReconciliationReport,
};
use std::borrow::Cow;

/// The consumption CSV's columns.
pub const CONSUMPTION_COLUMNS: [&str; 21] = [
    "customer_id",
    "customer",
    "tenant_id",
    "product",
    "sku_part_number",
    "purchased",
    "active",
    "warning",
    "suspended",
    "assigned",
    "unassigned",
    "utilisation_percent",
    "over_assigned",
    "under_used",
    "subscription_id",
    "subscription_offer",
    "subscription_quantity",
    "term",
    "billing_cycle",
    "commitment_end",
    "renewal_decision_date",
];

/// The reconciliation CSV's columns: one line per difference (a row without one has a line
/// with the difference columns empty).
pub const RECONCILIATION_COLUMNS: [&str; 15] = [
    "customer_id",
    "customer",
    "product",
    "offer_id",
    "pc_subscription_id",
    "tenant_id",
    "bought",
    "assigned",
    "billed",
    "billed_row_id",
    "difference",
    "pc_value",
    "billed_value",
    "acknowledged",
    "snapshot_at",
];

fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty())
}

/// A cell made safe to open in a spreadsheet: one that would be read as a formula gets a `'`
/// in front; plain numbers (`-3`, `+1.5`) stay numbers.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The partner-wide consumption CSV's columns: one line per tenant product, the per-customer
/// file's product columns (its first 14).
pub const PARTNER_CONSUMPTION_COLUMNS: &[&str] = CONSUMPTION_COLUMNS.split_at(14).0;

fn write<I>(columns: &[&str], lines: I, excel: bool) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator<Item = Vec<String>>,
{
    let mut out = Vec::new();
    if excel {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(columns)?;
    for line in lines {
        writer.write_record(line.iter().map(|cell| neutralise(cell).into_owned()))?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

fn number(n: i64) -> String {
    n.to_string()
}

fn optional(n: Option<i64>) -> String {
    n.map(number).unwrap_or_default()
}

/// The consumption columns of one product (the first 14 of [`CONSUMPTION_COLUMNS`]).
pub fn product_cells(customer_id: i64, customer: &str, p: &ProductUsage) -> Vec<String> {
    vec![
        number(customer_id),
        customer.to_owned(),
        p.tenant_id.clone(),
        p.product.clone(),
        p.sku_part_number.clone(),
        number(p.purchased),
        number(p.active),
        number(p.warning),
        number(p.suspended),
        number(p.assigned),
        number(p.unassigned),
        optional(p.utilisation_percent),
        p.over_assigned.to_string(),
        p.under_used.to_string(),
    ]
}

/// The License Consumption report as CSV.
pub fn consumption(report: &ConsumptionReport, excel: bool) -> Result<Vec<u8>, csv::Error> {
    let mut lines = Vec::new();
    for p in &report.products {
        let product = product_cells(report.customer_id, &report.customer_name, p);
        if p.subscriptions.is_empty() {
            let mut line = product.clone();
            line.extend(std::iter::repeat_n(String::new(), 7));
            lines.push(line);
        }
        for s in &p.subscriptions {
            let mut line = product.clone();
            line.extend([
                s.id.clone(),
                s.offer_name.clone(),
                number(s.quantity),
                s.term.clone(),
                s.billing_cycle.clone(),
                s.commitment_end
                    .get(..10)
                    .unwrap_or(&s.commitment_end)
                    .to_owned(),
                s.renewal_decision.clone().unwrap_or_default(),
            ]);
            lines.push(line);
        }
    }
    write(&CONSUMPTION_COLUMNS, lines, excel)
}

/// The License Reconciliation report as CSV.
pub fn reconciliation(report: &ReconciliationReport, excel: bool) -> Result<Vec<u8>, csv::Error> {
    let snapshot = report
        .snapshot_at
        .map(app::model::rfc3339)
        .unwrap_or_default();
    let mut lines = Vec::new();
    for r in &report.rows {
        let tenant =
            r.pc.as_ref()
                .map(|p| p.tenant_id.clone())
                .or_else(|| r.billed_record.as_ref().and_then(|b| b.tenant_id.clone()))
                .unwrap_or_default();
        let row = vec![
            number(report.customer_id),
            report.customer_name.clone(),
            r.product.clone(),
            r.offer_id.clone().unwrap_or_default(),
            r.pc_subscription_id.clone().unwrap_or_default(),
            tenant,
            optional(r.bought),
            optional(r.assigned),
            optional(r.billed),
            optional(r.billed_record.as_ref().map(|b| b.id)),
        ];
        let differences: Vec<[String; 4]> = if r.differences.is_empty() {
            vec![Default::default()]
        } else {
            r.differences
                .iter()
                .map(|d| {
                    [
                        d.kind.as_str().to_owned(),
                        d.pc.clone().unwrap_or_default(),
                        d.billed.clone().unwrap_or_default(),
                        d.acknowledged.to_string(),
                    ]
                })
                .collect()
        };
        for d in differences {
            let mut line = row.clone();
            line.extend(d);
            line.push(snapshot.clone());
            lines.push(line);
        }
    }
    write(&RECONCILIATION_COLUMNS, lines, excel)
}

/// The partner-wide reconciliation CSV's columns: one line per customer and currency of money at
/// stake (a customer without a priced difference has one line with the money columns empty),
/// the page's columns with a count per kind of difference.
pub const PARTNER_RECONCILIATION_COLUMNS: [&str; 19] = [
    "customer_id",
    "customer",
    "differences",
    "missing_in_portal",
    "missing_in_partner_center",
    "quantity_bought_over_billed",
    "quantity_billed_over_bought",
    "assigned_over_bought",
    "billed_over_assigned",
    "status",
    "billing_cycle",
    "term",
    "auto_renew",
    "duplicate_billed",
    "currency",
    "money_at_stake",
    "snapshot_at",
    "stale",
    "report",
];

/// The lines of one customer of the partner-wide reconciliation.
pub fn partner_reconciliation_lines(line: &CustomerDifferences) -> Vec<Vec<String>> {
    let mut head = vec![
        number(line.customer_id),
        line.customer_name.clone(),
        number(line.differences),
    ];
    for kind in DifferenceKind::ALL {
        let n = line
            .counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n);
        head.push(number(n));
    }
    let tail = [
        line.snapshot_at
            .map(app::model::rfc3339)
            .unwrap_or_default(),
        line.stale.to_string(),
        format!("/customers/{}/reports/reconciliation", line.customer_id),
    ];
    let money: Vec<(String, String)> = if line.money_at_stake.is_empty() {
        vec![Default::default()]
    } else {
        line.money_at_stake
            .iter()
            .map(|m| (m.currency.clone(), m.amount.clone()))
            .collect()
    };
    money
        .into_iter()
        .map(|(currency, amount)| {
            let mut cells = head.clone();
            cells.extend([currency, amount]);
            cells.extend(tail.iter().cloned());
            cells
        })
        .collect()
}

/// The audit log CSV's columns: one line per changed field of an entry (an entry without fields
/// has one line with the field columns empty).
pub const AUDIT_COLUMNS: [&str; 10] = [
    "id",
    "at",
    "actor",
    "action",
    "customer_id",
    "customer",
    "subject",
    "field",
    "before",
    "after",
];

/// The lines of one audit entry.
pub fn audit_lines(entry: &app::model::AuditEntryView) -> Vec<Vec<String>> {
    let head = [
        number(entry.id),
        app::model::rfc3339(entry.at),
        entry.actor.clone(),
        entry.action.clone(),
        optional(entry.customer_id),
        entry.customer_name.clone().unwrap_or_default(),
        entry.subject.clone(),
    ];
    let fields: Vec<[String; 3]> = if entry.changes.is_empty() {
        vec![Default::default()]
    } else {
        entry
            .changes
            .iter()
            .map(|c| {
                [
                    c.field.clone(),
                    c.before.clone().unwrap_or_default(),
                    c.after.clone().unwrap_or_default(),
                ]
            })
            .collect()
    };
    fields
        .into_iter()
        .map(|f| head.iter().cloned().chain(f).collect())
        .collect()
}

/// The file name: the report, the customer (letters and digits) and the date.
pub fn file_name(report: &str, customer: &str, today: &str) -> String {
    let mut slug = String::new();
    for c in customer.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    format!("{report}-{}-{today}.csv", slug.trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{ProductUsage, UsageSubscription};

    #[test]
    fn formula_cells_are_neutralised_and_numbers_are_not() {
        for (cell, out) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+SUM(A1)", "'+SUM(A1)"),
            ("-1+2", "'-1+2"),
            ("@A1", "'@A1"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-3", "-3"),
            ("+1.5", "+1.5"),
            ("12", "12"),
            ("Office 365 E3", "Office 365 E3"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), out, "{cell:?}");
        }
    }

    fn report(product: &str) -> ConsumptionReport {
        ConsumptionReport {
            customer_id: 7,
            customer_name: "Contoso, \"the\" Company\nLtd".into(),
            snapshot_at: None,
            stale: false,
            under_used_percent: 50,
            renewal_reminder_days: 30,
            tenants_needing_consent: vec![],
            products: vec![ProductUsage {
                tenant_id: "t1".into(),
                product: product.into(),
                sku_part_number: "PART".into(),
                purchased: 1_000_000,
                active: 10,
                warning: 0,
                suspended: 0,
                assigned: 12,
                unassigned: -2,
                utilisation_percent: Some(120),
                over_assigned: true,
                under_used: false,
                subscriptions: vec![UsageSubscription {
                    id: "s1".into(),
                    offer_name: "Ünïcödé ✓".into(),
                    quantity: 10,
                    term: "P1Y".into(),
                    billing_cycle: "annual".into(),
                    commitment_end: "2027-01-31T00:00:00Z".into(),
                    renewal_decision: Some("2027-01-31".into()),
                }],
            }],
        }
    }

    #[test]
    fn hostile_cells_survive_a_round_trip_through_a_csv_reader() {
        let hostile = "=cmd|' /C calc'!A0, \"quoted\"\nnew line";
        let bytes = consumption(&report(hostile), false).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            CONSUMPTION_COLUMNS
        );
        let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(&line[1], "Contoso, \"the\" Company\nLtd");
        assert_eq!(&line[3], format!("'{hostile}"));
        // Numbers plain: no thousands separator; negative stays a number.
        assert_eq!((&line[5], &line[10], &line[11]), ("1000000", "-2", "120"));
        assert_eq!(
            (&line[15], &line[19], &line[20]),
            ("Ünïcödé ✓", "2027-01-31", "2027-01-31")
        );
    }

    #[test]
    fn excel_gets_a_byte_order_mark_and_crlf_lines() {
        let bytes = consumption(&report("Office 365 E3"), true).unwrap();
        assert!(bytes.starts_with("\u{feff}customer_id,".as_bytes()));
        assert!(String::from_utf8(bytes).unwrap().contains("\r\n"));
        let plain = consumption(&report("Office 365 E3"), false).unwrap();
        assert!(plain.starts_with(b"customer_id,"));
    }

    #[test]
    fn file_names_carry_the_customer_and_the_date() {
        assert_eq!(
            file_name("consumption", "Contoso, Ltd. (EU)", "2026-12-01"),
            "consumption-contoso-ltd-eu-2026-12-01.csv"
        );
    }
}
