//! Reports: the billed record (kept by admin and finance) and the License Reconciliation of a
//! customer against Partner Center's side as the last sync left it. Every function checks that
//! the caller may see the customer before it reads or writes.

use super::{
    audit::{self, Change},
    customers::{ensure_visible, parse_tag_filter, scope_of},
};
use crate::{
    error::{AppError, FieldErrors},
    model::{
        parse_choice, parse_currency, parse_notes, parse_offer_id, parse_optional_bool,
        parse_optional_guid, parse_price, parse_product, parse_quantity, ConsumptionReport,
        CustomerDifferences, DifferenceKind, Money, PartnerConsumption, PartnerReconciliation,
        Permission, ReconciliationReport, ReconciliationRow, StaffView, BILLED_STATUSES,
        BILLING_CYCLES, PARTNER_REPORT_PAGE_SIZE, SYNC_STALE_AFTER_MS, TERMS,
    },
    ssr::{
        consumption::UsageRules,
        db::{now_millis, Db},
        reconcile::{
            adopted, apply_acknowledgements, format_ten_thousandths, money_at_stake, reconcile,
            Acknowledgement,
        },
        store::{
            self,
            billed::{BilledFields, ReportScope},
            summaries::Summary,
        },
    },
};
use serde_json::json;
use sqlx::AnyConnection;
use std::collections::{BTreeMap, HashMap};

/// The longest note an acknowledgement may carry.
pub const ACK_NOTE_MAX_CHARS: usize = 500;

/// The reconciliation rows of a customer, acknowledgements applied, and the snapshot time.
async fn rows(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<(Vec<ReconciliationRow>, Option<i64>), AppError> {
    let pc = store::billed::pc_subscriptions(conn, customer_id).await?;
    let licences = store::billed::licences(conn, customer_id).await?;
    let snapshot_at = store::billed::snapshot_at(conn, customer_id).await?;
    let billed = store::billed::list(conn, customer_id).await?;
    let acks = store::billed::acknowledgements(conn, customer_id).await?;
    let mut rows = reconcile(&pc, &licences, &billed);
    apply_acknowledgements(&mut rows, &acks);
    Ok((rows, snapshot_at))
}

async fn customer_name(conn: &mut AnyConnection, customer_id: i64) -> Result<String, AppError> {
    store::customers::find(conn, customer_id)
        .await?
        .map(|c| c.1)
        .ok_or_else(|| AppError::not_found("The customer"))
}

/// A whole number setting of the customer (its integer part; `fallback` when unreadable).
async fn setting_number(
    conn: &mut AnyConnection,
    customer_id: i64,
    key: &str,
    fallback: i64,
) -> Result<i64, AppError> {
    let value = super::configuration::effective_one(conn, customer_id, key).await?;
    Ok(value
        .and_then(|v| {
            v.value
                .split('.')
                .next()
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(fallback))
}

/// The License Consumption report of one customer: each product's licences, flags by the
/// customer's own settings (under-used below `reports.under_used_percent`, renewal decisions
/// within `notifications.renewal_reminder_days`).
pub async fn consumption(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
) -> Result<ConsumptionReport, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let customer_name = customer_name(&mut conn, customer_id).await?;
    let under_used_percent =
        setting_number(&mut conn, customer_id, "reports.under_used_percent", 50).await?;
    let renewal_reminder_days = setting_number(
        &mut conn,
        customer_id,
        "notifications.renewal_reminder_days",
        30,
    )
    .await?;
    let (skus, tenants_needing_consent) = store::billed::sku_counts(&mut conn, customer_id).await?;
    let subscriptions = store::billed::pc_subscriptions(&mut conn, customer_id).await?;
    let snapshot_at = store::billed::snapshot_at(&mut conn, customer_id).await?;
    let now = now_millis();
    let today = time::OffsetDateTime::from_unix_timestamp(now / 1000)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    let rules = UsageRules {
        under_used_percent,
        renewal_reminder_days,
        today,
    };
    Ok(ConsumptionReport {
        customer_id,
        customer_name,
        snapshot_at,
        stale: snapshot_at.is_some_and(|at| now - at > SYNC_STALE_AFTER_MS),
        under_used_percent,
        renewal_reminder_days,
        tenants_needing_consent,
        products: crate::ssr::consumption::consumption(&skus, &subscriptions, &rules),
    })
}

/// The License Reconciliation of one customer.
pub async fn reconciliation(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
) -> Result<ReconciliationReport, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let customer_name = customer_name(&mut conn, customer_id).await?;
    let (rows, snapshot_at) = rows(&mut conn, customer_id).await?;
    let now = now_millis();
    Ok(ReconciliationReport {
        customer_id,
        customer_name,
        snapshot_at,
        stale: snapshot_at.is_some_and(|at| now - at > SYNC_STALE_AFTER_MS),
        rows,
        can_edit_billed: staff.role.allows(Permission::ManageBilled),
        can_acknowledge: staff.role.allows(Permission::AcknowledgeDifferences),
    })
}

/// What the partner-wide reconciliation is filtered by; empty texts switch a filter off.
#[derive(Clone, Debug, Default)]
pub struct PartnerQuery {
    /// `Name=Value`.
    pub tag: String,
    /// A difference kind's name (`quantity_bought_over_billed`...).
    pub kind: String,
    pub include_acknowledged: bool,
    /// 1-based.
    pub page: i64,
}

/// License Consumption over every customer `staff` may see (of a tag, if asked): each
/// product's licences summed, with how many customers and tenants have it and how many tenants
/// are over-assigned.
pub async fn partner_consumption(
    db: &Db,
    staff: &StaffView,
    tag: &str,
) -> Result<PartnerConsumption, AppError> {
    let parsed = parse_tag_filter(tag)?;
    let scope = ReportScope::Partner {
        scoped_to_staff: scope_of(staff),
        tag: parsed
            .as_ref()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    };
    let mut conn = db.pool().acquire().await?;
    Ok(PartnerConsumption {
        tag: tag.trim().to_owned(),
        products: store::billed::product_totals_in(&mut conn, scope).await?,
    })
}

/// Groups (customer id, item) pairs by customer.
fn by_customer<T>(pairs: Vec<(i64, T)>) -> HashMap<i64, Vec<T>> {
    let mut out: HashMap<i64, Vec<T>> = HashMap::new();
    for (customer_id, item) in pairs {
        out.entry(customer_id).or_default().push(item);
    }
    out
}

/// The reconciliation summary of every customer in scope, computed from what is stored now:
/// the same [`reconcile`] over the same inputs as each customer's own report, read for all of
/// them at once.
async fn compute_summaries(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<Vec<Summary>, AppError> {
    let customers = store::billed::customers_in(conn, scope).await?;
    let mut pc = by_customer(store::billed::pc_subscriptions_in(conn, scope).await?);
    let mut billed = by_customer(store::billed::list_in(conn, scope).await?);
    let acks = by_customer(store::billed::acknowledgements_in(conn, scope).await?);
    let mut licences = store::billed::licences_in(conn, scope).await?;
    let snapshots = store::billed::snapshots_in(conn, scope).await?;
    let mut out = Vec::with_capacity(customers.len());
    for (customer_id, _) in customers {
        let (subscriptions, records) = (
            pc.remove(&customer_id).unwrap_or_default(),
            billed.remove(&customer_id).unwrap_or_default(),
        );
        let mut summary = Summary {
            customer_id,
            has_rows: !(subscriptions.is_empty() && records.is_empty()),
            snapshot_at: snapshots.get(&customer_id).copied().flatten(),
            ..Summary::default()
        };
        if summary.has_rows {
            let mut rows = reconcile(
                &subscriptions,
                &licences.remove(&customer_id).unwrap_or_default(),
                &records,
            );
            if let Some(acks) = acks.get(&customer_id) {
                apply_acknowledgements(&mut rows, acks);
            }
            let mut counts: BTreeMap<(DifferenceKind, bool), i64> = BTreeMap::new();
            let mut money: BTreeMap<String, i128> = BTreeMap::new();
            for row in &rows {
                for d in &row.differences {
                    *counts.entry((d.kind, d.acknowledged)).or_default() += 1;
                }
                if let Some((currency, amount)) = money_at_stake(row) {
                    *money.entry(currency).or_default() += amount;
                }
            }
            summary.counts = counts.into_iter().map(|((k, a), n)| (k, a, n)).collect();
            summary.money = money.into_iter().collect();
            summary
                .money
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        out.push(summary);
    }
    Ok(out)
}

/// The customer's reconciliation summary as computed from what is stored now (what the stored
/// one must equal while current).
pub async fn computed_summary(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Summary, AppError> {
    Ok(compute_summaries(conn, ReportScope::Customer(customer_id))
        .await?
        .pop()
        .unwrap_or(Summary {
            customer_id,
            ..Summary::default()
        }))
}

/// Computes and stores the customer's reconciliation summary: called by each write that
/// changes what the reconciliation reads, in its transaction, so the partner-wide list stays
/// current without reconciling anyone at view time.
pub async fn refresh_summary(conn: &mut AnyConnection, customer_id: i64) -> Result<(), AppError> {
    // The generation is read before the inputs: a write that lands in between leaves the
    // summary stale, never wrongly current.
    let generation = store::summaries::generation(conn, customer_id).await?;
    let summary = computed_summary(conn, customer_id).await?;
    store::summaries::save(conn, generation, &summary, now_millis()).await?;
    Ok(())
}

/// [`refresh_summary`] of each of these customers, for a write that changed several; with
/// more than [`STALE_IN_ONE_PASS`] their summaries are left stale instead (marked so by the
/// store), for the next read to compute in one pass over them all.
pub async fn refresh_summaries(
    conn: &mut AnyConnection,
    customer_ids: impl IntoIterator<Item = i64>,
) -> Result<(), AppError> {
    let ids: std::collections::BTreeSet<i64> = customer_ids.into_iter().collect();
    if ids.len() <= STALE_IN_ONE_PASS {
        for id in ids {
            refresh_summary(conn, id).await?;
        }
    }
    Ok(())
}

/// Above this many stale summaries, the scope's are computed in one pass over it rather than
/// one customer at a time.
const STALE_IN_ONE_PASS: usize = 64;

/// Brings the summaries of the scope up to date: those no write refreshed (written before
/// summaries existed, or by a path that only marked them changed, such as the demo's seed).
async fn refresh_stale(db: &Db, scope: ReportScope<'_>) -> Result<(), AppError> {
    if store::summaries::stale_in(&mut *db.pool().acquire().await?, scope)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    let stale: HashMap<i64, i64> = store::summaries::stale_in(&mut tx, scope)
        .await?
        .into_iter()
        .collect();
    let now = now_millis();
    if stale.len() > STALE_IN_ONE_PASS {
        for summary in compute_summaries(&mut tx, scope).await? {
            if let Some(generation) = stale.get(&summary.customer_id) {
                store::summaries::save(&mut tx, *generation, &summary, now).await?;
            }
        }
    } else {
        for (customer_id, generation) in &stale {
            let summary = computed_summary(&mut tx, *customer_id).await?;
            store::summaries::save(&mut tx, *generation, &summary, now).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        summaries = stale.len(),
        "reconciliation summaries brought up to date"
    );
    Ok(())
}

/// The scope and filter of a partner-wide query, its texts parsed (an unreadable one is said
/// next to its field).
fn partner_filter<'a>(
    staff: &StaffView,
    query: &PartnerQuery,
    tag: &'a Option<(String, String)>,
) -> Result<store::summaries::Filter<'a>, AppError> {
    let kind = match query.kind.trim() {
        "" => None,
        name => Some(DifferenceKind::parse(name).ok_or_else(|| {
            AppError::field("kind", format!("{name:?} is not a kind of difference."))
        })?),
    };
    Ok(store::summaries::Filter {
        kind,
        include_acknowledged: query.include_acknowledged,
        scope: ReportScope::Partner {
            scoped_to_staff: scope_of(staff),
            tag: tag
                .as_ref()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        },
    })
}

/// `limit` lines of the partner-wide list from `offset`, in its order.
async fn partner_lines(
    conn: &mut AnyConnection,
    filter: store::summaries::Filter<'_>,
    offset: i64,
    limit: i64,
) -> Result<Vec<CustomerDifferences>, AppError> {
    let lines = store::summaries::page(conn, filter, offset, limit).await?;
    let ids: Vec<i64> = lines.iter().map(|l| l.customer_id).collect();
    let mut counts: HashMap<i64, Vec<(DifferenceKind, i64)>> = HashMap::new();
    for (customer_id, kind, n) in
        store::summaries::counts_of(conn, &ids, filter.include_acknowledged).await?
    {
        if let Some(kind) = DifferenceKind::parse(&kind) {
            counts.entry(customer_id).or_default().push((kind, n));
        }
    }
    let now = now_millis();
    Ok(lines
        .into_iter()
        .map(|line| {
            let mut counts = counts.remove(&line.customer_id).unwrap_or_default();
            counts.sort();
            CustomerDifferences {
                customer_id: line.customer_id,
                customer_name: line.customer_name,
                counts,
                differences: line.differences,
                money_at_stake: line
                    .money
                    .into_iter()
                    .map(|(currency, amount)| Money {
                        currency,
                        amount: format_ten_thousandths(amount),
                    })
                    .collect(),
                snapshot_at: line.snapshot_at,
                stale: line
                    .snapshot_at
                    .is_some_and(|at| now - at > SYNC_STALE_AFTER_MS),
            }
        })
        .collect())
}

/// The License Reconciliation of every customer `staff` may see (of a tag, if asked): one line
/// per customer with differences (of a kind, if asked), counts per kind and the money at stake,
/// most money first, then most differences, then by name. Read from the customers' stored
/// summaries (see [`refresh_summary`]).
pub async fn partner_reconciliation(
    db: &Db,
    staff: &StaffView,
    query: &PartnerQuery,
) -> Result<PartnerReconciliation, AppError> {
    let tag = parse_tag_filter(&query.tag)?;
    let filter = partner_filter(staff, query, &tag)?;
    refresh_stale(db, filter.scope).await?;
    let mut conn = db.pool().acquire().await?;
    let looked_at = store::summaries::looked_at(&mut conn, filter.scope).await?;
    let mut totals: Vec<(DifferenceKind, i64)> = store::summaries::totals(
        &mut conn,
        store::summaries::Filter {
            kind: None,
            ..filter
        },
    )
    .await?
    .into_iter()
    .filter_map(|(kind, n)| Some((DifferenceKind::parse(&kind)?, n)))
    .filter(|(_, n)| *n > 0)
    .collect();
    totals.sort();
    let listed = store::summaries::listed(&mut conn, filter).await?;
    let pages = ((listed + PARTNER_REPORT_PAGE_SIZE - 1) / PARTNER_REPORT_PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    let rows = partner_lines(
        &mut conn,
        filter,
        (page - 1) * PARTNER_REPORT_PAGE_SIZE,
        PARTNER_REPORT_PAGE_SIZE,
    )
    .await?;
    Ok(PartnerReconciliation {
        customers: looked_at,
        customers_listed: listed,
        totals,
        rows,
        page,
        pages,
        tag: query.tag.trim().to_owned(),
        kind: filter.kind,
        include_acknowledged: query.include_acknowledged,
        can_import_billed: staff.role.allows(Permission::ManageBilled),
    })
}

/// Lines of the partner-wide list for an export: `limit` of them from `offset` (the page's
/// filters; `query.page` is not used). The first call (offset 0) brings stale summaries up to
/// date; an export reads on until a call gives no line.
pub async fn partner_reconciliation_lines(
    db: &Db,
    staff: &StaffView,
    query: &PartnerQuery,
    offset: i64,
    limit: i64,
) -> Result<Vec<CustomerDifferences>, AppError> {
    let tag = parse_tag_filter(&query.tag)?;
    let filter = partner_filter(staff, query, &tag)?;
    if offset == 0 {
        refresh_stale(db, filter.scope).await?;
    }
    let mut conn = db.pool().acquire().await?;
    partner_lines(&mut conn, filter, offset, limit).await
}

fn audit_json(fields: &BilledFields) -> serde_json::Value {
    json!({
        "product": fields.product,
        "offer_id": fields.offer_id,
        "pc_subscription_id": fields.pc_subscription_id,
        "tenant_id": fields.tenant_id,
        "quantity": fields.quantity,
        "billing_cycle": fields.billing_cycle,
        "term": fields.term,
        "status": fields.status,
        "auto_renew": fields.auto_renew,
        "unit_price": fields.unit_price,
        "currency": fields.currency,
        "notes": fields.notes,
    })
}

/// Adopts Partner Center subscriptions as billed rows equal to them (a baseline to edit): the
/// one named, or with `None` every one the billed record lacks (those the report calls
/// unbilled). Returns how many were adopted.
pub async fn adopt(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    subscription_id: Option<&str>,
) -> Result<usize, AppError> {
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let (rows, _) = rows(&mut tx, customer_id).await?;
    let wanted = subscription_id.map(|id| id.trim().to_ascii_lowercase());
    let unbilled = |r: &&ReconciliationRow| {
        r.billed_record.is_none()
            && r.differences
                .iter()
                .any(|d| d.kind == DifferenceKind::MissingInPortal)
    };
    let targets: Vec<&ReconciliationRow> = match &wanted {
        None => rows.iter().filter(unbilled).collect(),
        Some(id) => {
            let row = rows
                .iter()
                .find(|r| r.pc.as_ref().is_some_and(|s| s.id.eq_ignore_ascii_case(id)))
                .ok_or_else(|| AppError::not_found("That Partner Center subscription"))?;
            if let Some(billed) = &row.billed_record {
                return Err(AppError::Conflict {
                    message: format!(
                        "{} is billed already (billed row {}): edit that row instead.",
                        row.product, billed.id
                    ),
                });
            }
            vec![row]
        }
    };
    let now = now_millis();
    for row in &targets {
        let Some(pc) = &row.pc else { continue };
        let fields = BilledFields::of(&adopted(pc));
        let id = store::billed::insert(&mut tx, customer_id, &fields, &staff.email, now).await?;
        audit::record(
            &mut tx,
            staff,
            now,
            Change {
                action: "billed.adopt",
                customer_id: Some(customer_id),
                subject: &format!("billed row {id}"),
                before: None,
                after: Some(audit_json(&fields)),
            },
        )
        .await?;
    }
    refresh_summary(&mut tx, customer_id).await?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, customer_id, adopted = targets.len(), "billed rows adopted from Partner Center");
    Ok(targets.len())
}

/// A billed row as a form (or a CSV line) gives it: every field as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BilledInput {
    pub product: String,
    pub offer_id: String,
    pub pc_subscription_id: String,
    pub tenant_id: String,
    pub quantity: String,
    pub billing_cycle: String,
    pub term: String,
    pub status: String,
    pub auto_renew: String,
    pub unit_price: String,
    pub currency: String,
    pub notes: String,
}

/// Parses every field of a billed row, reporting each invalid one next to its field.
pub fn parse_billed(input: &BilledInput) -> Result<BilledFields, AppError> {
    let mut errors = FieldErrors::default();
    let product = errors.check("product", parse_product(&input.product));
    let offer_id = errors.check("offer_id", parse_offer_id(&input.offer_id));
    let pc_subscription_id = errors.check(
        "pc_subscription_id",
        parse_optional_guid(&input.pc_subscription_id, "subscription id"),
    );
    let tenant_id = errors.check(
        "tenant_id",
        parse_optional_guid(&input.tenant_id, "tenant id"),
    );
    let quantity = errors.check("quantity", parse_quantity(&input.quantity));
    let billing_cycle = errors.check(
        "billing_cycle",
        parse_choice(&input.billing_cycle, &BILLING_CYCLES, "billing cycle"),
    );
    let term = errors.check("term", parse_choice(&input.term, &TERMS, "term"));
    let status = errors.check(
        "status",
        parse_choice(&input.status, &BILLED_STATUSES, "status")
            .map(|s| s.unwrap_or_else(|| "active".to_owned())),
    );
    let auto_renew = errors.check("auto_renew", parse_optional_bool(&input.auto_renew));
    let unit_price = errors.check("unit_price", parse_price(&input.unit_price));
    let currency = errors.check("currency", parse_currency(&input.currency));
    let notes = errors.check("notes", parse_notes(&input.notes));
    errors.into_result()?;
    // Every field parsed (into_result said so): the defaults are never used.
    let (unit_price, currency) = (unit_price.unwrap_or_default(), currency.unwrap_or_default());
    if unit_price.is_some() && currency.is_none() {
        return Err(AppError::field(
            "currency",
            "Give the currency of the unit price (such as EUR).",
        ));
    }
    Ok(BilledFields {
        product: product.unwrap_or_default(),
        offer_id: offer_id.unwrap_or_default(),
        pc_subscription_id: pc_subscription_id.unwrap_or_default(),
        tenant_id: tenant_id.unwrap_or_default(),
        quantity: quantity.unwrap_or_default(),
        billing_cycle: billing_cycle.unwrap_or_default(),
        term: term.unwrap_or_default(),
        status: status.unwrap_or_default(),
        auto_renew: auto_renew.unwrap_or_default(),
        unit_price,
        currency,
        notes: notes.unwrap_or_default(),
    })
}

/// Adds a billed row (`row` is `None`) or changes one that is still at the version the caller
/// saw (`Some((id, version))`; a stale one is refused with 409 naming who changed it). Returns
/// the row's id.
pub async fn save_billed(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    row: Option<(i64, i64)>,
    input: &BilledInput,
) -> Result<i64, AppError> {
    let fields = parse_billed(input)?;
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let now = now_millis();
    let (id, before) = match row {
        None => (
            store::billed::insert(&mut tx, customer_id, &fields, &staff.email, now).await?,
            None,
        ),
        Some((id, version)) => {
            let (current, by, _) = store::billed::find(&mut tx, customer_id, id)
                .await?
                .ok_or_else(|| AppError::not_found("That billed row"))?;
            if !store::billed::update(
                &mut tx,
                customer_id,
                id,
                version,
                &fields,
                &staff.email,
                now,
            )
            .await?
            {
                return Err(AppError::Conflict {
                    message: format!(
                        "{} was changed by {by} since you opened it (quantity now {}). Look at it again before saving.",
                        current.product, current.quantity
                    ),
                });
            }
            (id, Some(audit_json(&BilledFields::of(&current))))
        }
    };
    audit::record(
        &mut tx,
        staff,
        now,
        Change {
            action: if before.is_some() {
                "billed.change"
            } else {
                "billed.add"
            },
            customer_id: Some(customer_id),
            subject: &format!("billed row {id}"),
            before,
            after: Some(audit_json(&fields)),
        },
    )
    .await?;
    refresh_summary(&mut tx, customer_id).await?;
    tx.commit().await?;
    Ok(id)
}

/// Acknowledges one difference of the customer's reconciliation as it is now, with a note: it
/// stays acknowledged until one of its values changes.
pub async fn acknowledge(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    row_key: &str,
    kind: &str,
    note: &str,
) -> Result<(), AppError> {
    let kind = DifferenceKind::parse(kind.trim())
        .ok_or_else(|| AppError::field("kind", format!("{kind:?} is not a kind of difference.")))?;
    let note = note.trim();
    if note.is_empty() {
        return Err(AppError::field(
            "note",
            "Say why the difference is acknowledged.",
        ));
    }
    if note.chars().count() > ACK_NOTE_MAX_CHARS {
        return Err(AppError::field(
            "note",
            format!("The note is too long; {ACK_NOTE_MAX_CHARS} characters at most."),
        ));
    }
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let (rows, _) = rows(&mut tx, customer_id).await?;
    let difference = rows
        .iter()
        .find(|r| r.key == row_key)
        .and_then(|r| r.differences.iter().find(|d| d.kind == kind))
        .ok_or_else(|| AppError::Conflict {
            message: "That difference is no longer there: the report changed since it was shown."
                .into(),
        })?;
    let ack = Acknowledgement {
        row_key: row_key.to_owned(),
        kind,
        pc: difference.pc.clone(),
        billed: difference.billed.clone(),
        note: None,
    };
    let now = now_millis();
    store::billed::acknowledge(&mut tx, customer_id, &ack, note, &staff.email, now).await?;
    audit::record(
        &mut tx,
        staff,
        now,
        Change {
            action: "reconciliation.acknowledge",
            customer_id: Some(customer_id),
            subject: &format!("{} {}", row_key, kind.as_str()),
            before: None,
            after: Some(json!({
                "kind": kind.as_str(),
                "pc": ack.pc,
                "billed": ack.billed,
                "note": note,
            })),
        },
    )
    .await?;
    refresh_summary(&mut tx, customer_id).await?;
    tx.commit().await?;
    Ok(())
}
