use crate::model::{AccountManager, Millis};
use sqlx::{AnyConnection, Row};

fn manager_from_row(row: &sqlx::any::AnyRow) -> Result<AccountManager, sqlx::Error> {
    Ok(AccountManager {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    name: &str,
    email: &str,
    phone: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO account_managers (name, email, phone, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(email)
    .bind(phone)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn find_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<AccountManager>, sqlx::Error> {
    let row = sqlx::query("SELECT id, name, email, phone FROM account_managers WHERE email = $1")
        .bind(email)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(manager_from_row).transpose()
}

pub async fn find(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<AccountManager>, sqlx::Error> {
    let row = sqlx::query("SELECT id, name, email, phone FROM account_managers WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(manager_from_row).transpose()
}

pub async fn list_all(conn: &mut AnyConnection) -> Result<Vec<AccountManager>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, name, email, phone FROM account_managers ORDER BY name, id")
        .fetch_all(conn)
        .await?;
    rows.iter().map(manager_from_row).collect()
}

pub async fn assigned_to(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<AccountManager>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.id, m.name, m.email, m.phone
         FROM customer_account_managers a JOIN account_managers m ON m.id = a.account_manager_id
         WHERE a.customer_id = $1 ORDER BY m.name, m.id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(manager_from_row).collect()
}

/// The names of the managers of several customers at once: (customer id, manager name).
pub async fn names_for_customers(
    conn: &mut AnyConnection,
    customer_ids: &[i64],
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.customer_id, m.name
         FROM customer_account_managers a JOIN account_managers m ON m.id = a.account_manager_id
         WHERE a.customer_id IN ({}) ORDER BY a.customer_id, m.name, m.id",
        crate::ssr::db::placeholders(1, customer_ids.len())
    );
    let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
    for id in customer_ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}

/// Assigns a manager; true when it was not assigned before.
pub async fn assign(
    conn: &mut AnyConnection,
    customer_id: i64,
    manager_id: i64,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_account_managers (customer_id, account_manager_id, assigned_at)
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(customer_id)
    .bind(manager_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Unassigns a manager; true when it was assigned.
pub async fn unassign(
    conn: &mut AnyConnection,
    customer_id: i64,
    manager_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "DELETE FROM customer_account_managers WHERE customer_id = $1 AND account_manager_id = $2",
    )
    .bind(customer_id)
    .bind(manager_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
