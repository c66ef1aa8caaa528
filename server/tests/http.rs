//! HTTP tests: the real router on a random port, a fresh database, and a real client with a
//! cookie store. The database is SQLite, or PostgreSQL when `PORTAL_TEST_BACKEND=postgres` (at
//! `PORTAL_TEST_POSTGRES_URL`, default the local server): the test command runs them on both.

use app::{
    api::{Access, ENDPOINTS},
    error::AppError,
    model::Role,
    ssr::{
        auth,
        db::{Backend, Db},
        store, AppState,
    },
};
use reqwest::{header, redirect::Policy, Client, StatusCode};
use server::{
    gate::GateState,
    startup::{leptos_options, router_with, serve},
};
use std::net::SocketAddr;

struct TestApp {
    base: String,
    state: AppState,
    _db: Scratch,
}

/// The test's database, removed when dropped: the SQLite file's folder, or the PostgreSQL
/// database (dropped from a thread of its own, which a test's ending runtime cannot do).
struct Scratch {
    dir: std::path::PathBuf,
    postgres: Option<String>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(name) = self.postgres.take() {
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    sqlx::any::install_default_drivers();
                    if let Ok(admin) = sqlx::AnyPool::connect(&postgres_admin_url()).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(&sql).execute(&admin).await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn postgres_admin_url() -> String {
    std::env::var("PORTAL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn backend() -> Backend {
    match std::env::var("PORTAL_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

const PASSWORD: &str = "correct horse battery";

async fn spawn_app() -> TestApp {
    spawn_app_with(false).await
}

async fn spawn_app_with(secure_cookies: bool) -> TestApp {
    spawn_app_gated(secure_cookies, true, 1_000).await
}

/// A portal whose gate does not enforce the access table: every request reaches the server
/// function, whose own checks are then what is tested.
async fn spawn_app_without_access_table() -> TestApp {
    spawn_app_gated(false, false, 1_000).await
}

/// `sign_ins_per_minute`: what one client address may try (tests sign in often from one).
async fn spawn_app_gated(
    secure_cookies: bool,
    enforce_access_table: bool,
    sign_ins_per_minute: u32,
) -> TestApp {
    spawn_app_configured(
        secure_cookies,
        enforce_access_table,
        sign_ins_per_minute,
        None,
        None,
    )
    .await
}

/// A portal with a payment gateway (Link to Billing Profile on).
async fn spawn_app_with_gateway(gateway: app::ssr::gateway::Gateway) -> TestApp {
    spawn_app_configured(false, true, 1_000, Some(gateway), None).await
}

/// A portal serving the built site in `site_root`.
async fn spawn_app_with_site(site_root: &std::path::Path) -> TestApp {
    spawn_app_configured(false, true, 1_000, None, Some(site_root)).await
}

async fn spawn_app_configured(
    secure_cookies: bool,
    enforce_access_table: bool,
    sign_ins_per_minute: u32,
    gateway: Option<app::ssr::gateway::Gateway>,
    site_root: Option<&std::path::Path>,
) -> TestApp {
    let dir = std::env::temp_dir().join(format!("portal-http-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let test_db = Db::connect_fresh_for_tests(backend(), &postgres_admin_url(), &dir)
        .await
        .unwrap_or_else(|e| panic!("cannot make a fresh {} database: {e}", backend().name()));
    let scratch = Scratch {
        dir,
        postgres: test_db.postgres_name().map(str::to_owned),
    };
    let mut state = AppState::new(test_db.db.clone(), secure_cookies);
    state.gateway = gateway;
    for role in Role::ALL {
        let email = format!("{role}@x.test");
        let id = auth::create_staff(&state, &email, &email, role, PASSWORD.into())
            .await
            .unwrap();
        if role == Role::Helpdesk {
            let mut conn = state.db.pool().acquire().await.unwrap();
            store::staff::add_tag_scope(&mut conn, id, "region", "North")
                .await
                .unwrap();
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let mut gate = GateState::with_sign_in_limit(state.clone(), sign_ins_per_minute);
    gate.enforce_access_table = enforce_access_table;
    let site_root = site_root.map_or("target/site".to_string(), |p| p.display().to_string());
    let app = router_with(gate, leptos_options(&site_root, addr));
    tokio::spawn(serve(listener, app, std::future::pending()));
    TestApp {
        base: format!("http://{addr}"),
        state,
        _db: scratch,
    }
}

impl TestApp {
    fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            // A render that never finishes fails its test instead of stalling the run.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap()
    }

    async fn customer(&self, name: &str, region: &str) -> i64 {
        let mut conn = self.state.db.pool().acquire().await.unwrap();
        let id = store::customers::insert(
            &mut conn,
            name,
            &format!("{}.test", name.to_lowercase().replace(' ', "")),
            0,
        )
        .await
        .unwrap();
        store::tags::insert(&mut conn, id, "Region", "region", region, 0)
            .await
            .unwrap();
        id
    }

    /// A client signed in as the user of `role`.
    async fn signed_in(&self, role: Role) -> Client {
        let client = self.client();
        let res = client
            .post(format!("{}/api/sign_in", self.base))
            .form(&[
                ("email", format!("{role}@x.test")),
                ("password", PASSWORD.into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
        client
    }

    async fn call(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

async fn app_error(res: reqwest::Response) -> AppError {
    let body = res.text().await.unwrap();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not an AppError ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_database_state() {
    let app = spawn_app().await;
    let res = app
        .client()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"]["backend"], backend().name());
    assert_eq!(body["database"]["state"], "ok");
    app.state.db.close().await;
    let res = app
        .client()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_sign_in_sets_a_protected_cookie_and_redirects_to_the_customer_list() {
    let app = spawn_app_with(true).await;
    let res = app
        .client()
        .post(format!("{}/api/sign_in", app.base))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::REFERER, format!("{}/sign-in", app.base))
        .form(&[("email", "admin@x.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[header::LOCATION], "/customers");
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-portal_session="), "{cookie}");
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let client = app.client();
    let wrong = app
        .call(
            &client,
            "/api/sign_in",
            &[("email", "admin@x.test"), ("password", "nope")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    let unknown = app
        .call(
            &client,
            "/api/sign_in",
            &[("email", "ghost@x.test"), ("password", "nope")],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let (wrong, unknown) = (app_error(wrong).await, app_error(unknown).await);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.field_message("password"), Some(auth::SIGN_IN_REFUSED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_sign_in_failure_returns_to_the_form_with_the_error() {
    let app = spawn_app().await;
    let res = app
        .client()
        .post(format!("{}/api/sign_in", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{}/sign-in", app.base))
        .form(&[("email", "admin@x.test"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.contains("/sign-in?") && location.contains("__err="),
        "{location}"
    );
    assert!(
        location.starts_with('/'),
        "a path of the portal: {location}"
    );
    let page = app
        .client()
        .get(format!("{}{location}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(auth::SIGN_IN_REFUSED),
        "the sign-in page shows the refusal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_id_changes_at_every_sign_in_and_sign_out_ends_it() {
    use reqwest::cookie::{CookieStore, Jar};
    let app = spawn_app().await;
    let jar = std::sync::Arc::new(Jar::default());
    let client = Client::builder()
        .cookie_provider(jar.clone())
        .redirect(Policy::none())
        .build()
        .unwrap();
    let url: reqwest::Url = app.base.parse().unwrap();
    let token = || {
        let cookies = jar.cookies(&url).expect("a session cookie");
        cookies
            .to_str()
            .unwrap()
            .trim_start_matches("portal_session=")
            .to_owned()
    };
    let credentials = [("email", "admin@x.test"), ("password", PASSWORD)];
    assert_eq!(
        app.call(&client, "/api/sign_in", &credentials)
            .await
            .status(),
        StatusCode::OK
    );
    let first = token();
    assert_eq!(
        app.call(&client, "/api/sign_in", &credentials)
            .await
            .status(),
        StatusCode::OK
    );
    let second = token();
    assert_ne!(first, second);
    assert!(
        auth::resolve(&app.state, &first).await.unwrap().is_none(),
        "old session ended"
    );
    assert!(auth::resolve(&app.state, &second).await.unwrap().is_some());

    let res = app.call(&client, "/api/sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(auth::resolve(&app.state, &second).await.unwrap().is_none());
    let res = app.call(&client, "/api/get_session", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_in_the_access_table_is_registered_and_the_other_way_round() {
    let registered: std::collections::BTreeSet<&str> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    let declared: std::collections::BTreeSet<&str> = ENDPOINTS
        .iter()
        .map(|e| e.path)
        .filter(|p| !app::api::PLAIN_ROUTES.contains(p))
        .collect();
    assert_eq!(registered, declared);
    assert!(declared.contains("/api/sign_in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_function_refuses_an_anonymous_caller_with_401() {
    let app = spawn_app().await;
    let client = app.client();
    for (path, method) in server_fn::axum::server_fn_paths() {
        if ENDPOINTS
            .iter()
            .any(|e| e.path == path && e.access == Access::Public)
        {
            continue;
        }
        let res = client
            .request(
                method.as_str().parse().unwrap(),
                format!("{}{path}", app.base),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(app_error(res).await, AppError::Unauthenticated, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_refuses_a_reader_with_403() {
    let app = spawn_app().await;
    let reader = app.signed_in(Role::Reader).await;
    let mut writes = 0;
    for (path, method) in server_fn::axum::server_fn_paths() {
        let Some(Access::Requires(permission)) = app::api::access_for(path) else {
            continue;
        };
        if !permission.is_write() {
            continue;
        }
        writes += 1;
        let res = reader
            .request(
                method.as_str().parse().unwrap(),
                format!("{}{path}", app.base),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(writes >= 4, "the writes were found ({writes})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_calling_add_tag_with_valid_input_is_refused_and_nothing_is_saved() {
    let app = spawn_app().await;
    let c = app.customer("Contoso", "North").await;
    let reader = app.signed_in(Role::Reader).await;
    let id = c.to_string();
    let res = app
        .call(
            &reader,
            "/api/add_tag",
            &[("customer_id", &id), ("name", "Tier"), ("value", "Gold")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut conn = app.state.db.pool().acquire().await.unwrap();
    assert_eq!(store::tags::list(&mut conn, c).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_paths_are_not_found() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let res = app.call(&admin, "/api/drop_everything", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_400_with_a_message_for_the_field() {
    let app = spawn_app().await;
    let c = app.customer("Contoso", "North").await.to_string();
    let admin = app.signed_in(Role::Admin).await;
    let long = "x".repeat(65);
    for (name, expected) in [
        ("", "Enter a tag name."),
        (long.as_str(), "65 characters"),
        ("a\u{1}b", "control character"),
    ] {
        let res = app
            .call(
                &admin,
                "/api/add_tag",
                &[("customer_id", &c), ("name", name), ("value", "v")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name:?}");
        let message = app_error(res)
            .await
            .field_message("name")
            .unwrap()
            .to_owned();
        assert!(message.contains(expected), "{message}");
    }
    let res = app
        .call(
            &admin,
            "/api/add_tag",
            &[
                ("customer_id", "not-a-number"),
                ("name", "n"),
                ("value", "v"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(app_error(res).await, AppError::BadRequest { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_adds_and_removes_a_tag_over_http() {
    let app = spawn_app().await;
    let c = app.customer("Contoso", "North").await;
    let id = c.to_string();
    let admin = app.signed_in(Role::Admin).await;
    let res = app
        .call(
            &admin,
            "/api/add_tag",
            &[("customer_id", &id), ("name", "Tier"), ("value", "Gold")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let tag: app::model::Tag = res.json().await.unwrap();
    let res = app
        .call(
            &admin,
            "/api/remove_tag",
            &[("customer_id", &id), ("tag_id", &tag.id.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut conn = app.state.db.pool().acquire().await.unwrap();
    let tags = store::tags::list(&mut conn, c).await.unwrap();
    assert_eq!(
        tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["Region"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_form_post_without_javascript_the_next_page_says_what_happened_once() {
    let app = spawn_app().await;
    let c = app.customer("Contoso", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let tags_page = format!("{}/customers/{c}/tags", app.base);
    let res = admin
        .post(format!("{}/api/add_tag", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, &tags_page)
        .form(&[
            ("customer_id", c.to_string().as_str()),
            ("name", "Tier"),
            ("value", "Gold"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("portal_status="))
        .expect("the status message travels in its cookie")
        .to_owned();
    assert!(
        cookie.contains("SameSite=Strict") && cookie.contains("Max-Age=60"),
        "{cookie}"
    );

    let page = admin.get(&tags_page).send().await.unwrap();
    let cleared = page
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("portal_status=;") && v.contains("Max-Age=0"));
    assert!(cleared, "the page that shows the message clears it");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Added tag Tier: Gold to Contoso."),
        "the page says what happened"
    );

    let again = admin
        .get(&tags_page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !again.contains("Added tag Tier"),
        "said once, not on every load"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpdesk_is_refused_a_customer_outside_their_tags() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await.to_string();
    let south = app.customer("South Co", "South").await.to_string();
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    let ok = app
        .call(&helpdesk, "/api/get_tags", &[("customer_id", &north)])
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let refused = app
        .call(&helpdesk, "/api/get_tags", &[("customer_id", &south)])
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let list = app
        .call(&helpdesk, "/api/list_customers", &[("search", "")])
        .await;
    let page: app::model::CustomerPage = list.json().await.unwrap();
    assert_eq!(
        page.customers
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["North Co"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_anonymous_visitors_to_sign_in() {
    let app = spawn_app().await;
    for path in ["/", "/customers", "/customers/1/tags"] {
        let res = app
            .client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()[header::LOCATION], "/sign-in", "{path}");
    }
    let res = app
        .client()
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"action="/api/sign_in""#),
        "the form posts to the fixed endpoint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_customer_list_is_rendered_on_the_server() {
    let app = spawn_app().await;
    app.customer("Contoso", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let res = admin
        .get(format!("{}/customers", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Contoso") && page.contains("contoso.test"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_a_request_id() {
    let app = spawn_app().await;
    let res = app
        .client()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"].len(), 32);
}

// ---- Customer Configuration ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_invalid_value_is_a_400_with_a_message_for_the_value() {
    let app = spawn_app().await;
    let c = app.customer("Contoso", "North").await.to_string();
    let admin = app.signed_in(Role::Admin).await;
    for (key, bad, expected) in [
        ("commerce.seat_limit", "-2", "from -1 to 100000"),
        ("commerce.seat_limit", "ten", "not a whole number"),
        ("billing.markup_percent", "100.5", "out of range"),
        ("billing.markup_percent", "1,5", "comma"),
        ("billing.cycle", "weekly", "Choose one of"),
        (
            "notifications.contact_email",
            "nobody",
            "not an e-mail address",
        ),
        (
            "notifications.usage_alert_recipients",
            "a@x.com, b",
            "not an e-mail address",
        ),
        ("portal.support_url", "ftp://x.example", "https://"),
        (
            "billing.invoice_footer",
            "bad\u{7}text",
            "control character",
        ),
        ("commerce.auto_renew", "perhaps", "yes or no"),
    ] {
        let res = app
            .call(
                &admin,
                "/api/save_override",
                &[
                    ("customer_id", &c),
                    ("key", key),
                    ("value", bad),
                    ("version", "0"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{key}={bad}");
        let error = app_error(res).await;
        let message = error
            .field_message("value")
            .unwrap_or_else(|| panic!("{key}: {error:?}"));
        assert!(message.contains(expected), "{key}={bad}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_override_is_a_409_naming_who_changed_it() {
    let app = spawn_app().await;
    let c = app.customer("Contoso", "North").await.to_string();
    let admin = app.signed_in(Role::Admin).await;
    let form = |value: &'static str| {
        [
            ("customer_id", c.clone()),
            ("key", "billing.cycle".into()),
            ("value", value.into()),
            ("version", "0".into()),
        ]
    };
    let first = admin
        .post(format!("{}/api/save_override", app.base))
        .form(&form("annual"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let saved: app::model::SettingView = first.json().await.unwrap();
    assert_eq!(
        (saved.value.as_str(), saved.override_version),
        ("annual", 1)
    );
    let second = admin
        .post(format!("{}/api/save_override", app.base))
        .form(&form("quarterly"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let message = app_error(second).await.to_string();
    assert!(
        message.contains("admin@x.test") && message.contains("Annual"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_finance_and_helpdesk_outside_their_tags_cannot_change_configuration() {
    let app = spawn_app().await;
    let south = app.customer("South Co", "South").await.to_string();
    let north = app.customer("North Co", "North").await.to_string();
    let change = |c: &str| {
        [
            ("customer_id", c.to_owned()),
            ("key", "portal.language".to_owned()),
            ("value", "de".to_owned()),
            ("version", "0".to_owned()),
        ]
    };
    for role in [Role::Reader, Role::Finance] {
        let client = app.signed_in(role).await;
        let res = client
            .post(format!("{}/api/save_override", app.base))
            .form(&change(&north))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role}");
        // They may still look.
        let res = app
            .call(
                &client,
                "/api/get_configuration",
                &[("customer_id", &north)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{role}");
        let section: app::model::ConfigurationSection = res.json().await.unwrap();
        assert!(!section.can_edit);
    }
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    let res = helpdesk
        .post(format!("{}/api/save_override", app.base))
        .form(&change(&south))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = helpdesk
        .post(format!("{}/api/save_override", app.base))
        .form(&change(&north))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Global defaults and the matrix are not theirs.
    let res = app.call(&helpdesk, "/api/get_global_defaults", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.call(&helpdesk, "/api/get_override_matrix", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn effective_configuration_is_served_as_json_with_the_same_rules() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await;
    let south = app.customer("South Co", "South").await;
    let admin = app.signed_in(Role::Admin).await;
    let res = app
        .call(
            &admin,
            "/api/save_override",
            &[
                ("customer_id", &north.to_string()),
                ("key", "billing.markup_percent"),
                ("value", "12.5"),
                ("version", "0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let url = |id: i64| format!("{}/api/customers/{id}/configuration", app.base);
    let res = admin.get(url(north)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["customer_id"], north);
    assert_eq!(body["settings"]["billing.markup_percent"]["value"], "12.50");
    assert_eq!(
        body["settings"]["billing.markup_percent"]["source"],
        "overridden"
    );
    assert_eq!(
        body["settings"]["billing.markup_percent"]["default"],
        "15.00"
    );
    assert_eq!(
        body["settings"]["billing.cycle"]["source"],
        "global_default"
    );
    assert_eq!(body["settings"].as_object().unwrap().len(), 25);
    assert!(body["payment_gateway"].is_null(), "no gateway configured");

    let anonymous = app.client().get(url(north)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    assert_eq!(
        helpdesk.get(url(south)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        helpdesk.get(url(north)).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        admin.get(url(999_999)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_revert_from_the_matrix_takes_indexed_checkbox_values() {
    let app = spawn_app().await;
    let a = app.customer("A Co", "North").await.to_string();
    let b = app.customer("B Co", "South").await.to_string();
    let admin = app.signed_in(Role::Admin).await;
    for c in [&a, &b] {
        let res = app
            .call(
                &admin,
                "/api/save_override",
                &[
                    ("customer_id", c),
                    ("key", "billing.tax_exempt"),
                    ("value", "true"),
                    ("version", "0"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let reader = app.signed_in(Role::Reader).await;
    let matrix: app::model::OverrideMatrix = app
        .call(&reader, "/api/get_override_matrix", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(matrix.rows.len(), 2);
    assert!(!matrix.can_revert);
    let (ia, ib) = (
        format!("{a}:billing.tax_exempt:1"),
        format!("{b}:billing.tax_exempt:1"),
    );
    // As a browser sends them: only the ticked boxes, with gaps in the indexes.
    let res = app
        .call(
            &admin,
            "/api/revert_overrides",
            &[("items[0]", &ia), ("items[3]", &ib)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    let matrix: app::model::OverrideMatrix = app
        .call(&admin, "/api/get_override_matrix", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(matrix.rows.is_empty());
    let none = app.call(&admin, "/api/revert_overrides", &[]).await;
    assert_eq!(none.status(), StatusCode::BAD_REQUEST);
}

// ---- Scope before work, and the functions' own permission checks ----

/// What a customer has, for the bodies of requests about it.
struct Fixture {
    id: i64,
    tag_id: i64,
    assigned_manager: i64,
    spare_manager: i64,
    history_id: i64,
}

impl TestApp {
    /// A customer tagged Region=`region`, with an account manager and an override of
    /// portal.language (version 1) made by an admin.
    async fn fixture(&self, name: &str, region: &str) -> Fixture {
        let id = self.customer(name, region).await;
        let db = &self.state.db;
        let mut conn = db.pool().acquire().await.unwrap();
        let admin = store::staff::find_by_email(&mut conn, "admin@x.test")
            .await
            .unwrap()
            .unwrap()
            .staff;
        let tag_id: i64 = sqlx::query_scalar("SELECT id FROM customer_tags WHERE customer_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let mut managers = Vec::new();
        for role in ["assigned", "spare"] {
            let email = format!("{role}{id}@x.test");
            let manager = store::account_managers::insert(
                &mut conn,
                &format!("{name} {role}"),
                &email,
                "1",
                0,
            )
            .await
            .unwrap();
            managers.push(manager);
        }
        let [assigned_manager, spare_manager] = managers[..] else {
            unreachable!("two managers")
        };
        drop(conn);
        app::ssr::service::account_managers::assign(db, &admin, id, assigned_manager)
            .await
            .unwrap();
        app::ssr::service::configuration::save_override(db, &admin, id, "portal.language", "ja", 0)
            .await
            .unwrap();
        let history_id: i64 = sqlx::query_scalar(
            "SELECT MAX(id) FROM audit_log WHERE customer_id = $1 AND subject = 'setting portal.language'",
        )
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap();
        Fixture {
            id,
            tag_id,
            assigned_manager,
            spare_manager,
            history_id,
        }
    }

    /// Everything a write could change, as one comparable value.
    async fn fingerprint(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for sql in [
            "SELECT COUNT(*) FROM audit_log",
            "SELECT COUNT(*) FROM customer_tags",
            "SELECT COUNT(*) FROM customer_account_managers",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM setting_overrides",
            "SELECT CAST(COALESCE(SUM(default_version), 0) AS BIGINT) FROM settings",
            "SELECT CAST(COALESCE(SUM(updated_at), 0) AS BIGINT) FROM customers",
            "SELECT COUNT(*) FROM sync_jobs",
            "SELECT COUNT(*) FROM customers",
            "SELECT COUNT(*) FROM tenants WHERE unlinked_at IS NULL",
            "SELECT COUNT(*) FROM provider_directory_refreshes",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM billed_subscriptions",
            "SELECT COUNT(*) FROM billed_subscriptions",
            "SELECT COUNT(*) FROM reconciliation_acknowledgements",
            "SELECT COUNT(*) FROM staff",
            "SELECT COUNT(*) FROM staff WHERE disabled_at IS NULL AND role = 'admin'",
            "SELECT COUNT(*) FROM staff_tag_scopes",
            "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL",
        ] {
            out.push(
                sqlx::query_scalar(sql)
                    .fetch_one(self.state.db.pool())
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}")),
            );
        }
        out
    }
}

/// A tenant id made from the fixture's customer id (a GUID; not linked).
fn fixture_tenant(f: &Fixture) -> String {
    format!("00000000-0000-4000-8000-{:012}", f.id)
}

/// A request: method, path and form fields.
type Request = (reqwest::Method, String, Vec<(&'static str, String)>);

/// A real body for every endpoint that takes input, about the customer `f`; `None` for an
/// endpoint this table does not know yet (the tests then fail and name it).
fn body_for(path: &str, f: &Fixture) -> Option<Request> {
    let c = f.id.to_string();
    let post = |fields: Vec<(&'static str, String)>| {
        Some((reqwest::Method::POST, path.to_owned(), fields))
    };
    match path {
        "/api/get_customer"
        | "/api/get_tags"
        | "/api/get_account_managers"
        | "/api/get_configuration"
        | "/api/get_provider_tenants"
        | "/api/reload_customer" => post(vec![("customer_id", c)]),
        "/api/add_tag" => post(vec![
            ("customer_id", c),
            ("name", "Owner".into()),
            ("value", "Ana".into()),
        ]),
        "/api/remove_tag" => post(vec![("customer_id", c), ("tag_id", f.tag_id.to_string())]),
        "/api/assign_account_manager" => post(vec![
            ("customer_id", c),
            ("account_manager_id", f.spare_manager.to_string()),
        ]),
        "/api/unassign_account_manager" => post(vec![
            ("customer_id", c),
            ("account_manager_id", f.assigned_manager.to_string()),
        ]),
        "/api/save_override" => post(vec![
            ("customer_id", c),
            ("key", "billing.cycle".into()),
            ("value", "annual".into()),
            ("version", "0".into()),
        ]),
        "/api/revert_override" => post(vec![
            ("customer_id", c),
            ("key", "portal.language".into()),
            ("version", "1".into()),
        ]),
        "/api/get_setting_history" => {
            post(vec![("customer_id", c), ("key", "portal.language".into())])
        }
        "/api/restore_setting" => post(vec![
            ("customer_id", c),
            ("key", "portal.language".into()),
            ("history_id", f.history_id.to_string()),
            ("version", "1".into()),
        ]),
        "/api/revert_overrides" => post(vec![("items[0]", format!("{c}:portal.language:1"))]),
        "/api/save_global_default" => post(vec![
            ("key", "billing.cycle".into()),
            ("value", "annual".into()),
            ("version", "1".into()),
        ]),
        "/api/reload_all_customers"
        | "/api/get_global_defaults"
        | "/api/get_sync_page"
        | "/api/get_provider_page"
        | "/api/refresh_provider_directory" => post(vec![]),
        "/api/get_link_selection" | "/api/accept_suggestions" => {
            post(vec![("items[0]", fixture_tenant(f))])
        }
        "/api/link_tenants" => post(vec![
            ("items[0]", fixture_tenant(f)),
            ("to", "existing".into()),
            ("customer_id", c),
        ]),
        "/api/unlink_tenant" => post(vec![("customer_id", c), ("tenant_id", fixture_tenant(f))]),
        "/api/customers/{id}/configuration" => Some((
            reqwest::Method::GET,
            format!("/api/customers/{c}/configuration"),
            vec![],
        )),
        "/api/get_reconciliation" | "/api/adopt_billed" => post(vec![("customer_id", c)]),
        "/api/get_partner_consumption" => post(vec![("tag", String::new())]),
        "/api/get_partner_reconciliation" => post(vec![
            ("tag", String::new()),
            ("kind", String::new()),
            ("acknowledged", "false".into()),
            ("page", "1".into()),
        ]),
        "/api/reports/consumption.csv" => Some((
            reqwest::Method::GET,
            "/api/reports/consumption.csv".to_owned(),
            vec![],
        )),
        "/api/reports/reconciliation" => Some((
            reqwest::Method::GET,
            "/api/reports/reconciliation".to_owned(),
            vec![],
        )),
        "/api/audit.csv" | "/api/openapi.json" => {
            Some((reqwest::Method::GET, path.to_owned(), vec![]))
        }
        "/api/reports/reconciliation.csv" => Some((
            reqwest::Method::GET,
            "/api/reports/reconciliation.csv".to_owned(),
            vec![],
        )),
        "/api/save_billed" => post(vec![
            ("customer_id", c),
            ("product", "Office 365 E3".into()),
            ("quantity", "5".into()),
        ]),
        "/api/acknowledge_difference" => post(vec![
            ("customer_id", c),
            ("row_key", "billed:1".into()),
            ("kind", "missing_in_partner_center".into()),
            ("note", "Known: billed through the old contract.".into()),
        ]),
        "/api/customers/{id}/reports/reconciliation" => Some((
            reqwest::Method::GET,
            format!("/api/customers/{c}/reports/reconciliation"),
            vec![],
        )),
        "/api/get_consumption" | "/api/get_customer_activity" => post(vec![("customer_id", c)]),
        "/api/get_deletion_preview" | "/api/restore_customer" | "/api/release_tenants" => {
            post(vec![("customer_id", c)])
        }
        "/api/get_billing_section"
        | "/api/verify_billing_profile"
        | "/api/unlink_billing_profile" => post(vec![("customer_id", c)]),
        "/api/check_billing_profile" | "/api/link_billing_profile" => post(vec![
            ("customer_id", c),
            ("billing_id", "cus_NffrFeUfNV2Hib".into()),
        ]),
        "/api/delete_customer" => post(vec![
            ("customer_id", c),
            ("confirm_name", "North Co".into()),
        ]),
        "/api/get_deleted_customers" => post(vec![]),
        "/api/get_audit_page" => post(vec![
            ("customer", String::new()),
            ("staff", String::new()),
            ("action", String::new()),
            ("from", String::new()),
            ("to", String::new()),
        ]),
        "/api/get_staff_page" | "/api/get_api_tokens" | "/api/get_account" => post(vec![]),
        "/api/add_staff_member" => post(vec![
            ("email", "new@x.test".into()),
            ("display_name", "New Member".into()),
            ("role", "helpdesk".into()),
            ("scopes", "Region=North".into()),
            ("password", "violet kettle orbit".into()),
        ]),
        "/api/change_staff_role" => {
            post(vec![("staff_id", "2".into()), ("role", "finance".into())])
        }
        "/api/set_staff_scopes" => post(vec![
            ("staff_id", "4".into()),
            ("scopes", "Region=South".into()),
        ]),
        "/api/set_staff_enabled" => {
            post(vec![("staff_id", "2".into()), ("enabled", "false".into())])
        }
        "/api/reset_staff_password" => post(vec![
            ("staff_id", "2".into()),
            ("password", "violet kettle orbit".into()),
        ]),
        "/api/end_staff_session" => post(vec![("staff_id", "2".into()), ("handle", "x".into())]),
        "/api/create_api_token" => post(vec![
            ("name", "ConnectWise".into()),
            ("scope", "read".into()),
            ("expires_in_days", String::new()),
        ]),
        "/api/revoke_api_token" => post(vec![("token_id", "1".into())]),
        "/api/change_password" => post(vec![
            ("current", PASSWORD.into()),
            ("new", "violet kettle orbit".into()),
            ("repeated", "violet kettle orbit".into()),
        ]),
        "/api/end_own_session" => post(vec![("handle", "x".into())]),
        // Refused before the form is read: an empty one will do.
        "/api/billed-import" => post(vec![]),
        "/api/get_billed_import" | "/api/apply_billed_import" => post(vec![("id", "1".into())]),
        "/api/customers/{id}/reports/reconciliation.csv"
        | "/api/customers/{id}/reports/consumption"
        | "/api/customers/{id}/reports/consumption.csv" => {
            Some((reqwest::Method::GET, path.replace("{id}", &c), vec![]))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_customer_endpoint_answers_a_help_desk_user_out_of_scope_as_if_missing_and_changes_nothing(
) {
    let app = spawn_app().await;
    let hidden = app.fixture("South Co", "South").await;
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    let missing = Fixture {
        id: 999_999,
        ..hidden
    };
    let hidden = app.fixture("West Co", "West").await;
    let mut checked = 0;
    for endpoint in ENDPOINTS.iter().filter(|e| e.customer_scoped) {
        let Access::Requires(permission) = endpoint.access else {
            panic!(
                "{} is customer-scoped but not behind a permission",
                endpoint.path
            )
        };
        if !Role::Helpdesk.allows(permission) {
            continue;
        }
        let before = app.fingerprint().await;
        let mut answers = Vec::new();
        for f in [&hidden, &missing] {
            let (method, path, form) = body_for(endpoint.path, f)
                .unwrap_or_else(|| panic!("no request body is known for {}", endpoint.path));
            let res = helpdesk
                .request(method, format!("{}{path}", app.base))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = res.status();
            answers.push((status, res.text().await.unwrap()));
        }
        assert_eq!(
            answers[0].0,
            StatusCode::NOT_FOUND,
            "{}: {}",
            endpoint.path,
            answers[0].1
        );
        assert_eq!(
            answers[0], answers[1],
            "{}: hidden and missing differ",
            endpoint.path
        );
        assert_eq!(
            app.fingerprint().await,
            before,
            "{} changed something",
            endpoint.path
        );
        checked += 1;
    }
    assert!(checked >= 10, "customer endpoints checked: {checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_refuses_each_role_without_its_permission_in_the_function_itself() {
    // The access table is off: each refusal here comes from the server function's own check.
    let app = spawn_app_without_access_table().await;
    let f = app.fixture("North Co", "North").await;
    let mut checked = 0;
    for role in Role::ALL {
        let client = app.signed_in(role).await;
        for endpoint in ENDPOINTS {
            let Access::Requires(permission) = endpoint.access else {
                continue;
            };
            if !permission.is_write() || role.allows(permission) {
                continue;
            }
            let (method, path, form) = body_for(endpoint.path, &f)
                .unwrap_or_else(|| panic!("no request body is known for {}", endpoint.path));
            let before = app.fingerprint().await;
            let res = client
                .request(method, format!("{}{path}", app.base))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role} {path}");
            assert_eq!(
                app.fingerprint().await,
                before,
                "{role} {path} changed something"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "refusals checked: {checked}");
}

// ---- Sign-in abuse, cross-site requests, headers, paths, redirects ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_wrong_passwords_lock_the_account_and_then_even_the_right_one_is_refused() {
    let app = spawn_app().await;
    let client = app.client();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let res = app
            .call(
                &client,
                "/api/sign_in",
                &[("email", "admin@x.test"), ("password", "guess")],
            )
            .await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = res.headers()[header::RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait >= 1);
        }
        statuses.push(res.status().as_u16());
    }
    let threshold = app.state.sign_in.policy.free_failures as usize;
    assert!(
        statuses[..threshold - 1].iter().all(|s| *s == 400),
        "{statuses:?}"
    );
    assert!(
        statuses[threshold - 1..].iter().all(|s| *s == 429),
        "{statuses:?}"
    );
    let right = app
        .call(
            &client,
            "/api/sign_in",
            &[("email", "admin@x.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().get(header::SET_COOKIE).is_none());
    // Another account is not affected.
    app.signed_in(Role::Reader).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_address_is_limited_whatever_the_accounts_it_tries() {
    let app = spawn_app_gated(false, true, server::gate::SIGN_IN_PER_MINUTE).await;
    let client = app.client();
    let mut limited = 0;
    for n in 0..(server::gate::SIGN_IN_PER_MINUTE + 5) {
        let res = app
            .call(
                &client,
                "/api/sign_in",
                &[("email", &format!("user{n}@x.test")), ("password", "guess")],
            )
            .await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key(header::RETRY_AFTER));
            limited += 1;
        }
    }
    assert!(limited >= 5, "{limited} limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused_same_site_ones_pass() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let c = app.customer("Contoso", "North").await.to_string();
    let form = [
        ("customer_id", c.as_str()),
        ("name", "Owner"),
        ("value", "Ana"),
    ];
    let before = app.fingerprint().await;
    for (name, value) in [
        ("origin", "https://evil.test"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let res = admin
            .post(format!("{}/api/add_tag", app.base))
            .header(name, value)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    // Login CSRF: the sign-in is refused too.
    let res = app
        .client()
        .post(format!("{}/api/sign_in", app.base))
        .header("origin", "https://evil.test")
        .form(&[("email", "admin@x.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.fingerprint().await, before);
    let res = admin
        .post(format!("{}/api/add_tag", app.base))
        .header("origin", app.base.as_str())
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers_and_pages_a_script_nonce() {
    let app = spawn_app_with(true).await;
    for path in ["/sign-in", "/healthz", "/api/nothing", "/favicon.svg"] {
        let res = app
            .client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let h = res.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(
            h["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age="),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    }
    let page = app
        .client()
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let nonce = nonce_of(&csp, "script-src");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    // A plain-HTTP portal sends no HSTS.
    let plain = spawn_app().await;
    let res = plain
        .client()
        .get(format!("{}/sign-in", plain.base))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_with_dot_segments_are_refused_before_the_gate_decides() {
    let app = spawn_app().await;
    for path in [
        "/pkg/../customers",
        "/pkg/%2e%2e/customers",
        "/pkg/.%2e/customers/1/tags",
    ] {
        // reqwest would normalise the path; send it raw.
        let addr = app.base.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "{path}: {}",
            answer.lines().next().unwrap_or("")
        );
        assert!(
            !answer.contains("Sign out"),
            "{path} rendered a signed-in frame"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_posts_never_redirect_off_the_portal() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let c = app.customer("Contoso", "North").await.to_string();
    let res = admin
        .post(format!("{}/api/add_tag", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, "https://evil.test/phish")
        .form(&[
            ("customer_id", c.as_str()),
            ("name", "Owner"),
            ("value", "Ana"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()[header::LOCATION], "/customers");
    let res = admin
        .post(format!("{}/api/add_tag", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{}/customers/{c}/tags", app.base))
        .form(&[
            ("customer_id", c.as_str()),
            ("name", "Team"),
            ("value", "A"),
        ])
        .send()
        .await
        .unwrap();
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(
        location.trim_end_matches('?'),
        format!("/customers/{c}/tags")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_413_before_the_function_runs() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let c = app.customer("Contoso", "North").await.to_string();
    let before = app.fingerprint().await;
    let list = vec!["someone@example.com"; 80_000].join(",");
    let res = app
        .call(
            &admin,
            "/api/save_override",
            &[
                ("customer_id", &c),
                ("key", "billing.invoice_recipients"),
                ("value", &list),
                ("version", "0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.fingerprint().await, before);
    // A chunked body without a length is cut off at the same limit.
    let cookie = {
        let res = app
            .client()
            .post(format!("{}/api/sign_in", app.base))
            .form(&[("email", "admin@x.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let set = res.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned();
        set.split(';').next().unwrap().to_owned()
    };
    let body = format!("customer_id={c}&name=Owner&value={}", "a".repeat(40_000));
    let mut chunked = String::new();
    for chunk in body.as_bytes().chunks(4096) {
        chunked.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            std::str::from_utf8(chunk).unwrap()
        ));
    }
    chunked.push_str("0\r\n\r\n");
    let status = raw_request(
        &app,
        &format!(
            "POST /api/add_tag HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunked}",
            app.base.trim_start_matches("http://")
        ),
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert_eq!(app.fingerprint().await, before);
}

/// Sends `request` as written (clients would normalise it) and returns the status line.
async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_that_is_not_utf8_is_refused_not_replaced() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let c = app.customer("Contoso", "North").await;
    let res = admin
        .post(format!("{}/api/add_tag", app.base))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("customer_id={c}&name=Re%FFgion&value=North"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(app_error(res).await.to_string().contains("UTF-8"));
    let tags: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customer_tags WHERE customer_id = $1")
        .bind(c)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(tags, 1, "only the Region tag the test made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_link_cannot_make_the_sign_in_page_show_its_text() {
    let app = spawn_app().await;
    let text = "Your password has expired, call +1 555 0100";
    let crafted = AppError::Conflict {
        message: text.into(),
    };
    use base64::Engine;
    use server_fn::error::FromServerFnError;
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(crafted.ser());
    // The link is well made: it decodes to the crafted error, as the page would decode it.
    assert_eq!(
        server_fn::error::ServerFnUrlError::<AppError>::decode_err(&encoded),
        crafted
    );
    let page = app
        .client()
        .get(format!(
            "{}/sign-in?__path=%2Fapi%2Fsign_in&__err={encoded}",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("has expired"), "the crafted text was shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_hidden_pages_answer_404_with_the_page() {
    let app = spawn_app().await;
    let south = app.customer("South Co", "South").await;
    let admin = app.signed_in(Role::Admin).await;
    for path in [
        "/no-such-page".to_owned(),
        "/customers/999999/tags".to_owned(),
    ] {
        let res = admin
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(res.text().await.unwrap().contains("not found"), "{path}");
    }
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    let res = helpdesk
        .get(format!("{}/customers/{south}/tags", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let reader = app.signed_in(Role::Reader).await;
    let res = reader
        .get(format!("{}/settings/defaults", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciliation_json_has_the_documented_shape_and_follows_the_access_rules() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await;
    let mut conn = app.state.db.pool().acquire().await.unwrap();
    let billed = app::ssr::store::billed::BilledFields {
        product: "Office 365 E3".into(),
        offer_id: None,
        pc_subscription_id: Some("5ab5c0de-0000-4000-8000-000000000001".into()),
        tenant_id: None,
        quantity: 20,
        billing_cycle: Some("monthly".into()),
        term: None,
        status: "active".into(),
        auto_renew: None,
        unit_price: Some("12.50".into()),
        currency: Some("EUR".into()),
        notes: String::new(),
    };
    app::ssr::store::billed::insert(&mut conn, north, &billed, "admin@x.test", 0)
        .await
        .unwrap();
    drop(conn);
    let url = format!("{}/api/customers/{north}/reports/reconciliation", app.base);
    let finance = app.signed_in(Role::Finance).await;
    let res = finance.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&body), ["customer_id", "rows", "snapshot_at"]);
    assert_eq!(body["customer_id"], north);
    assert!(body["snapshot_at"].is_null(), "never synced");
    let row = &body["rows"][0];
    assert_eq!(
        keys(row),
        [
            "assigned",
            "billed",
            "billed_record",
            "bought",
            "differences",
            "offer_id",
            "pc",
            "pc_subscription_id",
            "product"
        ]
    );
    assert_eq!(row["product"], "Office 365 E3");
    assert_eq!(row["billed"], 20);
    assert!(row["bought"].is_null() && row["pc"].is_null() && row["assigned"].is_null());
    assert_eq!(row["billed_record"]["unit_price"], "12.50");
    assert_eq!(
        row["differences"],
        serde_json::json!([{
            "kind": "missing_in_partner_center",
            "pc": null,
            "billed": "20",
            "acknowledged": false
        }])
    );
    // Anonymous: 401; a Help Desk user outside the customer's tags: 404 as if missing.
    let res = app.client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    assert_eq!(
        helpdesk.get(&url).send().await.unwrap().status(),
        StatusCode::OK,
        "a customer of their tag"
    );
    let south = app.customer("South Co", "South").await;
    let res = helpdesk
        .get(format!(
            "{}/api/customers/{south}/reports/reconciliation",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_reports_download_as_csv_with_their_columns_and_a_named_file() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await;
    let reader = app.signed_in(Role::Reader).await;
    for (report, header) in [
        (
            "consumption",
            "customer_id,customer,tenant_id,product,sku_part_number,purchased,",
        ),
        (
            "reconciliation",
            "customer_id,customer,product,offer_id,pc_subscription_id,tenant_id,bought,",
        ),
    ] {
        let url = format!("{}/api/customers/{north}/reports/{report}.csv", app.base);
        let res = reader.get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{report}");
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
        let disposition = res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with(&format!("attachment; filename=\"{report}-north-co-20")),
            "{disposition}"
        );
        let body = res.text().await.unwrap();
        assert!(body.starts_with(header), "{report}: {body}");
        let excel = reader.get(format!("{url}?excel=1")).send().await.unwrap();
        let bytes = excel.bytes().await.unwrap();
        assert!(
            bytes.starts_with("\u{feff}customer_id,".as_bytes()),
            "{report}"
        );
        // Anonymous callers get nothing.
        let res = app.client().get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

/// A linked, counted tenant of the customer with one licence line of `product`.
async fn counted_licence(app: &TestApp, customer_id: i64, tenant: &str, product: &str) {
    let mut conn = app.state.db.pool().acquire().await.unwrap();
    store::customers::insert_tenant(&mut conn, customer_id, tenant, "T", "t.example", 0)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO tenant_snapshots (tenant_id, fetched_at, company_name, domain, profile_json, licences)
         VALUES ($1, 0, 'T', 't.example', '{}', 'counted')",
    )
    .bind(tenant)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO tenant_subscribed_skus (tenant_id, sku_id, sku_part_number, product_name,
             total_units, active_units, consumed_units, available_units, suspended_units,
             warning_units, capability_status, fetched_at)
         VALUES ($1, 'sku-1', 'SKU_1', $2, 20, 20, 5, 15, 0, 0, 'Enabled', 0)",
    )
    .bind(tenant)
    .bind(product)
    .execute(&mut *conn)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_consumption_csv_streams_the_licences_of_every_customer_in_scope() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await;
    let south = app.customer("South Co", "South").await;
    let hostile = "=cmd|' /C calc'!A0, \"quoted\"\nnext line";
    counted_licence(&app, north, "aaaaaaaa-0000-4000-8000-000000000001", hostile).await;
    counted_licence(
        &app,
        south,
        "bbbbbbbb-0000-4000-8000-000000000002",
        "Office 365 E3",
    )
    .await;
    let url = format!("{}/api/reports/consumption.csv", app.base);
    let read = |body: String| read_csv(&body);

    let reader = app.signed_in(Role::Reader).await;
    let res = reader.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"consumption-all-customers-20"),
        "{disposition}"
    );
    let (header, lines) = read(res.text().await.unwrap());
    assert_eq!(header, server::csv_export::PARTNER_CONSUMPTION_COLUMNS);
    assert_eq!(
        header[..],
        server::csv_export::CONSUMPTION_COLUMNS[..14],
        "the per-customer file's product columns"
    );
    let customers: Vec<&str> = lines.iter().map(|l| l[1].as_str()).collect();
    assert_eq!(customers, ["North Co", "South Co"]);
    // The hostile product name comes back whole, as text a spreadsheet will not run.
    assert_eq!(lines[0][3], format!("'{hostile}"));
    assert_eq!(
        lines[1][5..14],
        ["20", "20", "0", "0", "5", "15", "25", "false", "true"]
    );

    // Help Desk: its tag's customers only; a tag filter narrows anyone's file.
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    let (_, lines) = read(
        helpdesk
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0][1], "North Co");
    let (_, lines) = read(
        reader
            .get(format!("{url}?tag=Region%3DSouth"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0][1], "South Co");
    let res = reader.get(format!("{url}?tag=South")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// A multipart/form-data body with one file field named `file`, as a browser sends it.
fn multipart_file(name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----portal-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billing_export_uploaded_in_the_browser_is_checked_then_imported_all_or_nothing_once() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await;
    let finance = app.signed_in(Role::Finance).await;
    let upload = |client: Client, name: &'static str, content: String| {
        let base = app.base.clone();
        async move {
            let (content_type, body) = multipart_file(name, content.as_bytes());
            client
                .post(format!("{base}/api/billed-import"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let uploaded = |res: reqwest::Response| {
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let id = location
            .strip_prefix("/reports/billed-import/")
            .unwrap_or_else(|| panic!("{location}"));
        id.to_owned()
    };
    let review = |id: String| {
        let (app, finance) = (&app, finance.clone());
        async move {
            let res = app
                .call(&finance, "/api/get_billed_import", &[("id", &id)])
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<app::model::BilledImportView>().await.unwrap()
        }
    };
    let billed = || async {
        let mut conn = app.state.db.pool().acquire().await.unwrap();
        app::ssr::store::billed::list(&mut conn, north)
            .await
            .unwrap()
    };

    // A rejected line: the dry run says which and why; the import is refused, nothing written.
    let id = uploaded(
        upload(
            finance.clone(),
            "export.csv",
            format!("customer,product,quantity\r\n{north},Office 365 E3,5\r\n{north},Visio Plan 2,many\r\n"),
        )
        .await,
    );
    let file = review(id.clone()).await;
    assert_eq!(file.file_name, "export.csv");
    assert_eq!((file.lines_total, file.created, file.rejected), (2, 1, 1));
    assert_eq!(file.lines[0].line, 3, "the rejected line first");
    assert_eq!(file.lines[0].action, app::model::ImportAction::Reject);
    assert!(
        file.lines[0].detail.contains("quantity"),
        "{:?}",
        file.lines[0]
    );
    assert_eq!(file.lines[1].customer.as_ref().map(|c| c.id), Some(north));
    let res = app
        .call(&finance, "/api/apply_billed_import", &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(billed().await.is_empty(), "nothing imported");

    // Corrected: imported once; a second import of the same file is refused.
    let id = uploaded(
        upload(
            finance.clone(),
            "export.csv",
            format!("\u{feff}customer,product,quantity\r\n{north},Office 365 E3,5\r\n{north},Visio Plan 2,2\r\n"),
        )
        .await,
    );
    assert_eq!(review(id.clone()).await.created, 2);
    let res = app
        .call(&finance, "/api/apply_billed_import", &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(billed().await.len(), 2);
    let done = review(id.clone()).await;
    let (_, by, what) = done.applied.expect("marked imported");
    assert_eq!(by, "finance@x.test");
    assert!(what.starts_with("2 new billed rows"), "{what}");
    let res = app
        .call(&finance, "/api/apply_billed_import", &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // A file that is not the import's CSV is kept with why, naming the line.
    let id = uploaded(
        upload(
            finance.clone(),
            "excel.csv",
            "customer;product;quantity\r\n1;Visio;2\r\n".to_owned(),
        )
        .await,
    );
    let file = review(id).await;
    let error = file.file_error.expect("a file error");
    assert!(error.starts_with("line 1:"), "{error}");

    // Who may not keep the billed record may not upload.
    let reader = app.signed_in(Role::Reader).await;
    let res = upload(reader, "export.csv", "customer,product,quantity\r\n".into()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = upload(
        app.client(),
        "export.csv",
        "customer,product,quantity\r\n".into(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// A CSV download's header and lines, read by the `csv` crate.
fn read_csv(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let lines: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, lines)
}

/// A billed row of `product` Partner Center has no subscription for, priced if asked.
async fn billed_row(app: &TestApp, customer: i64, product: &str, price: Option<(&str, &str)>) {
    let mut conn = app.state.db.pool().acquire().await.unwrap();
    let fields = app::ssr::store::billed::BilledFields {
        product: product.into(),
        offer_id: None,
        pc_subscription_id: None,
        tenant_id: None,
        quantity: 10,
        billing_cycle: None,
        term: None,
        status: "active".into(),
        auto_renew: None,
        unit_price: price.map(|(amount, _)| amount.to_owned()),
        currency: price.map(|(_, currency)| currency.to_owned()),
        notes: String::new(),
    };
    app::ssr::store::billed::insert(&mut conn, customer, &fields, "admin@x.test", 0)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_reconciliation_csv_has_the_pages_lines_in_its_order_filters_and_scope() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await;
    let hostile = "=HYPERLINK(\"http://x.test\",\"click\")";
    let other = app.customer(hostile, "North").await;
    let south = app.customer("South Co", "South").await;
    billed_row(&app, north, "Office 365 E3", Some(("20.00", "EUR"))).await;
    billed_row(&app, other, "Visio Plan 2", None).await;
    billed_row(&app, south, "Project Plan 3", Some(("0.5", "USD"))).await;
    let url = format!("{}/api/reports/reconciliation.csv", app.base);
    let reader = app.signed_in(Role::Reader).await;
    let get = |client: &Client, query: &str| {
        let request = client.get(format!("{url}{query}"));
        async move { request.send().await.unwrap() }
    };

    let res = get(&reader, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"reconciliation-all-customers-20"),
        "{disposition}"
    );
    let (header, lines) = read_csv(&res.text().await.unwrap());
    assert_eq!(header, server::csv_export::PARTNER_RECONCILIATION_COLUMNS);
    let kinds: Vec<&str> = app::model::DifferenceKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        header[3..14],
        kinds,
        "a count column per kind, in kind order"
    );
    // The page's order: the most money at stake first.
    let customers: Vec<&str> = lines.iter().map(|l| l[1].as_str()).collect();
    assert_eq!(customers, ["North Co", "South Co", &format!("'{hostile}")]);
    let north_line = &lines[0];
    assert_eq!(north_line[0], north.to_string());
    assert_eq!((north_line[2].as_str(), north_line[4].as_str()), ("1", "1"));
    assert_eq!(north_line[14..16], ["EUR", "200.00"]);
    assert_eq!(
        north_line[18],
        format!("/customers/{north}/reports/reconciliation")
    );
    assert_eq!(lines[2][14..16], ["", ""], "no price recorded");

    // Help Desk: its tag's customers; a kind no one has: the header alone; filters as the page's.
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    let (_, lines) = read_csv(&get(&helpdesk, "").await.text().await.unwrap());
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l[0] != south.to_string()));
    let (_, lines) = read_csv(&get(&reader, "?kind=status").await.text().await.unwrap());
    assert!(lines.is_empty());
    let (_, lines) = read_csv(
        &get(&reader, "?tag=Region%3DSouth")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(lines.len(), 1);
    let body = get(&reader, "?excel=1").await.bytes().await.unwrap();
    assert!(body.starts_with("\u{feff}customer_id,".as_bytes()));
    assert_eq!(
        get(&reader, "?kind=bogus").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&app.client(), "").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The gateways' simulator on loopback: its address, data and handle.
async fn gateway_simulator() -> (
    String,
    server::gateway_sim::GatewayData,
    std::sync::Arc<server::gateway_sim::GatewaySimulator>,
) {
    use server::gateway_sim::{router, GatewayData, GatewaySimulator};
    let data = GatewayData::demo();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sim = GatewaySimulator::new(data.clone());
    let serving = sim.clone();
    tokio::spawn(async move { axum::serve(listener, router(serving)).await });
    (format!("http://{addr}"), data, sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_payment_gateway_the_billing_section_does_not_exist() {
    let app = spawn_app().await;
    let c = app.customer("North Co", "North").await.to_string();
    let admin = app.signed_in(Role::Admin).await;
    for path in [
        "/api/get_billing_section",
        "/api/verify_billing_profile",
        "/api/unlink_billing_profile",
    ] {
        let res = app.call(&admin, path, &[("customer_id", &c)]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in ["/api/check_billing_profile", "/api/link_billing_profile"] {
        let res = app
            .call(
                &admin,
                path,
                &[("customer_id", &c), ("billing_id", "cus_NffrFeUfNV2Hib")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let header: app::model::CustomerHeader = app
        .call(&admin, "/api/get_customer", &[("customer_id", &c)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(header.billing_gateway, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_links_a_stripe_customer_in_two_steps_verifies_and_unlinks_it() {
    use app::ssr::{
        gateway::{Gateway, StripeClient},
        partner_center::Secret,
    };
    let (sim_url, data, sim) = gateway_simulator().await;
    let stripe = StripeClient::new(
        &format!("{sim_url}/stripe"),
        Secret::new(data.stripe_test_key.clone()),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let app = spawn_app_with_gateway(Gateway::Stripe(stripe)).await;
    let north = app.customer("North Co", "North").await.to_string();
    let south = app.customer("South Co", "South").await.to_string();
    let finance = app.signed_in(Role::Finance).await;
    let section = |client: Client, customer: String| {
        let app = &app;
        async move {
            let res = app
                .call(
                    &client,
                    "/api/get_billing_section",
                    &[("customer_id", &customer)],
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<app::model::BillingSection>().await.unwrap()
        }
    };
    let first = section(finance.clone(), north.clone()).await;
    assert_eq!(first.gateway, "Stripe");
    assert!(first.gateway_test_mode && first.link.is_none() && first.can_edit);

    // Step one: the form next to the field, then what Stripe says; nothing saved.
    let check = |id: &'static str| {
        let (app, finance, north) = (&app, finance.clone(), north.clone());
        async move {
            app.call(
                &finance,
                "/api/check_billing_profile",
                &[("customer_id", &north), ("billing_id", id)],
            )
            .await
        }
    };
    let err = app_error(check("cus 123").await).await;
    assert!(err.field_message("billing_id").is_some(), "{err:?}");
    let err = app_error(check("cus_Missing00000").await).await;
    assert_eq!(
        err.field_message("billing_id"),
        Some("Stripe has no customer cus_Missing00000.")
    );
    let err = app_error(check("cus_OldDeleted0001").await).await;
    assert!(err
        .field_message("billing_id")
        .is_some_and(|m| m.contains("deleted customer")));
    let res = check("  cus_NffrFeUfNV2Hib ").await;
    assert_eq!(res.status(), StatusCode::OK);
    let profile: app::model::BillingProfileView = res.json().await.unwrap();
    assert_eq!(
        (
            profile.id.as_str(),
            profile.name.as_str(),
            profile.test_mode
        ),
        ("cus_NffrFeUfNV2Hib", "Alder Creek Dental", true)
    );
    assert!(section(finance.clone(), north.clone()).await.link.is_none());
    let res = check("cus_fail500").await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);

    // Step two: linked (trimmed); the same id for another customer is a 409 naming the first.
    let res = app
        .call(
            &finance,
            "/api/link_billing_profile",
            &[
                ("customer_id", &north),
                ("billing_id", " cus_NffrFeUfNV2Hib"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let link = section(finance.clone(), north.clone()).await.link.unwrap();
    assert_eq!(link.profile.id, "cus_NffrFeUfNV2Hib");
    assert_eq!(link.linked_by, "finance@x.test");
    let res = app
        .call(
            &finance,
            "/api/link_billing_profile",
            &[
                ("customer_id", &south),
                ("billing_id", "cus_NffrFeUfNV2Hib"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(format!("{:?}", app_error(res).await).contains("North Co"));

    // Verify: still there; then deleted in Stripe, it is flagged.
    let res = app
        .call(
            &finance,
            "/api/verify_billing_profile",
            &[("customer_id", &north)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(section(finance.clone(), north.clone())
        .await
        .link
        .unwrap()
        .gone_at
        .is_none());
    sim.delete_stripe_customer("cus_NffrFeUfNV2Hib");
    let res = app
        .call(
            &finance,
            "/api/verify_billing_profile",
            &[("customer_id", &north)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let link = section(finance.clone(), north.clone()).await.link.unwrap();
    assert!(link.gone_at.is_some(), "flagged as gone from Stripe");
    // A reader sees the link but may not verify or unlink.
    let reader = app.signed_in(Role::Reader).await;
    let seen = section(reader.clone(), north.clone()).await;
    assert!(seen.link.is_some() && !seen.can_edit);
    for path in ["/api/verify_billing_profile", "/api/unlink_billing_profile"] {
        let res = app.call(&reader, path, &[("customer_id", &north)]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let res = app
        .call(
            &finance,
            "/api/unlink_billing_profile",
            &[("customer_id", &north)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(section(finance.clone(), north.clone()).await.link.is_none());
    let header: app::model::CustomerHeader = app
        .call(&finance, "/api/get_customer", &[("customer_id", &north)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(header.billing_gateway.as_deref(), Some("Stripe"));
    // The configuration JSON says which gateway is on, never its key.
    let res = finance
        .get(format!("{}/api/customers/{north}/configuration", app.base))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["payment_gateway"],
        serde_json::json!({ "gateway": "stripe", "test_mode": true })
    );
    assert!(!text.contains(&data.stripe_test_key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_downloads_as_csv_one_line_per_changed_field_with_the_pages_filters() {
    let app = spawn_app().await;
    let north = app.customer("North Co", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let res = app
        .call(
            &admin,
            "/api/add_tag",
            &[
                ("customer_id", &north.to_string()),
                ("name", "=Tier"),
                ("value", "Gold"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    billed_row(&app, north, "Office 365 E3", None).await;
    let url = format!("{}/api/audit.csv", app.base);
    let res = admin.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"audit-log-20"));
    let (header, lines) = read_csv(&res.text().await.unwrap());
    assert_eq!(header, server::csv_export::AUDIT_COLUMNS);
    let tag_lines: Vec<&Vec<String>> = lines.iter().filter(|l| l[3] == "tag.add").collect();
    assert!(!tag_lines.is_empty(), "{lines:?}");
    assert!(tag_lines
        .iter()
        .all(|l| l[2] == "admin@x.test" && l[5] == "North Co"));
    // A field's value a spreadsheet would run comes back as text.
    assert!(tag_lines.iter().any(|l| l[9] == "'=Tier"), "{tag_lines:?}");

    // The page's filters; finance sees its share; Help Desk and anonymous are refused.
    let (_, lines) = read_csv(
        &admin
            .get(format!("{url}?action=tag.add"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert!(lines.iter().all(|l| l[3] == "tag.add") && !lines.is_empty());
    let res = admin
        .get(format!("{url}?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let finance = app.signed_in(Role::Finance).await;
    let (_, lines) = read_csv(
        &finance
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert!(
        lines.iter().all(|l| l[3].starts_with("billed.")),
        "{lines:?}"
    );
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    assert_eq!(
        helpdesk.get(&url).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.client().get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

// ---- Staff administration, My account, API tokens ----

/// Creates a token through the page's endpoint as the admin; returns it.
async fn create_token(app: &TestApp, admin: &Client, name: &str, scope: &str) -> String {
    let res = app
        .call(
            admin,
            "/api/create_api_token",
            &[("name", name), ("scope", scope), ("expires_in_days", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let created: app::model::NewToken = res.json().await.unwrap();
    created.token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_reads_the_json_api_and_nothing_else() {
    let app = spawn_app().await;
    let f = app.fixture("North Co", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let token = create_token(&app, &admin, "ConnectWise", "read").await;
    let other = Client::builder().redirect(Policy::none()).build().unwrap();
    let get = |path: String, token: &str| {
        other
            .get(format!("{}{path}", app.base))
            .bearer_auth(token)
            .send()
    };
    for path in [
        format!("/api/customers/{}/configuration", f.id),
        format!("/api/customers/{}/reports/reconciliation", f.id),
        format!("/api/customers/{}/reports/consumption.csv", f.id),
        "/api/reports/reconciliation".to_owned(),
    ] {
        let res = get(path.clone(), &token).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    // Not on a page, a form endpoint, or what its scope does not cover.
    for (path, status) in [
        ("/customers".to_owned(), StatusCode::FORBIDDEN),
        (format!("/customers/{}", f.id), StatusCode::FORBIDDEN),
        ("/api/audit.csv".to_owned(), StatusCode::FORBIDDEN),
    ] {
        let res = get(path.clone(), &token).await.unwrap();
        assert_eq!(res.status(), status, "{path}");
    }
    let res = other
        .post(format!("{}/api/get_customer", app.base))
        .bearer_auth(&token)
        .form(&[("customer_id", f.id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = other
        .post(format!("{}/api/billed-import", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a read token may not import"
    );
    // A wrong token, then the right one revoked: 401 with a Bearer challenge.
    let res = get("/api/reports/reconciliation".into(), "pcp_wrong")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'ConnectWise'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let res = app
        .call(
            &admin,
            "/api/revoke_api_token",
            &[("token_id", &id.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(format!("/api/customers/{}/configuration", f.id), &token)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // An expired one too.
    let expiring = create_token(&app, &admin, "Old job", "read").await;
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE name = 'Old job'")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let res = get("/api/reports/reconciliation".into(), &expiring)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Only admins manage tokens.
    let finance = app.signed_in(Role::Finance).await;
    let res = app
        .call(
            &finance,
            "/api/create_api_token",
            &[("name", "Mine"), ("scope", "read")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billed_write_token_imports_and_the_audit_names_the_token() {
    let app = spawn_app().await;
    let f = app.fixture("North Co", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let token = create_token(&app, &admin, "Billing job", "billed_write").await;
    let (content_type, body) = multipart_file(
        "billed.csv",
        format!("customer,product,quantity\r\n{},Office 365 E3,7\r\n", f.id).as_bytes(),
    );
    let res = Client::new()
        .post(format!("{}/api/billed-import?apply=true", app.base))
        .bearer_auth(&token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["applied"], true, "{body}");
    assert_eq!(body["created"], 1, "{body}");
    let (actor_id, actor): (Option<i64>, String) = sqlx::query_as(
        "SELECT actor_id, actor_email FROM audit_log WHERE action LIKE 'billed.%' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!((actor_id, actor.as_str()), (None, "token:Billing job"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_with_a_first_password_must_change_it_before_anything_else() {
    let app = spawn_app().await;
    let f = app.fixture("North Co", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let res = app
        .call(
            &admin,
            "/api/add_staff_member",
            &[
                ("email", "ana@x.test"),
                ("display_name", "Ana"),
                ("role", "helpdesk"),
                ("scopes", "Region=North"),
                ("password", "violet kettle orbit"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    let ana = app.client();
    let res = app
        .call(
            &ana,
            "/api/sign_in",
            &[("email", "ana@x.test"), ("password", "violet kettle orbit")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = ana
        .get(format!("{}/customers", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[header::LOCATION], "/account");
    let id = f.id.to_string();
    let res = app
        .call(&ana, "/api/get_customer", &[("customer_id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .call(
            &ana,
            "/api/change_password",
            &[
                ("current", "violet kettle orbit"),
                ("new", "amber falcon river"),
                ("repeated", "amber falcon river"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    let res = app
        .call(&ana, "/api/get_customer", &[("customer_id", &id)])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the session lives on, now unrestricted"
    );
    // The admin disables her: her session ends at once.
    let ana_id: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE email = 'ana@x.test'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let res = app
        .call(
            &admin,
            "/api/set_staff_enabled",
            &[("staff_id", &ana_id.to_string()), ("enabled", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(&ana, "/api/get_customer", &[("customer_id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_is_refused_with_409_said_plainly() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE email = 'admin@x.test'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let res = app
        .call(
            &admin,
            "/api/change_staff_role",
            &[("staff_id", &id.to_string()), ("role", "reader")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(app_error(res)
        .await
        .to_string()
        .contains("last enabled System Admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_created_by_a_form_without_javascript_is_shown_once_on_its_page() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let res = admin
        .post(format!("{}/api/create_api_token", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{}/admin/api-tokens", app.base))
        .form(&[
            ("name", "Halo"),
            ("scope", "read"),
            ("expires_in_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("portal_new_token="))
        .expect("the token's cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/admin/api-tokens"));
    let page = admin
        .get(format!("{}/admin/api-tokens", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("pcp_"), "the page shows the token");
    let again = admin
        .get(format!("{}/admin/api-tokens", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains("pcp_"), "once only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_to_anyone_and_names_every_json_route() {
    let app = spawn_app().await;
    let res = app
        .client()
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for route in app::api::PLAIN_ROUTES {
        assert!(
            doc["paths"].get(route).is_some(),
            "{route} is not described"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_route_refuses_an_unreadable_id_or_query_with_the_json_error() {
    let app = spawn_app().await;
    let reader = app.signed_in(Role::Reader).await;
    let res = reader
        .get(format!(
            "{}/api/customers/9223372036854775808/configuration",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(matches!(app_error(res).await, AppError::NotFound { .. }));
    let res = reader
        .get(format!(
            "{}/api/reports/reconciliation?page=9223372036854775808",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(app_error(res).await, AppError::BadRequest { .. }));
}

/// The nonce a page's Content-Security-Policy allows in `directive` (`script-src`, `style-src`).
fn nonce_of<'a>(policy: &'a str, directive: &str) -> &'a str {
    policy
        .split(';')
        .map(str::trim)
        .find(|part| part.starts_with(directive))
        .and_then(|part| part.split("'nonce-").nth(1))
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {directive} of {policy}"))
}

/// A built site as `.ci/build` leaves it: content-named client files listed in hash.txt, with
/// brotli and gzip copies.
fn built_site(dir: &std::path::Path) -> (String, String, String) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let (js, wasm, css) = ("0123456789abcdef", "00112233aabbccdd", "fedcba9876543210");
    std::fs::write(
        pkg.join(format!("portal.{js}.js")),
        "export default function init() { return 'client'; }\n".repeat(50),
    )
    .unwrap();
    let mut wasm_bytes = b"\0asm\x01\0\0\0".to_vec();
    wasm_bytes.extend(std::iter::repeat_n(7u8, 4000));
    std::fs::write(pkg.join(format!("portal.{wasm}.wasm")), &wasm_bytes).unwrap();
    std::fs::write(
        pkg.join(format!("portal.{css}.css")),
        "body { margin: 0; }\n".repeat(50),
    )
    .unwrap();
    std::fs::write(
        dir.join("favicon.svg"),
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\">{}</svg>",
            " ".repeat(500)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("hash.txt"),
        format!("js: {js}\nwasm: {wasm}\ncss: {css}\n"),
    )
    .unwrap();
    server::assets::precompress(dir).unwrap();
    (js.into(), wasm.into(), css.into())
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

fn ungzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_is_sent_precompressed_and_content_named_and_cached_for_a_year() {
    let site = std::env::temp_dir().join(format!("portal-site-{}", uuid::Uuid::new_v4().simple()));
    let (js, wasm, css) = built_site(&site);
    let app = spawn_app_with_site(&site).await;
    let client = app.client();

    // The page names the content-named script and wasm, and carries the stylesheet inline
    // under the nonce its policy allows (the first paint needs no second request).
    let res = client
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = res.text().await.unwrap();
    for name in [
        format!("/pkg/portal.{js}.js"),
        format!("/pkg/portal.{wasm}.wasm"),
    ] {
        assert!(page.contains(&name), "the page names {name}: {page}");
    }
    let css_text = std::fs::read_to_string(site.join(format!("pkg/portal.{css}.css"))).unwrap();
    let nonce = nonce_of(&policy, "style-src");
    assert!(
        page.contains(&format!("<style nonce=\"{nonce}\">{css_text}</style>")),
        "the stylesheet is inline with the nonce {nonce}: {page}"
    );
    assert!(!page.contains(&format!("/pkg/portal.{css}.css")), "{page}");

    let raw = std::fs::read(site.join(format!("pkg/portal.{wasm}.wasm"))).unwrap();
    let path = format!("{}/pkg/portal.{wasm}.wasm", app.base);
    for (accept, encoding) in [
        ("br, gzip", Some("br")),
        ("gzip, deflate", Some("gzip")),
        ("", None),
    ] {
        let mut req = client.get(&path);
        if !accept.is_empty() {
            req = req.header("accept-encoding", accept);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{accept}");
        let headers = res.headers().clone();
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{accept}"
        );
        assert_eq!(headers["content-type"], "application/wasm", "{accept}");
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        let body = res.bytes().await.unwrap();
        // The copy made at build time is what is sent, not one compressed per request.
        let expected_body = match encoding {
            Some("br") => std::fs::read(site.join(format!("pkg/portal.{wasm}.wasm.br"))).unwrap(),
            Some(_) => std::fs::read(site.join(format!("pkg/portal.{wasm}.wasm.gz"))).unwrap(),
            None => raw.clone(),
        };
        assert_eq!(body.as_ref(), expected_body.as_slice(), "{accept}");
        let decoded = match encoding {
            Some("br") => unbrotli(&body),
            Some(_) => ungzip(&body),
            None => body.to_vec(),
        };
        assert_eq!(decoded, raw, "{accept}");
    }

    // A file whose name does not change with its content is kept a day, then revalidated: 304
    // when unchanged.
    let favicon = client
        .get(format!("{}/favicon.svg", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(favicon.status(), StatusCode::OK);
    assert_eq!(favicon.headers()["cache-control"], "public, max-age=86400");
    let modified = favicon.headers()["last-modified"].clone();
    let again = client
        .get(format!("{}/favicon.svg", app.base))
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    // A file that is not there is the app's 404 page, not stored.
    let missing = client
        .get(format!("{}/pkg/portal.ffffffffffffffff.wasm", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()["cache-control"], "no-store");
    std::fs::remove_dir_all(&site).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_json_and_csv_are_compressed_on_request_and_never_stored() {
    let app = spawn_app().await;
    let id = app.customer("Contoso", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    for (path, shows) in [
        (format!("/customers/{id}/configuration"), "Contoso"),
        (
            format!("/api/customers/{id}/configuration"),
            "billing.cycle",
        ),
        (
            format!("/api/customers/{id}/reports/reconciliation.csv"),
            "customer_id,customer,product",
        ),
    ] {
        let plain = admin
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), StatusCode::OK, "{path}");
        assert_eq!(plain.headers()["cache-control"], "no-store", "{path}");
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain = plain.text().await.unwrap();
        for (accept, encoding) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
            let res = admin
                .get(format!("{}{path}", app.base))
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
            assert_eq!(
                res.headers()["content-encoding"],
                encoding,
                "{path} {accept}"
            );
            let body = res.bytes().await.unwrap();
            let decoded = if encoding == "br" {
                unbrotli(&body)
            } else {
                ungzip(&body)
            };
            let decoded = String::from_utf8(decoded).unwrap();
            if decoded.len() > 1_000 {
                assert!(
                    body.len() < decoded.len() / 2,
                    "{path} {accept}: compressed"
                );
            }
            // Pages carry fresh nonces and tokens: compare what does not change per request.
            assert_eq!(
                decoded.lines().count(),
                plain.lines().count(),
                "{path} {accept}"
            );
            assert!(decoded.contains(shows), "{path}: {decoded}");
        }
    }
}

/// A page as it arrived: its status and its text, or what went wrong (the connection failed or
/// the page was cut short). A request that gets no answer at all within 10 s is asked once
/// more: Leptos sometimes never finishes a render (a race in its resources, about once in a
/// few hundred renders while other tests load both cores; see `server::assets`), which is not
/// what the tests that call this check.
async fn whole_page(client: &Client, url: &str) -> Result<(StatusCode, String), String> {
    let mut stalls = 0;
    loop {
        let answer = client
            .get(url)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await;
        match answer {
            Err(error) if error.is_timeout() && stalls == 0 => stalls += 1,
            Err(error) => return Err(format!("{url}: {error:?}")),
            Ok(res) => {
                let status = res.status();
                let page = res.text().await.map_err(|e| format!("{url}: {e:?}"))?;
                if status == StatusCode::OK && !page.contains("</html>") {
                    return Err(format!("{url}: cut short"));
                }
                return Ok((status, page));
            }
        }
    }
}

/// The data a page carries for hydration: one `(id, payload)` per resolved resource.
fn resolved_resources(page: &str) -> Vec<(u32, String)> {
    page.split("__RESOLVED_RESOURCES[")
        .skip(1)
        .filter_map(|rest| {
            let (id, rest) = rest.split_once("] = \"")?;
            let payload = rest.split("\";").next()?;
            Some((id.parse().ok()?, payload.to_owned()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_once_and_carries_each_resource_once() {
    let app = spawn_app().await;
    let id = app.customer("Contoso", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let customer_pages = [
        "",
        "/configuration",
        "/tenants",
        "/reports",
        "/reports/reconciliation",
        "/reports/consumption",
        "/tags",
        "/account-managers",
        "/activity",
        "/delete",
    ]
    .map(|section| format!("/customers/{id}{section}"));
    let other_pages = [
        "/customers",
        "/deleted-customers",
        "/provider",
        "/reports",
        "/settings/defaults",
        "/settings/overrides",
        "/sync",
        "/audit",
        "/admin/staff",
        "/admin/api-tokens",
        "/reports/billed-import",
        "/account",
    ]
    .map(str::to_owned);
    for path in customer_pages.into_iter().chain(other_pages) {
        let mut first: Option<Vec<u32>> = None;
        // The header's data and the section's arrive in either order: render it several times.
        for _ in 0..8 {
            let (status, page) = whole_page(&admin, &format!("{}{path}", app.base))
                .await
                .unwrap();
            assert_eq!(status, StatusCode::OK, "{path}");
            let resources = resolved_resources(&page);
            // Two resources may both hold nothing (`null`, `{"Ok":null}`); the same data twice
            // is one resource made twice.
            let with_data: Vec<&str> = resources
                .iter()
                .map(|(_, p)| p.as_str())
                .filter(|p| p.len() > 32)
                .collect();
            let distinct: std::collections::HashSet<&str> = with_data.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                with_data.len(),
                "{path}: a resource was made more than once: {resources:?}"
            );
            let ids: Vec<u32> = resources.iter().map(|(id, _)| *id).collect();
            match &first {
                None => first = Some(ids),
                Some(first) => assert_eq!(&ids, first, "{path}: renders differ"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_pages_rendered_side_by_side_all_arrive_whole() {
    let app = spawn_app().await;
    let id = app.customer("Contoso", "North").await;
    let admin = app.signed_in(Role::Admin).await;
    let sections = ["", "/configuration", "/tags", "/activity", "/delete"];
    let mut failures = Vec::new();
    // 16 at a time, as several people (or tabs) would.
    for round in 0..15 {
        let mut renders = tokio::task::JoinSet::new();
        for n in 0..16 {
            let url = format!(
                "{}/customers/{id}{}",
                app.base,
                sections[(round + n) % sections.len()]
            );
            let client = admin.clone();
            renders.spawn(async move {
                match whole_page(&client, &url).await {
                    Ok((StatusCode::OK, _)) => Ok(()),
                    Ok((status, _)) => Err(format!("{url}: {status}")),
                    Err(failure) => Err(failure),
                }
            });
        }
        while let Some(done) = renders.join_next().await {
            if let Err(failure) = done.unwrap() {
                failures.push(failure);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 240 failed: {failures:?}",
        failures.len()
    );
}
