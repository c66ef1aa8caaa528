use super::staff::staff_from_row;
use crate::model::{Millis, StaffView};
use sqlx::AnyConnection;

/// Where a session was started from, as the member will recognise it.
#[derive(Default)]
pub struct Origin<'a> {
    pub user_agent: Option<&'a str>,
    pub address: Option<&'a str>,
}

pub async fn insert(
    conn: &mut AnyConnection,
    id_hash: &str,
    staff_id: i64,
    now: Millis,
    expires_at: Millis,
    origin: Origin<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions
            (id_hash, staff_id, created_at, expires_at, last_seen_at, user_agent, address)
         VALUES ($1, $2, $3, $4, $3, $5, $6)",
    )
    .bind(id_hash)
    .bind(staff_id)
    .bind(now)
    .bind(expires_at)
    .bind(origin.user_agent)
    .bind(origin.address)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A live session's staff member, when the session was last used, and whether the member must
/// change their password before anything else.
pub struct LiveSession {
    pub staff: StaffView,
    pub last_seen_at: Millis,
    pub password_change_required: bool,
}

/// The staff member of a live session; none when the session is unknown, past its absolute
/// expiry, idle since before `idle_since`, or its staff member disabled.
pub async fn find_staff(
    conn: &mut AnyConnection,
    id_hash: &str,
    now: Millis,
    idle_since: Millis,
) -> Result<Option<LiveSession>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.id, s.email, s.display_name, s.role, s.password_change_required, x.last_seen_at
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
            Ok(LiveSession {
                staff: staff_from_row(row)?,
                last_seen_at: row.try_get("last_seen_at")?,
                password_change_required: row.try_get::<i64, _>("password_change_required")? != 0,
            })
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

/// The live sessions of a staff member (or of everyone, with `None`), most recently used
/// first: (staff id, session).
pub async fn live(
    conn: &mut AnyConnection,
    staff_id: Option<i64>,
    now: Millis,
    idle_since: Millis,
) -> Result<Vec<(i64, crate::model::SessionView)>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT staff_id, id_hash, created_at, last_seen_at, user_agent, address FROM sessions
         WHERE expires_at > $1 AND last_seen_at > $2 AND ($3 IS NULL OR staff_id = $3)
         ORDER BY last_seen_at DESC, id_hash",
    )
    .bind(now)
    .bind(idle_since)
    .bind(staff_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("staff_id")?,
                crate::model::SessionView {
                    handle: row.try_get("id_hash")?,
                    created_at: row.try_get("created_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                    user_agent: row.try_get("user_agent")?,
                    address: row.try_get("address")?,
                    current: false,
                },
            ))
        })
        .collect()
}

/// Ends one session of a staff member; false when they have no such session.
pub async fn delete_one(
    conn: &mut AnyConnection,
    staff_id: i64,
    id_hash: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE staff_id = $1 AND id_hash = $2")
        .bind(staff_id)
        .bind(id_hash)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}

/// Ends every session of a staff member but `keep` (after they change their password).
pub async fn delete_others(
    conn: &mut AnyConnection,
    staff_id: i64,
    keep: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE staff_id = $1 AND id_hash <> $2")
        .bind(staff_id)
        .bind(keep)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
