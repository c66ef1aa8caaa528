//! `portal bench-sign-in`: floods a portal served in this process with concurrent sign-ins
//! (wrong passwords, mostly for unknown addresses) while a monitor asks `/healthz`, and prints how
//! the portal held up: the answers, the slowest health check, and the process's peak memory.
//! Run twice: with the per-address limit as served (one attacker address) and without it (as if
//! the flood came from many addresses, so only the bounded password checks stand in the way).

use crate::{
    gate::GateState,
    startup::{leptos_options, router_with, serve},
};
use app::{
    model::Role,
    ssr::{auth, db::Db, AppState},
};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    time::{Duration, Instant},
};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchSignInArgs {
    /// Sign-in requests sent at once.
    #[arg(long, default_value_t = 1000)]
    pub requests: usize,
    /// Sign-ins one client address may make a minute; 0 lifts the limit (a distributed flood).
    #[arg(long, default_value_t = crate::gate::SIGN_IN_PER_MINUTE)]
    pub per_minute: u32,
}

/// `VmHWM` (peak) or `VmRSS` (now) of this process, in KiB.
fn memory_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
}

pub async fn run(args: BenchSignInArgs) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("portal-bench-{}", uuid::Uuid::new_v4().simple()));
    let db = Db::connect(&format!("sqlite://{}/bench.db", dir.display())).await?;
    db.migrate().await?;
    let state = AppState::new(db.clone(), false);
    auth::create_staff(
        &state,
        "admin@bench.test",
        "Admin",
        Role::Admin,
        "bench-password-1".into(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let per_minute = if args.per_minute == 0 {
        u32::MAX
    } else {
        args.per_minute
    };
    let gate = GateState::with_sign_in_limit(state.clone(), per_minute);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    let router = router_with(gate, leptos_options("target/site", addr));
    let server = tokio::spawn(serve(listener, router, std::future::pending()));
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(120))
        .build()?;

    let rss_before = memory_kib("VmRSS:").unwrap_or(0);
    println!(
        "bench-sign-in: {} concurrent sign-ins, per-address limit {}, password checks at once {}",
        args.requests,
        if args.per_minute == 0 {
            "off".to_owned()
        } else {
            format!("{}/min", args.per_minute)
        },
        state.sign_in.policy.hashing_permits
    );

    // The monitor: a health check every 100 ms while the flood lasts.
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let monitor = tokio::spawn({
        let (client, base) = (client.clone(), base.clone());
        async move {
            let (mut checks, mut failed, mut slowest) = (0u32, 0u32, Duration::ZERO);
            loop {
                let started = Instant::now();
                let ok = client
                    .get(format!("{base}/healthz"))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                slowest = slowest.max(started.elapsed());
                checks += 1;
                failed += u32::from(!ok);
                tokio::select! {
                    _ = done_rx.changed() => break,
                    () = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
            (checks, failed, slowest)
        }
    });

    let started = Instant::now();
    let mut flood = tokio::task::JoinSet::new();
    for n in 0..args.requests {
        let (client, base) = (client.clone(), base.clone());
        flood.spawn(async move {
            // Every tenth request aims at the real account, the rest at unknown addresses.
            let email = if n % 10 == 0 {
                "admin@bench.test".to_owned()
            } else {
                format!("guess{n}@bench.test")
            };
            let sent = Instant::now();
            let status = client
                .post(format!("{base}/api/sign_in"))
                .form(&[("email", email.as_str()), ("password", "wrong")])
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            (status, sent.elapsed())
        });
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut slowest_answer = Duration::ZERO;
    while let Some(answer) = flood.join_next().await {
        let (status, took) = answer?;
        *statuses.entry(status).or_default() += 1;
        slowest_answer = slowest_answer.max(took);
    }
    let elapsed = started.elapsed();
    let _ = done_tx.send(true);
    let (checks, failed, slowest_check) = monitor.await?;
    let peak = memory_kib("VmHWM:").unwrap_or(0);
    server.abort();
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    let answers: Vec<String> = statuses
        .iter()
        .map(|(status, n)| {
            format!(
                "{n} × {}",
                if *status == 0 {
                    "no answer".to_owned()
                } else {
                    status.to_string()
                }
            )
        })
        .collect();
    println!("answers              {}", answers.join(", "));
    println!(
        "flood took           {:.2} s (slowest answer {:.2} s)",
        elapsed.as_secs_f64(),
        slowest_answer.as_secs_f64()
    );
    println!(
        "/healthz             {checks} checks, {failed} failed, slowest {:.0} ms",
        slowest_check.as_secs_f64() * 1000.0
    );
    println!(
        "memory               {:.0} MiB before, peak {:.0} MiB",
        rss_before as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    Ok(())
}
