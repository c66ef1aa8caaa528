//! `portal bench-csv`: the partner-wide License Consumption CSV (`/api/reports/consumption.csv`)
//! over generated licence lines in a SQLite file: 100,000 and 1,000,000 by default, ten products
//! per tenant, one tenant per customer. For each size, a child process (so the generation's
//! memory is not counted) streams the CSV the way the route does, into a sink that counts the
//! bytes, and reports its time and its peak resident memory (`VmHWM`); then `sqlite3 -csv` runs
//! the same statement on the same file into /dev/null, for the throughput ratio.

use crate::{bench_customers::generate, csv_stream};
use app::ssr::{db::Db, store};
use std::{
    process::{Command, Stdio},
    time::Instant,
};
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchCsvArgs {
    /// Licence lines to generate, one run each (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    pub rows: Vec<i64>,
    /// Internal: stream the CSV of the database at this URL and print what it took.
    #[arg(long, hide = true)]
    pub stream_only: Option<String>,
}

/// Products per tenant.
const PRODUCTS: i64 = 10;

pub async fn run(args: BenchCsvArgs) -> Result<(), Error> {
    if let Some(url) = args.stream_only {
        return stream_only(&url).await;
    }
    let sqlite3 = Command::new("sqlite3").arg("-version").output().is_ok();
    for rows in args.rows {
        let dir =
            std::env::temp_dir().join(format!("portal-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("bench.db");
        let url = format!("sqlite://{}", file.display());
        let started = Instant::now();
        fill(&url, rows).await?;
        println!(
            "bench-csv: {rows} licence lines ({} customers of one tenant and {PRODUCTS} products), made in {:.1} s, file {:.0} MB",
            rows / PRODUCTS,
            started.elapsed().as_secs_f64(),
            std::fs::metadata(&file)?.len() as f64 / 1_048_576.0
        );
        // The portal's streaming, in a process of its own.
        let output = Command::new(std::env::current_exe()?)
            .args(["bench-csv", "--stream-only", &url])
            .env("PORTAL_LOG", "warn")
            .stderr(Stdio::inherit())
            .output()?;
        // Its figures are its last line (a slow-statement warning may come before).
        let said = String::from_utf8_lossy(&output.stdout).to_string();
        let figures: Vec<f64> = said
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let [lines, bytes, seconds, peak_kb] = figures[..] else {
            return Err(format!("the streaming child said {said:?}").into());
        };
        println!(
            "  portal CSV stream:  {seconds:>6.2} s  {:>9.0} lines/s  {:.0} MB written  peak RSS {:.1} MB  ({lines} lines)",
            lines / seconds,
            bytes / 1_048_576.0,
            peak_kb / 1024.0
        );
        if sqlite3 {
            let sql = store::billed::partner_licences_sql()
                .replace("$1", "0")
                .replace("$2", "''")
                .replace("$3", "''");
            let started = Instant::now();
            let status = Command::new("sqlite3")
                .arg("-csv")
                .arg(&file)
                .arg(&sql)
                .stdout(Stdio::null())
                .status()?;
            let baseline = started.elapsed().as_secs_f64();
            if !status.success() {
                return Err("sqlite3 -csv failed on the statement".into());
            }
            println!(
                "  sqlite3 -csv:       {baseline:>6.2} s  {:>9.0} lines/s  → the portal at {:.2}x of sqlite3's throughput",
                lines / baseline,
                baseline / seconds
            );
        } else {
            println!("  sqlite3 -csv:       not installed here, no ratio");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "goals: peak RSS <= 64 MB and flat as the lines grow; throughput >= 0.5x sqlite3 -csv"
    );
    Ok(())
}

/// A migrated database with `rows` counted licence lines.
async fn fill(url: &str, rows: i64) -> Result<(), Error> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let customers = (rows + PRODUCTS - 1) / PRODUCTS;
    generate(&db, customers, customers).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO tenant_snapshots (tenant_id, fetched_at, company_name, domain, profile_json, licences)
         SELECT tenant_id, 0, name, domain, '{}', 'counted' FROM tenants",
    )
    .execute(&mut *tx)
    .await?;
    // A product name a spreadsheet would run, to keep the neutralising in the measured path.
    sqlx::query(
        "WITH RECURSIVE p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n < $1 - 1)
         INSERT INTO tenant_subscribed_skus (tenant_id, sku_id, sku_part_number, product_name,
             total_units, active_units, consumed_units, available_units, suspended_units,
             warning_units, capability_status, fetched_at)
         SELECT t.tenant_id, 'sku-' || CAST(p.n AS TEXT), 'SKU_' || CAST(p.n AS TEXT),
                CASE WHEN p.n = 0 THEN '=Product, \"zero\"' ELSE 'Microsoft 365 Product ' || CAST(p.n AS TEXT) END,
                10 + (t.id + p.n) % 90, 10 + (t.id + p.n) % 90, (t.id * 7 + p.n) % 100,
                10 + (t.id + p.n) % 90 - (t.id * 7 + p.n) % 100, 0, 0, 'Enabled', 0
         FROM tenants t CROSS JOIN p",
    )
    .bind(PRODUCTS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(db.pool()).await?;
    db.pool().close().await;
    Ok(())
}

/// The child: streams the whole CSV into a counting sink; prints lines, bytes, seconds and the
/// peak resident memory in KB.
async fn stream_only(url: &str) -> Result<(), Error> {
    let db = Db::connect(url).await?;
    let started = Instant::now();
    let thresholds = csv_stream::Thresholds::load(&db).await?;
    let export = csv_stream::PartnerExport {
        scoped_to_staff: None,
        tag: None,
        excel: false,
    };
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
    let counter = tokio::spawn(async move {
        let mut bytes = 0usize;
        while let Some(chunk) = rx.recv().await {
            bytes += chunk.len();
        }
        bytes
    });
    let lines = csv_stream::write(&db, &export, &thresholds, &tx).await?;
    drop(tx);
    let bytes = counter.await?;
    let seconds = started.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status")?;
    let peak_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    println!("{lines} {bytes} {seconds} {peak_kb}");
    Ok(())
}
