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

/// Writes `entries` made-up entries for `portal bench-audit` (kept here, beside the one insert,
/// so that every statement writing the table is in this file): one a second from 2026-01-01,
/// 20 staff members, six actions in turn, customers 1 to `customers` (every tenth entry none).
pub async fn insert_generated(
    conn: &mut AnyConnection,
    entries: i64,
    customers: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO audit_log
             (at, actor_id, actor_email, action, customer_id, subject, before_json, after_json)
         SELECT 1767225600000 + i * 1000, 1 + i % 20,
                'staff' || CAST(i % 20 AS TEXT) || '@partner.example',
                CASE i % 6 WHEN 0 THEN 'setting.override' WHEN 1 THEN 'tag.add'
                           WHEN 2 THEN 'billed.change' WHEN 3 THEN 'tenant.link'
                           WHEN 4 THEN 'reconciliation.acknowledge' ELSE 'setting.revert' END,
                CASE WHEN i % 10 = 0 THEN NULL ELSE 1 + i % $2 END,
                'billing.cycle', '{\"value\":\"monthly\"}', '{\"value\":\"annual\"}'
         FROM n",
    )
    .bind(entries)
    .bind(customers)
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

/// What the audit log page is filtered by (every field optional).
#[derive(Clone, Debug, Default)]
pub struct AuditFilter<'a> {
    pub customer_id: Option<i64>,
    /// The staff member's e-mail (as stored: lower case), or a job's name.
    pub actor_email: Option<&'a str>,
    pub action: Option<&'a str>,
    /// `at >= from` and `at < to`, in milliseconds.
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Only actions starting with one of these (`None`: every action).
    pub action_prefixes: Option<&'a [&'a str]>,
}

/// An audit line with its customer's name (when the customer still exists).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditLine {
    pub id: i64,
    pub at: Millis,
    pub actor_email: String,
    pub action: String,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub subject: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// A page of the audit log, newest first: `limit` lines after `before` (the first page without
/// it) that pass the filter. Keyset paging: each filter has an index in id order, and a time
/// range one in (time, id) order.
pub async fn page(
    conn: &mut AnyConnection,
    filter: &AuditFilter<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditLine>, sqlx::Error> {
    enum Param<'a> {
        Int(i64),
        Text(&'a str),
        Owned(String),
    }
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Param<'_>> = Vec::new();
    let mut push = |condition: &str, param: Param<'static>| {
        params.push(param);
        conditions.push(condition.replace('?', &format!("${}", params.len())));
    };
    if let Some(id) = filter.customer_id {
        push("a.customer_id = ?", Param::Int(id));
    }
    if let Some(from) = filter.from {
        push("a.at >= ?", Param::Int(from));
    }
    if let Some(to) = filter.to {
        push("a.at < ?", Param::Int(to));
    }
    // With a time range the page is in time order, newest first, on the (at, id) index: in id
    // order the database would have to read the whole range to sort it. Entries are written in
    // time order, so both orders agree but for entries of the same instant.
    let by_time = filter.from.is_some() || filter.to.is_some();
    if let Some(before) = before {
        if by_time {
            params.push(Param::Int(before));
            let n = params.len();
            conditions.push(format!(
                "(a.at, a.id) < ((SELECT b.at FROM audit_log b WHERE b.id = ${n}), ${n})"
            ));
        } else {
            push("a.id < ?", Param::Int(before));
        }
    }
    if let Some(email) = filter.actor_email {
        params.push(Param::Text(email));
        conditions.push(format!("a.actor_email = ${}", params.len()));
    }
    if let Some(action) = filter.action {
        params.push(Param::Text(action));
        conditions.push(format!("a.action = ${}", params.len()));
    }
    if let Some(prefixes) = filter.action_prefixes {
        let mut any = Vec::new();
        for prefix in prefixes {
            params.push(Param::Owned(format!("{prefix}%")));
            any.push(format!("a.action LIKE ${}", params.len()));
        }
        if any.is_empty() {
            any.push("1 = 0".to_owned());
        }
        conditions.push(format!("({})", any.join(" OR ")));
    }
    let sql = format!(
        "SELECT a.id, a.at, a.actor_email, a.action, a.customer_id, c.name AS customer_name,
                a.subject, a.before_json, a.after_json
         FROM audit_log a LEFT JOIN customers c ON c.id = a.customer_id
         WHERE {} ORDER BY {} LIMIT {}",
        if conditions.is_empty() {
            "1 = 1".to_owned()
        } else {
            conditions.join(" AND ")
        },
        if by_time {
            "a.at DESC, a.id DESC"
        } else {
            "a.id DESC"
        },
        limit.clamp(1, 1000)
    );
    let mut query = sqlx::query_as::<_, AuditLine>(&sql);
    for param in params {
        query = match param {
            Param::Int(v) => query.bind(v),
            Param::Text(v) => query.bind(v.to_owned()),
            Param::Owned(v) => query.bind(v),
        };
    }
    query.fetch_all(conn).await
}
