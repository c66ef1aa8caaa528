//! `portal bench-reports`: the partner-wide License Reconciliation at scale. A fresh database
//! (SQLite, or PostgreSQL with `--postgres`) gets 10,000 customers by default, each with one
//! synced tenant of five Partner Center subscriptions and their licence counts, and a billed
//! record with planted differences (a quantity billed short, a subscription not billed, a billed
//! row Partner Center lacks, a cycle that disagrees). Times the summary through the service the
//! page calls: p50 / p95 / max, from the stored per-customer summaries, after the first view
//! (timed on its own) computed them.

use crate::bench_customers::{generate, ms, time};
use app::{
    model::{Role, StaffView},
    ssr::{
        db::{now_millis, Backend, Db},
        partner_center::wire::{
            Attributes, CompanyProfile, Customer, ProductSku, SubscribedSku, Subscription,
        },
        service::reports::{partner_reconciliation, PartnerQuery},
        store::{self, billed::BilledFields, sync::LicenceState},
    },
};
use std::time::Instant;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchReportsArgs {
    /// Customers, each with one tenant.
    #[arg(long, default_value_t = 10_000)]
    pub customers: i64,
    /// Partner Center subscriptions per tenant (at most 10).
    #[arg(long, default_value_t = 5)]
    pub subscriptions: usize,
    /// Runs of the summary.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Run on a fresh database on this PostgreSQL server (an admin URL) instead of SQLite.
    #[arg(long)]
    pub postgres: Option<String>,
}

const PRODUCTS: [(&str, &str); 10] = [
    ("CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic"),
    ("CFQ7TTC0LDPB:0001", "Microsoft 365 Business Standard"),
    ("CFQ7TTC0LCHC:0001", "Microsoft 365 Business Premium"),
    ("CFQ7TTC0LFLX:0001", "Microsoft 365 E3"),
    ("CFQ7TTC0LFK5:0001", "Microsoft 365 E5"),
    ("CFQ7TTC0LF8Q:0001", "Office 365 E1"),
    ("CFQ7TTC0LF8R:0001", "Office 365 E3"),
    ("CFQ7TTC0LH16:0001", "Exchange Online (Plan 1)"),
    ("CFQ7TTC0HD33:0001", "Visio Plan 2"),
    ("CFQ7TTC0HDB1:0001", "Project Plan 3"),
];

fn subscription(customer: i64, n: usize, quantity: i64) -> Subscription {
    let (offer_id, offer_name) = PRODUCTS[n];
    Subscription {
        id: format!("5ab5c0de-{n:04}-4000-8000-{customer:012}"),
        offer_id: offer_id.into(),
        offer_name: offer_name.into(),
        friendly_name: String::new(),
        quantity,
        unit_type: "Licenses".into(),
        creation_date: String::new(),
        effective_start_date: String::new(),
        commitment_end_date: "2027-06-30".into(),
        status: "active".into(),
        auto_renew_enabled: true,
        billing_type: "license".into(),
        billing_cycle: "monthly".into(),
        term_duration: "P1M".into(),
        is_trial: false,
        order_id: String::new(),
        attributes: Attributes::of("Subscription"),
    }
}

fn sku(n: usize, total: i64, consumed: i64) -> SubscribedSku {
    let (offer_id, name) = PRODUCTS[n];
    SubscribedSku {
        total_units: total,
        active_units: total,
        consumed_units: consumed,
        available_units: total - consumed,
        suspended_units: 0,
        warning_units: 0,
        capability_status: "Enabled".into(),
        product_sku: ProductSku {
            id: format!("sku-{offer_id}"),
            name: name.into(),
            sku_part_number: format!("SKU_{n}"),
            target_type: "User".into(),
            license_group_id: String::new(),
        },
        attributes: Attributes::of("SubscribedSku"),
    }
}

/// Fills each customer's tenant, its snapshot and its billed record.
async fn fill(db: &Db, customers: i64, per: usize) -> Result<(), Error> {
    let now = now_millis();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM customers ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    for chunk in ids.chunks(500) {
        let mut tx = db.begin_write().await?;
        for &c in chunk {
            let tenant = crate::demo::demo_tenant_id(3_000_000 + c as u64);
            store::customers::insert_tenant(&mut tx, c, &tenant, "Tenant", "t.example", now)
                .await?;
            let subscriptions: Vec<Subscription> = (0..per)
                .map(|n| subscription(c, n, 5 + ((c + n as i64) % 40)))
                .collect();
            let skus: Vec<SubscribedSku> = subscriptions
                .iter()
                .enumerate()
                .map(|(n, s)| sku(n, s.quantity, s.quantity - (c % 3)))
                .collect();
            let profile = Customer {
                id: tenant.clone(),
                commerce_id: String::new(),
                company_profile: CompanyProfile {
                    tenant_id: tenant.clone(),
                    domain: "t.example".into(),
                    company_name: "Tenant".into(),
                },
                billing_profile: Default::default(),
                relationship_to_partner: "reseller".into(),
                allow_delegated_access: true,
                attributes: Attributes::of("Customer"),
            };
            store::sync::store_tenant_snapshot(
                &mut tx,
                &tenant,
                now,
                &profile,
                Some(&subscriptions),
                LicenceState::Counted(&skus),
            )
            .await?;
            for (n, s) in subscriptions.iter().enumerate() {
                // Planted: every 7th customer's last subscription is not billed, every 3rd
                // bills its first one two short, every 11th bills the second yearly.
                if n + 1 == per && c % 7 == 0 {
                    continue;
                }
                let quantity = if n == 0 && c % 3 == 0 {
                    s.quantity - 2
                } else {
                    s.quantity
                };
                let fields = BilledFields {
                    product: s.offer_name.clone(),
                    offer_id: Some(s.offer_id.clone()),
                    pc_subscription_id: Some(s.id.clone()),
                    tenant_id: Some(tenant.clone()),
                    quantity,
                    billing_cycle: Some(
                        if n == 1 && c % 11 == 0 {
                            "annual"
                        } else {
                            "monthly"
                        }
                        .into(),
                    ),
                    term: Some("P1M".into()),
                    status: "active".into(),
                    auto_renew: Some(true),
                    unit_price: Some(format!("{}.50", 5 + n)),
                    currency: Some("EUR".into()),
                    notes: String::new(),
                };
                store::billed::insert(&mut tx, c, &fields, "bench-reports", now).await?;
            }
            // Every 13th bills a product Partner Center does not have.
            if c % 13 == 0 {
                let fields = BilledFields {
                    product: "Dynamics 365 Sales Professional".into(),
                    offer_id: None,
                    pc_subscription_id: None,
                    tenant_id: None,
                    quantity: 3,
                    billing_cycle: Some("monthly".into()),
                    term: None,
                    status: "active".into(),
                    auto_renew: None,
                    unit_price: Some("65.00".into()),
                    currency: Some("EUR".into()),
                    notes: String::new(),
                };
                store::billed::insert(&mut tx, c, &fields, "bench-reports", now).await?;
            }
        }
        tx.commit().await?;
    }
    let _ = customers;
    Ok(())
}

pub async fn run(args: BenchReportsArgs) -> Result<(), Error> {
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
    let per = args.subscriptions.clamp(1, PRODUCTS.len());
    let started = Instant::now();
    generate(&db, args.customers, 0).await?;
    fill(&db, args.customers, per).await?;
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE").execute(db.pool()).await?;
    }
    println!(
        "bench-reports on {}: {} customers, one tenant of {per} subscriptions each, billed records with planted differences (made in {:.1} s)",
        backend.name(),
        args.customers,
        started.elapsed().as_secs_f64()
    );
    let admin = StaffView {
        id: 0,
        email: "bench@reports.test".into(),
        display_name: "Bench".into(),
        role: Role::Admin,
    };
    // The data was written through the store, which marks each summary changed: the first
    // view computes them all in one pass (what a first start after the upgrade costs once).
    let cold = Instant::now();
    let first = partner_reconciliation(&db, &admin, &PartnerQuery::default())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "first view, every customer's summary computed and stored: {}",
        ms(cold.elapsed())
    );
    println!(
        "summary: {} customers looked at, {} with differences; {}",
        first.customers,
        first.customers_listed,
        first
            .totals
            .iter()
            .map(|(k, n)| format!("{n} {}", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (label, query) in [
        ("partner-wide summary", PartnerQuery::default()),
        (
            "one kind (quantity)",
            PartnerQuery {
                kind: "quantity_bought_over_billed".into(),
                ..Default::default()
            },
        ),
        (
            "page 20",
            PartnerQuery {
                page: 20,
                ..Default::default()
            },
        ),
    ] {
        let (p50, p95, max) = time(args.runs, || {
            let (db, admin, query) = (db.clone(), admin.clone(), query.clone());
            async move {
                partner_reconciliation(&db, &admin, &query)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string().into())
            }
        })
        .await?;
        println!(
            "{label:<24} p50 {:>9}  p95 {:>9}  max {:>9}",
            ms(p50),
            ms(p95),
            ms(max)
        );
    }
    println!("goal: the summary over 10,000 customers in p95 < 300 ms");
    test_db.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
