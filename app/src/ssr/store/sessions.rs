use super::staff::staff_from_row;
use crate::model::{Millis, StaffView};
use sqlx::AnyConnection;

pub async fn insert(
    conn: &mut AnyConnection,
    id_hash: &str,
    staff_id: i64,
    now: Millis,
    expires_at: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, staff_id, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $3)",
    )
    .bind(id_hash)
    .bind(staff_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The staff member of a live session and when the session was last used; none when the
/// session is unknown, past its absolute expiry, idle since before `idle_since`, or its staff
/// member disabled.
pub async fn find_staff(
    conn: &mut AnyConnection,
    id_hash: &str,
    now: Millis,
    idle_since: Millis,
) -> Result<Option<(StaffView, Millis)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.id, s.email, s.display_name, s.role, x.last_seen_at
         FROM sessions x JOIN staff s ON s.id = x.staff_id
         WHERE x.id_hash = $1 AND x.expires_at > $2 AND x.last_seen_at > $3
           AND s.disabled_at IS NULL",
    )
    .bind(id_hash)
    .bind(now)
    .bind(idle_since)
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|row| {
            use sqlx::Row;
            Ok((staff_from_row(row)?, row.try_get("last_seen_at")?))
        })
        .transpose()
}

/// Records that a session was used at `now`.
pub async fn touch(
    conn: &mut AnyConnection,
    id_hash: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2")
        .bind(id_hash)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Ends every session of a staff member (when they are disabled).
pub async fn delete_for_staff(conn: &mut AnyConnection, staff_id: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
        .bind(staff_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

pub async fn delete(conn: &mut AnyConnection, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes the sessions past their absolute expiry or idle since before `idle_since`.
pub async fn delete_expired(
    conn: &mut AnyConnection,
    now: Millis,
    idle_since: Millis,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(idle_since)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
