use crate::{
    model::{Millis, Tenant},
    ssr::db::Backend,
};
use sqlx::{AnyConnection, Row};

/// Which customers a list query returns.
pub struct CustomerQuery<'a> {
    /// Case-folded search text; empty for all customers.
    pub search_key: &'a str,
    /// Keyset cursor: only customers after this (name key, id) in list order; `None` for the
    /// first page.
    pub after: Option<(&'a str, i64)>,
    /// When set, only customers with a tag matching one of this staff member's tag scopes.
    pub scoped_to_staff: Option<i64>,
    pub limit: i64,
}

/// A value bound to a statement built piece by piece.
enum Param {
    Text(String),
    Int(i64),
}

/// Adds a bound value; returns its placeholder number.
fn next(params: &mut Vec<Param>, p: Param) -> usize {
    params.push(p);
    params.len()
}

/// Search shorter than this matches name prefixes (a trigram index needs three characters).
const SUBSTRING_MIN_CHARS: usize = 3;

/// The upper end of the byte-order range of texts that start with `prefix`.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// A term that can only be (the start of) a tenant id: hex digits with a dash, 9 characters or
/// more. It is not looked for in names.
fn is_tenant_id_prefix(term: &str) -> bool {
    term.len() >= 9 && term.contains('-') && term.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// What a list statement returns.
#[derive(Clone, Copy)]
enum Select {
    /// The page's rows.
    Page,
    /// The matching customers, the cursor ignored, at most this many (counted by the caller).
    UpTo(i64),
}

/// The statement of a page (or of the rows to count), and its values.
fn statement(backend: Backend, q: &CustomerQuery<'_>, select: Select) -> (String, Vec<Param>) {
    let mut params = Vec::new();
    let term = q.search_key;
    let hex_like = term.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let substring = term.chars().count() >= SUBSTRING_MIN_CHARS && !is_tenant_id_prefix(term);
    // A plain substring search starts from the index's matches (a term that could also be a
    // tenant id prefix, such as "cafe", is matched either way below).
    let from_index = substring && !hex_like;
    let source = if from_index {
        let n = next(&mut params, Param::Text(backend.substring_argument(term)));
        backend.substring_source(n)
    } else {
        "customers c".to_owned()
    };
    let columns = match select {
        Select::Page => "c.id, c.name, c.primary_domain",
        Select::UpTo(_) => "c.id",
    };
    let mut sql = format!("SELECT {columns} FROM {source} WHERE c.deleted_at IS NULL");
    if let (Select::Page, Some((name_key, id))) = (select, q.after) {
        let (k, i) = (
            next(&mut params, Param::Text(name_key.to_owned())),
            next(&mut params, Param::Int(id)),
        );
        sql.push_str(&format!(" AND (c.name_key, c.id) > (${k}, ${i})"));
    }
    if !term.is_empty() && !from_index {
        let mut any = Vec::new();
        if is_tenant_id_prefix(term) {
            // Only a tenant id looks like this: not searched in names.
        } else if substring {
            let n = next(&mut params, Param::Text(backend.substring_argument(term)));
            any.push(backend.substring_condition(n));
        } else {
            let (lo, hi) = (
                next(&mut params, Param::Text(term.to_owned())),
                next(&mut params, Param::Text(prefix_end(term))),
            );
            any.push(format!("(c.name_key >= ${lo} AND c.name_key < ${hi})"));
        }
        if hex_like {
            let term = term.to_ascii_lowercase();
            let hi = next(&mut params, Param::Text(prefix_end(&term)));
            let lo = next(&mut params, Param::Text(term));
            let (order, first) = (backend.byte_order(), backend.evaluate_first());
            any.push(format!(
                "c.id IN (SELECT t.customer_id FROM tenants t
                          WHERE t.unlinked_at IS NULL AND t.tenant_id{order} >= ${lo} AND t.tenant_id{order} < ${hi}{first})"
            ));
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    if let Some(staff_id) = q.scoped_to_staff {
        let n = next(&mut params, Param::Int(staff_id));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM customer_tags ct
                 JOIN staff_tag_scopes s ON s.tag_name_key = ct.name_key AND s.tag_value = ct.value
                 WHERE ct.customer_id = c.id AND s.staff_id = ${n})"
        ));
    }
    match select {
        Select::Page => {
            let n = next(&mut params, Param::Int(q.limit));
            sql.push_str(&format!(" ORDER BY c.name_key, c.id LIMIT ${n}"));
        }
        Select::UpTo(cap) => {
            let n = next(&mut params, Param::Int(cap));
            sql = format!("SELECT COUNT(*) AS n FROM ({sql} LIMIT ${n}) counted");
        }
    }
    (sql, params)
}

fn bind_all<'q>(
    sql: &'q str,
    params: Vec<Param>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for p in params {
        query = match p {
            Param::Text(t) => query.bind(t),
            Param::Int(i) => query.bind(i),
        };
    }
    query
}

/// How many customers match `q` (its cursor ignored), counting no further than `cap`: the
/// list's "of 1,204" costs at most `cap` index entries, however broad the search.
pub async fn count_up_to(
    conn: &mut AnyConnection,
    backend: Backend,
    q: &CustomerQuery<'_>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let (sql, params) = statement(backend, q, Select::UpTo(cap));
    bind_all(&sql, params).fetch_one(conn).await?.try_get("n")
}

/// (id, name, primary domain) of one page of customers, in (name key, id) order. Every part
/// seeks an index: the page the (name key, id) index from the cursor on (a row-value
/// comparison), search the substring index of the backend (or the name prefix, for one or two
/// characters) and tenant ids exactly or by prefix.
pub async fn page(
    conn: &mut AnyConnection,
    backend: Backend,
    q: &CustomerQuery<'_>,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let (sql, params) = statement(backend, q, Select::Page);
    bind_all(&sql, params)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                row.try_get("name")?,
                row.try_get("primary_domain")?,
            ))
        })
        .collect()
}

/// The list position (name key, id) of a customer, deleted or not: the cursor of the page
/// after it.
pub async fn cursor(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT name_key, id FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(conn)
        .await
}

/// Whether the customer exists (and is not deleted) and, for a scoped staff member, has a tag
/// matching one of their scopes. (exists, visible)
pub async fn visibility(
    conn: &mut AnyConnection,
    customer_id: i64,
    scoped_to_staff: Option<i64>,
) -> Result<(bool, bool), sqlx::Error> {
    Ok(
        match find_with_visibility(conn, customer_id, scoped_to_staff).await? {
            None => (false, false),
            Some((_, visible)) => (true, visible),
        },
    )
}

/// What [`find`] reads, and whether the Help Desk user `scoped_to_staff` may see the customer
/// (`None`: a role that sees every customer), in one query: [`visibility`] then [`find`].
pub async fn find_with_visibility(
    conn: &mut AnyConnection,
    customer_id: i64,
    scoped_to_staff: Option<i64>,
) -> Result<Option<((i64, String, String, Millis), bool)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT c.id, c.name, c.primary_domain, c.updated_at,
                CAST(CASE WHEN $2 = 0 OR EXISTS (
                    SELECT 1 FROM customer_tags ct
                    JOIN staff_tag_scopes s ON s.tag_name_key = ct.name_key AND s.tag_value = ct.value
                    WHERE ct.customer_id = c.id AND s.staff_id = $2) THEN 1 ELSE 0 END AS BIGINT) AS visible
         FROM customers c WHERE c.id = $1 AND c.deleted_at IS NULL",
    )
    .bind(customer_id)
    .bind(scoped_to_staff.unwrap_or(0))
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok((
            (
                row.try_get("id")?,
                row.try_get("name")?,
                row.try_get("primary_domain")?,
                row.try_get("updated_at")?,
            ),
            row.try_get::<i64, _>("visible")? == 1,
        ))
    })
    .transpose()
}

/// (id, name, primary domain, updated at) of a customer that is not deleted.
pub async fn find(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<(i64, String, String, Millis)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, primary_domain, updated_at FROM customers
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await
}

pub async fn find_by_domain(
    conn: &mut AnyConnection,
    primary_domain: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM customers WHERE primary_domain = $1 AND deleted_at IS NULL")
        .bind(super::fold(primary_domain.trim()))
        .fetch_optional(conn)
        .await
}

pub async fn insert(
    conn: &mut AnyConnection,
    name: &str,
    primary_domain: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    let (name_key, domain) = (super::fold(name), super::fold(primary_domain.trim()));
    sqlx::query_scalar(
        "INSERT INTO customers
            (name, name_key, primary_domain, search_key, match_key, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(name)
    .bind(&name_key)
    .bind(&domain)
    .bind(format!("{name_key} {domain}"))
    .bind(crate::ssr::matching::normalise_name(name))
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Marks the customer changed (any of its settings).
pub async fn touch(
    conn: &mut AnyConnection,
    customer_id: i64,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET updated_at = $2 WHERE id = $1")
        .bind(customer_id)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn tenants(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<Tenant>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT tenant_id, name, domain FROM tenants
         WHERE customer_id = $1 AND unlinked_at IS NULL ORDER BY name, tenant_id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Tenant {
                tenant_id: row.try_get("tenant_id")?,
                name: row.try_get("name")?,
                domain: row.try_get("domain")?,
            })
        })
        .collect()
}

/// Links a Partner Center tenant to a customer; the tenant id is stored lower-case.
pub async fn insert_tenant(
    conn: &mut AnyConnection,
    customer_id: i64,
    tenant_id: &str,
    name: &str,
    domain: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenants (customer_id, tenant_id, name, domain, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(customer_id)
    .bind(tenant_id.to_ascii_lowercase())
    .bind(name)
    .bind(domain)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    super::summaries::changed(conn, customer_id).await
}

/// Fills the match key (the name as the matcher compares it) of customers that have none:
/// those created before the column existed. Computed in Rust, so not by a migration.
pub async fn fill_match_keys(conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM customers WHERE match_key IS NULL")
            .fetch_all(&mut *conn)
            .await?;
    for (id, name) in &rows {
        sqlx::query("UPDATE customers SET match_key = $2 WHERE id = $1")
            .bind(id)
            .bind(crate::ssr::matching::normalise_name(name))
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// A deleted customer, as the deleted customers page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedRow {
    pub id: i64,
    pub name: String,
    pub primary_domain: String,
    pub deleted_at: Millis,
    pub deleted_by: String,
}

/// Marks the customer deleted; `false` when it is not there or deleted already.
pub async fn mark_deleted(
    conn: &mut AnyConnection,
    customer_id: i64,
    by: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE customers SET deleted_at = $2, deleted_by = $3, updated_at = $2
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(customer_id)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The deleted customers, the most recently deleted first.
pub async fn deleted(conn: &mut AnyConnection) -> Result<Vec<DeletedRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, primary_domain, deleted_at, deleted_by FROM customers
         WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(deleted_row).collect()
}

fn deleted_row(row: &sqlx::any::AnyRow) -> Result<DeletedRow, sqlx::Error> {
    Ok(DeletedRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        primary_domain: row.try_get("primary_domain")?,
        deleted_at: row.try_get("deleted_at")?,
        deleted_by: row
            .try_get::<Option<String>, _>("deleted_by")?
            .unwrap_or_default(),
    })
}

/// A deleted customer.
pub async fn find_deleted(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<DeletedRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, name, primary_domain, deleted_at, deleted_by FROM customers
         WHERE id = $1 AND deleted_at IS NOT NULL",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(deleted_row).transpose()
}

/// Brings a deleted customer back; `false` when it is not deleted (or not there).
pub async fn restore(
    conn: &mut AnyConnection,
    customer_id: i64,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE customers SET deleted_at = NULL, deleted_by = NULL, updated_at = $2
         WHERE id = $1 AND deleted_at IS NOT NULL",
    )
    .bind(customer_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The deleted customers whose deletion is at or before `cutoff`: (id, name).
pub async fn purge_due(
    conn: &mut AnyConnection,
    cutoff: Millis,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name FROM customers WHERE deleted_at IS NOT NULL AND deleted_at <= $1
         ORDER BY deleted_at, id",
    )
    .bind(cutoff)
    .fetch_all(conn)
    .await
}

/// Removes a customer deleted at or before `cutoff` for good, and every row that belongs to it
/// (ON DELETE CASCADE); `false` when it is not such a customer (restored meanwhile).
pub async fn purge(
    conn: &mut AnyConnection,
    customer_id: i64,
    cutoff: Millis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM customers WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_at <= $2",
    )
    .bind(customer_id)
    .bind(cutoff)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many rows of each kind belong to the customer: (tenant links, billed rows, tags,
/// account managers, setting overrides, billing links).
pub async fn belongings(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<(i64, i64, i64, i64, i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT
            (SELECT COUNT(*) FROM tenants WHERE customer_id = $1 AND unlinked_at IS NULL),
            (SELECT COUNT(*) FROM billed_subscriptions WHERE customer_id = $1 AND status <> 'ended'),
            (SELECT COUNT(*) FROM customer_tags WHERE customer_id = $1),
            (SELECT COUNT(*) FROM customer_account_managers WHERE customer_id = $1),
            (SELECT COUNT(*) FROM setting_overrides WHERE customer_id = $1 AND value IS NOT NULL),
            (SELECT COUNT(*) FROM customer_billing_links WHERE customer_id = $1)",
    )
    .bind(customer_id)
    .fetch_one(conn)
    .await
}

/// Unlinks every tenant of a deleted customer and records which and when (for a restore);
/// returns the tenant ids released.
pub async fn release_tenants(
    conn: &mut AnyConnection,
    customer_id: i64,
    now: Millis,
) -> Result<Vec<String>, sqlx::Error> {
    let released: Vec<String> = sqlx::query_scalar(
        "SELECT tenant_id FROM tenants WHERE customer_id = $1 AND unlinked_at IS NULL
         ORDER BY tenant_id",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE tenants SET unlinked_at = $2 WHERE customer_id = $1 AND unlinked_at IS NULL",
    )
    .bind(customer_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let mut all = released_tenants(conn, customer_id)
        .await?
        .map(|(_, ids)| ids)
        .unwrap_or_default();
    all.extend(released.iter().cloned());
    sqlx::query(
        "UPDATE customers SET tenants_released_at = $2, released_tenants = $3
         WHERE id = $1 AND deleted_at IS NOT NULL",
    )
    .bind(customer_id)
    .bind(now)
    .bind(serde_json::to_string(&all).unwrap_or_else(|_| "[]".into()))
    .execute(&mut *conn)
    .await?;
    super::summaries::changed(conn, customer_id).await?;
    Ok(released)
}

/// When a deleted customer's tenants were released, and which.
pub async fn released_tenants(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<(Millis, Vec<String>)>, sqlx::Error> {
    let row: Option<(Option<Millis>, Option<String>)> =
        sqlx::query_as("SELECT tenants_released_at, released_tenants FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(conn)
            .await?;
    Ok(match row {
        Some((Some(at), ids)) => Some((
            at,
            ids.and_then(|ids| serde_json::from_str(&ids).ok())
                .unwrap_or_default(),
        )),
        _ => None,
    })
}

/// Links a released tenant back to its customer if nobody else took it: `false` when the
/// tenant's link row now belongs to another customer (or is linked again).
pub async fn relink_released(
    conn: &mut AnyConnection,
    customer_id: i64,
    tenant_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE tenants SET unlinked_at = NULL
         WHERE customer_id = $1 AND tenant_id = $2 AND unlinked_at IS NOT NULL",
    )
    .bind(customer_id)
    .bind(tenant_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        super::summaries::changed(conn, customer_id).await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Forgets the released tenants (after a restore).
pub async fn clear_released(conn: &mut AnyConnection, customer_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE customers SET tenants_released_at = NULL, released_tenants = NULL WHERE id = $1",
    )
    .bind(customer_id)
    .execute(conn)
    .await
    .map(|_| ())
}
