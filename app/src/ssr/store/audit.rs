use crate::model::Millis;
use sqlx::AnyConnection;

/// One line of the audit trail.
pub struct AuditEntry<'a> {
    pub at: Millis,
    pub actor_id: Option<i64>,
    pub actor_email: &'a str,
    pub action: &'a str,
    pub customer_id: Option<i64>,
    pub subject: &'a str,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

pub async fn insert(conn: &mut AnyConnection, entry: AuditEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log
            (at, actor_id, actor_email, action, customer_id, subject, before_json, after_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.at)
    .bind(entry.actor_id)
    .bind(entry.actor_email)
    .bind(entry.action)
    .bind(entry.customer_id)
    .bind(entry.subject)
    .bind(entry.before_json)
    .bind(entry.after_json)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A stored audit line, newest first in listings.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: Millis,
    pub actor_email: String,
    pub action: String,
    pub customer_id: Option<i64>,
    pub subject: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

pub async fn for_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, actor_email, action, customer_id, subject, before_json, after_json
         FROM audit_log WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A customer's audit lines about one subject (e.g. one setting), newest first.
pub async fn for_customer_subject(
    conn: &mut AnyConnection,
    customer_id: i64,
    subject: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, actor_email, action, customer_id, subject, before_json, after_json
         FROM audit_log WHERE customer_id = $1 AND subject = $2 ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(customer_id)
    .bind(subject)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, actor_email, action, customer_id, subject, before_json, after_json
         FROM audit_log WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}
