//! `portal bench-customers`: the customer list at scale. Generates customers and tenants in a
//! fresh database (SQLite, or PostgreSQL with `--postgres`), then times searches and pages
//! through the same service the list page calls, and prints p50 / p95 / max.

use app::{
    model::{Role, StaffView},
    ssr::{
        db::{Backend, Db},
        service,
    },
};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchCustomersArgs {
    /// Customers to generate.
    #[arg(long, default_value_t = 100_000)]
    pub customers: i64,
    /// Tenants to generate (one per customer, then a second for some).
    #[arg(long, default_value_t = 150_000)]
    pub tenants: i64,
    /// Runs of each query.
    #[arg(long, default_value_t = 40)]
    pub runs: usize,
    /// Run on a fresh database on this PostgreSQL server (an admin URL, e.g.
    /// postgres://postgres@127.0.0.1:5432/postgres) instead of a SQLite file.
    #[arg(long)]
    pub postgres: Option<String>,
}

const FIRST: [&str; 8] = [
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Adventure",
    "Proseware",
];
const SECOND: [&str; 8] = [
    "Logistics",
    "Dental",
    "Accounting",
    "Builders",
    "Clinic",
    "Foods",
    "Legal",
    "Studios",
];

/// `CASE expr % 8 WHEN 0 THEN 'a' …`: one of eight words, in SQL both backends read.
fn pick(expr: &str, words: &[&str; 8]) -> String {
    let arms: String = words
        .iter()
        .enumerate()
        .map(|(n, w)| format!(" WHEN {n} THEN '{w}'"))
        .collect();
    format!("(CASE {expr} % 8{arms} END)")
}

/// Customers named from two word lists and a number (`c{n}.example`), and `tenants` tenants
/// spread over them (none with 0).
pub(crate) async fn generate(db: &Db, customers: i64, tenants: i64) -> Result<(), Error> {
    let name = format!(
        "{} || ' ' || {} || ' ' || CAST(i AS TEXT)",
        pick("i", &FIRST),
        pick("(i / 8)", &SECOND)
    );
    let mut tx = db.begin_write().await?;
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO customers (name, name_key, primary_domain, search_key, created_at, updated_at)
         SELECT {name}, lower({name}), 'c' || CAST(i AS TEXT) || '.example',
                lower({name}) || ' c' || CAST(i AS TEXT) || '.example', 0, 0
         FROM n"
    ))
    .bind(customers)
    .execute(&mut *tx)
    .await?;
    if tenants == 0 {
        tx.commit().await?;
        return Ok(());
    }
    let tenant_id = "'00000000-0000-4000-8000-' || CAST(100000000000 + n.i AS TEXT)";
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO tenants (customer_id, tenant_id, name, domain, created_at)
         SELECT c.id, {tenant_id}, c.name, 't' || CAST(n.i AS TEXT) || '.onmicrosoft.com', 0
         FROM n JOIN customers c ON c.id = 1 + (n.i - 1) % $2"
    ))
    .bind(tenants)
    .bind(customers)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// p50, p95 and max of `runs` timings of `f`.
pub(crate) async fn time<F, Fut>(
    runs: usize,
    mut f: F,
) -> Result<(Duration, Duration, Duration), Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await?;
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    Ok((at(0.5), at(0.95), *times.last().unwrap_or(&Duration::ZERO)))
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub async fn run(args: BenchCustomersArgs) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("portal-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let backend = if args.postgres.is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let admin_url = args.postgres.clone().unwrap_or_default();
    let test_db = Db::connect_fresh_for_tests(backend, &admin_url, &dir).await?;
    let db = test_db.db.clone();
    let started = Instant::now();
    generate(&db, args.customers, args.tenants).await?;
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE").execute(db.pool()).await?;
    }
    println!(
        "bench-customers on {}: {} customers, {} tenants generated in {:.1} s; {} runs each",
        backend.name(),
        args.customers,
        args.tenants,
        started.elapsed().as_secs_f64(),
        args.runs
    );
    let admin = StaffView {
        id: 0,
        email: "bench@portal.test".into(),
        display_name: "Benchmark".into(),
        role: Role::Admin,
    };
    let list = |search: &'static str, after: Option<i64>| {
        let (db, admin) = (db.clone(), admin.clone());
        move || {
            let (db, admin) = (db.clone(), admin.clone());
            async move {
                service::customers::list(&db, &admin, search, after)
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::from(e.to_string()))
            }
        }
    };
    // The cursor of page 500: the last customer of page 499.
    let page_size = app::model::CUSTOMER_PAGE_SIZE;
    let after_499: i64 = sqlx::query_scalar(
        "SELECT id FROM customers WHERE deleted_at IS NULL ORDER BY name_key, id LIMIT 1 OFFSET $1",
    )
    .bind(499 * page_size - 1)
    .fetch_one(db.pool())
    .await?;
    let cases: [(&str, &'static str, Option<i64>); 8] = [
        ("page 1", "", None),
        ("page 500", "", Some(after_499)),
        ("search a whole name", "northwind builders 4242", None),
        ("search a word (1 in 8)", "logistics", None),
        ("search a domain", "c77777.example", None),
        (
            "search a tenant id prefix",
            "00000000-0000-4000-8000-1000000123",
            None,
        ),
        ("search two letters", "wi", None),
        ("search nothing found", "zzqx", None),
    ];
    let mut search_p95 = Duration::ZERO;
    for (label, search, after) in cases {
        let (p50, p95, max) = time(args.runs, list(search, after)).await?;
        if !search.is_empty() {
            search_p95 = search_p95.max(p95);
        }
        println!(
            "{label:<28} p50 {:>9}  p95 {:>9}  max {:>9}",
            ms(p50),
            ms(p95),
            ms(max)
        );
    }
    println!(
        "search p95 (worst case above): {} (goal: under 30 ms)",
        ms(search_p95)
    );
    test_db.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
