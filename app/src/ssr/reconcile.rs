//! License Reconciliation as pure functions: Partner Center's subscriptions and licence counts
//! against the partner's billed record, every difference typed. No I/O, no clock.
//!
//! Matching, strongest first, never by a fuzzy score:
//! 1. the billed row's Partner Center subscription id (GUIDs, compared case-insensitively; a
//!    billed row that names one is matched by it or by nothing);
//! 2. the offer id (`CFQ7TTC0LDPB:0001`; a side without the `:0001` part compares the product
//!    part only);
//! 3. the product name normalised by [`normalise_product`].
//!
//! A billed row that names a tenant is matched only to that tenant's subscriptions (by offer id
//! or name). Live subscriptions are preferred to ended ones.
//!
//! Licence counts exist per product (subscribed SKU), not per subscription: a product's
//! `assigned` (consumed units) is compared with the SUM of its live subscriptions' quantities,
//! and with the sum of their billed quantities, and shown on each of the product's rows.

use crate::model::{
    AssignedState, BilledRecord, Difference, DifferenceKind, PcSubscription, ReconciliationRow,
};
use std::collections::HashMap;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Trailing qualifiers that name a way of buying, not another product.
const QUALIFIERS: &[&str] = &["nce", "monthly", "annual", "yearly"];

/// A product name as matching compares it: accents and case folded, (TM) / (R) / ™ / ® dropped,
/// trailing "(NCE)", "(Monthly)", "(Annual)" or "(Yearly)" qualifiers dropped, every run of
/// punctuation or space one space. Idempotent. "Office 365 E3" and "Microsoft 365 E3" stay
/// different.
pub fn normalise_product(name: &str) -> String {
    // ™ and ® go before the decomposition, which would spell them out as letters.
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '™' | '®'))
        .collect::<String>()
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let folded = folded.replace("(tm)", " ").replace("(r)", " ");
    // The qualifiers only count in parentheses, at the end, any number of them.
    let mut rest = folded.trim_end();
    while let Some((at, inner)) = rest
        .strip_suffix(')')
        .and_then(|r| r.rfind('(').map(|at| (at, &r[at + 1..])))
    {
        if !QUALIFIERS.contains(&inner.trim()) {
            break;
        }
        rest = rest[..at].trim_end();
    }
    rest.chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether two offer ids name the same offer: equal in any case, or, when one of them has no
/// `:NNNN` SKU part, equal in the product part.
pub fn same_offer(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().to_ascii_lowercase(), b.trim().to_ascii_lowercase());
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    match (a.split_once(':'), b.split_once(':')) {
        (Some((pa, _)), None) => pa == b,
        (None, Some((pb, _))) => a == pb,
        _ => false,
    }
}

/// Whether a Partner Center status means the subscription has ended there.
pub fn pc_ended(status: &str) -> bool {
    matches!(
        status.trim().to_ascii_lowercase().as_str(),
        "deleted" | "expired" | "disabled"
    )
}

/// A Partner Center status in the billed record's words: active (also pending), suspended,
/// ended; any other value as it is (lower case).
pub fn pc_status_as_billed(status: &str) -> String {
    let status = status.trim().to_ascii_lowercase();
    match status.as_str() {
        "active" | "pending" => "active".into(),
        "suspended" => "suspended".into(),
        s if pc_ended(s) => "ended".into(),
        _ => status,
    }
}

fn billed_ended(b: &BilledRecord) -> bool {
    b.status.eq_ignore_ascii_case("ended")
}

/// A tenant's licence counts as the last sync left them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantLicences {
    /// (product name, consumed units) per subscribed SKU.
    Counted(Vec<(String, i64)>),
    NeedsDelegatedConsent,
    NotCounted,
}

/// The billed row that adopting a Partner Center subscription creates: equal to it, so it has
/// no difference of its own.
pub fn adopted(pc: &PcSubscription) -> BilledRecord {
    let cycle = pc.billing_cycle.trim().to_ascii_lowercase();
    let term = pc.term.trim().to_ascii_uppercase();
    BilledRecord {
        id: 0,
        version: 0,
        product: pc.offer_name.clone(),
        offer_id: Some(pc.offer_id.clone()).filter(|o| !o.trim().is_empty()),
        pc_subscription_id: Some(pc.id.to_ascii_lowercase()),
        tenant_id: Some(pc.tenant_id.clone()),
        quantity: pc.quantity,
        billing_cycle: crate::model::BILLING_CYCLES
            .contains(&cycle.as_str())
            .then_some(cycle),
        term: crate::model::TERMS.contains(&term.as_str()).then_some(term),
        status: match pc_status_as_billed(&pc.status).as_str() {
            s @ ("active" | "suspended" | "ended") => s.to_owned(),
            _ => "active".to_owned(),
        },
        auto_renew: Some(pc.auto_renew),
        unit_price: None,
        currency: None,
        notes: String::new(),
    }
}

fn diff(kind: DifferenceKind, pc: Option<String>, billed: Option<String>) -> Difference {
    Difference {
        kind,
        pc,
        billed,
        acknowledged: false,
        acknowledgement: None,
    }
}

/// The differences of a Partner Center subscription and the billed row matched to it, besides
/// the licence-count ones.
fn pair_differences(pc: &PcSubscription, b: &BilledRecord) -> Vec<Difference> {
    let mut out = Vec::new();
    let (pc_gone, billed_gone) = (pc_ended(&pc.status), billed_ended(b));
    match (pc_gone, billed_gone) {
        (true, true) => {}
        (true, false) => out.push(diff(
            DifferenceKind::MissingInPartnerCenter,
            Some(pc.status.clone()),
            Some(b.status.clone()),
        )),
        (false, true) => out.push(diff(
            DifferenceKind::Status,
            Some(pc.status.clone()),
            Some(b.status.clone()),
        )),
        (false, false) => {
            if pc.quantity > b.quantity {
                out.push(diff(
                    DifferenceKind::QuantityBoughtOverBilled,
                    Some(pc.quantity.to_string()),
                    Some(b.quantity.to_string()),
                ));
            } else if b.quantity > pc.quantity {
                out.push(diff(
                    DifferenceKind::QuantityBilledOverBought,
                    Some(pc.quantity.to_string()),
                    Some(b.quantity.to_string()),
                ));
            }
            // A status Partner Center added since (kept as text) is not called a difference:
            // it cannot be said to differ from what the billed record knows.
            let pc_status = pc_status_as_billed(&pc.status);
            if crate::model::BILLED_STATUSES.contains(&pc_status.as_str())
                && pc_status != b.status.to_ascii_lowercase()
            {
                out.push(diff(
                    DifferenceKind::Status,
                    Some(pc.status.clone()),
                    Some(b.status.clone()),
                ));
            }
            if let Some(cycle) = &b.billing_cycle {
                if !cycle.eq_ignore_ascii_case(pc.billing_cycle.trim()) {
                    out.push(diff(
                        DifferenceKind::BillingCycle,
                        Some(pc.billing_cycle.clone()),
                        Some(cycle.clone()),
                    ));
                }
            }
            if let Some(term) = &b.term {
                if !term.eq_ignore_ascii_case(pc.term.trim()) {
                    out.push(diff(
                        DifferenceKind::Term,
                        Some(pc.term.clone()),
                        Some(term.clone()),
                    ));
                }
            }
            if let Some(renew) = b.auto_renew {
                if renew != pc.auto_renew {
                    out.push(diff(
                        DifferenceKind::AutoRenew,
                        Some(pc.auto_renew.to_string()),
                        Some(renew.to_string()),
                    ));
                }
            }
        }
    }
    out
}

/// The reconciliation of one customer: a row per Partner Center subscription (with the billed
/// row matched to it) and a row per billed row that matches nothing, ordered by product.
/// `licences` is keyed by tenant id in lower case.
pub fn reconcile(
    pc: &[PcSubscription],
    licences: &HashMap<String, TenantLicences>,
    billed: &[BilledRecord],
) -> Vec<ReconciliationRow> {
    let mut pc_order: Vec<usize> = (0..pc.len()).collect();
    pc_order.sort_by_key(|&i| {
        (
            normalise_product(&pc[i].offer_name),
            pc[i].id.to_lowercase(),
        )
    });
    let mut billed_order: Vec<usize> = (0..billed.len()).collect();
    billed_order.sort_by_key(|&i| billed[i].id);

    // Billed rows matched to each subscription, and the subscription of each billed row.
    let mut claims: Vec<Vec<usize>> = vec![Vec::new(); pc.len()];
    let mut matched: Vec<bool> = vec![false; billed.len()];
    for &bi in &billed_order {
        let Some(id) = billed[bi]
            .pc_subscription_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
        else {
            continue;
        };
        // Named by id: matched by it or not at all.
        matched[bi] = true;
        if let Some(pi) = pc.iter().position(|s| s.id.trim().eq_ignore_ascii_case(id)) {
            claims[pi].push(bi);
        } else {
            matched[bi] = false;
        }
    }
    let named_by_id = |bi: usize| {
        billed[bi]
            .pc_subscription_id
            .as_deref()
            .is_some_and(|id| !id.trim().is_empty())
    };
    // Live subscriptions first, then in product order.
    let mut candidates: Vec<usize> = pc_order.clone();
    candidates.sort_by_key(|&i| pc_ended(&pc[i].status));
    let same_tenant = |b: &BilledRecord, s: &PcSubscription| {
        b.tenant_id
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .is_none_or(|t| t.eq_ignore_ascii_case(s.tenant_id.trim()))
    };
    for by_offer in [true, false] {
        for &bi in &billed_order {
            if matched[bi] || named_by_id(bi) {
                continue;
            }
            let b = &billed[bi];
            let wanted = normalise_product(&b.product);
            let hit = candidates.iter().copied().find(|&pi| {
                let s = &pc[pi];
                claims[pi].is_empty()
                    && same_tenant(b, s)
                    && if by_offer {
                        b.offer_id
                            .as_deref()
                            .is_some_and(|o| same_offer(o, &s.offer_id))
                    } else {
                        !wanted.is_empty() && wanted == normalise_product(&s.offer_name)
                    }
            });
            if let Some(pi) = hit {
                claims[pi].push(bi);
                matched[bi] = true;
            }
        }
    }

    // Licence counts per (tenant, product): assigned, and the sums it is compared with.
    struct Product {
        state: AssignedState,
        assigned: Option<i64>,
        bought: i64,
        billed: i64,
        any_billed: bool,
    }
    let product_key = |s: &PcSubscription| {
        (
            s.tenant_id.trim().to_lowercase(),
            normalise_product(&s.offer_name),
        )
    };
    let mut products: HashMap<(String, String), Product> = HashMap::new();
    for (pi, s) in pc.iter().enumerate() {
        if pc_ended(&s.status) {
            continue;
        }
        let key = product_key(s);
        let product = products.entry(key.clone()).or_insert_with(|| {
            let (state, assigned) = match licences.get(&key.0) {
                Some(TenantLicences::Counted(skus)) => {
                    let counts: Vec<i64> = skus
                        .iter()
                        .filter(|(name, _)| normalise_product(name) == key.1)
                        .map(|(_, consumed)| *consumed)
                        .collect();
                    if counts.is_empty() {
                        (AssignedState::NotCounted, None)
                    } else {
                        (AssignedState::Counted, Some(counts.iter().sum()))
                    }
                }
                Some(TenantLicences::NeedsDelegatedConsent) => {
                    (AssignedState::NeedsDelegatedConsent, None)
                }
                Some(TenantLicences::NotCounted) | None => (AssignedState::NotCounted, None),
            };
            Product {
                state,
                assigned,
                bought: 0,
                billed: 0,
                any_billed: false,
            }
        });
        product.bought += s.quantity;
        if let Some(&bi) = claims[pi].first() {
            if !billed_ended(&billed[bi]) {
                product.billed += billed[bi].quantity;
                product.any_billed = true;
            }
        }
    }

    let mut rows = Vec::with_capacity(pc.len() + billed.len());
    for &pi in &pc_order {
        let s = &pc[pi];
        let primary = claims[pi].first().map(|&bi| &billed[bi]);
        let mut differences = match primary {
            None if !pc_ended(&s.status) && !s.is_trial && s.quantity > 0 => vec![diff(
                DifferenceKind::MissingInPortal,
                Some(s.quantity.to_string()),
                None,
            )],
            None => Vec::new(),
            Some(b) => pair_differences(s, b),
        };
        if claims[pi].len() > 1 {
            differences.push(diff(
                DifferenceKind::DuplicateBilled,
                Some(s.id.clone()),
                Some(format!("{} billed rows", claims[pi].len())),
            ));
        }
        let product = (!pc_ended(&s.status))
            .then(|| products.get(&product_key(s)))
            .flatten();
        if let Some(p) = product {
            if let Some(assigned) = p.assigned {
                if assigned > p.bought {
                    differences.push(diff(
                        DifferenceKind::AssignedOverBought,
                        Some(format!("{assigned} assigned, {} bought", p.bought)),
                        None,
                    ));
                }
                if p.any_billed && p.billed > assigned {
                    differences.push(diff(
                        DifferenceKind::BilledOverAssigned,
                        Some(assigned.to_string()),
                        Some(p.billed.to_string()),
                    ));
                }
            }
        }
        differences.sort_by_key(|d| d.kind);
        rows.push(ReconciliationRow {
            key: format!("pc:{}", s.id.trim().to_lowercase()),
            product: s.offer_name.clone(),
            offer_id: Some(s.offer_id.clone()).filter(|o| !o.is_empty()),
            pc_subscription_id: Some(s.id.clone()),
            bought: Some(s.quantity),
            assigned: product.and_then(|p| p.assigned),
            assigned_state: product.map_or(AssignedState::NotCounted, |p| p.state),
            billed: primary.map(|b| b.quantity),
            pc: Some(s.clone()),
            billed_record: primary.cloned(),
            differences,
        });
        // A second billed row claiming the subscription is shown on its own.
        for &bi in claims[pi].iter().skip(1) {
            let b = &billed[bi];
            rows.push(billed_row(
                b,
                vec![diff(
                    DifferenceKind::DuplicateBilled,
                    Some(s.id.clone()),
                    Some(format!("billed row {}", b.id)),
                )],
            ));
        }
    }
    let mut unmatched: Vec<usize> = (0..billed.len()).filter(|&bi| !matched[bi]).collect();
    unmatched.sort_by_key(|&bi| (normalise_product(&billed[bi].product), billed[bi].id));
    for bi in unmatched {
        let b = &billed[bi];
        let differences = if billed_ended(b) {
            Vec::new()
        } else {
            vec![diff(
                DifferenceKind::MissingInPartnerCenter,
                None,
                Some(b.quantity.to_string()),
            )]
        };
        rows.push(billed_row(b, differences));
    }
    rows
}

fn billed_row(b: &BilledRecord, differences: Vec<Difference>) -> ReconciliationRow {
    ReconciliationRow {
        key: format!("billed:{}", b.id),
        product: b.product.clone(),
        offer_id: b.offer_id.clone(),
        pc_subscription_id: b.pc_subscription_id.clone(),
        bought: None,
        assigned: None,
        assigned_state: AssignedState::NotCounted,
        billed: Some(b.quantity),
        pc: None,
        billed_record: Some(b.clone()),
        differences,
    }
}

/// An acknowledged difference: it stays acknowledged while both values are still these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledgement {
    pub row_key: String,
    pub kind: DifferenceKind,
    pub pc: Option<String>,
    pub billed: Option<String>,
    /// Who gave it, when and why (as stored; `None` for one being made).
    pub note: Option<crate::model::AcknowledgementNote>,
}

/// Marks the differences that an acknowledgement still covers (same row, kind and values).
pub fn apply_acknowledgements(rows: &mut [ReconciliationRow], acks: &[Acknowledgement]) {
    for row in rows {
        for d in &mut row.differences {
            let covering = acks.iter().find(|a| {
                a.row_key == row.key && a.kind == d.kind && a.pc == d.pc && a.billed == d.billed
            });
            d.acknowledged = covering.is_some();
            d.acknowledgement = covering.and_then(|a| a.note.clone());
        }
    }
}

/// A price as exact ten-thousandths (`12.5` is 125,000); `None` when it is not a price.
pub fn ten_thousandths(price: &str) -> Option<i128> {
    let (whole, fraction) = price.trim().split_once('.').unwrap_or((price.trim(), ""));
    if whole.is_empty() || fraction.len() > 4 {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let fraction: i128 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<4}").parse().ok()?
    };
    Some(whole * 10_000 + fraction)
}

/// An amount in ten-thousandths as a decimal with two places, or up to four when it has them
/// (`1250.00`, `0.125`... never a float).
pub fn format_ten_thousandths(amount: i128) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let (whole, fraction) = (amount.abs() / 10_000, amount.abs() % 10_000);
    let fraction = format!("{fraction:04}");
    let fraction = fraction.trim_end_matches('0');
    format!("{sign}{whole}.{fraction:0<2}")
}

/// What a row's open (unacknowledged) differences put at stake, as (currency, ten-thousandths)
/// of the billed row's unit price: the billed quantity above Partner Center's (refund risk) or
/// below it (unbilled margin), all of a billed row Partner Center lacks, all of a second billed
/// row for one subscription. `None` when nothing is at stake or the billed row has no price and
/// currency. The product-wide `billed_over_assigned` is left out: it is shown on each of the
/// product's rows and would be counted more than once.
pub fn money_at_stake(row: &ReconciliationRow) -> Option<(String, i128)> {
    let billed = row.billed_record.as_ref()?;
    let price = ten_thousandths(billed.unit_price.as_deref()?)?;
    let currency = billed.currency.clone()?;
    let gap = row
        .differences
        .iter()
        .filter(|d| !d.acknowledged)
        .filter_map(|d| match d.kind {
            DifferenceKind::QuantityBoughtOverBilled | DifferenceKind::QuantityBilledOverBought => {
                Some((row.bought? - row.billed?).abs())
            }
            DifferenceKind::MissingInPartnerCenter => row.billed,
            // Said on the subscription's row and on the second billed row: counted on the second.
            DifferenceKind::DuplicateBilled if row.pc.is_none() => row.billed,
            _ => None,
        })
        .max()?;
    (gap > 0).then(|| (currency, i128::from(gap) * price))
}

#[cfg(test)]
mod tests;
