//! A partner's first day, as separate processes: `portal pc-sim` alone, with a data file in
//! Partner Center's own JSON; `portal serve` on an EMPTY database pointed at it; one admin made
//! with `portal user add`. No demo data anywhere. Through the endpoints of `/provider` the admin
//! takes the directory and links tenants; `portal provider link` links the rest from the command
//! line (one to an existing customer, the clear suggestions after a dry run, every other one as
//! new). Every customer then shows in the list, and the server's worker syncs each of them.

use app::ssr::db::Db;
use reqwest::{redirect::Policy, Client, StatusCode};
use std::{
    process::{Output, Stdio},
    time::Duration,
};
use tokio::{
    io::AsyncWriteExt,
    process::{Child, Command},
};

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

const CONTOSO: &str = "4b1d6a52-0c4e-4d5f-9a57-1f0c3e8b2a01";
const FABRIKAM: &str = "4b1d6a52-0c4e-4d5f-9a57-1f0c3e8b2a02";
const CONTOSO_EU: &str = "4b1d6a52-0c4e-4d5f-9a57-1f0c3e8b2a03";
const FABRIKAM_UK: &str = "4b1d6a52-0c4e-4d5f-9a57-1f0c3e8b2a04";
const NORTHWIND: &str = "4b1d6a52-0c4e-4d5f-9a57-1f0c3e8b2a05";

/// One customer as Partner Center answers it (the shapes of Microsoft's documentation), with one
/// subscription and its subscribed SKU.
fn pc_customer(tenant: &str, company: &str, domain: &str) -> serde_json::Value {
    serde_json::json!({
        "customer": {
            "id": tenant,
            "companyProfile": { "tenantId": tenant, "domain": domain, "companyName": company },
            "relationshipToPartner": "reseller",
            "attributes": { "objectType": "Customer" }
        },
        "subscriptions": [{
            "id": format!("{}-sub", &tenant[..8]),
            "offerId": "CFQ7TTC0LDPB:0001",
            "offerName": "Microsoft 365 Business Standard",
            "friendlyName": "Microsoft 365 Business Standard",
            "quantity": 12,
            "unitType": "Licenses",
            "status": "active",
            "billingCycle": "monthly",
            "termDuration": "P1M",
            "autoRenewEnabled": true,
            "isTrial": false,
            "attributes": { "objectType": "Subscription" }
        }],
        "subscribedSkus": [{
            "totalUnits": 12, "activeUnits": 12, "consumedUnits": 10, "availableUnits": 2,
            "productSku": { "id": "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
                            "name": "Microsoft 365 Business Standard",
                            "skuPartNumber": "O365_BUSINESS_PREMIUM" },
            "attributes": { "objectType": "SubscribedSku" }
        }]
    })
}

/// `portal` with the database and Partner Center settings of this installation.
fn portal(database_url: &str, sim: &str, site_root: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portal"));
    command
        .env("DATABASE_URL", database_url)
        .env("PARTNER_CENTER_API_URL", format!("http://{sim}"))
        .env(
            "PARTNER_CENTER_TOKEN_URL",
            format!("http://{sim}/partner.example/oauth2/token"),
        )
        .env("PARTNER_CENTER_CLIENT_ID", "onboarding-app")
        .env("PARTNER_CENTER_CLIENT_SECRET", "onboarding-secret")
        .env("PARTNER_CENTER_REFRESH_TOKEN", "onboarding-refresh-token")
        .env("PORTAL_COOKIE_SECURE", "false")
        .env("LEPTOS_SITE_ROOT", site_root)
        .env("PORTAL_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn run(mut command: Command, args: &[&str]) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = command.args(args).output().await.unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    );
    assert!(status.success(), "portal {args:?} failed: {stdout}{stderr}");
    stdout
}

/// Polls (bounded) until `url` answers 200, or for the simulator any answer at all.
async fn wait_until_up(client: &Client, url: &str, any_answer: bool) {
    for _ in 0..300 {
        if let Ok(res) = client.get(url).send().await {
            if any_answer || res.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not come up within 30 s");
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_partner_onboards_its_customers_from_an_empty_database_through_the_provider_page_and_the_command_line(
) {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "portal-onboarding-{}",
        uuid::Uuid::new_v4().simple()
    )));
    std::fs::create_dir_all(&dir.0).unwrap();
    let database_url = format!("sqlite://{}/portal.db", dir.0.display());

    // Partner Center: the simulator alone, with the partner's five customers.
    let data = serde_json::json!({ "customers": [
        pc_customer(CONTOSO, "Contoso Ltd", "contoso.onmicrosoft.com"),
        pc_customer(FABRIKAM, "Fabrikam, Inc.", "fabrikam.onmicrosoft.com"),
        pc_customer(CONTOSO_EU, "Contoso Europe BV", "contosoeu.onmicrosoft.com"),
        pc_customer(FABRIKAM_UK, "FABRIKAM Limited", "fabrikamuk.onmicrosoft.com"),
        pc_customer(NORTHWIND, "Northwind Traders", "northwind.onmicrosoft.com"),
    ]});
    let data_file = dir.0.join("partner-center.json");
    std::fs::write(&data_file, data.to_string()).unwrap();
    let sim = free_addr();
    let _sim: Child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["pc-sim", "--data"])
        .arg(&data_file)
        .args(["--addr", &sim, "--client-id", "onboarding-app"])
        .env("PC_SIM_CLIENT_SECRET", "onboarding-secret")
        .env("PC_SIM_REFRESH_TOKEN", "onboarding-refresh-token")
        .env("PORTAL_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the simulator starts");

    // The portal: an empty database and one admin; a common password is refused first, as on
    // the staff page.
    let add_admin = |password: &'static [u8]| {
        let mut add = portal(&database_url, &sim, &dir.0)
            .args([
                "user",
                "add",
                "--email",
                "admin@partner.test",
                "--role",
                "admin",
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = add.stdin.take().unwrap();
        async move {
            stdin.write_all(password).await.unwrap();
            drop(stdin);
            add.wait_with_output().await.unwrap()
        }
    };
    let refused = add_admin(b"password123456\n").await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("most common"),
        "{refused:?}"
    );
    let added = add_admin(b"first-day-password\n").await;
    assert!(added.status.success(), "{added:?}");
    let addr = free_addr();
    let _server: Child = portal(&database_url, &sim, &dir.0)
        .args(["serve", "--addr", &addr])
        .stdout(Stdio::null())
        .spawn()
        .expect("the portal starts");
    let client = Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    wait_until_up(&client, &format!("http://{sim}/v1/customers"), true).await;
    wait_until_up(&client, &format!("http://{addr}/healthz"), false).await;
    let db = Db::connect(&database_url).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM customers")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert!(names.is_empty(), "{names:?}");

    let base = format!("http://{addr}");
    let post = |path: &str, form: Vec<(&str, &str)>| {
        client.post(format!("{base}{path}")).form(&form).send()
    };
    let res = post(
        "/api/sign_in",
        vec![
            ("email", "admin@partner.test"),
            ("password", "first-day-password"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The empty list says where the customers come from.
    let empty = client
        .get(format!("{base}/customers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        empty.contains("No customers yet") && empty.contains(r#"href="/provider""#),
        "{empty}"
    );

    // /provider: take the directory, then link two tenants as new customers.
    let res = post("/api/refresh_provider_directory", vec![])
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "5", "tenants listed");
    let res = post(
        "/api/link_tenants",
        vec![
            ("items[0]", CONTOSO),
            ("items[1]", FABRIKAM),
            ("to", "new_each"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "2", "tenants linked");
    let contoso: i64 = sqlx::query_scalar("SELECT customer_id FROM tenants WHERE tenant_id = $1")
        .bind(CONTOSO)
        .fetch_one(db.pool())
        .await
        .unwrap();

    // The command line: a second tenant to Contoso; the clear suggestion (FABRIKAM Limited is
    // Fabrikam, Inc. but for the legal suffix), first as a dry run; the rest as new.
    let cli = || portal(&database_url, &sim, &dir.0);
    let contoso_arg = contoso.to_string();
    let out = run(
        cli(),
        &[
            "provider",
            "link",
            "--tenant",
            CONTOSO_EU,
            "--customer",
            &contoso_arg,
        ],
    )
    .await;
    assert!(out.contains("Linked 1 tenants"), "{out}");
    let out = run(
        cli(),
        &["provider", "link", "--accept-suggestions", "--dry-run"],
    )
    .await;
    assert!(
        out.contains(FABRIKAM_UK) && out.contains("Would link 1 "),
        "{out}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM tenants WHERE unlinked_at IS NULL"
        )
        .await,
        3,
        "a dry run links nothing"
    );
    let out = run(cli(), &["provider", "link", "--accept-suggestions"]).await;
    assert!(out.contains("Linked 1 "), "{out}");
    let out = run(cli(), &["provider", "link", "--all-unlinked", "--as-new"]).await;
    assert!(
        out.contains("Linked 1 tenants; 1 customers created"),
        "{out}"
    );

    // Every tenant is linked once: three customers, shown in the list.
    let customers: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.name, COUNT(t.tenant_id) FROM customers c
         JOIN tenants t ON t.customer_id = c.id AND t.unlinked_at IS NULL
         GROUP BY c.name ORDER BY c.name",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        customers,
        vec![
            ("Contoso Ltd".to_owned(), 2),
            ("Fabrikam, Inc.".to_owned(), 2),
            ("Northwind Traders".to_owned(), 1)
        ]
    );
    let list = client
        .get(format!("{base}/customers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (name, _) in &customers {
        let shown = name.replace(',', "");
        assert!(
            list.contains(name.as_str()) || list.contains(&shown),
            "{name} is not in the customer list"
        );
    }
    // The command line's links are audited as the command line.
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE actor_email = 'command line' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "tenant.link",
            "tenant.accept_suggestion",
            "customer.create_from_tenant",
            "tenant.link"
        ]
    );

    // The server's worker syncs every linked tenant (bounded wait).
    for _ in 0..300 {
        if count(&db, "SELECT COUNT(*) FROM tenant_subscriptions").await == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM tenant_subscriptions").await,
        5,
        "each of the five tenants' subscription synced"
    );
    db.close().await;
}
