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
        "INSERT INTO sessions (id_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id_hash)
    .bind(staff_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The staff member of a live session; none when the session is unknown, expired, or its staff
/// member disabled.
pub async fn find_staff(
    conn: &mut AnyConnection,
    id_hash: &str,
    now: Millis,
) -> Result<Option<StaffView>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.id, s.email, s.display_name, s.role
         FROM sessions x JOIN staff s ON s.id = x.staff_id
         WHERE x.id_hash = $1 AND x.expires_at > $2 AND s.disabled_at IS NULL",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(staff_from_row).transpose()
}

pub async fn delete(conn: &mut AnyConnection, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn delete_expired(conn: &mut AnyConnection, now: Millis) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
