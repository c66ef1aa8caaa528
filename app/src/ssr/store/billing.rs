//! Link to Billing Profile: a customer's id in the payment gateway.

use crate::model::Millis;
use sqlx::{AnyConnection, Row};

/// A customer's billing link as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingLink {
    pub gateway: String,
    pub billing_id: String,
    pub name: String,
    pub email: String,
    pub test_mode: bool,
    pub checked_at: Millis,
    pub gone_at: Option<Millis>,
    pub linked_by: String,
    pub linked_at: Millis,
}

fn link_of(row: &sqlx::any::AnyRow) -> Result<BillingLink, sqlx::Error> {
    Ok(BillingLink {
        gateway: row.try_get("gateway")?,
        billing_id: row.try_get("billing_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        test_mode: row.try_get::<i64, _>("test_mode")? != 0,
        checked_at: row.try_get("checked_at")?,
        gone_at: row.try_get("gone_at")?,
        linked_by: row.try_get("linked_by")?,
        linked_at: row.try_get("linked_at")?,
    })
}

const COLUMNS: &str =
    "gateway, billing_id, name, email, test_mode, checked_at, gone_at, linked_by, linked_at";

pub async fn find(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<BillingLink>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customer_billing_links WHERE customer_id = $1"
    ))
    .bind(customer_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(link_of).transpose()
}

/// The customer (id, name, deleted) a billing id of the gateway is linked to.
pub async fn holder(
    conn: &mut AnyConnection,
    gateway: &str,
    billing_id: &str,
) -> Result<Option<(i64, String, bool)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT c.id, c.name, c.deleted_at FROM customer_billing_links b
         JOIN customers c ON c.id = b.customer_id WHERE b.gateway = $1 AND b.billing_id = $2",
    )
    .bind(gateway)
    .bind(billing_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok((
            row.try_get("id")?,
            row.try_get("name")?,
            row.try_get::<Option<Millis>, _>("deleted_at")?.is_some(),
        ))
    })
    .transpose()
}

/// Links (or links again) the customer to a billing id.
pub async fn save(
    conn: &mut AnyConnection,
    customer_id: i64,
    link: &BillingLink,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_billing_links (customer_id, gateway, billing_id, name, email,
             test_mode, checked_at, gone_at, linked_by, linked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (customer_id) DO UPDATE SET gateway = $2, billing_id = $3, name = $4,
             email = $5, test_mode = $6, checked_at = $7, gone_at = $8, linked_by = $9,
             linked_at = $10",
    )
    .bind(customer_id)
    .bind(&link.gateway)
    .bind(&link.billing_id)
    .bind(&link.name)
    .bind(&link.email)
    .bind(i64::from(link.test_mode))
    .bind(link.checked_at)
    .bind(link.gone_at)
    .bind(&link.linked_by)
    .bind(link.linked_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a verification: what the gateway says now, and since when it no longer has the
/// customer (`None` when it has).
pub async fn verified(
    conn: &mut AnyConnection,
    customer_id: i64,
    name_email: Option<(&str, &str)>,
    gone_at: Option<Millis>,
    now: Millis,
) -> Result<(), sqlx::Error> {
    let (name, email) = name_email.unzip();
    sqlx::query(
        "UPDATE customer_billing_links SET checked_at = $2,
             gone_at = CASE WHEN $3 IS NULL THEN NULL ELSE COALESCE(gone_at, $3) END,
             name = COALESCE($4, name), email = COALESCE($5, email)
         WHERE customer_id = $1",
    )
    .bind(customer_id)
    .bind(now)
    .bind(gone_at)
    .bind(name)
    .bind(email)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Ends the customer's link; `false` when it had none.
pub async fn remove(conn: &mut AnyConnection, customer_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM customer_billing_links WHERE customer_id = $1")
        .bind(customer_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
