//! Each customer's License Reconciliation in summary (counts per kind of difference, money at
//! stake), kept so the partner-wide list reads a few indexed rows instead of reconciling every
//! customer at each view.
//!
//! `customers.reconciliation_generation` goes up in the same transaction as every write to what
//! a reconciliation reads: the billed record and acknowledgements ([`super::billed`]), tenant
//! links ([`super::provider`], [`super::customers`]) and tenant snapshots ([`super::sync`]) call
//! [`changed`] or [`tenant_changed`]. A summary is current while its generation is the
//! customer's; [`stale_in`] finds the others.

use super::billed::{fetch_in, ReportScope};
use crate::{
    model::{DifferenceKind, Millis},
    ssr::db::placeholders,
};
use sqlx::{AnyConnection, Row};

/// One customer's reconciliation in summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub customer_id: i64,
    /// The customer has Partner Center subscriptions or billed rows to reconcile.
    pub has_rows: bool,
    /// (kind, acknowledged, how many), in kind order, acknowledged after not.
    pub counts: Vec<(DifferenceKind, bool, i64)>,
    /// Money at stake per currency in ten-thousandths, largest first.
    pub money: Vec<(String, i128)>,
    pub snapshot_at: Option<Millis>,
}

/// A line of the partner-wide list as stored: what the page shows but the counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub customer_id: i64,
    pub customer_name: String,
    pub differences: i64,
    pub money: Vec<(String, i128)>,
    pub snapshot_at: Option<Millis>,
}

/// Which lines the partner-wide list shows.
#[derive(Clone, Copy, Debug)]
pub struct Filter<'a> {
    pub kind: Option<DifferenceKind>,
    pub include_acknowledged: bool,
    pub scope: ReportScope<'a>,
}

impl Filter<'_> {
    /// The condition on acknowledged counts (`n` a reconciliation_summary_counts alias).
    fn acknowledged(&self, n: &str) -> String {
        if self.include_acknowledged {
            String::new()
        } else {
            format!(" AND {n}.acknowledged = 0")
        }
    }

    /// `FROM … WHERE …` of the customers listed: in scope, with a difference (of the kind).
    fn listed(&self) -> String {
        let kind = match self.kind {
            Some(_) => format!(
                " AND EXISTS (SELECT 1 FROM reconciliation_summary_counts k
                   WHERE k.customer_id = s.customer_id AND k.kind = ${}{})",
                self.scope.next_placeholder(),
                self.acknowledged("k")
            ),
            None => String::new(),
        };
        format!(
            "FROM reconciliation_summaries s JOIN customers c ON c.id = s.customer_id
             WHERE c.deleted_at IS NULL AND {scope}
               AND EXISTS (SELECT 1 FROM reconciliation_summary_counts a
                   WHERE a.customer_id = s.customer_id{ack}){kind}",
            scope = self.scope.condition("s.customer_id"),
            ack = self.acknowledged("a"),
        )
    }

    fn bind<'q>(&self, query: super::billed::AnyQuery<'q>) -> super::billed::AnyQuery<'q> {
        let query = self.scope.bind(query);
        match self.kind {
            Some(kind) => query.bind(kind.as_str()),
            None => query,
        }
    }
}

/// Marks the customer's reconciliation changed.
pub async fn changed(conn: &mut AnyConnection, customer_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE customers SET reconciliation_generation = reconciliation_generation + 1
         WHERE id = $1",
    )
    .bind(customer_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks changed the reconciliation of the customer the tenant is linked to.
pub async fn tenant_changed(conn: &mut AnyConnection, tenant_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE customers SET reconciliation_generation = reconciliation_generation + 1
         WHERE id IN (SELECT customer_id FROM tenants WHERE tenant_id = $1 AND unlinked_at IS NULL)",
    )
    .bind(tenant_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The customer's generation now.
pub async fn generation(conn: &mut AnyConnection, customer_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT reconciliation_generation FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_one(conn)
        .await
}

/// (customer id, generation now) of every customer in scope whose summary is missing or stale.
pub async fn stale_in(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT c.id, c.reconciliation_generation AS generation FROM customers c
         LEFT JOIN reconciliation_summaries s ON s.customer_id = c.id
         WHERE c.deleted_at IS NULL AND {}
           AND (s.customer_id IS NULL OR s.generation <> c.reconciliation_generation)",
        scope.condition("c.id")
    );
    fetch_in(conn, scope, &sql, |row| {
        Ok((row.try_get("id")?, row.try_get("generation")?))
    })
    .await
}

fn money_json(money: &[(String, i128)]) -> String {
    let pairs: Vec<(&str, String)> = money
        .iter()
        .map(|(currency, amount)| (currency.as_str(), amount.to_string()))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

fn money_of(json: &str) -> Vec<(String, i128)> {
    serde_json::from_str::<Vec<(String, String)>>(json)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(currency, amount)| Some((currency, amount.parse().ok()?)))
        .collect()
}

/// Stores a customer's summary as of `generation` (read before what it was computed from).
pub async fn save(
    conn: &mut AnyConnection,
    generation: i64,
    summary: &Summary,
    now: Millis,
) -> Result<(), sqlx::Error> {
    let total: i128 = summary.money.iter().map(|(_, amount)| amount).sum();
    let total = i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX });
    sqlx::query(
        "INSERT INTO reconciliation_summaries
             (customer_id, generation, has_rows, money_json, money_total, snapshot_at, computed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (customer_id) DO UPDATE SET generation = $2, has_rows = $3,
             money_json = $4, money_total = $5, snapshot_at = $6, computed_at = $7",
    )
    .bind(summary.customer_id)
    .bind(generation)
    .bind(i64::from(summary.has_rows))
    .bind(money_json(&summary.money))
    .bind(total)
    .bind(summary.snapshot_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM reconciliation_summary_counts WHERE customer_id = $1")
        .bind(summary.customer_id)
        .execute(&mut *conn)
        .await?;
    for (kind, acknowledged, n) in &summary.counts {
        sqlx::query(
            "INSERT INTO reconciliation_summary_counts (customer_id, kind, acknowledged, n)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(summary.customer_id)
        .bind(kind.as_str())
        .bind(i64::from(*acknowledged))
        .bind(*n)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The customer's stored summary and the generation it is of.
pub async fn load(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<(i64, Summary)>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "SELECT generation, has_rows, money_json, snapshot_at FROM reconciliation_summaries
         WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let mut counts: Vec<(DifferenceKind, bool, i64)> = sqlx::query(
        "SELECT kind, acknowledged, n FROM reconciliation_summary_counts WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .filter_map(|r| {
        let kind: String = r.try_get("kind").ok()?;
        let acknowledged: i64 = r.try_get("acknowledged").ok()?;
        Some((
            DifferenceKind::parse(&kind)?,
            acknowledged != 0,
            r.try_get("n").ok()?,
        ))
    })
    .collect();
    counts.sort();
    let money_json: String = row.try_get("money_json")?;
    Ok(Some((
        row.try_get("generation")?,
        Summary {
            customer_id,
            has_rows: row.try_get::<i64, _>("has_rows")? != 0,
            counts,
            money: money_of(&money_json),
            snapshot_at: row.try_get("snapshot_at")?,
        },
    )))
}

/// How many customers in scope have something to reconcile.
pub async fn looked_at(
    conn: &mut AnyConnection,
    scope: ReportScope<'_>,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM reconciliation_summaries s JOIN customers c ON c.id = s.customer_id
         WHERE c.deleted_at IS NULL AND s.has_rows = 1 AND {}",
        scope.condition("s.customer_id")
    );
    let counts: Vec<i64> = fetch_in(conn, scope, &sql, |row| row.try_get("n")).await?;
    Ok(counts.into_iter().next().unwrap_or(0))
}

/// Differences of each kind over the customers in scope (the filter's kind aside).
pub async fn totals(
    conn: &mut AnyConnection,
    filter: Filter<'_>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT n.kind, CAST(SUM(n.n) AS BIGINT) AS n FROM reconciliation_summary_counts n
         JOIN customers c ON c.id = n.customer_id
         WHERE c.deleted_at IS NULL AND {}{} GROUP BY n.kind",
        filter.scope.condition("n.customer_id"),
        filter.acknowledged("n")
    );
    fetch_in(conn, filter.scope, &sql, |row| {
        Ok((row.try_get("kind")?, row.try_get("n")?))
    })
    .await
}

/// How many customers the filter lists.
pub async fn listed(conn: &mut AnyConnection, filter: Filter<'_>) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) AS n {}", filter.listed());
    filter
        .bind(sqlx::query(&sql))
        .fetch_one(conn)
        .await?
        .try_get("n")
}

/// A page of the customers the filter lists: most money at stake first, then most
/// differences, then by name.
pub async fn page(
    conn: &mut AnyConnection,
    filter: Filter<'_>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Line>, sqlx::Error> {
    let sql = format!(
        "SELECT c.id, c.name, s.money_json, s.snapshot_at,
                (SELECT CAST(SUM(d.n) AS BIGINT) FROM reconciliation_summary_counts d
                 WHERE d.customer_id = s.customer_id{ack}) AS differences
         {listed}
         ORDER BY s.money_total DESC, differences DESC, c.name_key, c.id
         LIMIT {limit} OFFSET {offset}",
        ack = filter.acknowledged("d"),
        listed = filter.listed(),
        limit = limit.max(0),
        offset = offset.max(0),
    );
    filter
        .bind(sqlx::query(&sql))
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            let money_json: String = row.try_get("money_json")?;
            Ok(Line {
                customer_id: row.try_get("id")?,
                customer_name: row.try_get("name")?,
                differences: row.try_get("differences")?,
                money: money_of(&money_json),
                snapshot_at: row.try_get("snapshot_at")?,
            })
        })
        .collect()
}

/// The counts per kind of these customers: (customer id, kind, how many).
pub async fn counts_of(
    conn: &mut AnyConnection,
    customer_ids: &[i64],
    include_acknowledged: bool,
) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT customer_id, kind, CAST(SUM(n) AS BIGINT) AS n FROM reconciliation_summary_counts
         WHERE customer_id IN ({}){} GROUP BY customer_id, kind",
        placeholders(1, customer_ids.len()),
        if include_acknowledged {
            ""
        } else {
            " AND acknowledged = 0"
        }
    );
    let mut query = sqlx::query_as(&sql);
    for id in customer_ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}
