//! `portal bench-link`: Link to Provider at scale. The simulator lists the partner's customers
//! (20,000 by default: 40 pages of 500) and the portal holds as many customers of its own, a
//! quarter of the tenants named like one of them, a quarter on one's primary domain. Times the
//! directory refresh (and counts its calls), the suggestions for every unlinked tenant (the
//! dry run of "Accept suggestions" over all of them), the `/provider` page (p50 / p95 / max,
//! through the service the page calls) and a Link Multiple of 5,000 tenants as new customers.

use crate::{
    bench_customers::{generate, ms, time},
    demo,
    simulator::{self, Simulator, SimulatorOptions},
};
use app::{
    model::{LinkFilter, Role, StaffView},
    ssr::{
        db::{Backend, Db},
        partner_center::{PartnerCenterClient, PartnerCenterConfig, Secret},
        service::{
            self,
            provider::{Actor, DirectoryRequest, LinkTarget, Selection},
        },
        store,
    },
};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchLinkArgs {
    /// Customers the simulator lists (the provider directory's size).
    #[arg(long, default_value_t = 20_000)]
    pub tenants: usize,
    /// Customers already in the portal, the suggestions' candidates.
    #[arg(long, default_value_t = 20_000)]
    pub customers: i64,
    /// Tenants linked as new customers in one Link Multiple.
    #[arg(long, default_value_t = 5_000)]
    pub link: usize,
    /// Runs of each page.
    #[arg(long, default_value_t = 40)]
    pub runs: usize,
    /// The client's rate limit, requests per minute (Partner Center allows about 500).
    #[arg(long, default_value_t = 500)]
    pub rate_per_minute: u32,
    /// Run on a fresh database on this PostgreSQL server (an admin URL, e.g.
    /// postgres://postgres@127.0.0.1:5432/postgres) instead of a SQLite file.
    #[arg(long)]
    pub postgres: Option<String>,
}

pub async fn run(args: BenchLinkArgs) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("portal-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let backend = if args.postgres.is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let test_db =
        Db::connect_fresh_for_tests(backend, args.postgres.as_deref().unwrap_or(""), &dir).await?;
    let db = test_db.db.clone();
    generate(&db, args.customers, 0).await?;
    store::customers::fill_match_keys(&mut *db.pool().acquire().await?).await?;

    // Tenant n: named like portal customer n (with a legal suffix) when n % 4 == 0, on its
    // primary domain when n % 4 == 1, else a company the portal does not know.
    let names: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, primary_domain FROM customers ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    let tenants: Vec<(String, String, String)> = (0..args.tenants)
        .map(|n| {
            let id = demo::demo_tenant_id(2_000_000 + n as u64);
            let known = names.get(n);
            match (n % 4, known) {
                (0, Some((_, name, _))) => {
                    (id, format!("{name} Ltd"), format!("t{n}.onmicrosoft.com"))
                }
                (1, Some((_, _, domain))) => (id, format!("Tenant company {n}"), domain.clone()),
                _ => (
                    id,
                    format!("New company {n}"),
                    format!("new{n}.onmicrosoft.com"),
                ),
            }
        })
        .collect();
    let options = SimulatorOptions::default();
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
    let client = PartnerCenterClient::new(config)?.with_shared_budget(db.clone());
    println!(
        "bench-link on {}: {} tenants in Partner Center, {} portal customers, R = {} requests/minute",
        backend.name(),
        args.tenants,
        args.customers,
        args.rate_per_minute
    );

    let started = Instant::now();
    let counts = service::provider::refresh(&db, &client, Actor::System("bench-link"))
        .await
        .map_err(|e| e.to_string())?;
    let refresh = started.elapsed();
    let calls = sim.requests().len();
    let floor = Duration::from_secs_f64(calls as f64 * 60.0 / f64::from(args.rate_per_minute));
    println!(
        "refresh the directory:        {:>9}  ({} tenants, {calls} calls and {} token request; the rate alone needs {:.1} s)",
        format!("{:.1} s", refresh.as_secs_f64()),
        counts.listed,
        sim.tokens_issued(),
        floor.as_secs_f64()
    );
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE").execute(db.pool()).await?;
    }

    // The matcher alone: every directory tenant against every portal customer.
    let started = Instant::now();
    let mut conn = db.pool().acquire().await?;
    let rows = store::provider::all(&mut conn).await?;
    let (suggestions, _) = service::provider::suggestions_for(&mut conn, &rows)
        .await
        .map_err(|e| e.to_string())?;
    drop(conn);
    let clear = suggestions
        .values()
        .filter(|s| matches!(s, app::ssr::matching::Suggestion::Customer { .. }))
        .count();
    println!(
        "suggestions for all tenants:  {:>9}  ({} tenants against {} customers: {clear} clear)",
        ms(started.elapsed()),
        rows.len(),
        args.customers
    );

    // "Accept suggestions" over every unlinked tenant, as a dry run: it links each clear one
    // and audits it, then rolls back.
    let started = Instant::now();
    let dry_run = service::provider::accept_suggestions(
        &db,
        Actor::System("bench-link"),
        &Selection::AllUnlinkedMatching {
            search: String::new(),
            expected: None,
        },
        None,
        true,
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "accept suggestions, dry run:  {:>9}  ({} linked and rolled back, {} left)",
        ms(started.elapsed()),
        dry_run.linked.len(),
        dry_run.left
    );

    let admin = StaffView {
        id: 0,
        email: "bench@portal.test".into(),
        display_name: "Benchmark".into(),
        role: Role::Admin,
    };
    let page_size = app::model::PROVIDER_PAGE_SIZE;
    let middle: String = sqlx::query_scalar(
        "SELECT tenant_id FROM provider_directory ORDER BY name_key, tenant_id LIMIT 1 OFFSET $1",
    )
    .bind((args.tenants as i64 / page_size / 2) * page_size - 1)
    .fetch_one(db.pool())
    .await?;
    let page = |search: &'static str, filter: LinkFilter, after: Option<String>| {
        let (db, admin) = (db.clone(), admin.clone());
        move || {
            let (db, admin, after) = (db.clone(), admin.clone(), after.clone());
            async move {
                let request = DirectoryRequest {
                    search,
                    filter,
                    after: after.as_deref(),
                    for_customer: None,
                };
                service::provider::directory_page(&db, &admin, true, request)
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::from(e.to_string()))
            }
        }
    };
    let middle_id = middle.clone();
    let cases: Vec<(&str, &'static str, LinkFilter, Option<String>)> = vec![
        ("page 1, unlinked", "", LinkFilter::Unlinked, None),
        (
            "a middle page, unlinked",
            "",
            LinkFilter::Unlinked,
            Some(middle_id),
        ),
        ("page 1, all", "", LinkFilter::All, None),
        (
            "search a name",
            "new company 1234",
            LinkFilter::Unlinked,
            None,
        ),
        (
            "search a word (1 in 2)",
            "company",
            LinkFilter::Unlinked,
            None,
        ),
        (
            "search a domain",
            "new777.onmicrosoft.com",
            LinkFilter::All,
            None,
        ),
        ("search nothing found", "zzqx", LinkFilter::All, None),
    ];
    let mut worst = Duration::ZERO;
    for (label, search, filter, after) in cases {
        let (p50, p95, max) = time(args.runs, page(search, filter, after)).await?;
        worst = worst.max(p95);
        println!(
            "/provider {label:<24} p50 {:>9}  p95 {:>9}  max {:>9}",
            ms(p50),
            ms(p95),
            ms(max)
        );
    }
    println!("/provider p95 (worst case above): {}", ms(worst));

    // Link Multiple: tenants the portal does not know, each as a new customer, in one batch.
    let new_ones: Vec<String> = tenants
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 4 >= 2 || *n >= names.len())
        .map(|(_, (id, _, _))| id.clone())
        .take(args.link)
        .collect();
    let started = Instant::now();
    let outcome = service::provider::link(
        &db,
        Actor::System("bench-link"),
        &Selection::Tenants(new_ones),
        &LinkTarget::NewEach,
        None,
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "Link Multiple as new:         {:>9}  ({} tenants, {} customers created; goal on SQLite: under 10 s for 5,000)",
        format!("{:.2} s", started.elapsed().as_secs_f64()),
        outcome.linked.len(),
        outcome.created.len()
    );
    let (p50, p95, max) = time(args.runs, page("", LinkFilter::Linked, None)).await?;
    println!(
        "/provider page 1, linked       p50 {:>9}  p95 {:>9}  max {:>9}",
        ms(p50),
        ms(p95),
        ms(max)
    );

    sim_task.abort();
    test_db.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
