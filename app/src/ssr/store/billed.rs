//! The billed record (what the partner bills each customer), the acknowledged differences of
//! the reconciliation, and what the last sync left of Partner Center's side to reconcile with.

use crate::{
    model::{BilledRecord, DifferenceKind, Millis, PcSubscription},
    ssr::{
        consumption::SkuCounts,
        reconcile::{Acknowledgement, TenantLicences},
    },
};
use sqlx::{any::AnyRow, AnyConnection, Row};
use std::collections::HashMap;

pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Whose rows a report query reads.
#[derive(Clone, Copy, Debug)]
pub enum ReportScope<'a> {
    /// One customer (the caller has checked that it may be seen).
    Customer(i64),
    /// Every customer that is not deleted and that `scoped_to_staff` may see (all when `None`),
    /// only those with the tag (name key, value) when one is given.
    Partner {
        scoped_to_staff: Option<i64>,
        tag: Option<(&'a str, &'a str)>,
    },
}

impl ReportScope<'_> {
    /// The condition that `column` (a customer id) is in the scope; its values are bound by
    /// [`ReportScope::bind`] as `$1`, `$2` and `$3`.
    pub(super) fn condition(&self, column: &str) -> String {
        match self {
            ReportScope::Customer(_) => format!("{column} = $1"),
            ReportScope::Partner { .. } => format!(
                "{column} IN (SELECT c.id FROM customers c WHERE c.deleted_at IS NULL
                   AND ($1 = 0 OR EXISTS (
                        SELECT 1 FROM customer_tags ct
                        JOIN staff_tag_scopes sc ON sc.tag_name_key = ct.name_key AND sc.tag_value = ct.value
                        WHERE ct.customer_id = c.id AND sc.staff_id = $1))
                   AND ($2 = '' OR EXISTS (
                        SELECT 1 FROM customer_tags tg
                        WHERE tg.customer_id = c.id AND tg.name_key = $2 AND tg.value = $3)))"
            ),
        }
    }

    /// The number of the first placeholder after the scope's own.
    pub(super) fn next_placeholder(&self) -> usize {
        match self {
            ReportScope::Customer(_) => 2,
            ReportScope::Partner { .. } => 4,
        }
    }

    pub(super) fn bind<'q>(&self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        match *self {
            ReportScope::Customer(id) => query.bind(id),
            ReportScope::Partner {
                scoped_to_staff,
                tag,
            } => {
                let (name, value) = tag.unwrap_or(("", ""));
                query
                    .bind(scoped_to_staff.unwrap_or(0))
                    .bind(name.to_owned())
                    .bind(value.to_owned())
            }
        }
    }
}

/// Runs `sql` (whose condition came from `scope`) with the scope's values, each row mapped.
pub(super) async fn fetch_in<T, C: FromIterator<T>>(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
    sql: &str,
    map: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<C, sqlx::Error> {
    scope
        .bind(sqlx::query(sql))
        .fetch_all(conn)
        .await?
        .iter()
        .map(map)
        .collect()
}

/// The rows of a per-customer result, in their order, without the customer ids.
fn of_one<T>(rows: Vec<(i64, T)>) -> Vec<T> {
    rows.into_iter().map(|(_, row)| row).collect()
}

/// A billed row's fields as written (the id, version and stamps are the store's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BilledFields {
    pub product: String,
    pub offer_id: Option<String>,
    /// Lower case.
    pub pc_subscription_id: Option<String>,
    pub tenant_id: Option<String>,
    pub quantity: i64,
    pub billing_cycle: Option<String>,
    pub term: Option<String>,
    pub status: String,
    pub auto_renew: Option<bool>,
    pub unit_price: Option<String>,
    pub currency: Option<String>,
    pub notes: String,
}

impl BilledFields {
    /// The fields of a record (as the report shows it).
    pub fn of(record: &BilledRecord) -> Self {
        BilledFields {
            product: record.product.clone(),
            offer_id: record.offer_id.clone(),
            pc_subscription_id: record.pc_subscription_id.clone(),
            tenant_id: record.tenant_id.clone(),
            quantity: record.quantity,
            billing_cycle: record.billing_cycle.clone(),
            term: record.term.clone(),
            status: record.status.clone(),
            auto_renew: record.auto_renew,
            unit_price: record.unit_price.clone(),
            currency: record.currency.clone(),
            notes: record.notes.clone(),
        }
    }
}

const COLUMNS: &str = "id, version, product, offer_id, pc_subscription_id, tenant_id, quantity,
    billing_cycle, term, status, auto_renew, unit_price, currency, notes";

fn record(row: &AnyRow) -> Result<BilledRecord, sqlx::Error> {
    Ok(BilledRecord {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        product: row.try_get("product")?,
        offer_id: row.try_get("offer_id")?,
        pc_subscription_id: row.try_get("pc_subscription_id")?,
        tenant_id: row.try_get("tenant_id")?,
        quantity: row.try_get("quantity")?,
        billing_cycle: row.try_get("billing_cycle")?,
        term: row.try_get("term")?,
        status: row.try_get("status")?,
        auto_renew: row.try_get::<Option<i64>, _>("auto_renew")?.map(|v| v != 0),
        unit_price: row.try_get("unit_price")?,
        currency: row.try_get("currency")?,
        notes: row.try_get("notes")?,
    })
}

/// The customer's billed rows, oldest first.
pub async fn list(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<BilledRecord>, sqlx::Error> {
    Ok(of_one(
        list_in(conn, ReportScope::Customer(customer_id)).await?,
    ))
}

/// The billed rows of the customers in scope, (customer id, row) by customer then oldest first.
pub async fn list_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<Vec<(i64, BilledRecord)>, sqlx::Error> {
    let sql = format!(
        "SELECT customer_id, {COLUMNS} FROM billed_subscriptions WHERE {} ORDER BY customer_id, id",
        scope.condition("customer_id")
    );
    fetch_in(conn, scope, &sql, |row| {
        Ok((row.try_get("customer_id")?, record(row)?))
    })
    .await
}

/// One billed row of the customer, with who changed it last and when.
pub async fn find(
    conn: &mut AnyConnection,
    customer_id: i64,
    id: i64,
) -> Result<Option<(BilledRecord, String, Millis)>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, updated_by, updated_at FROM billed_subscriptions
         WHERE customer_id = $1 AND id = $2"
    ))
    .bind(customer_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok((
            record(&row)?,
            row.try_get("updated_by")?,
            row.try_get("updated_at")?,
        ))
    })
    .transpose()
}

/// Binds a billed row's twelve fields, in the order both statements below name them.
fn bind_fields<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    fields: &'q BilledFields,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&fields.product)
        .bind(&fields.offer_id)
        .bind(&fields.pc_subscription_id)
        .bind(&fields.tenant_id)
        .bind(fields.quantity)
        .bind(&fields.billing_cycle)
        .bind(&fields.term)
        .bind(&fields.status)
        .bind(fields.auto_renew.map(i64::from))
        .bind(&fields.unit_price)
        .bind(&fields.currency)
        .bind(&fields.notes)
}

/// Adds a billed row (version 1); returns its id. Marks the reconciliation changed, as every
/// write below does.
pub async fn insert(
    conn: &mut AnyConnection,
    customer_id: i64,
    fields: &BilledFields,
    by: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    let row = bind_fields(
        sqlx::query(
            "INSERT INTO billed_subscriptions (customer_id, product, offer_id,
                 pc_subscription_id, tenant_id, quantity, billing_cycle, term, status, auto_renew,
                 unit_price, currency, notes, version, created_at, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14, $15)
             RETURNING id",
        )
        .bind(customer_id),
        fields,
    )
    .bind(now)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?;
    super::summaries::changed(conn, customer_id).await?;
    row.try_get("id")
}

/// Replaces a billed row's fields if it is still at `version`; false when it is not (changed
/// meanwhile, or not the customer's).
pub async fn update(
    conn: &mut AnyConnection,
    customer_id: i64,
    id: i64,
    version: i64,
    fields: &BilledFields,
    by: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let done = bind_fields(
        sqlx::query(
            "UPDATE billed_subscriptions SET product = $4, offer_id = $5, pc_subscription_id = $6,
                 tenant_id = $7, quantity = $8, billing_cycle = $9, term = $10, status = $11,
                 auto_renew = $12, unit_price = $13, currency = $14, notes = $15,
                 version = version + 1, updated_at = $16, updated_by = $17
             WHERE customer_id = $1 AND id = $2 AND version = $3",
        )
        .bind(customer_id)
        .bind(id)
        .bind(version),
        fields,
    )
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    super::summaries::changed(conn, customer_id).await?;
    Ok(done.rows_affected() == 1)
}

/// Partner Center's subscriptions of the customer's linked tenants, as the last sync left them.
pub async fn pc_subscriptions(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<PcSubscription>, sqlx::Error> {
    Ok(of_one(
        pc_subscriptions_in(conn, ReportScope::Customer(customer_id)).await?,
    ))
}

/// The Partner Center subscriptions of the customers in scope, (customer id, subscription) by
/// customer, tenant and subscription id.
pub async fn pc_subscriptions_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<Vec<(i64, PcSubscription)>, sqlx::Error> {
    let sql = format!(
        "SELECT t.customer_id, s.subscription_id, s.tenant_id, s.offer_id, s.offer_name, s.quantity,
                s.status, s.billing_cycle, s.term_duration, s.auto_renew, s.is_trial,
                s.commitment_end_date
         FROM tenant_subscriptions s JOIN tenants t ON t.tenant_id = s.tenant_id
         WHERE t.unlinked_at IS NULL AND {}
         ORDER BY t.customer_id, s.tenant_id, s.subscription_id",
        scope.condition("t.customer_id")
    );
    fetch_in(conn, scope, &sql, |row| {
        Ok((
            row.try_get("customer_id")?,
            PcSubscription {
                id: row.try_get("subscription_id")?,
                tenant_id: row.try_get("tenant_id")?,
                offer_id: row.try_get("offer_id")?,
                offer_name: row.try_get("offer_name")?,
                quantity: row.try_get("quantity")?,
                status: row.try_get("status")?,
                billing_cycle: row.try_get("billing_cycle")?,
                term: row.try_get("term_duration")?,
                auto_renew: row.try_get::<i64, _>("auto_renew")? != 0,
                is_trial: row.try_get::<i64, _>("is_trial")? != 0,
                commitment_end: row.try_get("commitment_end_date")?,
            },
        ))
    })
    .await
}

/// When the oldest snapshot of the customer's linked tenants was taken; `None` when one was
/// never synced (or the customer has no tenant).
pub async fn snapshot_at(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<Millis>, sqlx::Error> {
    Ok(snapshots_in(conn, ReportScope::Customer(customer_id))
        .await?
        .remove(&customer_id)
        .flatten())
}

/// [`snapshot_at`] of every customer in scope that has a linked tenant.
pub async fn snapshots_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<HashMap<i64, Option<Millis>>, sqlx::Error> {
    let sql = format!(
        "SELECT t.customer_id, MIN(s.fetched_at) AS oldest, COUNT(*) AS tenants,
                COUNT(s.fetched_at) AS synced
         FROM tenants t LEFT JOIN tenant_snapshots s ON s.tenant_id = t.tenant_id
         WHERE t.unlinked_at IS NULL AND {}
         GROUP BY t.customer_id",
        scope.condition("t.customer_id")
    );
    fetch_in(conn, scope, &sql, |row| {
        let oldest: Option<Millis> = row.try_get("oldest")?;
        let (tenants, synced): (i64, i64) = (row.try_get("tenants")?, row.try_get("synced")?);
        Ok((
            row.try_get("customer_id")?,
            oldest.filter(|_| tenants > 0 && synced == tenants),
        ))
    })
    .await
}

/// Each linked tenant's licence counts, keyed by tenant id in lower case.
pub async fn licences(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<HashMap<String, TenantLicences>, sqlx::Error> {
    Ok(licences_in(conn, ReportScope::Customer(customer_id))
        .await?
        .remove(&customer_id)
        .unwrap_or_default())
}

/// [`licences`] of every customer in scope, by customer id.
pub async fn licences_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<HashMap<i64, HashMap<String, TenantLicences>>, sqlx::Error> {
    let sql = format!(
        "SELECT t.customer_id, t.tenant_id, s.licences FROM tenants t
         LEFT JOIN tenant_snapshots s ON s.tenant_id = t.tenant_id
         WHERE t.unlinked_at IS NULL AND {}",
        scope.condition("t.customer_id")
    );
    let tenants = scope.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let sql = format!(
        "SELECT k.tenant_id, k.product_name, k.consumed_units FROM tenant_subscribed_skus k
         JOIN tenants t ON t.tenant_id = k.tenant_id
         WHERE t.unlinked_at IS NULL AND {}",
        scope.condition("t.customer_id")
    );
    let skus = scope.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let mut by_tenant: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for row in &skus {
        let tenant: String = row.try_get("tenant_id")?;
        by_tenant
            .entry(tenant.to_lowercase())
            .or_default()
            .push((row.try_get("product_name")?, row.try_get("consumed_units")?));
    }
    let mut out: HashMap<i64, HashMap<String, TenantLicences>> = HashMap::new();
    for row in &tenants {
        let customer_id: i64 = row.try_get("customer_id")?;
        let key = row.try_get::<String, _>("tenant_id")?.to_lowercase();
        let licences = match row.try_get::<Option<String>, _>("licences")?.as_deref() {
            Some("counted") => TenantLicences::Counted(by_tenant.remove(&key).unwrap_or_default()),
            Some("needs_consent") => TenantLicences::NeedsDelegatedConsent,
            // Failed keeps the last counts, which may be stale: not counted now.
            _ => TenantLicences::NotCounted,
        };
        out.entry(customer_id).or_default().insert(key, licences);
    }
    Ok(out)
}

/// The customer's acknowledged differences.
pub async fn acknowledgements(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<Acknowledgement>, sqlx::Error> {
    Ok(of_one(
        acknowledgements_in(conn, ReportScope::Customer(customer_id)).await?,
    ))
}

/// The acknowledged differences of the customers in scope, (customer id, acknowledgement).
pub async fn acknowledgements_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<Vec<(i64, Acknowledgement)>, sqlx::Error> {
    let sql = format!(
        "SELECT customer_id, row_key, kind, pc_value, billed_value, note, by_email, at
         FROM reconciliation_acknowledgements WHERE {}",
        scope.condition("customer_id")
    );
    let rows = scope.bind(sqlx::query(&sql)).fetch_all(conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind: String = row.try_get("kind")?;
        // A kind this version does not know is left out.
        let Some(kind) = DifferenceKind::parse(&kind) else {
            continue;
        };
        out.push((
            row.try_get("customer_id")?,
            Acknowledgement {
                row_key: row.try_get("row_key")?,
                kind,
                pc: row.try_get("pc_value")?,
                billed: row.try_get("billed_value")?,
                note: Some(crate::model::AcknowledgementNote {
                    by: row.try_get("by_email")?,
                    at: row.try_get("at")?,
                    note: row.try_get("note")?,
                }),
            },
        ));
    }
    Ok(out)
}

/// (id, name) of every customer in scope, in list order (name, then id).
pub async fn customers_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT id, name FROM customers WHERE deleted_at IS NULL AND {} ORDER BY name_key, id",
        scope.condition("id")
    );
    fetch_in(conn, scope, &sql, |row| {
        Ok((row.try_get("id")?, row.try_get("name")?))
    })
    .await
}

/// Records (or replaces) the acknowledgement of one difference, with its values as seen.
pub async fn acknowledge(
    conn: &mut AnyConnection,
    customer_id: i64,
    ack: &Acknowledgement,
    note: &str,
    by: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO reconciliation_acknowledgements
             (customer_id, row_key, kind, pc_value, billed_value, note, by_email, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (customer_id, row_key, kind) DO UPDATE SET pc_value = $4,
             billed_value = $5, note = $6, by_email = $7, at = $8",
    )
    .bind(customer_id)
    .bind(&ack.row_key)
    .bind(ack.kind.as_str())
    .bind(&ack.pc)
    .bind(&ack.billed)
    .bind(note)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    super::summaries::changed(conn, customer_id).await
}

/// The columns of a subscribed SKU's counts (`k`: tenant_subscribed_skus).
const SKU_COLUMNS: &str = "k.tenant_id, k.product_name, k.sku_part_number, k.total_units,
    k.active_units, k.warning_units, k.suspended_units, k.consumed_units, k.available_units";

fn sku_counts_of(row: &AnyRow) -> Result<SkuCounts, sqlx::Error> {
    Ok(SkuCounts {
        tenant_id: row.try_get("tenant_id")?,
        product: row.try_get("product_name")?,
        sku_part_number: row.try_get("sku_part_number")?,
        total: row.try_get("total_units")?,
        active: row.try_get("active_units")?,
        warning: row.try_get("warning_units")?,
        suspended: row.try_get("suspended_units")?,
        consumed: row.try_get("consumed_units")?,
        available: row.try_get("available_units")?,
    })
}

/// The licence counts of the customer's linked tenants whose last sync counted them, and the
/// tenants whose counts need delegated consent.
pub async fn sku_counts(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<(Vec<SkuCounts>, Vec<String>), sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {SKU_COLUMNS}
         FROM tenant_subscribed_skus k
         JOIN tenants t ON t.tenant_id = k.tenant_id
         JOIN tenant_snapshots s ON s.tenant_id = k.tenant_id
         WHERE t.customer_id = $1 AND t.unlinked_at IS NULL AND s.licences = 'counted'
         ORDER BY k.product_name, k.tenant_id"
    ))
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    let skus = rows
        .iter()
        .map(sku_counts_of)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let needing_consent: Vec<String> = sqlx::query_scalar(
        "SELECT t.tenant_id FROM tenants t JOIN tenant_snapshots s ON s.tenant_id = t.tenant_id
         WHERE t.customer_id = $1 AND t.unlinked_at IS NULL AND s.licences = 'needs_consent'
         ORDER BY t.tenant_id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    Ok((skus, needing_consent))
}

/// The statement of [`partner_licences`]: built once, as the stream borrows it.
static PARTNER_LICENCES_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let scope = ReportScope::Partner {
        scoped_to_staff: None,
        tag: None,
    };
    format!(
        "SELECT c.id AS customer_id, c.name AS customer_name, {SKU_COLUMNS}
         FROM tenant_subscribed_skus k
         JOIN tenants t ON t.tenant_id = k.tenant_id
         JOIN tenant_snapshots s ON s.tenant_id = k.tenant_id
         JOIN customers c ON c.id = t.customer_id
         WHERE t.unlinked_at IS NULL AND s.licences = 'counted' AND {}
         ORDER BY c.name_key, c.id, k.product_name, k.tenant_id",
        scope.condition("t.customer_id")
    )
});

/// [`partner_licences`] on SQLite, read through rusqlite's row loop on the calling thread (a
/// blocking one): the same statement, from a read-only connection of its own to `file`. `each`
/// gets every line as (customer id, customer name, counts) and returns `false` to stop early.
/// Returns how many lines it was given.
pub fn partner_licences_sqlite(
    file: &std::path::Path,
    scoped_to_staff: Option<i64>,
    tag: Option<(&str, &str)>,
    mut each: impl FnMut(i64, &str, SkuCounts) -> bool,
) -> Result<u64, rusqlite::Error> {
    use rusqlite::{named_params, Connection, OpenFlags};
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mut statement = conn.prepare(PARTNER_LICENCES_SQL.as_str())?;
    let column = |name: &str| statement.column_index(name);
    let at = [
        column("customer_id")?,
        column("customer_name")?,
        column("tenant_id")?,
        column("product_name")?,
        column("sku_part_number")?,
        column("total_units")?,
        column("active_units")?,
        column("warning_units")?,
        column("suspended_units")?,
        column("consumed_units")?,
        column("available_units")?,
    ];
    let (name, value) = tag.unwrap_or(("", ""));
    let mut rows = statement.query(named_params! {
        "$1": scoped_to_staff.unwrap_or(0),
        "$2": name,
        "$3": value,
    })?;
    let mut given = 0u64;
    while let Some(row) = rows.next()? {
        let text = |i: usize| -> Result<&str, rusqlite::Error> {
            row.get_ref(i)?.as_str().map_err(Into::into)
        };
        let counts = SkuCounts {
            tenant_id: text(at[2])?.to_owned(),
            product: text(at[3])?.to_owned(),
            sku_part_number: text(at[4])?.to_owned(),
            total: row.get(at[5])?,
            active: row.get(at[6])?,
            warning: row.get(at[7])?,
            suspended: row.get(at[8])?,
            consumed: row.get(at[9])?,
            available: row.get(at[10])?,
        };
        given += 1;
        if !each(row.get(at[0])?, text(at[1])?, counts) {
            break;
        }
    }
    Ok(given)
}

/// Every counted licence line (a tenant's subscribed SKU) of the customers `scoped_to_staff` may
/// see (all when `None`), of a tag (name key, value) if given, as (customer id, customer name,
/// counts), by customer then product: a stream read from the database cursor, never held whole.
pub fn partner_licences<'c>(
    conn: &'c mut AnyConnection,
    scoped_to_staff: Option<i64>,
    tag: Option<(&str, &str)>,
) -> impl futures_util::Stream<Item = Result<(i64, String, SkuCounts), sqlx::Error>> + 'c {
    use futures_util::StreamExt;
    let scope = ReportScope::Partner {
        scoped_to_staff,
        tag,
    };
    scope
        .bind(sqlx::query(PARTNER_LICENCES_SQL.as_str()))
        .fetch(conn)
        .map(|row| {
            let row = row?;
            Ok((
                row.try_get("customer_id")?,
                row.try_get("customer_name")?,
                sku_counts_of(&row)?,
            ))
        })
}

/// The statement [`partner_licences`] runs (its values: `$1` the staff id or 0, `$2` the tag's
/// name key or '', `$3` its value or ''), for benchmarks against other readers of the same file.
pub fn partner_licences_sql() -> &'static str {
    PARTNER_LICENCES_SQL.as_str()
}

/// Each product's licence counts summed over the customers in scope, by product name:
/// (product, customers, tenants, purchased, active, warning, suspended, assigned, unassigned,
/// tenants over-assigned).
pub async fn product_totals_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<Vec<crate::model::ProductTotals>, sqlx::Error> {
    let sql = format!(
        "SELECT k.product_name,
                COUNT(DISTINCT t.customer_id) AS customers, COUNT(*) AS tenants,
                CAST(SUM(k.total_units) AS BIGINT) AS purchased,
                CAST(SUM(k.active_units) AS BIGINT) AS active,
                CAST(SUM(k.warning_units) AS BIGINT) AS warning,
                CAST(SUM(k.suspended_units) AS BIGINT) AS suspended,
                CAST(SUM(k.consumed_units) AS BIGINT) AS assigned,
                CAST(SUM(k.available_units) AS BIGINT) AS unassigned,
                CAST(SUM(CASE WHEN k.consumed_units > k.total_units THEN 1 ELSE 0 END) AS BIGINT) AS over
         FROM tenant_subscribed_skus k
         JOIN tenants t ON t.tenant_id = k.tenant_id
         JOIN tenant_snapshots s ON s.tenant_id = k.tenant_id
         WHERE t.unlinked_at IS NULL AND s.licences = 'counted' AND {}
         GROUP BY k.product_name
         ORDER BY k.product_name",
        scope.condition("t.customer_id")
    );
    fetch_in(conn, scope, &sql, |row| {
        let (purchased, assigned): (i64, i64) =
            (row.try_get("purchased")?, row.try_get("assigned")?);
        Ok(crate::model::ProductTotals {
            product: row.try_get("product_name")?,
            customers: row.try_get("customers")?,
            tenants: row.try_get("tenants")?,
            purchased,
            active: row.try_get("active")?,
            warning: row.try_get("warning")?,
            suspended: row.try_get("suspended")?,
            assigned,
            unassigned: row.try_get("unassigned")?,
            utilisation_percent: (purchased > 0)
                .then(|| (assigned.max(0) * 200 + purchased) / (purchased * 2)),
            over_assigned_tenants: row.try_get("over")?,
        })
    })
    .await
}
