//! A real `portal demo` process killed with SIGKILL in the middle of "reload all customers":
//! started again on the same database, it finishes the job by itself without fetching again
//! the customers it had finished.

use app::ssr::{db::Db, store};
use reqwest::{redirect::Policy, Client, StatusCode};
use std::{collections::HashMap, process::Stdio, time::Duration};
use tokio::process::{Child, Command};

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

fn start(addr: &str, database_url: &str, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["demo", "--addr", addr])
        .env("DATABASE_URL", database_url)
        // 20 requests a second: slow enough to be killed midway, fast enough for a test.
        .env("PARTNER_CENTER_RATE_PER_MINUTE", "1200")
        .env("LEPTOS_SITE_ROOT", dir)
        .env("PORTAL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the portal binary starts")
}

/// Polls (bounded) until the server answers its health check.
async fn wait_until_up(client: &Client, addr: &str) {
    for _ in 0..300 {
        if let Ok(res) = client.get(format!("http://{addr}/healthz")).send().await {
            if res.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server at {addr} did not come up within 30 s");
}

async fn job(db: &Db) -> store::sync::JobRow {
    let mut conn = db.pool().acquire().await.unwrap();
    store::sync::latest_all_job(&mut conn)
        .await
        .unwrap()
        .expect("a job")
}

/// Tenant id -> when its snapshot was fetched, for the customers the job has finished.
async fn finished_snapshots(db: &Db, job_id: i64) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT s.tenant_id, s.fetched_at FROM sync_job_items i
         JOIN tenants t ON t.customer_id = i.customer_id
         JOIN tenant_snapshots s ON s.tenant_id = t.tenant_id
         WHERE i.job_id = $1 AND i.state = 'done'",
    )
    .bind(job_id)
    .fetch_all(db.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[tokio::test]
async fn a_killed_server_resumes_the_reload_of_all_customers_at_its_next_start() {
    let dir = TempDir(
        std::env::temp_dir().join(format!("portal-restart-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let database_url = format!("sqlite://{}/demo.db", dir.0.display());
    let addr = free_addr();
    let client = Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();

    let mut server = start(&addr, &database_url, &dir.0);
    wait_until_up(&client, &addr).await;
    let res = client
        .post(format!("http://{addr}/api/sign_in"))
        .form(&[("email", "admin@demo.test"), ("password", "demo-admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client
        .post(format!("http://{addr}/api/reload_all_customers"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);

    let db = Db::connect(&database_url).await.unwrap();
    let mut before = job(&db).await;
    for _ in 0..600 {
        if before.done >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        before = job(&db).await;
    }
    server.kill().await.unwrap();
    let before = job(&db).await;
    assert_eq!(before.state, "running");
    assert!(
        before.done >= 10 && before.pending + before.running > 0,
        "killed midway: {before:?}"
    );
    let done_before = finished_snapshots(&db, before.id).await;

    let mut server = start(&addr, &database_url, &dir.0);
    wait_until_up(&client, &addr).await;
    let mut after = job(&db).await;
    // The killed worker's claims return once its heartbeat is 10 s old.
    for _ in 0..1800 {
        if after.state == "finished" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = job(&db).await;
    }
    server.kill().await.unwrap();
    assert_eq!(after.id, before.id, "the same job went on");
    assert_eq!(after.state, "finished", "{after:?}");
    assert_eq!(
        (after.done, after.failed),
        (before.done + before.pending + before.running, 0)
    );
    // Customers finished before the kill were not fetched again.
    let done_after = finished_snapshots(&db, after.id).await;
    for (tenant, fetched_at) in &done_before {
        assert_eq!(
            done_after.get(tenant),
            Some(fetched_at),
            "{tenant} was fetched again"
        );
    }
    // Every linked tenant has its snapshot.
    let missing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tenants t WHERE NOT EXISTS (SELECT 1 FROM tenant_snapshots s WHERE s.tenant_id = t.tenant_id)",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(missing, 0);
    db.close().await;
}
