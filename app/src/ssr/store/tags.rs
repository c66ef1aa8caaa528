use crate::model::{Millis, Tag};
use sqlx::{AnyConnection, Row};

fn tag_from_row(row: &sqlx::any::AnyRow) -> Result<Tag, sqlx::Error> {
    Ok(Tag {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        value: row.try_get("value")?,
    })
}

pub async fn list(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<Tag>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, value FROM customer_tags WHERE customer_id = $1 ORDER BY name_key, id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(tag_from_row).collect()
}

/// The tags of several customers at once: (customer id, tag).
pub async fn for_customers(
    conn: &mut AnyConnection,
    customer_ids: &[i64],
) -> Result<Vec<(i64, Tag)>, sqlx::Error> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT customer_id, id, name, value FROM customer_tags
         WHERE customer_id IN ({}) ORDER BY customer_id, name_key, id",
        crate::ssr::db::placeholders(1, customer_ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in customer_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("customer_id")?, tag_from_row(row)?)))
        .collect()
}

/// Inserts a tag; a second tag of the same (case-folded) name on a customer is a unique violation.
pub async fn insert(
    conn: &mut AnyConnection,
    customer_id: i64,
    name: &str,
    name_key: &str,
    value: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO customer_tags (customer_id, name, name_key, value, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(customer_id)
    .bind(name)
    .bind(name_key)
    .bind(value)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Deletes a customer's tag and returns it, or none when the customer has no such tag.
pub async fn delete(
    conn: &mut AnyConnection,
    customer_id: i64,
    tag_id: i64,
) -> Result<Option<Tag>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM customer_tags WHERE customer_id = $1 AND id = $2 RETURNING id, name, value",
    )
    .bind(customer_id)
    .bind(tag_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(tag_from_row).transpose()
}
