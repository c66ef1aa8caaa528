//! `portal bench-audit`: the audit log page at scale. A fresh database (SQLite, or PostgreSQL
//! with `--postgres`) gets 1,000,000 entries by default (20 staff members, 5,000 customers, six
//! actions, one a second), then the page's service is timed: the first page and page 1,000
//! (as "Older entries" reaches it: the keyset id of its start), unfiltered and with each
//! filter, for an admin and for finance (its billing and report entries only). p50 / p95 / max.

use crate::bench_customers::{generate, ms, time};
use app::{
    model::{Role, StaffView},
    ssr::{
        db::{Backend, Db},
        service::audit::{log_page, LogQuery},
    },
};
use std::time::Instant;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchAuditArgs {
    /// Audit entries.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: i64,
    /// Runs of each page.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// Run on a fresh database on this PostgreSQL server (an admin URL) instead of SQLite.
    #[arg(long)]
    pub postgres: Option<String>,
}

const CUSTOMERS: i64 = 5_000;
const PAGE: i64 = app::model::AUDIT_PAGE_SIZE;

async fn fill(db: &Db, entries: i64) -> Result<(), Error> {
    generate(db, CUSTOMERS, 0).await?;
    let mut tx = db.begin_write().await?;
    app::ssr::store::audit::insert_generated(&mut tx, entries, CUSTOMERS).await?;
    tx.commit().await?;
    Ok(())
}

/// The id page `n` (1-based) starts below: the id of the last entry of page `n - 1`.
async fn before_of_page(db: &Db, filter_sql: &str, n: i64) -> Result<Option<i64>, Error> {
    if n <= 1 {
        return Ok(None);
    }
    let sql = format!(
        "SELECT id FROM audit_log WHERE {filter_sql} ORDER BY at DESC, id DESC LIMIT 1 OFFSET {}",
        (n - 1) * PAGE - 1
    );
    Ok(sqlx::query_scalar(&sql).fetch_optional(db.pool()).await?)
}

pub async fn run(args: BenchAuditArgs) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("portal-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let backend = if args.postgres.is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let test_db =
        Db::connect_fresh_for_tests(backend, &args.postgres.clone().unwrap_or_default(), &dir)
            .await?;
    let db = test_db.db.clone();
    let started = Instant::now();
    fill(&db, args.entries).await?;
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE").execute(db.pool()).await?;
    }
    println!(
        "bench-audit on {}: {} entries generated in {:.1} s; {} runs each, p50 / p95 / max",
        backend.name(),
        args.entries,
        started.elapsed().as_secs_f64(),
        args.runs
    );
    let staff = |role: Role| StaffView {
        id: 1,
        email: "bench@partner.example".into(),
        display_name: "bench".into(),
        role,
    };
    let cases: [(&str, Role, LogQuery, &str); 7] = [
        ("everything", Role::Admin, LogQuery::default(), "1 = 1"),
        (
            "one customer",
            Role::Admin,
            LogQuery {
                customer: "7".into(),
                ..LogQuery::default()
            },
            "customer_id = 7",
        ),
        (
            "one staff member",
            Role::Admin,
            LogQuery {
                staff: "staff3@partner.example".into(),
                ..LogQuery::default()
            },
            "actor_email = 'staff3@partner.example'",
        ),
        (
            "one action",
            Role::Admin,
            LogQuery {
                action: "tag.add".into(),
                ..LogQuery::default()
            },
            "action = 'tag.add'",
        ),
        (
            "a month",
            Role::Admin,
            LogQuery {
                from: "2026-01-05".into(),
                to: "2026-02-04".into(),
                ..LogQuery::default()
            },
            "at >= 1767571200000 AND at < 1770249600000",
        ),
        (
            "one action in a month",
            Role::Admin,
            LogQuery {
                action: "tag.add".into(),
                from: "2026-01-05".into(),
                to: "2026-02-04".into(),
                ..LogQuery::default()
            },
            "action = 'tag.add' AND at >= 1767571200000 AND at < 1770249600000",
        ),
        (
            "finance (billing and reports)",
            Role::Finance,
            LogQuery::default(),
            "(action LIKE 'billed.%' OR action LIKE 'billing.%' OR action LIKE 'reconciliation.%')",
        ),
    ];
    for (name, role, query, filter_sql) in cases {
        let who = staff(role);
        for page in [1, 1000] {
            let before = before_of_page(&db, filter_sql, page).await?;
            if page > 1 && before.is_none() {
                println!("  {name:<32} page {page:>5}: (fewer pages)");
                continue;
            }
            let query = LogQuery {
                before,
                ..query.clone()
            };
            let shown = log_page(&db, &who, &query).await?.entries.len();
            let (p50, p95, max) = time(args.runs, || {
                let (db, who, query) = (&db, &who, &query);
                async move {
                    log_page(db, who, query).await?;
                    Ok(())
                }
            })
            .await?;
            println!(
                "  {name:<32} page {page:>5}: {:>9} / {:>9} / {:>9}  ({shown} entries)",
                ms(p50),
                ms(p95),
                ms(max)
            );
        }
    }
    test_db.drop_database().await;
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
