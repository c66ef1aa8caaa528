use crate::model::{Millis, Role, StaffView};
use sqlx::{AnyConnection, Row};

/// A staff member with what sign-in needs to check.
pub struct StaffCredentials {
    pub staff: StaffView,
    pub password_hash: String,
    pub disabled: bool,
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
