//! The provider directory: the partner's customer tenants as Partner Center last listed them.

use crate::model::Millis;
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

pub async fn insert(conn: &mut AnyConnection, row: &DirectoryRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provider_directory
            (tenant_id, company_name, domain, relationship, first_seen_at, last_seen_at, gone_since)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(&row.tenant_id)
    .bind(&row.company_name)
    .bind(&row.domain)
    .bind(&row.relationship)
    .bind(row.first_seen_at)
    .bind(row.last_seen_at)
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
    sqlx::query(
        "UPDATE provider_directory
         SET company_name = $2, domain = $3, relationship = $4, last_seen_at = $5, gone_since = NULL
         WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .bind(company_name)
    .bind(domain)
    .bind(relationship)
    .bind(now)
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
