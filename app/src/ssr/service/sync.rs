//! Reload Reconciliation: fetching what Partner Center says about a customer's tenants, storing
//! it as snapshots, and the stored "all customers" job worked by background workers.
//!
//! Why the queue is our own and not a job library: it has to run on SQLite and PostgreSQL from
//! one SQL set, and the maintained Rust job crates each target one backend. The queue is two
//! tables (`sync_jobs`, `sync_job_items`): a worker claims pending items (PostgreSQL: with
//! `FOR UPDATE SKIP LOCKED`, so concurrent processes claim disjoint customers), works them, and
//! records each one's end. A claim belongs to a worker id whose heartbeat is stored; the claims
//! of a worker that stops cleanly return to pending at once, those of a killed one once its
//! heartbeat is stale, so a restarted server resumes the job without fetching again the
//! customers already done.

use crate::{
    error::AppError,
    model::{
        Millis, Permission, ProviderTenantsSection, StaffView, SyncBadge, SyncJobView, SyncPage,
        SyncStatus, TenantView, SYNC_STALE_AFTER_MS,
    },
    ssr::{
        db::{now_millis, Db},
        partner_center::{
            client::THROTTLE_WAIT_MS,
            wire::{Attributes, CompanyProfile, Customer, SubscribedSku, Subscription},
            PartnerCenterClient, PartnerCenterError,
        },
        service::{audit, customers::ensure_visible},
        store::{
            self,
            audit::AuditEntry,
            sync::{LicenceState, SyncStatusRow},
        },
        AppState,
    },
};
use serde_json::json;
use std::{cell::Cell, future::Future, sync::Arc, time::Duration};
use tokio::{
    sync::{watch, Notify},
    task::JoinSet,
};

/// What Partner Center said about a tenant's licence counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Licences {
    Counted(Vec<SubscribedSku>),
    /// Not asked: licence counts need an App+User token, and only app credentials are set.
    NeedsConsent,
    /// The call failed; why.
    Failed(String),
}

/// What Partner Center says about one tenant, each call's answer on its own.
pub struct TenantData {
    pub profile: Customer,
    /// `Err`: why the subscriptions could not be read (the stored ones stay).
    pub subscriptions: Result<Vec<Subscription>, String>,
    pub licences: Licences,
}

/// Where tenant data comes from: Partner Center, or a stand-in in tests.
pub trait TenantSource: Clone + Send + Sync + 'static {
    /// Reads a tenant. `known` is its profile from a directory taken moments ago, when there
    /// is one: then the profile is not asked for again. An `Err` means nothing of the tenant
    /// could be read (its profile: Partner Center may not know it any more).
    fn fetch(
        &self,
        tenant_id: &str,
        known: Option<Customer>,
    ) -> impl Future<Output = Result<TenantData, PartnerCenterError>> + Send;
}

impl TenantSource for PartnerCenterClient {
    async fn fetch(
        &self,
        tenant_id: &str,
        known: Option<Customer>,
    ) -> Result<TenantData, PartnerCenterError> {
        let profile = match known {
            Some(profile) => profile,
            None => self.get_customer(tenant_id).await?,
        };
        let subscriptions = self
            .list_subscriptions(tenant_id)
            .await
            .map_err(|e| e.to_string());
        let licences = match self.list_subscribed_skus(tenant_id).await {
            Ok(skus) => Licences::Counted(skus),
            Err(PartnerCenterError::NeedsDelegatedConsent) => Licences::NeedsConsent,
            Err(e) => Licences::Failed(e.to_string()),
        };
        Ok(TenantData {
            profile,
            subscriptions,
            licences,
        })
    }
}

/// A directory row this recent stands for the tenant's profile (a "reload all" job takes the
/// directory first, so its customers need no profile call each).
pub const DIRECTORY_FRESH_MS: Millis = 15 * 60 * 1000;

/// The profile a fresh directory row gives, as Partner Center's customer object.
fn profile_from_directory(row: &store::provider::DirectoryRow) -> Customer {
    Customer {
        id: row.tenant_id.clone(),
        commerce_id: String::new(),
        company_profile: CompanyProfile {
            tenant_id: row.tenant_id.clone(),
            domain: row.domain.clone(),
            company_name: row.company_name.clone(),
        },
        billing_profile: Default::default(),
        relationship_to_partner: row.relationship.clone(),
        allow_delegated_access: false,
        attributes: Attributes::of("Customer"),
    }
}

/// Syncs one customer: each tenant on its own (one that fails does not stop the others), each
/// of its calls' answers stored on its own in one transaction per tenant; the customer's sync
/// status records how it went and names every tenant that failed and why. A failure is
/// recorded, not returned.
pub async fn sync_customer<S: TenantSource>(
    db: &Db,
    source: &S,
    customer_id: i64,
) -> Result<SyncStatusRow, AppError> {
    let started = now_millis();
    let (tenants, directory) = {
        let mut conn = db.pool().acquire().await?;
        let tenants = store::customers::tenants(&mut conn, customer_id).await?;
        let ids: Vec<String> = tenants.iter().map(|t| t.tenant_id.clone()).collect();
        let directory: std::collections::HashMap<String, Customer> =
            store::provider::find_many(&mut conn, &ids)
                .await?
                .into_iter()
                .filter(|row| {
                    row.gone_since.is_none() && started - row.last_seen_at < DIRECTORY_FRESH_MS
                })
                .map(|row| (row.tenant_id.clone(), profile_from_directory(&row)))
                .collect();
        (tenants, directory)
    };
    let work = async {
        let mut problems: Vec<String> = Vec::new();
        let mut unread = 0usize;
        for tenant in &tenants {
            let named = format!("tenant {} ({})", tenant.name, tenant.tenant_id);
            let known = directory.get(&tenant.tenant_id).cloned();
            let data = match source.fetch(&tenant.tenant_id, known).await {
                Ok(data) => data,
                Err(e) => {
                    unread += 1;
                    problems.push(format!("{named}: {e}"));
                    continue;
                }
            };
            if let Err(e) = &data.subscriptions {
                problems.push(format!("{named}: subscriptions not read: {e}"));
            }
            let licences = match &data.licences {
                Licences::Counted(skus) => LicenceState::Counted(skus),
                Licences::NeedsConsent => LicenceState::NeedsConsent,
                Licences::Failed(e) => {
                    problems.push(format!("{named}: licence counts not read: {e}"));
                    LicenceState::Failed(e)
                }
            };
            let stored = async {
                let mut tx = db.begin_write().await?;
                store::sync::store_tenant_snapshot(
                    &mut tx,
                    &tenant.tenant_id,
                    now_millis(),
                    &data.profile,
                    data.subscriptions.as_deref().ok(),
                    licences,
                )
                .await?;
                tx.commit().await
            };
            if let Err(e) = stored.await {
                unread += 1;
                problems.push(format!("{named}: not stored: {e}"));
            }
        }
        let outcome = match (problems.is_empty(), unread == tenants.len()) {
            (true, _) => "ok",
            (false, true) => "failed",
            (false, false) => "partial",
        };
        (outcome, (!problems.is_empty()).then(|| problems.join("; ")))
    };
    let ((outcome, error), throttle_wait_ms) = THROTTLE_WAIT_MS
        .scope(Cell::new(0), async {
            let result = work.await;
            (result, THROTTLE_WAIT_MS.with(Cell::get))
        })
        .await;
    // What the sync stored changed the customer's reconciliation: its summary is brought up to
    // date now rather than by the next read of the partner-wide list (which computes it if
    // this fails: the store marked it changed).
    let refreshed = async {
        let mut tx = db.begin_write().await?;
        super::reports::refresh_summary(&mut tx, customer_id).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    if let Err(error) = refreshed.await {
        tracing::warn!(customer_id, %error, "reconciliation summary left to the next read");
    }
    let finished = now_millis();
    let status = SyncStatusRow {
        customer_id,
        started_at: started,
        finished_at: finished,
        duration_ms: finished - started,
        outcome: outcome.to_owned(),
        error,
        throttle_wait_ms: throttle_wait_ms as i64,
    };
    if let Some(error) = &status.error {
        tracing::warn!(customer_id, outcome, %error, "sync did not read everything");
    }
    store::sync::record_status(&mut *db.pool().acquire().await?, &status).await?;
    Ok(status)
}

pub fn badge(status: Option<&SyncStatusRow>, now: Millis) -> SyncBadge {
    match status {
        None => SyncBadge::Never,
        Some(s) if s.outcome != "ok" => SyncBadge::Failed,
        Some(s) if now - s.finished_at > SYNC_STALE_AFTER_MS => SyncBadge::Stale,
        Some(_) => SyncBadge::Ok,
    }
}

fn status_view(row: SyncStatusRow, now: Millis) -> SyncStatus {
    SyncStatus {
        badge: badge(Some(&row), now),
        finished_at: row.finished_at,
        duration_ms: row.duration_ms,
        error: row.error,
        throttle_wait_ms: row.throttle_wait_ms,
    }
}

fn may_reload(staff: &StaffView) -> bool {
    staff.role.allows(Permission::ReloadCustomer)
}

/// The Provider Tenants section.
pub async fn tenants_section(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
) -> Result<ProviderTenantsSection, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let tenants = store::sync::tenants_with_snapshot(&mut conn, customer_id)
        .await?
        .into_iter()
        .map(
            |(tenant_id, name, domain, last_synced_at, licences, licences_error)| TenantView {
                tenant_id,
                name,
                domain,
                last_synced_at,
                licence_note: match (licences.as_deref(), licences_error) {
                    (Some("needs_consent"), _) => Some(
                        "Licence counts need delegated consent: Partner Center gives them to App+User tokens only (PARTNER_CENTER_REFRESH_TOKEN is not set)."
                            .to_owned(),
                    ),
                    (Some("failed"), why) => Some(format!(
                        "Licence counts were not read at the last sync ({}); the earlier counts are kept.",
                        why.unwrap_or_default()
                    )),
                    _ => None,
                },
            },
        )
        .collect();
    let now = now_millis();
    let reload_queued =
        store::sync::running_job_of_scope(&mut conn, &store::sync::customer_scope(customer_id))
            .await?
            .is_some();
    Ok(ProviderTenantsSection {
        tenants,
        status: store::sync::status(&mut conn, customer_id)
            .await?
            .map(|s| status_view(s, now)),
        reload_queued,
        can_reload: may_reload(staff),
        can_link: staff.role.allows(Permission::LinkTenants),
    })
}

/// The refusal when this server has no Partner Center credentials.
pub fn not_configured() -> AppError {
    AppError::Conflict {
        message: "Partner Center is not configured on this server (PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET), so nothing can be reloaded.".into(),
    }
}

/// Queues the reload of one customer (a job of one item that the sync workers take), or joins
/// the reload already queued or running for it; answers at once with (job id, started now).
/// Checked in this order: the customer's visibility, that reconciliation is configured, and
/// the staff member's allowance of new reloads. Audited either way.
pub async fn reload_customer(
    state: &AppState,
    staff: &StaffView,
    customer_id: i64,
) -> Result<(i64, bool), AppError> {
    let mut tx = state.db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    if state.partner_center.is_none() {
        return Err(not_configured());
    }
    let now = now_millis();
    let (job_id, started) =
        store::sync::start_customer_job(&mut tx, customer_id, &staff.email, now).await?;
    if started {
        if let Err(not_until) = state.reloads.check_key(&staff.id) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            tracing::info!(staff = %staff.email, customer_id, "refused: too many reloads");
            return Err(AppError::TooManyRequests {
                message: format!(
                    "You have started {RELOADS_PER_MINUTE} reloads in the last minute; wait a moment before the next."
                ),
                retry_after_secs: wait.as_secs().max(1),
            });
        }
    }
    audit::record(
        &mut tx,
        staff,
        now,
        audit::Change {
            action: if started {
                "sync.reload_customer"
            } else {
                "sync.reload_customer_joined"
            },
            customer_id: Some(customer_id),
            subject: "reconciliation",
            before: None,
            after: Some(json!({ "job_id": job_id })),
        },
    )
    .await?;
    tx.commit().await?;
    state.sync_wakeup.notify_waiters();
    tracing::info!(staff = %staff.email, customer_id, job_id, started, "reload of one customer requested");
    Ok((job_id, started))
}

/// New reloads of single customers one staff member may start a minute (joining one is free).
pub const RELOADS_PER_MINUTE: u32 = 20;

/// The per-staff allowance of new single-customer reloads.
pub fn reload_limiter() -> Arc<governor::DefaultKeyedRateLimiter<i64>> {
    let quota = governor::Quota::per_minute(
        std::num::NonZeroU32::new(RELOADS_PER_MINUTE).unwrap_or(std::num::NonZeroU32::MIN),
    );
    Arc::new(governor::RateLimiter::keyed(quota))
}

/// Starts the "all customers" job, or joins the one running. (job id, started now)
pub async fn start_all(
    db: &Db,
    staff: &StaffView,
    wakeup: &Notify,
) -> Result<(i64, bool), AppError> {
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    let (job_id, started) = store::sync::start_all_job(&mut tx, &staff.email, now).await?;
    audit::record(
        &mut tx,
        staff,
        now,
        audit::Change {
            action: if started {
                "sync.reload_all"
            } else {
                "sync.reload_all_joined"
            },
            customer_id: None,
            subject: &format!("sync job {job_id}"),
            before: None,
            after: Some(json!({ "job_id": job_id, "customers": "all" })),
        },
    )
    .await?;
    tx.commit().await?;
    // A job with no customer to sync is finished at once.
    close_job_if_complete(db, job_id).await?;
    wakeup.notify_waiters();
    tracing::info!(staff = %staff.email, job_id, started, "reload of all customers requested");
    Ok((job_id, started))
}

/// Starts "reload all customers" as [`start_all`] does, taking the provider directory from
/// Partner Center first (unless a reload of all is already running, which is joined): each
/// customer's profile then comes from the directory, about two calls per customer instead of
/// three. A directory that cannot be taken is logged and the job starts anyway (each profile
/// is then asked for).
pub async fn start_all_with_directory(
    db: &Db,
    client: &PartnerCenterClient,
    staff: &StaffView,
    wakeup: &Notify,
) -> Result<(i64, bool), AppError> {
    let running = store::sync::running_job_of_scope(&mut *db.pool().acquire().await?, "all")
        .await?
        .is_some();
    if !running {
        if let Err(e) =
            super::provider::refresh(db, client, super::provider::Actor::Staff(staff)).await
        {
            tracing::warn!(error = %e, "directory not taken before reload all; profiles are asked for one by one");
        }
    }
    start_all(db, staff, wakeup).await
}

/// The sync page: the newest "all customers" job and its progress.
pub async fn sync_page(db: &Db, staff: &StaffView) -> Result<SyncPage, AppError> {
    let mut conn = db.pool().acquire().await?;
    let job = match store::sync::latest_all_job(&mut conn).await? {
        None => None,
        Some(j) => {
            let total = j.pending + j.running + j.done + j.failed;
            let finished = j.done + j.failed;
            let end = j.finished_at.unwrap_or_else(now_millis);
            let minutes = ((end - j.created_at).max(1) as f64) / 60_000.0;
            let per_minute = finished as f64 / minutes;
            let remaining = j.pending + j.running;
            let running = j.state == "running";
            let seconds_left = (running && per_minute > 0.0)
                .then(|| ((remaining as f64 / per_minute) * 60.0).ceil() as i64);
            Some(SyncJobView {
                id: j.id,
                running,
                requested_by: j.requested_by,
                created_at: j.created_at,
                finished_at: j.finished_at,
                total,
                done: j.done,
                failed: j.failed,
                remaining,
                per_minute,
                seconds_left,
                failures: store::sync::failed_items(&mut conn, j.id, 20).await?,
            })
        }
    };
    Ok(SyncPage {
        job,
        can_start: staff.role.allows(Permission::ReloadAllCustomers),
    })
}

/// How often a worker says it is alive, and after how long without a word its claims return
/// (to a worker of this or another process): a killed server's job goes on within seconds of
/// the next start.
const HEARTBEAT: Duration = Duration::from_secs(2);
const WORKER_STALE_AFTER: Duration = Duration::from_secs(10);
/// A customer whose sync stopped its worker this many times is failed, not tried again.
pub const MAX_ITEM_ATTEMPTS: i64 = 5;
/// The unit of the delay before an orphaned item is tried again (1, 2, 4… of these).
const ITEM_RETRY_BASE: Duration = Duration::from_secs(5);

/// What `/healthz` reports of this process's sync worker.
#[derive(Debug, Default)]
pub struct WorkerHealth {
    /// When the worker last went round its loop (0: never started).
    last_round_at: std::sync::atomic::AtomicI64,
    /// Errors it recovered from since the process started.
    errors: std::sync::atomic::AtomicU64,
    /// The last of them, while it is not yet followed by a good round.
    failing: std::sync::Mutex<Option<String>>,
}

/// A round older than this means the worker is stuck or gone.
pub const WORKER_SILENT_AFTER_MS: Millis = 30_000;

impl WorkerHealth {
    /// The worker has started: silence is counted from now.
    fn started(&self) {
        self.last_round_at
            .store(now_millis(), std::sync::atomic::Ordering::Relaxed);
    }

    fn round_done(&self) {
        self.last_round_at
            .store(now_millis(), std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut failing) = self.failing.lock() {
            *failing = None;
        }
    }

    fn failed(&self, error: &str) {
        self.errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut failing) = self.failing.lock() {
            *failing = Some(error.to_owned());
        }
    }

    /// Errors the worker has recovered from (or is recovering from).
    pub fn errors(&self) -> u64 {
        self.errors.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// ("running" | "retrying" | "silent", the current error) at `now`.
    pub fn state(&self, now: Millis) -> (&'static str, Option<String>) {
        let failing = self.failing.lock().ok().and_then(|f| f.clone());
        let last = self
            .last_round_at
            .load(std::sync::atomic::Ordering::Relaxed);
        if now - last > WORKER_SILENT_AFTER_MS {
            ("silent", failing)
        } else if failing.is_some() {
            ("retrying", failing)
        } else {
            ("running", None)
        }
    }
}

/// How long the worker waits after an error before it tries again: doubling from 1 s to 30 s.
fn retry_delay(consecutive_errors: u32) -> Duration {
    Duration::from_secs(1 << consecutive_errors.min(5)).min(Duration::from_secs(30))
}

/// Works "all customers" jobs until `stop` turns true, and never gives up before: an error of
/// a round (the database unreachable or locked, say) is logged and recorded in `health`, and
/// the round is tried again after a growing delay. Items already being synced go on meanwhile.
pub async fn run_worker<S: TenantSource>(
    db: Db,
    source: S,
    wakeup: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    concurrency: usize,
    health: Arc<WorkerHealth>,
) {
    let worker = format!("worker-{}", uuid::Uuid::new_v4().simple());
    health.started();
    tracing::info!(%worker, concurrency, "sync worker started");
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut consecutive_errors = 0u32;
    loop {
        let rounds = work_rounds(
            &db,
            &source,
            &worker,
            &wakeup,
            &mut stop,
            concurrency,
            &mut tasks,
            &health,
        );
        match rounds.await {
            Ok(()) => break,
            Err(e) => {
                let error = e.to_string();
                health.failed(&error);
                let delay = retry_delay(consecutive_errors);
                consecutive_errors += 1;
                tracing::error!(%worker, error = %error, retry_in_ms = delay.as_millis() as u64, "sync worker round failed; retrying");
                tokio::select! {
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(delay) => {}
                }
                if *stop.borrow() {
                    break;
                }
            }
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    match db.pool().acquire().await {
        Ok(mut conn) => {
            if let Err(e) = store::sync::deregister(&mut conn, &worker).await {
                tracing::warn!(error = %e, "sync worker could not deregister; its claims return once it is stale");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "sync worker could not deregister; its claims return once it is stale")
        }
    }
    tracing::info!(%worker, "sync worker stopped");
}

/// The worker's rounds until `stop` (Ok) or the first error (Err, for the caller to retry).
#[allow(clippy::too_many_arguments)]
async fn work_rounds<S: TenantSource>(
    db: &Db,
    source: &S,
    worker: &str,
    wakeup: &Notify,
    stop: &mut watch::Receiver<bool>,
    concurrency: usize,
    tasks: &mut JoinSet<()>,
    health: &WorkerHealth,
) -> Result<(), AppError> {
    let mut last_beat: Option<tokio::time::Instant> = None;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if last_beat.is_none_or(|at| at.elapsed() >= HEARTBEAT) {
            let mut conn = db.pool().acquire().await?;
            store::sync::heartbeat(&mut conn, db.backend(), worker).await?;
            let released = store::sync::release_orphaned(
                &mut conn,
                db.backend(),
                WORKER_STALE_AFTER.as_millis() as i64,
                ITEM_RETRY_BASE.as_millis() as i64,
                MAX_ITEM_ATTEMPTS,
            )
            .await?;
            // A job whose last item ended in a process that died before closing it.
            for job_id in store::sync::running_jobs(&mut conn).await? {
                close_job_if_complete(db, job_id).await?;
            }
            if released != store::sync::Released::default() {
                tracing::info!(
                    retried = released.retried,
                    given_up = released.given_up,
                    "took over sync work of a worker no longer heard from"
                );
            }
            last_beat = Some(tokio::time::Instant::now());
        }
        let free = concurrency.saturating_sub(tasks.len());
        let mut claimed = 0;
        if free > 0 {
            let items = {
                let mut conn = db.pool().acquire().await?;
                store::sync::claim(&mut conn, db.backend(), worker, free as i64).await?
            };
            claimed = items.len();
            for (job_id, customer_id) in items {
                let (db, source, worker) = (db.clone(), source.clone(), worker.to_owned());
                tasks.spawn(async move {
                    work_item(&db, &source, &worker, job_id, customer_id).await;
                });
            }
        }
        health.round_done();
        let busy = tasks.len() >= concurrency;
        let idle_wait = if claimed > 0 && !busy {
            Duration::ZERO
        } else {
            Duration::from_secs(1)
        };
        let next_beat = last_beat.map_or_else(tokio::time::Instant::now, |at| at + HEARTBEAT);
        // The heartbeat is due even while every task waits (e.g. on a long Retry-After).
        tokio::select! {
            _ = stop.changed() => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            () = wakeup.notified() => {}
            () = tokio::time::sleep(idle_wait), if !busy => {}
            () = tokio::time::sleep_until(next_beat) => {}
        }
    }
}

/// Syncs one claimed customer and records the item's end. Recording is retried until it
/// succeeds (the sync itself is not repeated), so a database that is briefly unavailable leaves
/// no item claimed forever.
async fn work_item<S: TenantSource>(
    db: &Db,
    source: &S,
    worker: &str,
    job_id: i64,
    customer_id: i64,
) {
    let mut error: Option<String> = None;
    let mut status: Option<SyncStatusRow> = None;
    for attempt in 0u32.. {
        let result = async {
            if status.is_none() {
                status = Some(sync_customer(db, source, customer_id).await?);
            }
            let failure = status.as_ref().and_then(|s| s.error.as_deref());
            // Committed on its own before the job is checked: of two workers ending the last
            // two items at once, the later one then sees both ends.
            store::sync::finish_item(
                &mut *db.pool().acquire().await?,
                job_id,
                customer_id,
                worker,
                failure,
                now_millis(),
            )
            .await?;
            close_job_if_complete(db, job_id).await
        };
        match result.await {
            Ok(()) => return,
            Err(e) => {
                let delay = retry_delay(attempt);
                let text = e.to_string();
                if error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(job_id, customer_id, error = %text, "sync item not recorded yet; retrying");
                }
                error = Some(text);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Marks the job finished when no item is left, with its audit line in the same transaction.
async fn close_job_if_complete(db: &Db, job_id: i64) -> Result<(), AppError> {
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    if store::sync::finish_job_if_complete(&mut tx, job_id, now).await? {
        let job = store::sync::latest_all_job(&mut tx)
            .await?
            .filter(|j| j.id == job_id);
        let (done, failed) = job.map_or((0, 0), |j| (j.done, j.failed));
        store::audit::insert(
            &mut tx,
            AuditEntry {
                at: now,
                actor_id: None,
                actor_email: "system",
                action: "sync.job_finished",
                customer_id: None,
                subject: &format!("sync job {job_id}"),
                before_json: None,
                after_json: Some(
                    json!({ "job_id": job_id, "done": done, "failed": failed }).to_string(),
                ),
            },
        )
        .await?;
        tracing::info!(job_id, done, failed, "sync job finished");
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(outcome: &str, finished_at: Millis) -> SyncStatusRow {
        SyncStatusRow {
            customer_id: 1,
            started_at: finished_at,
            finished_at,
            duration_ms: 0,
            outcome: outcome.into(),
            error: None,
            throttle_wait_ms: 0,
        }
    }

    #[test]
    fn the_badge_says_never_ok_stale_or_failed() {
        let now = 10 * SYNC_STALE_AFTER_MS;
        assert_eq!(badge(None, now), SyncBadge::Never);
        assert_eq!(badge(Some(&status("ok", now - 1000)), now), SyncBadge::Ok);
        assert_eq!(
            badge(Some(&status("ok", now - SYNC_STALE_AFTER_MS)), now),
            SyncBadge::Ok
        );
        assert_eq!(
            badge(Some(&status("ok", now - SYNC_STALE_AFTER_MS - 1)), now),
            SyncBadge::Stale
        );
        // A failure shows as failed however recent.
        assert_eq!(badge(Some(&status("failed", now)), now), SyncBadge::Failed);
    }
}
