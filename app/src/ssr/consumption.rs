//! License Consumption as pure functions: per product (subscribed SKU) of each tenant, what was
//! purchased, assigned and left unassigned, flagged over-assigned or under-used, with the
//! subscriptions behind it (joined by the normalised product name, as Partner Center gives the
//! two no shared id) and a renewal decision date for annual and three-year commitments that end
//! soon. Monthly roll-overs are not renewals and are never flagged.

use crate::{
    model::{PcSubscription, ProductUsage, UsageSubscription},
    ssr::reconcile::{normalise_product, pc_ended},
};
use time::{Date, Duration, Month};

/// A subscribed SKU's counts as the last sync stored them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkuCounts {
    pub tenant_id: String,
    pub product: String,
    pub sku_part_number: String,
    pub total: i64,
    pub active: i64,
    pub warning: i64,
    pub suspended: i64,
    pub consumed: i64,
    pub available: i64,
}

/// The customer's settings the report applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageRules {
    /// A product used below this share (whole percent) is under-used; 0 flags nothing.
    pub under_used_percent: i64,
    /// Commitments ending within this many days of `today` get a decision date; 0: none.
    pub renewal_reminder_days: i64,
    pub today: Date,
}

/// The date part of Partner Center's `commitmentEndDate` (`2027-01-31` or
/// `2027-01-31T00:00:00Z`); `None` when it is not one.
pub fn commitment_date(text: &str) -> Option<Date> {
    let day = text.trim().get(..10)?;
    let mut parts = day.split('-');
    let (year, month, dom) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || dom.len() != 2 {
        return None;
    }
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year.parse().ok()?, month, dom.parse().ok()?).ok()
}

/// The renewal decision date of a subscription: its commitment end, when it is an annual or
/// three-year term that is live, renews or not, and ends within the reminder days from today.
pub fn renewal_decision(s: &PcSubscription, rules: &UsageRules) -> Option<Date> {
    if rules.renewal_reminder_days <= 0 || pc_ended(&s.status) || s.is_trial {
        return None;
    }
    if !matches!(s.term.trim().to_ascii_uppercase().as_str(), "P1Y" | "P3Y") {
        return None;
    }
    let end = commitment_date(&s.commitment_end)?;
    (end >= rules.today && end <= rules.today + Duration::days(rules.renewal_reminder_days))
        .then_some(end)
}

/// Every product of the customer's tenants, ordered by product name then tenant.
pub fn consumption(
    skus: &[SkuCounts],
    subscriptions: &[PcSubscription],
    rules: &UsageRules,
) -> Vec<ProductUsage> {
    let mut products: Vec<ProductUsage> = skus
        .iter()
        .map(|sku| {
            let key = normalise_product(&sku.product);
            let behind: Vec<UsageSubscription> = subscriptions
                .iter()
                .filter(|s| {
                    s.tenant_id.eq_ignore_ascii_case(&sku.tenant_id)
                        && !pc_ended(&s.status)
                        && normalise_product(&s.offer_name) == key
                })
                .map(|s| UsageSubscription {
                    id: s.id.clone(),
                    offer_name: s.offer_name.clone(),
                    quantity: s.quantity,
                    term: s.term.clone(),
                    billing_cycle: s.billing_cycle.clone(),
                    commitment_end: s.commitment_end.clone(),
                    renewal_decision: renewal_decision(s, rules).map(|d| d.to_string()),
                })
                .collect();
            product_usage(sku, behind, rules)
        })
        .collect();
    products.sort_by(|a, b| {
        (normalise_product(&a.product), &a.tenant_id)
            .cmp(&(normalise_product(&b.product), &b.tenant_id))
    });
    products
}

/// One product of a tenant: its counts, utilisation and flags by the customer's rules, with the
/// subscriptions behind it.
pub fn product_usage(
    sku: &SkuCounts,
    subscriptions: Vec<UsageSubscription>,
    rules: &UsageRules,
) -> ProductUsage {
    let utilisation = (sku.total > 0).then(|| {
        // Whole percent, rounded half up, in integers (no float).
        (sku.consumed.max(0) * 200 + sku.total) / (sku.total * 2)
    });
    ProductUsage {
        tenant_id: sku.tenant_id.clone(),
        product: sku.product.clone(),
        sku_part_number: sku.sku_part_number.clone(),
        purchased: sku.total,
        active: sku.active,
        warning: sku.warning,
        suspended: sku.suspended,
        assigned: sku.consumed,
        unassigned: sku.available,
        utilisation_percent: utilisation,
        over_assigned: sku.consumed > sku.total,
        under_used: utilisation.is_some_and(|u| u < rules.under_used_percent),
        subscriptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const T: &str = "aaaaaaaa-0000-4000-8000-000000000001";

    fn sku(product: &str, total: i64, consumed: i64) -> SkuCounts {
        SkuCounts {
            tenant_id: T.into(),
            product: product.into(),
            sku_part_number: "PART".into(),
            total,
            active: total,
            warning: 0,
            suspended: 0,
            consumed,
            available: total - consumed,
        }
    }

    fn sub(id: &str, product: &str, term: &str, end: &str) -> PcSubscription {
        PcSubscription {
            id: id.into(),
            tenant_id: T.into(),
            offer_id: "X:0001".into(),
            offer_name: product.into(),
            quantity: 10,
            status: "active".into(),
            billing_cycle: if term == "P1M" { "monthly" } else { "annual" }.into(),
            term: term.into(),
            auto_renew: true,
            is_trial: false,
            commitment_end: end.into(),
        }
    }

    fn rules() -> UsageRules {
        UsageRules {
            under_used_percent: 50,
            renewal_reminder_days: 30,
            today: date!(2026 - 12 - 01),
        }
    }

    #[test]
    fn counts_utilisation_and_flags() {
        let products = consumption(
            &[
                sku("Office 365 E3", 10, 12),
                sku("Visio Plan 2", 10, 4),
                sku("Teams Essentials", 0, 0),
                sku("Microsoft 365 E3", 3, 2),
            ],
            &[],
            &rules(),
        );
        let got: Vec<(&str, Option<i64>, bool, bool, i64)> = products
            .iter()
            .map(|p| {
                (
                    p.product.as_str(),
                    p.utilisation_percent,
                    p.over_assigned,
                    p.under_used,
                    p.unassigned,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                // 2 of 3 is 66.67 %: 67.
                ("Microsoft 365 E3", Some(67), false, false, 1),
                ("Office 365 E3", Some(120), true, false, -2),
                ("Teams Essentials", None, false, false, 0),
                ("Visio Plan 2", Some(40), false, true, 6),
            ]
        );
    }

    #[test]
    fn subscriptions_join_their_product_by_normalised_name_in_the_same_tenant() {
        let mut other = sub("s3", "Office 365 E3", "P1M", "");
        other.tenant_id = "bbbbbbbb-0000-4000-8000-000000000002".into();
        let mut gone = sub("s4", "Office 365 E3", "P1M", "");
        gone.status = "deleted".into();
        let products = consumption(
            &[sku("Office 365 E3", 10, 8)],
            &[
                sub("s1", "Office 365 E3 (NCE)", "P1Y", "2027-06-30"),
                sub("s2", "Microsoft 365 E3", "P1M", ""),
                other,
                gone,
            ],
            &rules(),
        );
        let ids: Vec<&str> = products[0]
            .subscriptions
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["s1"]);
    }

    #[test]
    fn annual_and_three_year_commitments_ending_soon_get_a_decision_date_monthly_never() {
        let r = rules();
        let decision = |term: &str, end: &str| renewal_decision(&sub("s", "X", term, end), &r);
        assert_eq!(decision("P1Y", "2026-12-20"), Some(date!(2026 - 12 - 20)));
        assert_eq!(
            decision("P3Y", "2026-12-31T00:00:00Z"),
            Some(date!(2026 - 12 - 31))
        );
        assert_eq!(
            decision("P1Y", "2026-12-01"),
            Some(date!(2026 - 12 - 01)),
            "today"
        );
        assert_eq!(
            decision("P1Y", "2026-12-31"),
            Some(date!(2026 - 12 - 31)),
            "day 30"
        );
        assert_eq!(decision("P1Y", "2027-01-01"), None, "day 31");
        assert_eq!(decision("P1Y", "2026-11-30"), None, "already ended");
        assert_eq!(decision("P1M", "2026-12-20"), None, "a monthly roll-over");
        assert_eq!(decision("P1Y", "not a date"), None);
        assert_eq!(decision("P1Y", "9999-12-31"), None, "far in the future");
        let off = UsageRules {
            renewal_reminder_days: 0,
            ..r
        };
        assert_eq!(
            renewal_decision(&sub("s", "X", "P1Y", "2026-12-20"), &off),
            None,
            "reminders off"
        );
        let mut trial = sub("s", "X", "P1Y", "2026-12-20");
        trial.is_trial = true;
        assert_eq!(renewal_decision(&trial, &r), None, "a trial");
    }
}
