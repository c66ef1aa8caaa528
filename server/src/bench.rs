//! `portal bench-sync`: syncs every customer of a generated portal against the simulator with
//! added latency, and prints how close the run came to the floor the rate limit sets. The
//! simulator throttles at the same rate R (per 60-second window) and every 429 is counted.
//!
//! With `--processes N`, the syncing is done by N `portal serve` processes on the benchmark's
//! database (this process only takes the directory and starts the job): one rate budget shared
//! through the database keeps them together within R.

use crate::{
    demo,
    simulator::{self, Simulator, SimulatorOptions},
};
use app::{
    model::Role,
    ssr::{
        auth,
        db::{now_millis, Db},
        partner_center::{PartnerCenterClient, PartnerCenterConfig, Secret},
        service, store, AppState,
    },
};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Customers (one tenant each) to sync.
    #[arg(long, default_value_t = 2000)]
    pub customers: usize,
    /// Latency the simulator adds to every API request, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// The client's rate limit R, requests per minute.
    #[arg(long, default_value_t = 6000)]
    pub rate_per_minute: u32,
    /// Customers synced at the same time.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// The database to use, empty (default: a fresh SQLite file in a temporary folder).
    #[arg(long)]
    pub bench_database_url: Option<String>,
    /// `portal serve` processes that do the syncing, each with `--concurrency`; with 1 (the
    /// default) this process syncs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub processes: u32,
}

/// Starts `portal serve` as a child syncing against the simulator, on the bench's database.
fn spawn_server(
    args: &BenchArgs,
    url: &str,
    config: &PartnerCenterConfig,
    options: &SimulatorOptions,
) -> Result<tokio::process::Child, Error> {
    let exe = std::env::current_exe()?;
    let child = tokio::process::Command::new(exe)
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("PORTAL_ADDR", "127.0.0.1:0")
        .env("PORTAL_LOG", "warn")
        .env("PARTNER_CENTER_API_URL", &config.api_url)
        .env("PARTNER_CENTER_TOKEN_URL", &config.token_url)
        .env("PARTNER_CENTER_CLIENT_ID", &config.client_id)
        .env("PARTNER_CENTER_CLIENT_SECRET", &options.client_secret)
        .env("PARTNER_CENTER_REFRESH_TOKEN", &options.refresh_token)
        .env(
            "PARTNER_CENTER_RATE_PER_MINUTE",
            args.rate_per_minute.to_string(),
        )
        .env("PORTAL_SYNC_CONCURRENCY", args.concurrency.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    Ok(child)
}

/// The process's peak resident memory (VmHWM) in KiB, where the system reports it.
fn peak_memory_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|line| {
            line.strip_prefix("VmHWM:")?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
}

pub async fn run(args: BenchArgs) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("portal-bench-{}", uuid::Uuid::new_v4().simple()));
    let url = args
        .bench_database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let state = AppState::new(db.clone(), true);
    let admin_id = auth::create_staff(
        &state,
        "bench@portal.test",
        "Benchmark",
        Role::Admin,
        "bench-password".into(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let admin = app::model::StaffView {
        id: admin_id,
        email: "bench@portal.test".into(),
        display_name: "Benchmark".into(),
        role: Role::Admin,
    };

    let mut tenants = Vec::with_capacity(args.customers);
    let mut tx = db.begin_write().await?;
    for n in 0..args.customers {
        let id = store::customers::insert(
            &mut tx,
            &format!("Bench customer {n:05}"),
            &format!("bench{n}.test"),
            now_millis(),
        )
        .await?;
        let tenant_id = demo::demo_tenant_id(1_000_000 + n as u64);
        let name = format!("Bench tenant {n}");
        let domain = format!("bench{n}.onmicrosoft.com");
        store::customers::insert_tenant(&mut tx, id, &tenant_id, &name, &domain, now_millis())
            .await?;
        tenants.push((tenant_id, name, domain));
    }
    tx.commit().await?;

    let options = SimulatorOptions {
        latency: Duration::from_millis(args.latency_ms),
        // Partner Center's own limit, at the rate the client keeps: a client (or a set of
        // processes) going faster meets 429s.
        rate_limit: Some(args.rate_per_minute),
        rate_window: Duration::from_secs(60),
        ..Default::default()
    };
    let sim = Simulator::new(demo::simulator_data(&tenants), options.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = simulator::router(sim.clone());
    let sim_task = tokio::spawn(async move { axum::serve(listener, router).await });
    let mut config = PartnerCenterConfig::new(
        &format!("http://{addr}"),
        &format!("http://{addr}/bench.example/oauth2/token"),
        &options.client_id,
        Secret::new(options.client_secret.clone()),
    );
    config.rate_per_minute = args.rate_per_minute;
    // With delegated consent, as a partner who wants licence counts has.
    config.refresh_token = Some(Secret::new(options.refresh_token.clone()));
    let client = PartnerCenterClient::new(config.clone())?.with_shared_budget(db.clone());

    println!(
        "bench-sync: {} customers, {} ms added latency, R = {} requests/minute (the simulator's limit too), {} at a time in each of {} process{}",
        args.customers,
        args.latency_ms,
        args.rate_per_minute,
        args.concurrency,
        args.processes,
        if args.processes == 1 { "" } else { "es" }
    );
    let mut children = Vec::new();
    if args.processes > 1 {
        for _ in 0..args.processes {
            children.push(spawn_server(&args, &url, &config, &options)?);
        }
        // Ready once each has registered its sync worker.
        let ready = Instant::now();
        loop {
            let workers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_workers")
                .fetch_one(db.pool())
                .await?;
            if workers >= i64::from(args.processes) {
                break;
            }
            if ready.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "only {workers} of {} portal serve processes started their sync worker within 60 s",
                    args.processes
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let started = Instant::now();
    let (job_id, _) =
        service::sync::start_all_with_directory(&db, &client, &admin, &state.sync_wakeup).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = (args.processes == 1).then(|| {
        tokio::spawn(service::sync::run_worker(
            db.clone(),
            client.clone(),
            Arc::new(tokio::sync::Notify::new()),
            stop_rx,
            args.concurrency.max(1),
            Default::default(),
        ))
    });
    let job = loop {
        let job = store::sync::latest_all_job(&mut *db.pool().acquire().await?).await?;
        match job {
            Some(j) if j.id == job_id && j.state == "finished" => break j,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let elapsed = started.elapsed();
    let _ = stop_tx.send(true);
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    for mut child in children {
        let _ = child.kill().await;
    }
    sim_task.abort();

    let requests = sim.requests();
    let calls = requests.len();
    let throttled = requests.iter().filter(|r| r.status == 429).count();
    // Each customer's subscriptions are asked for once per sync of it (one tenant each).
    let subscription_calls = requests
        .iter()
        .filter(|r| r.path == "/v1/customers/{id}/subscriptions" && r.status == 200)
        .count();
    let claimed_again: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sync_job_items WHERE job_id = $1 AND attempts > 1",
    )
    .bind(job_id)
    .fetch_one(db.pool())
    .await?;
    let floor = Duration::from_secs_f64(calls as f64 * 60.0 / f64::from(args.rate_per_minute));
    let ratio = elapsed.as_secs_f64() / floor.as_secs_f64().max(f64::EPSILON);
    println!("customers synced: {} ok, {} failed", job.done, job.failed);
    println!(
        "synced once:      {subscription_calls} subscription reads for {} customers; {claimed_again} items claimed more than once",
        args.customers
    );
    println!("429 answered:     {throttled}");
    if args.processes > 1 {
        let shares: Vec<i64> = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sync_job_items WHERE job_id = $1 GROUP BY claimed_by ORDER BY 1 DESC",
        )
        .bind(job_id)
        .fetch_all(db.pool())
        .await?;
        let shares: Vec<String> = shares.iter().map(i64::to_string).collect();
        println!("customers per process: {}", shares.join(", "));
    }
    println!(
        "API calls:        {calls} (and {} token requests): {:.2} per customer, the directory's pages included",
        sim.tokens_issued(),
        calls as f64 / args.customers.max(1) as f64
    );
    println!("total time:       {:.1} s", elapsed.as_secs_f64());
    println!("floor (calls/R):  {:.1} s", floor.as_secs_f64());
    let goal = if args.processes > 1 { "1.10" } else { "1.15" };
    println!("ratio:            {ratio:.3} (goal: at most {goal})");
    match peak_memory_kib() {
        Some(kib) => println!(
            "peak memory:      {:.1} MiB ({}, simulator included)",
            kib as f64 / 1024.0,
            if args.processes > 1 {
                "this process, which took the directory; not the serve processes"
            } else {
                "the whole process"
            }
        ),
        None => println!("peak memory:      not reported by this system"),
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
