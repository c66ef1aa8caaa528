//! The provider directory: the partner's customer tenants as Partner Center last listed them.

use crate::{
    model::{LinkFilter, Millis},
    ssr::db::{like_contains, placeholders},
};
use sqlx::{AnyConnection, Row};

/// A directory row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRow {
    pub tenant_id: String,
    pub company_name: String,
    pub domain: String,
    pub relationship: String,
    pub first_seen_at: Millis,
    pub last_seen_at: Millis,
    pub gone_since: Option<Millis>,
}

/// Every directory row, gone ones included.
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<DirectoryRow>, sqlx::Error> {
    sqlx::query(
        "SELECT tenant_id, company_name, domain, relationship, first_seen_at, last_seen_at, gone_since
         FROM provider_directory ORDER BY tenant_id",
    )
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| {
        Ok(DirectoryRow {
            tenant_id: row.try_get("tenant_id")?,
            company_name: row.try_get("company_name")?,
            domain: row.try_get("domain")?,
            relationship: row.try_get("relationship")?,
            first_seen_at: row.try_get("first_seen_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            gone_since: row.try_get("gone_since")?,
        })
    })
    .collect()
}

/// The directory's order and search text for a tenant: (name key, search key).
fn keys(tenant_id: &str, company_name: &str, domain: &str) -> (String, String) {
    let name_key = super::fold(company_name);
    let search_key = format!("{name_key} {} {tenant_id}", super::fold(domain));
    (name_key, search_key)
}

pub async fn insert(conn: &mut AnyConnection, row: &DirectoryRow) -> Result<(), sqlx::Error> {
    let (name_key, search_key) = keys(&row.tenant_id, &row.company_name, &row.domain);
    sqlx::query(
        "INSERT INTO provider_directory
            (tenant_id, company_name, domain, relationship, first_seen_at, last_seen_at, gone_since,
             name_key, search_key)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
    )
    .bind(&row.tenant_id)
    .bind(&row.company_name)
    .bind(&row.domain)
    .bind(&row.relationship)
    .bind(row.first_seen_at)
    .bind(row.last_seen_at)
    .bind(name_key)
    .bind(search_key)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A tenant listed again: its current name, domain and relationship, seen now, not gone.
pub async fn seen(
    conn: &mut AnyConnection,
    tenant_id: &str,
    company_name: &str,
    domain: &str,
    relationship: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    let (name_key, search_key) = keys(tenant_id, company_name, domain);
    sqlx::query(
        "UPDATE provider_directory
         SET company_name = $2, domain = $3, relationship = $4, last_seen_at = $5, gone_since = NULL,
             name_key = $6, search_key = $7
         WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .bind(company_name)
    .bind(domain)
    .bind(relationship)
    .bind(now)
    .bind(name_key)
    .bind(search_key)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A tenant Partner Center no longer lists: marked gone, kept.
pub async fn mark_gone(
    conn: &mut AnyConnection,
    tenant_id: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE provider_directory SET gone_since = $2 WHERE tenant_id = $1 AND gone_since IS NULL",
    )
    .bind(tenant_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What one completed refresh found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshCounts {
    /// Tenants Partner Center listed.
    pub listed: i64,
    /// Listed for the first time.
    pub added: i64,
    /// No longer listed (marked gone).
    pub gone: i64,
    /// Listed with another company name or domain than before.
    pub renamed: i64,
    /// Listed again after having been gone.
    pub returned: i64,
}

pub async fn record_refresh(
    conn: &mut AnyConnection,
    taken_at: Millis,
    counts: RefreshCounts,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provider_directory_refreshes (taken_at, listed, added, gone, renamed, returned)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(taken_at)
    .bind(counts.listed)
    .bind(counts.added)
    .bind(counts.gone)
    .bind(counts.renamed)
    .bind(counts.returned)
    .execute(conn)
    .await
    .map(|_| ())
}

/// When the directory was last taken, if ever.
pub async fn last_refresh(conn: &mut AnyConnection) -> Result<Option<Millis>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(taken_at) FROM provider_directory_refreshes")
        .fetch_one(conn)
        .await
}

/// Which rows a directory page asks for.
pub struct DirectoryQuery<'a> {
    /// Folded search text; empty for every row.
    pub search_key: &'a str,
    pub filter: LinkFilter,
    /// The (name key, tenant id) the page starts after.
    pub after: Option<(&'a str, &'a str)>,
    pub limit: i64,
}

/// A directory row with the customer it is linked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryLine {
    pub row: DirectoryRow,
    pub linked_to: Option<(i64, String)>,
}

/// The FROM and WHERE of a directory query, and its text parameters in order.
fn directory_where(q: &DirectoryQuery<'_>, with_cursor: bool) -> (String, Vec<String>) {
    let mut params: Vec<String> = Vec::new();
    let mut sql = String::from(
        " FROM provider_directory d
          LEFT JOIN tenants t ON t.tenant_id = d.tenant_id AND t.unlinked_at IS NULL
          LEFT JOIN customers c ON c.id = t.customer_id
          WHERE 1 = 1",
    );
    sql.push_str(match q.filter {
        LinkFilter::Unlinked => " AND t.tenant_id IS NULL AND d.gone_since IS NULL",
        LinkFilter::Linked => " AND t.tenant_id IS NOT NULL",
        LinkFilter::Gone => " AND d.gone_since IS NOT NULL",
        LinkFilter::All => "",
    });
    if !q.search_key.is_empty() {
        params.push(like_contains(q.search_key));
        sql.push_str(&format!(
            " AND d.search_key LIKE ${} ESCAPE '\\'",
            params.len()
        ));
    }
    if let (true, Some((name_key, tenant_id))) = (with_cursor, q.after) {
        params.push(name_key.to_owned());
        params.push(tenant_id.to_owned());
        let (a, b) = (params.len() - 1, params.len());
        sql.push_str(&format!(
            " AND (d.name_key > ${a} OR (d.name_key = ${a} AND d.tenant_id > ${b}))"
        ));
    }
    (sql, params)
}

/// One page of the directory in name order.
pub async fn page(
    conn: &mut AnyConnection,
    q: &DirectoryQuery<'_>,
) -> Result<Vec<DirectoryLine>, sqlx::Error> {
    let (from, params) = directory_where(q, true);
    let sql = format!(
        "SELECT d.tenant_id, d.company_name, d.domain, d.relationship, d.first_seen_at,
                d.last_seen_at, d.gone_since, c.id AS customer_id,
                CASE WHEN c.deleted_at IS NULL THEN c.name ELSE c.name || ' (deleted)' END
                    AS customer_name
         {from} ORDER BY d.name_key, d.tenant_id LIMIT ${}",
        params.len() + 1
    );
    let mut query = sqlx::query(&sql);
    for p in params {
        query = query.bind(p);
    }
    query
        .bind(q.limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            let customer_id: Option<i64> = row.try_get("customer_id")?;
            let customer_name: Option<String> = row.try_get("customer_name")?;
            Ok(DirectoryLine {
                row: DirectoryRow {
                    tenant_id: row.try_get("tenant_id")?,
                    company_name: row.try_get("company_name")?,
                    domain: row.try_get("domain")?,
                    relationship: row.try_get("relationship")?,
                    first_seen_at: row.try_get("first_seen_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                    gone_since: row.try_get("gone_since")?,
                },
                linked_to: customer_id.zip(customer_name),
            })
        })
        .collect()
}

/// How many rows match the search and filter (all pages).
pub async fn count(conn: &mut AnyConnection, q: &DirectoryQuery<'_>) -> Result<i64, sqlx::Error> {
    let (from, params) = directory_where(q, false);
    let sql = format!("SELECT COUNT(*){from}");
    let mut query = sqlx::query_scalar(&sql);
    for p in params {
        query = query.bind(p);
    }
    query.fetch_one(conn).await
}

/// The tenant ids of every row matching the search and filter, in page order (for "all N
/// matching").
pub async fn matching_ids(
    conn: &mut AnyConnection,
    q: &DirectoryQuery<'_>,
) -> Result<Vec<String>, sqlx::Error> {
    let (from, params) = directory_where(q, false);
    let sql = format!("SELECT d.tenant_id{from} ORDER BY d.name_key, d.tenant_id");
    let mut query = sqlx::query_scalar(&sql);
    for p in params {
        query = query.bind(p);
    }
    query.fetch_all(conn).await
}

/// Where a page that starts after `tenant_id` begins: (name key, tenant id).
pub async fn cursor(
    conn: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT name_key, tenant_id FROM provider_directory WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(conn)
        .await
}

/// Directory rows by tenant id (any state).
pub async fn find_many(
    conn: &mut AnyConnection,
    tenant_ids: &[String],
) -> Result<Vec<DirectoryRow>, sqlx::Error> {
    let mut rows = Vec::with_capacity(tenant_ids.len());
    for chunk in tenant_ids.chunks(500) {
        let sql = format!(
            "SELECT tenant_id, company_name, domain, relationship, first_seen_at, last_seen_at,
                    gone_since
             FROM provider_directory WHERE tenant_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            rows.push(DirectoryRow {
                tenant_id: row.try_get("tenant_id")?,
                company_name: row.try_get("company_name")?,
                domain: row.try_get("domain")?,
                relationship: row.try_get("relationship")?,
                first_seen_at: row.try_get("first_seen_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                gone_since: row.try_get("gone_since")?,
            });
        }
    }
    Ok(rows)
}

/// Links a tenant to a customer: a new link row, or the tenant's earlier (ended) link row
/// taken up again. `false` when the tenant is linked already (to this customer or another);
/// one statement, so two concurrent links of a tenant make one link.
pub async fn link(
    conn: &mut AnyConnection,
    customer_id: i64,
    tenant_id: &str,
    name: &str,
    domain: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO tenants (customer_id, tenant_id, name, domain, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id) DO UPDATE
         SET customer_id = excluded.customer_id, name = excluded.name, domain = excluded.domain,
             created_at = excluded.created_at, unlinked_at = NULL
         WHERE tenants.unlinked_at IS NOT NULL",
    )
    .bind(customer_id)
    .bind(tenant_id)
    .bind(name)
    .bind(domain)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    super::summaries::changed(conn, customer_id).await?;
    Ok(done.rows_affected() == 1)
}

/// The customer a tenant is linked to now: (id, name).
pub async fn holder(
    conn: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id,
                CASE WHEN c.deleted_at IS NULL THEN c.name ELSE c.name || ' (deleted)' END
         FROM tenants t JOIN customers c ON c.id = t.customer_id
         WHERE t.tenant_id = $1 AND t.unlinked_at IS NULL",
    )
    .bind(tenant_id)
    .fetch_optional(conn)
    .await
}

/// The customers these tenants are linked to now: tenant id to (customer id, name).
pub async fn holders(
    conn: &mut AnyConnection,
    tenant_ids: &[String],
) -> Result<std::collections::HashMap<String, (i64, String)>, sqlx::Error> {
    let mut out = std::collections::HashMap::new();
    for chunk in tenant_ids.chunks(500) {
        let sql = format!(
            "SELECT t.tenant_id, c.id, c.name FROM tenants t JOIN customers c ON c.id = t.customer_id
             WHERE t.unlinked_at IS NULL AND t.tenant_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64, String)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for (tenant_id, id, name) in query.fetch_all(&mut *conn).await? {
            out.insert(tenant_id, (id, name));
        }
    }
    Ok(out)
}

/// Ends a tenant's link to a customer; `false` when it was not linked to it.
pub async fn unlink(
    conn: &mut AnyConnection,
    customer_id: i64,
    tenant_id: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE tenants SET unlinked_at = $3
         WHERE customer_id = $1 AND tenant_id = $2 AND unlinked_at IS NULL",
    )
    .bind(customer_id)
    .bind(tenant_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    super::summaries::changed(conn, customer_id).await?;
    Ok(done.rows_affected() == 1)
}

/// A portal customer as the matcher needs it, with the tenant ids recorded for it (linked
/// now or before).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchCandidate {
    pub id: i64,
    pub name: String,
    pub primary_domain: String,
    pub tenant_ids: Vec<String>,
}

/// Every customer that any rule of the matcher could suggest for these tenants: those that
/// recorded one of the tenant ids, have one of the domains as primary domain, or one of the
/// match keys. Index look-ups, however many customers there are.
pub async fn match_candidates(
    conn: &mut AnyConnection,
    tenant_ids: &[String],
    domains: &[String],
    match_keys: &[String],
) -> Result<Vec<MatchCandidate>, sqlx::Error> {
    let mut ids: Vec<i64> = Vec::new();
    for (column, values) in [
        (
            "SELECT customer_id FROM tenants WHERE tenant_id",
            tenant_ids,
        ),
        (
            "SELECT id FROM customers WHERE deleted_at IS NULL AND primary_domain",
            domains,
        ),
        (
            "SELECT id FROM customers WHERE deleted_at IS NULL AND match_key",
            match_keys,
        ),
    ] {
        for chunk in values.chunks(500) {
            let sql = format!("{column} IN ({})", placeholders(1, chunk.len()));
            let mut query = sqlx::query_scalar::<_, i64>(&sql);
            for v in chunk {
                query = query.bind(v);
            }
            ids.extend(query.fetch_all(&mut *conn).await?);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    customers_with_tenants(conn, &ids).await
}

/// Every customer not deleted, as the matcher needs it (for suggestions over many tenants).
pub async fn all_candidates(conn: &mut AnyConnection) -> Result<Vec<MatchCandidate>, sqlx::Error> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, name, primary_domain FROM customers WHERE deleted_at IS NULL ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let links: Vec<(i64, String)> = sqlx::query_as(
        "SELECT t.customer_id, t.tenant_id FROM tenants t
         JOIN customers c ON c.id = t.customer_id WHERE c.deleted_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_customer: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for (customer_id, tenant_id) in links {
        by_customer.entry(customer_id).or_default().push(tenant_id);
    }
    Ok(rows
        .into_iter()
        .map(|(id, name, primary_domain)| MatchCandidate {
            tenant_ids: by_customer.remove(&id).unwrap_or_default(),
            id,
            name,
            primary_domain,
        })
        .collect())
}

async fn customers_with_tenants(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<Vec<MatchCandidate>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let list = placeholders(1, chunk.len());
        let sql = format!(
            "SELECT id, name, primary_domain FROM customers
             WHERE deleted_at IS NULL AND id IN ({list}) ORDER BY id"
        );
        let mut query = sqlx::query_as::<_, (i64, String, String)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        let customers = query.fetch_all(&mut *conn).await?;
        let sql =
            format!("SELECT customer_id, tenant_id FROM tenants WHERE customer_id IN ({list})");
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        let mut by_customer: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for (customer_id, tenant_id) in query.fetch_all(&mut *conn).await? {
            by_customer.entry(customer_id).or_default().push(tenant_id);
        }
        out.extend(
            customers
                .into_iter()
                .map(|(id, name, primary_domain)| MatchCandidate {
                    tenant_ids: by_customer.remove(&id).unwrap_or_default(),
                    id,
                    name,
                    primary_domain,
                }),
        );
    }
    Ok(out)
}
