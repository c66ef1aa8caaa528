//! `portal bench-sync`: syncs every customer of a generated portal against the simulator with
//! added latency, and prints how close the run came to the floor the rate limit sets.

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
    /// The database to use (default: a fresh SQLite file in a temporary folder).
    #[arg(long)]
    pub bench_database_url: Option<String>,
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
    let client = PartnerCenterClient::new(config)?;

    println!(
        "bench-sync: {} customers, {} ms added latency, R = {} requests/minute, {} at a time",
        args.customers, args.latency_ms, args.rate_per_minute, args.concurrency
    );
    let started = Instant::now();
    let (job_id, _) =
        service::sync::start_all_with_directory(&db, &client, &admin, &state.sync_wakeup).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        db.clone(),
        client.clone(),
        Arc::new(tokio::sync::Notify::new()),
        stop_rx,
        args.concurrency.max(1),
        Default::default(),
    ));
    let job = loop {
        let job = store::sync::latest_all_job(&mut *db.pool().acquire().await?).await?;
        match job {
            Some(j) if j.id == job_id && j.state == "finished" => break j,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let elapsed = started.elapsed();
    let _ = stop_tx.send(true);
    let _ = worker.await;
    sim_task.abort();

    let calls = sim.requests().len();
    let floor = Duration::from_secs_f64(calls as f64 * 60.0 / f64::from(args.rate_per_minute));
    let ratio = elapsed.as_secs_f64() / floor.as_secs_f64().max(f64::EPSILON);
    println!("customers synced: {} ok, {} failed", job.done, job.failed);
    println!(
        "API calls:        {calls} (and {} token requests): {:.2} per customer, the directory's pages included",
        sim.tokens_issued(),
        calls as f64 / args.customers.max(1) as f64
    );
    println!("total time:       {:.1} s", elapsed.as_secs_f64());
    println!("floor (calls/R):  {:.1} s", floor.as_secs_f64());
    println!("ratio:            {ratio:.3} (goal: at most 1.15)");
    match peak_memory_kib() {
        Some(kib) => println!(
            "peak memory:      {:.1} MiB (the whole process, simulator included)",
            kib as f64 / 1024.0
        ),
        None => println!("peak memory:      not reported by this system"),
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
