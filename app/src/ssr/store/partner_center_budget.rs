//! The Partner Center rate budget that every process on this database shares: one row per
//! partner app, the next free request slot by the database's clock. A request takes a slot and
//! waits until it; a 429 pushes the next slot past its wait and halves the rate for a while.

use crate::ssr::db::Backend;
use sqlx::AnyConnection;

/// A slot taken: when it is, and the database's clock when it was given, in epoch
/// microseconds (so a rate that does not divide a minute into whole milliseconds is kept
/// exactly). The caller waits `at - now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub at: i64,
    pub now: i64,
}

impl Slot {
    /// How long to wait for the slot.
    pub fn wait(self) -> std::time::Duration {
        std::time::Duration::from_micros(u64::try_from(self.at - self.now).unwrap_or(0))
    }
}

/// Takes the next slot of `budget`: the later of the next free one and now; the one after it is
/// `interval_us` later (twice that while the budget is slowed after a 429). One statement, so
/// two processes taking slots at once get different ones.
pub async fn take(
    conn: &mut AnyConnection,
    backend: Backend,
    budget: &str,
    interval_us: i64,
) -> Result<Slot, sqlx::Error> {
    // `WHERE 1 = 1`: SQLite needs a WHERE in INSERT … SELECT … ON CONFLICT to parse it.
    let sql = format!(
        "INSERT INTO partner_center_budget (budget, next_at, slow_until, granted_at, seen_at)
         SELECT $1, c.now + $2, 0, c.now, c.now FROM (SELECT {now} * 1000 AS now) AS c WHERE 1 = 1
         ON CONFLICT (budget) DO UPDATE SET
             seen_at = excluded.seen_at,
             granted_at = CASE WHEN partner_center_budget.next_at > excluded.seen_at
                 THEN partner_center_budget.next_at ELSE excluded.seen_at END,
             next_at = CASE WHEN partner_center_budget.next_at > excluded.seen_at
                 THEN partner_center_budget.next_at ELSE excluded.seen_at END
                 + CASE WHEN partner_center_budget.slow_until > excluded.seen_at
                     THEN 2 * $2 ELSE $2 END
         RETURNING granted_at, seen_at",
        now = backend.now_millis_sql()
    );
    let (at, now): (i64, i64) = sqlx::query_as(&sql)
        .bind(budget)
        .bind(interval_us)
        .fetch_one(conn)
        .await?;
    Ok(Slot { at, now })
}

/// Holds every request of `budget` back for `wait_us` from now, and slows it (half the rate)
/// for `slow_us` after that.
pub async fn pause(
    conn: &mut AnyConnection,
    backend: Backend,
    budget: &str,
    wait_us: i64,
    slow_us: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO partner_center_budget (budget, next_at, slow_until, granted_at, seen_at)
         SELECT $1, c.now + $2, c.now + $2 + $3, c.now, c.now
         FROM (SELECT {now} * 1000 AS now) AS c WHERE 1 = 1
         ON CONFLICT (budget) DO UPDATE SET
             next_at = CASE WHEN partner_center_budget.next_at > excluded.next_at
                 THEN partner_center_budget.next_at ELSE excluded.next_at END,
             slow_until = CASE WHEN partner_center_budget.slow_until > excluded.slow_until
                 THEN partner_center_budget.slow_until ELSE excluded.slow_until END",
        now = backend.now_millis_sql()
    );
    sqlx::query(&sql)
        .bind(budget)
        .bind(wait_us)
        .bind(slow_us)
        .execute(conn)
        .await
        .map(|_| ())
}
