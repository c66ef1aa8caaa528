//! The Partner Center client against the simulator, over real HTTP on loopback.

use app::ssr::partner_center::{
    wire::{Attributes, CompanyProfile, Customer},
    PartnerCenterClient, PartnerCenterConfig, PartnerCenterError, Secret,
};
use server::simulator::{self, SimulatedCustomer, Simulator, SimulatorData, SimulatorOptions};
use std::{
    collections::{HashMap, HashSet},
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

fn customer(n: usize) -> SimulatedCustomer {
    SimulatedCustomer {
        customer: Customer {
            id: format!("00000000-0000-4000-8000-{n:012}"),
            commerce_id: String::new(),
            company_profile: CompanyProfile {
                tenant_id: format!("00000000-0000-4000-8000-{n:012}"),
                domain: format!("customer{n}.onmicrosoft.com"),
                company_name: format!("Customer {n}"),
            },
            billing_profile: Default::default(),
            relationship_to_partner: "reseller".into(),
            allow_delegated_access: true,
            attributes: Attributes::of("Customer"),
        },
        subscriptions: vec![],
        subscribed_skus: vec![],
    }
}

/// A simulator with `count` customers on a random port, and a client pointed at it.
async fn simulator(
    count: usize,
    options: SimulatorOptions,
) -> (Arc<Simulator>, PartnerCenterConfig) {
    let data = SimulatorData {
        customers: (0..count).map(customer).collect(),
    };
    let sim = Simulator::new(data, options.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = simulator::router(sim.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = PartnerCenterConfig::new(
        &format!("http://{addr}"),
        &format!("http://{addr}/partner.example/oauth2/token"),
        &options.client_id,
        Secret::new(options.client_secret.clone()),
    );
    config.rate_per_minute = 60_000;
    config.base_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(50);
    (sim, config)
}

#[tokio::test]
async fn list_customers_follows_continuation_tokens_through_every_page() {
    let (sim, mut config) = simulator(250, SimulatorOptions::default()).await;
    config.page_size = 40;
    let client = PartnerCenterClient::new(config).unwrap();
    let customers = client.list_customers().await.unwrap();
    assert_eq!(customers.len(), 250);
    let names: Vec<_> = customers
        .iter()
        .map(|c| c.company_profile.company_name.clone())
        .collect();
    let expected: Vec<_> = (0..250).map(|n| format!("Customer {n}")).collect();
    assert_eq!(names, expected);
    let pages = sim.requests();
    assert_eq!(pages.len(), 7, "ceil(250 / 40) pages");
    assert!(pages
        .iter()
        .all(|r| r.path == "/v1/customers" && r.status == 200));
    let ids: HashSet<_> = pages.iter().map(|r| r.request_id.clone()).collect();
    assert_eq!(ids.len(), 7, "every page is its own request");
}

#[tokio::test]
async fn answers_that_begin_with_a_byte_order_mark_are_read() {
    let options = SimulatorOptions {
        byte_order_mark: true,
        ..Default::default()
    };
    let (_sim, mut config) = simulator(3, options).await;
    config.page_size = 2;
    let client = PartnerCenterClient::new(config).unwrap();
    let customers = client.list_customers().await.unwrap();
    assert_eq!(customers.len(), 3);
    let one = client
        .get_customer(&customers[0].id)
        .await
        .expect("a single customer with a byte order mark");
    assert_eq!(one.company_profile.company_name, "Customer 0");
}

#[tokio::test]
async fn a_429_is_waited_out_for_its_retry_after_and_a_little_jitter() {
    let options = SimulatorOptions {
        rate_limit: Some(3),
        rate_window: Duration::from_secs(2),
        ..Default::default()
    };
    let (sim, config) = simulator(5, options).await;
    let client = PartnerCenterClient::new(config).unwrap();
    let id = "00000000-0000-4000-8000-000000000001";
    for _ in 0..5 {
        client.get_customer(id).await.unwrap();
    }
    let log = sim.requests();
    let throttled: Vec<_> = log.iter().filter(|r| r.status == 429).collect();
    assert!(
        !throttled.is_empty(),
        "the fourth call in the window was throttled"
    );
    let asked: u64 = throttled
        .iter()
        .map(|r| r.retry_after.expect("Retry-After on a 429"))
        .sum();
    let waited = client.stats.throttle_wait_ms.load(Ordering::Relaxed);
    assert!(
        waited >= asked * 1000,
        "waited {waited} ms for Retry-After totalling {asked} s"
    );
    // Jitter adds at most a quarter and 50 ms to each wait.
    let most = asked * 1250 + 50 * throttled.len() as u64 + 500;
    assert!(
        waited < most,
        "waited {waited} ms, not much longer than asked ({asked} s)"
    );
    // The retry of a throttled call carries the same request id.
    for t in &throttled {
        assert!(log
            .iter()
            .any(|r| r.request_id == t.request_id && r.status == 200));
    }
}

#[tokio::test]
async fn a_500_is_retried_with_the_same_request_id_and_a_new_correlation_id() {
    let options = SimulatorOptions {
        error_share: 0.5,
        seed: 7,
        ..Default::default()
    };
    let (sim, mut config) = simulator(3, options).await;
    config.max_retries = 10;
    let client = PartnerCenterClient::new(config).unwrap();
    for _ in 0..12 {
        client
            .list_subscriptions("00000000-0000-4000-8000-000000000002")
            .await
            .unwrap();
    }
    let log = sim.requests();
    let mut by_request: HashMap<&str, Vec<u16>> = HashMap::new();
    for r in &log {
        by_request.entry(&r.request_id).or_default().push(r.status);
    }
    assert_eq!(by_request.len(), 12, "one request id per call");
    assert!(
        by_request.values().any(|statuses| statuses.len() > 1
            && statuses[0] == 500
            && statuses.last() == Some(&200)),
        "some call failed with 500 and succeeded on a retry under the same id: {by_request:?}"
    );
    let correlations: HashSet<_> = log.iter().map(|r| r.correlation_id.clone()).collect();
    assert_eq!(
        correlations.len(),
        log.len(),
        "a new correlation id on every attempt"
    );
    assert!(client.stats.retries.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn server_errors_give_up_after_the_retry_bound() {
    let options = SimulatorOptions {
        error_share: 1.0,
        ..Default::default()
    };
    let (sim, mut config) = simulator(1, options).await;
    config.max_retries = 3;
    let client = PartnerCenterClient::new(config).unwrap();
    let err = client
        .get_customer("00000000-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert!(
        matches!(err, PartnerCenterError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(sim.requests().len(), 4, "the first try and three retries");
}

#[tokio::test]
async fn a_malformed_body_is_a_typed_error() {
    let options = SimulatorOptions {
        malformed_share: 1.0,
        ..Default::default()
    };
    let (_sim, config) = simulator(2, options).await;
    let client = PartnerCenterClient::new(config).unwrap();
    let err = client.list_customers().await.unwrap_err();
    assert!(matches!(err, PartnerCenterError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn a_hung_request_times_out_as_a_typed_error() {
    let options = SimulatorOptions {
        hang_share: 1.0,
        ..Default::default()
    };
    let (_sim, mut config) = simulator(2, options).await;
    config.request_timeout = Duration::from_millis(300);
    config.max_retries = 1;
    let client = PartnerCenterClient::new(config).unwrap();
    let started = Instant::now();
    let err = client
        .get_customer("00000000-0000-4000-8000-000000000001")
        .await
        .unwrap_err();
    assert_eq!(err, PartnerCenterError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unknown_customer_fails_at_once_without_retries() {
    let (sim, config) = simulator(1, SimulatorOptions::default()).await;
    let client = PartnerCenterClient::new(config).unwrap();
    let err = client
        .get_customer("00000000-0000-4000-8000-0000000000ff")
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerCenterError::NotFound(_)), "{err:?}");
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test]
async fn the_token_is_reused_until_it_expires() {
    let options = SimulatorOptions {
        token_lifetime: Duration::from_secs(1),
        ..Default::default()
    };
    let (sim, config) = simulator(3, options).await;
    let client = PartnerCenterClient::new(config).unwrap();
    for _ in 0..20 {
        client
            .list_subscriptions("00000000-0000-4000-8000-000000000001")
            .await
            .unwrap();
    }
    assert_eq!(sim.tokens_issued(), 1);
    // Past its lifetime the token is renewed, not sent stale.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client
        .list_subscriptions("00000000-0000-4000-8000-000000000001")
        .await
        .unwrap();
    assert_eq!(sim.tokens_issued(), 2);
    assert!(
        sim.requests().iter().all(|r| r.status == 200),
        "no call was refused for its token"
    );
}

#[tokio::test]
async fn wrong_credentials_are_an_authentication_error() {
    let (sim, mut config) = simulator(1, SimulatorOptions::default()).await;
    config.client_secret = Secret::new("not-the-secret");
    let client = PartnerCenterClient::new(config).unwrap();
    let err = client.list_customers().await.unwrap_err();
    assert!(
        matches!(err, PartnerCenterError::Authentication(_)),
        "{err:?}"
    );
    assert!(sim.requests().is_empty(), "no API call without a token");
}

#[tokio::test]
async fn the_rate_limit_is_shared_by_every_task_using_the_client() {
    let (sim, mut config) = simulator(1, SimulatorOptions::default()).await;
    config.rate_per_minute = 600; // one request every 100 ms
    let client = PartnerCenterClient::new(config).unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .get_customer("00000000-0000-4000-8000-000000000000")
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Eight requests at 100 ms spacing need at least 700 ms, however many tasks send them.
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.requests().len(), 8);
}

#[tokio::test]
async fn a_429_holds_back_every_task_sharing_the_client_not_only_the_one_told() {
    let options = SimulatorOptions {
        rate_limit: Some(2),
        rate_window: Duration::from_secs(2),
        ..Default::default()
    };
    let (sim, config) = simulator(1, options).await;
    let client = PartnerCenterClient::new(config).unwrap();
    let id = "00000000-0000-4000-8000-000000000000";
    // The window's two calls, then a third that is throttled and waits.
    client.get_customer(id).await.unwrap();
    client.get_customer(id).await.unwrap();
    let throttled = tokio::spawn({
        let client = client.clone();
        async move { client.get_customer(id).await }
    });
    for _ in 0..400 {
        if sim.requests().iter().any(|r| r.status == 429) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(sim.requests().iter().any(|r| r.status == 429));
    // Another task's call now waits for the same Retry-After instead of being throttled too.
    client.get_customer(id).await.unwrap();
    throttled.await.unwrap().unwrap();
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_next_page_on_another_host_is_not_followed_and_gets_no_token() {
    use axum::{routing::get, Json, Router};
    // Another host, that would receive the token if the link were followed.
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_addr = other.local_addr().unwrap();
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let other_app = Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "{}" }
    });
    tokio::spawn(async move { axum::serve(other, other_app).await });
    // An API whose customer list points its next page there.
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = api.local_addr().unwrap();
    let next = format!("http://{other_addr}/v1/customers?size=1&seekOperation=Next");
    let api_app = Router::new()
        .route(
            "/token",
            axum::routing::post(|| async {
                Json(serde_json::json!({"access_token": "t", "token_type": "Bearer", "expires_in": "3600"}))
            }),
        )
        .route(
            "/v1/customers",
            get(move || {
                let next = next.clone();
                async move {
                    Json(serde_json::json!({
                        "totalCount": 2, "items": [],
                        "links": {"next": {"uri": next, "method": "GET", "headers": []}},
                        "attributes": {"objectType": "Collection"}
                    }))
                }
            }),
        );
    tokio::spawn(async move { axum::serve(api, api_app).await });
    let config = PartnerCenterConfig::new(
        &format!("http://{api_addr}"),
        &format!("http://{api_addr}/token"),
        "id",
        Secret::new("secret"),
    );
    let client = PartnerCenterClient::new(config).unwrap();
    let err = client.list_customers().await.unwrap_err();
    assert!(matches!(err, PartnerCenterError::Malformed(_)), "{err:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_401_fetches_a_new_token_once_and_the_call_goes_on() {
    let (sim, config) = simulator(1, SimulatorOptions::default()).await;
    let client = PartnerCenterClient::new(config).unwrap();
    let id = "00000000-0000-4000-8000-000000000000";
    client.get_customer(id).await.unwrap();
    assert_eq!(sim.tokens_issued(), 1);
    sim.revoke_tokens();
    client.get_customer(id).await.unwrap();
    assert_eq!(sim.tokens_issued(), 2, "a new token after the 401");
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 401, 200]);
}

#[tokio::test]
async fn throttling_is_waited_out_for_a_time_budget_not_a_count() {
    let options = SimulatorOptions {
        rate_limit: Some(1),
        rate_window: Duration::from_secs(3),
        ..Default::default()
    };
    let (_sim, mut config) = simulator(2, options).await;
    config.throttle_budget = Duration::from_secs(1);
    let client = PartnerCenterClient::new(config).unwrap();
    let id = "00000000-0000-4000-8000-000000000001";
    client.get_customer(id).await.unwrap();
    let started = Instant::now();
    match client.get_customer(id).await {
        Err(PartnerCenterError::Throttled { attempts, waited_s }) => {
            assert_eq!((attempts, waited_s), (1, 0));
        }
        other => panic!("expected to give up at once, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a Retry-After beyond the budget is not waited for"
    );
}

#[tokio::test]
async fn subscribed_skus_need_app_user_and_are_not_asked_without_consent() {
    let (sim, config) = simulator(2, SimulatorOptions::default()).await;
    let id = "00000000-0000-4000-8000-000000000001";
    // Only app credentials: the call is not made, and says why.
    let app_only = PartnerCenterClient::new(config.clone()).unwrap();
    assert!(!app_only.has_delegated_consent());
    assert_eq!(
        app_only.list_subscribed_skus(id).await,
        Err(PartnerCenterError::NeedsDelegatedConsent)
    );
    assert!(sim.requests().is_empty());
    // Partner Center itself refuses an app-only token there.
    let token: serde_json::Value = reqwest::Client::new()
        .post(&config.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.expose()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refused = reqwest::Client::new()
        .get(format!(
            "{}/v1/customers/{id}/subscribedskus",
            config.api_url
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    // With the Secure Application Model's refresh token: an App+User token, and the counts.
    let mut delegated = config;
    delegated.refresh_token = Some(Secret::new("simulator-refresh-token"));
    let client = PartnerCenterClient::new(delegated).unwrap();
    assert!(client.list_subscribed_skus(id).await.is_ok());
    assert_eq!(sim.refresh_tokens_used(), ["simulator-refresh-token"]);
}

#[tokio::test]
async fn the_refresh_token_an_exchange_returns_replaces_the_one_used() {
    let (sim, mut config) = simulator(2, SimulatorOptions::default()).await;
    config.refresh_token = Some(Secret::new("simulator-refresh-token"));
    let client = PartnerCenterClient::new(config).unwrap();
    let id = "00000000-0000-4000-8000-000000000001";
    client.list_subscribed_skus(id).await.unwrap();
    // Every token is revoked: the next call gets a 401 and exchanges again.
    sim.revoke_tokens();
    client.list_subscribed_skus(id).await.unwrap();
    let used = sim.refresh_tokens_used();
    assert_eq!(used.len(), 2, "{used:?}");
    assert_eq!(used[0], "simulator-refresh-token");
    assert_ne!(
        used[1], used[0],
        "the rotated refresh token is the one used next"
    );
    assert!(used[1].starts_with("rt-"));
}

#[tokio::test]
async fn a_deleted_customer_is_never_asked_about_in_partner_center() {
    use app::{
        model::{Role, StaffView},
        ssr::{
            auth,
            db::{now_millis, Backend, Db},
            service, store, AppState,
        },
    };
    let (sim, config) = simulator(3, SimulatorOptions::default()).await;
    let client = PartnerCenterClient::new(config).unwrap();
    let dir = std::env::temp_dir().join(format!("portal-pc-delete-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let test_db = Db::connect_fresh_for_tests(Backend::Sqlite, "", &dir)
        .await
        .unwrap();
    let state = AppState::new(test_db.db.clone(), false);
    let admin_id = auth::create_staff(
        &state,
        "admin@x.test",
        "Admin",
        Role::Admin,
        "a-long-password".into(),
    )
    .await
    .unwrap();
    let admin = StaffView {
        id: admin_id,
        email: "admin@x.test".into(),
        display_name: "Admin".into(),
        role: Role::Admin,
    };
    let mut ids = Vec::new();
    let mut conn = state.db.pool().acquire().await.unwrap();
    for n in 0..3 {
        let c = customer(n);
        let id = store::customers::insert(
            &mut conn,
            &c.customer.company_profile.company_name,
            &c.customer.company_profile.domain,
            now_millis(),
        )
        .await
        .unwrap();
        store::customers::insert_tenant(&mut conn, id, &c.customer.id, "Tenant", "t.test", 0)
            .await
            .unwrap();
        ids.push((id, c.customer.id.clone()));
    }
    drop(conn);
    service::deletion::delete(&state.db, &admin, ids[1].0, "Customer 1")
        .await
        .unwrap();
    let before = sim.requests().len();
    assert_eq!(before, 0, "deleting sent nothing to Partner Center");

    // A reload of all customers: the worker asks about the other two only.
    let wakeup = Arc::new(tokio::sync::Notify::new());
    let (job, _) = service::sync::start_all(&state.db, &admin, &wakeup)
        .await
        .unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        state.db.clone(),
        client,
        wakeup.clone(),
        stop_rx,
        2,
        Arc::new(service::sync::WorkerHealth::default()),
    ));
    wakeup.notify_waiters();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut conn = state.db.pool().acquire().await.unwrap();
        let row = store::sync::latest_all_job(&mut conn)
            .await
            .unwrap()
            .unwrap();
        if row.id == job && row.state == "finished" {
            assert_eq!((row.done, row.failed), (2, 0), "two customers synced");
            break;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {row:?}");
        drop(conn);
        wakeup.notify_waiters();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    let _ = worker.await;
    // The simulator logs each request by its route: one profile read per synced customer, so
    // two, not three; and only the tenants of the two have a snapshot.
    let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    let profiles = paths.iter().filter(|p| *p == "/v1/customers/{id}").count();
    assert_eq!(profiles, 2, "{paths:?}");
    assert!(
        paths.iter().all(|p| p.starts_with("/v1/customers")),
        "{paths:?}"
    );
    let mut conn = state.db.pool().acquire().await.unwrap();
    let synced: Vec<String> =
        sqlx::query_scalar("SELECT tenant_id FROM tenant_snapshots ORDER BY tenant_id")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    drop(conn);
    assert_eq!(synced, [ids[0].1.clone(), ids[2].1.clone()]);
    test_db.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
}
