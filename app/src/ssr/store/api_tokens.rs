//! API tokens, stored by the SHA-256 of the token only.

use crate::model::{ApiTokenView, Millis, TokenScope};
use sqlx::{AnyConnection, Row};

/// What a new token is.
pub struct NewTokenRow<'a> {
    pub name: &'a str,
    pub token_hash: &'a str,
    pub scope: TokenScope,
    pub created_by: &'a str,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

pub async fn insert(conn: &mut AnyConnection, t: NewTokenRow<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (name, token_hash, scope, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(t.name)
    .bind(t.token_hash)
    .bind(t.scope.as_str())
    .bind(t.created_by)
    .bind(t.created_at)
    .bind(t.expires_at)
    .fetch_one(conn)
    .await
}

/// Whether a token of this name exists (revoked ones included: a name names one token ever).
pub async fn name_taken(conn: &mut AnyConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM api_tokens WHERE LOWER(name) = LOWER($1)")
        .bind(name)
        .fetch_one(conn)
        .await
        .map(|n| n > 0)
}

fn view(row: &sqlx::any::AnyRow) -> Result<ApiTokenView, sqlx::Error> {
    let scope: String = row.try_get("scope")?;
    Ok(ApiTokenView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scope: TokenScope::parse(&scope).map_err(|e| sqlx::Error::Decode(e.into()))?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

const COLUMNS: &str =
    "id, name, scope, created_by, created_at, expires_at, revoked_at, last_used_at";

/// Every token, live ones first, newest first.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<ApiTokenView>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens
         ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, id DESC"
    ))
    .fetch_all(conn)
    .await?;
    rows.iter().map(view).collect()
}

pub async fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<ApiTokenView>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(view).transpose()
}

/// The token with this hash, live or not (the caller says why one is refused).
pub async fn find_by_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<ApiTokenView>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(view).transpose()
}

/// Records a use at `now` (at most once a minute per token).
pub async fn touch(conn: &mut AnyConnection, id: i64, now: Millis) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $2
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(id)
    .bind(now)
    .bind(now - 60_000)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Revokes a live token; false when it is unknown or already revoked.
pub async fn revoke(conn: &mut AnyConnection, id: i64, at: Millis) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}
