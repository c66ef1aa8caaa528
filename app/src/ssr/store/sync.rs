//! Reconciliation with Partner Center: tenant snapshots, customers' sync status, and the stored
//! sync jobs with their per-customer items.

use crate::{
    model::Millis,
    ssr::{
        db::Backend,
        partner_center::wire::{Customer, SubscribedSku, Subscription},
    },
};
use sqlx::{AnyConnection, Row};

/// What is known of a tenant's licence counts after a sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LicenceState<'a> {
    /// Read: these replace the stored ones.
    Counted(&'a [SubscribedSku]),
    /// Not asked for: only app credentials are configured.
    NeedsConsent,
    /// The call failed: the stored counts are kept, with why.
    Failed(&'a str),
}

/// Stores what Partner Center just said about a tenant, each call's answer on its own: the
/// profile always; the subscriptions when they were read (else the stored ones stay); the
/// licence counts as `licences` says. Run it on a transaction: readers then see the old
/// snapshot or the new one, never a mix.
pub async fn store_tenant_snapshot(
    conn: &mut AnyConnection,
    tenant_id: &str,
    fetched_at: Millis,
    profile: &Customer,
    subscriptions: Option<&[Subscription]>,
    licences: LicenceState<'_>,
) -> Result<(), sqlx::Error> {
    let profile_json = serde_json::to_string(profile).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let (licence_state, licence_error) = match &licences {
        LicenceState::Counted(_) => ("counted", None),
        LicenceState::NeedsConsent => ("needs_consent", None),
        LicenceState::Failed(why) => ("failed", Some(*why)),
    };
    sqlx::query(
        "INSERT INTO tenant_snapshots
             (tenant_id, fetched_at, company_name, domain, profile_json, licences, licences_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id) DO UPDATE SET fetched_at = $2, company_name = $3, domain = $4,
             profile_json = $5, licences = $6, licences_error = $7",
    )
    .bind(tenant_id)
    .bind(fetched_at)
    .bind(&profile.company_profile.company_name)
    .bind(&profile.company_profile.domain)
    .bind(profile_json)
    .bind(licence_state)
    .bind(licence_error)
    .execute(&mut *conn)
    .await?;
    if let Some(subscriptions) = subscriptions {
        replace_subscriptions(conn, tenant_id, fetched_at, subscriptions).await?;
    }
    match licences {
        LicenceState::Counted(skus) => replace_skus(conn, tenant_id, fetched_at, skus).await?,
        // No counts without consent: none are kept that could be taken for current ones.
        LicenceState::NeedsConsent => replace_skus(conn, tenant_id, fetched_at, &[]).await?,
        LicenceState::Failed(_) => {}
    }
    super::summaries::tenant_changed(conn, tenant_id).await
}

async fn replace_subscriptions(
    conn: &mut AnyConnection,
    tenant_id: &str,
    fetched_at: Millis,
    subscriptions: &[Subscription],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM tenant_subscriptions WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(&mut *conn)
        .await?;
    for s in subscriptions {
        sqlx::query(
            "INSERT INTO tenant_subscriptions (tenant_id, subscription_id, offer_id, offer_name,
                 friendly_name, quantity, unit_type, status, billing_cycle, term_duration, auto_renew,
                 is_trial, commitment_end_date, fetched_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(tenant_id)
        .bind(&s.id)
        .bind(&s.offer_id)
        .bind(&s.offer_name)
        .bind(&s.friendly_name)
        .bind(s.quantity)
        .bind(&s.unit_type)
        .bind(&s.status)
        .bind(&s.billing_cycle)
        .bind(&s.term_duration)
        .bind(i64::from(s.auto_renew_enabled))
        .bind(i64::from(s.is_trial))
        .bind(&s.commitment_end_date)
        .bind(fetched_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn replace_skus(
    conn: &mut AnyConnection,
    tenant_id: &str,
    fetched_at: Millis,
    skus: &[SubscribedSku],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM tenant_subscribed_skus WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(&mut *conn)
        .await?;
    for k in skus {
        sqlx::query(
            "INSERT INTO tenant_subscribed_skus (tenant_id, sku_id, sku_part_number, product_name,
                 total_units, active_units, consumed_units, available_units, suspended_units,
                 warning_units, capability_status, fetched_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(tenant_id)
        .bind(&k.product_sku.id)
        .bind(&k.product_sku.sku_part_number)
        .bind(&k.product_sku.name)
        .bind(k.total_units)
        .bind(k.active_units)
        .bind(k.consumed_units)
        .bind(k.available_units)
        .bind(k.suspended_units)
        .bind(k.warning_units)
        .bind(&k.capability_status)
        .bind(fetched_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// (subscriptions, subscribed SKUs) stored for a tenant.
pub async fn snapshot_counts(
    conn: &mut AnyConnection,
    tenant_id: &str,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM tenant_subscriptions WHERE tenant_id = $1),
                (SELECT COUNT(*) FROM tenant_subscribed_skus WHERE tenant_id = $1)",
    )
    .bind(tenant_id)
    .fetch_one(conn)
    .await
}

/// A customer's tenants with their last snapshot's time and licence state: (tenant id, name,
/// domain, fetched at, licences, licences error).
#[allow(clippy::type_complexity)]
pub async fn tenants_with_snapshot(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<
    Vec<(
        String,
        String,
        String,
        Option<Millis>,
        Option<String>,
        Option<String>,
    )>,
    sqlx::Error,
> {
    sqlx::query_as(
        "SELECT t.tenant_id, t.name, t.domain, s.fetched_at, s.licences, s.licences_error
         FROM tenants t LEFT JOIN tenant_snapshots s ON s.tenant_id = t.tenant_id
         WHERE t.customer_id = $1 AND t.unlinked_at IS NULL ORDER BY t.name, t.tenant_id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await
}

/// The last sync of a customer.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncStatusRow {
    pub customer_id: i64,
    pub started_at: Millis,
    pub finished_at: Millis,
    pub duration_ms: i64,
    pub outcome: String,
    pub error: Option<String>,
    pub throttle_wait_ms: i64,
}

pub async fn record_status(conn: &mut AnyConnection, s: &SyncStatusRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_sync_status
             (customer_id, started_at, finished_at, duration_ms, outcome, error, throttle_wait_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (customer_id) DO UPDATE SET started_at = $2, finished_at = $3,
             duration_ms = $4, outcome = $5, error = $6, throttle_wait_ms = $7",
    )
    .bind(s.customer_id)
    .bind(s.started_at)
    .bind(s.finished_at)
    .bind(s.duration_ms)
    .bind(&s.outcome)
    .bind(&s.error)
    .bind(s.throttle_wait_ms)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn status(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Option<SyncStatusRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT customer_id, started_at, finished_at, duration_ms, outcome, error, throttle_wait_ms
         FROM customer_sync_status WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(conn)
    .await
}

/// The last sync of several customers at once.
pub async fn statuses(
    conn: &mut AnyConnection,
    customer_ids: &[i64],
) -> Result<Vec<SyncStatusRow>, sqlx::Error> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT customer_id, started_at, finished_at, duration_ms, outcome, error, throttle_wait_ms
         FROM customer_sync_status WHERE customer_id IN ({})",
        crate::ssr::db::placeholders(1, customer_ids.len())
    );
    let mut query = sqlx::query_as(&sql);
    for id in customer_ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}

/// Starts a running job of `scope`, or finds the one already running (at most one runs per
/// scope: a unique index). (job id, whether it was started now)
async fn start_or_join(
    conn: &mut AnyConnection,
    scope: &str,
    by: &str,
    now: Millis,
) -> Result<(i64, bool), sqlx::Error> {
    let created: Option<i64> = sqlx::query_scalar(
        "INSERT INTO sync_jobs (scope, state, requested_by, created_at)
         VALUES ($1, 'running', $2, $3) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(scope)
    .bind(by)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match created {
        Some(id) => Ok((id, true)),
        None => Ok((
            running_job_of_scope(conn, scope).await?.unwrap_or_default(),
            false,
        )),
    }
}

/// Starts the "all customers" job with one pending item per customer that has a tenant, or
/// returns the one already running. (job id, whether it was started now)
pub async fn start_all_job(
    conn: &mut AnyConnection,
    by: &str,
    now: Millis,
) -> Result<(i64, bool), sqlx::Error> {
    let (id, started) = start_or_join(conn, "all", by, now).await?;
    if started {
        sqlx::query(
            "INSERT INTO sync_job_items (job_id, customer_id, state)
             SELECT $1, c.id, 'pending' FROM customers c
             WHERE c.deleted_at IS NULL AND EXISTS (SELECT 1 FROM tenants t WHERE t.customer_id = c.id AND t.unlinked_at IS NULL)",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok((id, started))
}

/// The scope of the job that reloads one customer: at most one runs per customer.
pub fn customer_scope(customer_id: i64) -> String {
    format!("customer:{customer_id}")
}

/// Queues the reload of one customer as a job of one item, or returns the one already queued
/// or running for that customer. (job id, whether it was started now)
pub async fn start_customer_job(
    conn: &mut AnyConnection,
    customer_id: i64,
    by: &str,
    now: Millis,
) -> Result<(i64, bool), sqlx::Error> {
    let (id, started) = start_or_join(conn, &customer_scope(customer_id), by, now).await?;
    if started {
        sqlx::query(
            "INSERT INTO sync_job_items (job_id, customer_id, state) VALUES ($1, $2, 'pending')",
        )
        .bind(id)
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok((id, started))
}

/// Queues the sync of one customer after a change to its tenants (a link): as
/// [`start_customer_job`], but a job joined whose item a worker has already claimed (it may have
/// read the tenants before the change) or ended has the item made due again, so the customer is
/// synced after the change. The worker that held it cannot then close it ([`finish_item`] checks
/// the claim).
pub async fn start_customer_job_after_change(
    conn: &mut AnyConnection,
    customer_id: i64,
    by: &str,
    now: Millis,
) -> Result<(i64, bool), sqlx::Error> {
    let (id, started) = start_customer_job(conn, customer_id, by, now).await?;
    if !started {
        sqlx::query(
            "UPDATE sync_job_items SET state = 'pending', claimed_by = NULL, claimed_at = NULL,
                 finished_at = NULL, error = NULL, not_before = 0
             WHERE job_id = $1 AND customer_id = $2 AND state <> 'pending'",
        )
        .bind(id)
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok((id, started))
}

/// The running job of a scope, if any.
pub async fn running_job_of_scope(
    conn: &mut AnyConnection,
    scope: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM sync_jobs WHERE scope = $1 AND state = 'running'")
        .bind(scope)
        .fetch_optional(conn)
        .await
}

/// Claims up to `limit` pending items that are due for `worker`. The selection is made once
/// (a materialised CTE) and then updated, so the statement claims at most `limit` rows; on
/// PostgreSQL the selected rows are locked with SKIP LOCKED so concurrent processes claim
/// disjoint items; SQLite has one writer at a time.
pub async fn claim(
    conn: &mut AnyConnection,
    backend: Backend,
    worker: &str,
    limit: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let now = backend.now_millis_sql();
    let sql = format!(
        "WITH picked (picked_job, picked_customer) AS MATERIALIZED (
             SELECT job_id, customer_id FROM sync_job_items
             WHERE state = 'pending' AND not_before <= {now}
             ORDER BY job_id, customer_id LIMIT $2{lock})
         UPDATE sync_job_items SET state = 'running', claimed_by = $1, claimed_at = {now},
             attempts = attempts + 1
         FROM picked
         WHERE job_id = picked_job AND customer_id = picked_customer
         RETURNING job_id, customer_id",
        lock = backend.row_lock_skipping_locked()
    );
    sqlx::query_as(&sql)
        .bind(worker)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Records an item's end, if `worker` still holds it. Returns whether it did.
pub async fn finish_item(
    conn: &mut AnyConnection,
    job_id: i64,
    customer_id: i64,
    worker: &str,
    error: Option<&str>,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE sync_job_items SET state = $4, error = $5, finished_at = $6
         WHERE job_id = $1 AND customer_id = $2 AND claimed_by = $3 AND state = 'running'",
    )
    .bind(job_id)
    .bind(customer_id)
    .bind(worker)
    .bind(if error.is_some() { "failed" } else { "done" })
    .bind(error)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Marks the job finished when no item is left; true for the caller that finished it.
pub async fn finish_job_if_complete(
    conn: &mut AnyConnection,
    job_id: i64,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE sync_jobs SET state = 'finished', finished_at = $2
         WHERE id = $1 AND state = 'running' AND NOT EXISTS (
             SELECT 1 FROM sync_job_items WHERE job_id = $1 AND state IN ('pending', 'running'))",
    )
    .bind(job_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The ids of the jobs still running.
pub async fn running_jobs(conn: &mut AnyConnection) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM sync_jobs WHERE state = 'running'")
        .fetch_all(conn)
        .await
}

/// A job and how far it is: (id, state, requested by, created, finished, pending, running, done, failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub state: String,
    pub requested_by: String,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

/// The newest "all customers" job, with its counts: one pass over its items, grouped.
pub async fn latest_all_job(conn: &mut AnyConnection) -> Result<Option<JobRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT j.id, j.state, j.requested_by, j.created_at, j.finished_at,
            COUNT(i.job_id) FILTER (WHERE i.state = 'pending') AS pending,
            COUNT(i.job_id) FILTER (WHERE i.state = 'running') AS running,
            COUNT(i.job_id) FILTER (WHERE i.state = 'done') AS done,
            COUNT(i.job_id) FILTER (WHERE i.state = 'failed') AS failed
         FROM sync_jobs j LEFT JOIN sync_job_items i ON i.job_id = j.id
         WHERE j.id = (SELECT MAX(id) FROM sync_jobs WHERE scope = 'all')
         GROUP BY j.id, j.state, j.requested_by, j.created_at, j.finished_at",
    )
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(JobRow {
            id: r.try_get("id")?,
            state: r.try_get("state")?,
            requested_by: r.try_get("requested_by")?,
            created_at: r.try_get("created_at")?,
            finished_at: r.try_get("finished_at")?,
            pending: r.try_get("pending")?,
            running: r.try_get("running")?,
            done: r.try_get("done")?,
            failed: r.try_get("failed")?,
        })
    })
    .transpose()
}

/// The failed items of a job: (customer name, error).
pub async fn failed_items(
    conn: &mut AnyConnection,
    job_id: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.name, COALESCE(i.error, '') FROM sync_job_items i JOIN customers c ON c.id = i.customer_id
         WHERE i.job_id = $1 AND i.state = 'failed' ORDER BY c.name_key LIMIT $2",
    )
    .bind(job_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Records that `worker` is alive, by the database's clock.
pub async fn heartbeat(
    conn: &mut AnyConnection,
    backend: Backend,
    worker: &str,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO sync_workers (id, heartbeat_at) VALUES ($1, {now})
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = {now}",
        now = backend.now_millis_sql()
    );
    sqlx::query(&sql)
        .bind(worker)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Forgets a worker that stops cleanly, so its unfinished claims return at once.
pub async fn deregister(conn: &mut AnyConnection, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sync_workers WHERE id = $1")
        .bind(worker)
        .execute(conn)
        .await
        .map(|_| ())
}

/// What became of the claims of workers no longer heard from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Released {
    /// Returned to pending, due again after a delay that grows with their attempts.
    pub retried: u64,
    /// Given up: they had had `max_attempts` already.
    pub given_up: u64,
}

/// Returns to pending the items claimed by workers not heard from for `stale_after_ms` by the
/// database's clock (or gone): after a first attempt at once, then after `retry_base_ms` × 1, 2,
/// 4, 8…; an item that has had `max_attempts` is failed instead, with the reason. Then forgets
/// those workers.
pub async fn release_orphaned(
    conn: &mut AnyConnection,
    backend: Backend,
    stale_after_ms: i64,
    retry_base_ms: i64,
    max_attempts: i64,
) -> Result<Released, sqlx::Error> {
    let now = backend.now_millis_sql();
    let orphaned = format!(
        "state = 'running' AND (claimed_by IS NULL OR NOT EXISTS (
             SELECT 1 FROM sync_workers w WHERE w.id = sync_job_items.claimed_by
             AND w.heartbeat_at >= {now} - $1))"
    );
    let given_up = sqlx::query(&format!(
        "UPDATE sync_job_items SET state = 'failed', finished_at = {now},
             error = 'Gave up after ' || CAST(attempts AS TEXT) || ' attempts: the worker syncing it stopped each time.'
         WHERE {orphaned} AND attempts >= $2"
    ))
    .bind(stale_after_ms)
    .bind(max_attempts)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // The delay's multiple by attempts so far: 0, 1, 2, 4, 8, then 16.
    let retried = sqlx::query(&format!(
        "UPDATE sync_job_items SET state = 'pending', claimed_by = NULL, claimed_at = NULL,
             error = 'The worker syncing it stopped; tried again later.',
             not_before = {now} + $2 * (CASE WHEN attempts <= 1 THEN 0 WHEN attempts = 2 THEN 1
                 WHEN attempts = 3 THEN 2 WHEN attempts = 4 THEN 4 WHEN attempts = 5 THEN 8
                 ELSE 16 END)
         WHERE {orphaned}"
    ))
    .bind(stale_after_ms)
    .bind(retry_base_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(&format!(
        "DELETE FROM sync_workers WHERE heartbeat_at < {now} - $1"
    ))
    .bind(stale_after_ms)
    .execute(&mut *conn)
    .await?;
    Ok(Released { retried, given_up })
}

/// Ends a deleted customer's sync work that has not started (failed, saying why), so no job
/// calls Partner Center for it; returns the jobs those items belonged to.
pub async fn drop_pending_of(
    conn: &mut AnyConnection,
    customer_id: i64,
    now: Millis,
) -> Result<Vec<i64>, sqlx::Error> {
    let jobs: Vec<i64> = sqlx::query_scalar(
        "SELECT job_id FROM sync_job_items WHERE customer_id = $1 AND state = 'pending'",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE sync_job_items SET state = 'failed', error = 'the customer was deleted',
             finished_at = $2
         WHERE customer_id = $1 AND state = 'pending'",
    )
    .bind(customer_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(jobs)
}
