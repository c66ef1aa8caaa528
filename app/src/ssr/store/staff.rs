use crate::model::{Millis, Role, StaffView};
use sqlx::{AnyConnection, Row};

/// A staff member with what sign-in needs to check.
pub struct StaffCredentials {
    pub staff: StaffView,
    pub password_hash: String,
    pub disabled: bool,
}

/// A staff member as the staff page lists them (scopes and sessions are read apart).
pub struct StaffRow {
    pub staff: StaffView,
    pub disabled_at: Option<Millis>,
    pub last_sign_in_at: Option<Millis>,
    pub password_change_required: bool,
}

const STAFF_ROW_COLUMNS: &str =
    "id, email, display_name, role, disabled_at, last_sign_in_at, password_change_required";

fn staff_row(row: &sqlx::any::AnyRow) -> Result<StaffRow, sqlx::Error> {
    Ok(StaffRow {
        staff: staff_from_row(row)?,
        disabled_at: row.try_get("disabled_at")?,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
        password_change_required: row.try_get::<i64, _>("password_change_required")? != 0,
    })
}

/// Every staff member: enabled ones first, then by e-mail.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<StaffRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {STAFF_ROW_COLUMNS} FROM staff
         ORDER BY CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END, email"
    ))
    .fetch_all(conn)
    .await?;
    rows.iter().map(staff_row).collect()
}

pub async fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<StaffRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {STAFF_ROW_COLUMNS} FROM staff WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(staff_row).transpose()
}

/// Every tag scope: (staff id, folded tag name, value), by staff member, name and value.
pub async fn all_tag_scopes(
    conn: &mut AnyConnection,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT staff_id, tag_name_key, tag_value FROM staff_tag_scopes
         ORDER BY staff_id, tag_name_key, tag_value",
    )
    .fetch_all(conn)
    .await
}

/// Replaces a staff member's tag scopes with these (folded name, value) pairs.
pub async fn replace_tag_scopes(
    conn: &mut AnyConnection,
    staff_id: i64,
    scopes: &[(String, String)],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM staff_tag_scopes WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut *conn)
        .await?;
    for (name_key, value) in scopes {
        add_tag_scope(conn, staff_id, name_key, value).await?;
    }
    Ok(())
}

/// Takes the row locks of every enabled admin, so that two transactions that could each leave
/// the portal without one run one after the other (PostgreSQL; SQLite's write transactions
/// already do). Call before counting them.
pub async fn lock_active_admins(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff SET role = role WHERE role = 'admin' AND disabled_at IS NULL")
        .execute(conn)
        .await
        .map(|_| ())
}

/// How many enabled admins there are.
pub async fn count_active_admins(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE role = 'admin' AND disabled_at IS NULL")
        .fetch_one(conn)
        .await
}

pub async fn set_role(conn: &mut AnyConnection, id: i64, role: Role) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff SET role = $2 WHERE id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(conn)
        .await
        .map(|_| ())
}

/// Disables (at `at`) or with `None` enables a staff member.
pub async fn set_disabled_by_id(
    conn: &mut AnyConnection,
    id: i64,
    at: Option<Millis>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff SET disabled_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Sets a password hash; `change_required` makes the member choose their own at next sign-in.
pub async fn set_password(
    conn: &mut AnyConnection,
    id: i64,
    password_hash: &str,
    change_required: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff SET password_hash = $2, password_change_required = $3 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .bind(i64::from(change_required))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn password_hash(conn: &mut AnyConnection, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM staff WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

pub async fn record_sign_in(
    conn: &mut AnyConnection,
    id: i64,
    at: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff SET last_sign_in_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await
        .map(|_| ())
}

pub(crate) fn staff_from_row(row: &sqlx::any::AnyRow) -> Result<StaffView, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(StaffView {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: role
            .parse()
            .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    email: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO staff (email, display_name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(email)
    .bind(display_name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn find_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<StaffCredentials>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, display_name, role, password_hash, disabled_at
         FROM staff WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(StaffCredentials {
            staff: staff_from_row(&row)?,
            password_hash: row.try_get("password_hash")?,
            disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        })
    })
    .transpose()
}

pub async fn add_tag_scope(
    conn: &mut AnyConnection,
    staff_id: i64,
    tag_name_key: &str,
    tag_value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff_tag_scopes (staff_id, tag_name_key, tag_value) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(staff_id)
    .bind(tag_name_key)
    .bind(tag_value)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Disables (or with `None` enables) the staff member with this e-mail; returns their id.
pub async fn set_disabled(
    conn: &mut AnyConnection,
    email: &str,
    disabled_at: Option<Millis>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("UPDATE staff SET disabled_at = $2 WHERE email = $1 RETURNING id")
        .bind(email)
        .bind(disabled_at)
        .fetch_optional(conn)
        .await
}
