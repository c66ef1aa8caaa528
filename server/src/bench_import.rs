//! `portal bench-import`: imports a generated billing export (100,000 lines by default, ten per
//! customer) into a fresh database (SQLite, or PostgreSQL with `--postgres`) and prints the time
//! of the file's reading, the dry run, the import, and a second import of the same file (which
//! changes nothing).

use crate::bench_customers::generate;
use app::ssr::{
    db::{Backend, Db},
    service::{billed_import, provider::Actor},
};
use std::{fmt::Write, time::Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchImportArgs {
    /// Lines in the file.
    #[arg(long, default_value_t = 100_000)]
    pub lines: i64,
    /// Lines per customer.
    #[arg(long, default_value_t = 10)]
    pub per_customer: i64,
    /// Run on a fresh database on this PostgreSQL server (an admin URL) instead of SQLite.
    #[arg(long)]
    pub postgres: Option<String>,
}

const PRODUCTS: [&str; 10] = [
    "Microsoft 365 Business Basic",
    "Microsoft 365 Business Standard",
    "Microsoft 365 Business Premium",
    "Microsoft 365 E3",
    "Microsoft 365 E5",
    "Office 365 E1",
    "Office 365 E3",
    "Exchange Online (Plan 1)",
    "Visio Plan 2",
    "Project Plan 3",
];

pub async fn run(args: BenchImportArgs) -> Result<(), Error> {
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
    let per = args.per_customer.max(1);
    let customers = (args.lines + per - 1) / per;
    generate(&db, customers, 0).await?;
    let mut file =
        String::from("customer,product,quantity,billing_cycle,term,unit_price,currency\n");
    for n in 0..args.lines {
        let customer = 1 + n / per;
        let product = PRODUCTS[(n % per) as usize % PRODUCTS.len()];
        let product = if per as usize > PRODUCTS.len() {
            format!("{product} #{}", n % per)
        } else {
            product.to_owned()
        };
        writeln!(
            file,
            "{customer},{product},{},monthly,P1M,{}.50,EUR",
            1 + n % 300,
            5 + n % 40
        )?;
    }
    println!(
        "bench-import on {}: {} lines for {customers} customers ({} per customer), {:.1} MB",
        backend.name(),
        args.lines,
        per,
        file.len() as f64 / 1_048_576.0
    );
    let started = Instant::now();
    let lines = billed_import::read(file.as_bytes()).map_err(|e| e.to_string())?;
    println!(
        "read the file:      {:>7.2} s",
        started.elapsed().as_secs_f64()
    );
    let actor = Actor::System("bench-import");
    for (label, dry_run) in [
        ("dry run:           ", true),
        ("import:            ", false),
        ("import again:      ", false),
    ] {
        let started = Instant::now();
        let plan = billed_import::import(&db, actor, &lines, dry_run)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "{label} {:>7.2} s  ({} new, {} changed, {} rejected, {} ended)",
            started.elapsed().as_secs_f64(),
            plan.created(),
            plan.changed(),
            plan.rejected(),
            plan.ended.len()
        );
    }
    println!("goal: 100,000 lines imported in under 30 s on SQLite");
    test_db.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
