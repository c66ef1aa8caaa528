use crate::model::{Millis, Tenant};
use sqlx::{AnyConnection, Row};

/// Which customers a list query returns.
pub struct CustomerQuery<'a> {
    /// Case-folded search text; empty for all customers.
    pub search_key: &'a str,
    /// Keyset cursor: only customers after this one in (name_key, id) order; 0 for the first page.
    pub after: i64,
    /// When set, only customers with a tag matching one of this staff member's tag scopes.
    pub scoped_to_staff: Option<i64>,
    pub limit: i64,
}

/// (id, name, primary domain) of one page of customers, in name order.
pub async fn page(
    conn: &mut AnyConnection,
    q: &CustomerQuery<'_>,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    // Every filter is always present and switched off by a neutral value, so the statement is
    // one fixed text whatever the input.
    sqlx::query_as(
        "SELECT c.id, c.name, c.primary_domain FROM customers c
         WHERE c.deleted_at IS NULL
           AND ($1 = '' OR c.name_key LIKE $2 ESCAPE '\\' OR c.primary_domain LIKE $2 ESCAPE '\\'
                OR EXISTS (SELECT 1 FROM tenants t
                           WHERE t.customer_id = c.id AND t.tenant_id LIKE $2 ESCAPE '\\'))
           AND ($3 = 0
                OR c.name_key > (SELECT p.name_key FROM customers p WHERE p.id = $3)
                OR (c.name_key = (SELECT p.name_key FROM customers p WHERE p.id = $3) AND c.id > $3))
           AND ($4 = 0 OR EXISTS (
                SELECT 1 FROM customer_tags ct
                JOIN staff_tag_scopes s ON s.tag_name_key = ct.name_key AND s.tag_value = ct.value
                WHERE ct.customer_id = c.id AND s.staff_id = $4))
         ORDER BY c.name_key, c.id
         LIMIT $5",
    )
    .bind(q.search_key)
    .bind(crate::ssr::db::like_contains(q.search_key))
    .bind(q.after)
    .bind(q.scoped_to_staff.unwrap_or(0))
    .bind(q.limit)
    .fetch_all(conn)
    .await
}

/// Whether the customer exists (and is not deleted) and, for a scoped staff member, has a tag
/// matching one of their scopes. (exists, visible)
pub async fn visibility(
    conn: &mut AnyConnection,
    customer_id: i64,
    scoped_to_staff: Option<i64>,
) -> Result<(bool, bool), sqlx::Error> {
    let row = sqlx::query(
        "SELECT c.id,
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
    Ok(match row {
        None => (false, false),
        Some(row) => (true, row.try_get::<i64, _>("visible")? == 1),
    })
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
        .bind(primary_domain)
        .fetch_optional(conn)
        .await
}

pub async fn insert(
    conn: &mut AnyConnection,
    name: &str,
    primary_domain: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO customers (name, name_key, primary_domain, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(name)
    .bind(super::fold(name))
    .bind(primary_domain)
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
        "SELECT tenant_id, name, domain FROM tenants WHERE customer_id = $1 ORDER BY name, tenant_id",
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
    .execute(conn)
    .await
    .map(|_| ())
}
