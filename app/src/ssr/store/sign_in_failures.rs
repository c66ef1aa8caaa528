//! Failed sign-ins per account (keyed by a hash of the folded e-mail), shared by every process.

use crate::model::Millis;
use sqlx::AnyConnection;

/// Until when the account is locked, when it is locked at `now`.
pub async fn locked_until(
    conn: &mut AnyConnection,
    email_hash: &str,
    now: Millis,
) -> Result<Option<Millis>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT locked_until FROM sign_in_failures WHERE email_hash = $1 AND locked_until > $2",
    )
    .bind(email_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Counts one more failure and returns the count so far (run it in a write transaction).
pub async fn add_failure(
    conn: &mut AnyConnection,
    email_hash: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO sign_in_failures (email_hash, failures, last_failure_at) VALUES ($1, 1, $2)
         ON CONFLICT (email_hash) DO UPDATE
             SET failures = sign_in_failures.failures + 1, last_failure_at = $2
         RETURNING failures",
    )
    .bind(email_hash)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn lock(
    conn: &mut AnyConnection,
    email_hash: &str,
    until: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sign_in_failures SET locked_until = $2 WHERE email_hash = $1")
        .bind(email_hash)
        .bind(until)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Forgets the failures of an account (after a successful sign-in).
pub async fn clear(conn: &mut AnyConnection, email_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE email_hash = $1")
        .bind(email_hash)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Forgets failures older than `before` whose lock has ended.
pub async fn purge(conn: &mut AnyConnection, before: Millis) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE last_failure_at < $1 AND locked_until < $1")
        .bind(before)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
