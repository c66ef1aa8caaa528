//! HTTP tests: the real router on a random port, a fresh SQLite database, and a real client with
//! a cookie store.

use app::{
    api::{Access, ENDPOINTS},
    error::AppError,
    model::Role,
    ssr::{auth, db::Db, store, AppState},
};
use reqwest::{header, redirect::Policy, Client, StatusCode};
use server::startup::{leptos_options, router, serve};
use std::net::SocketAddr;

struct TestApp {
    base: String,
    state: AppState,
    _dir: TempDir,
}

/// A temporary folder removed when dropped.
struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PASSWORD: &str = "correct horse battery";

async fn spawn_app() -> TestApp {
    spawn_app_with(false).await
}

async fn spawn_app_with(secure_cookies: bool) -> TestApp {
    let dir = std::env::temp_dir().join(format!("portal-http-{}", uuid::Uuid::new_v4().simple()));
    let db = Db::connect(&format!("sqlite://{}/portal.db", dir.display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let state = AppState::new(db, secure_cookies);
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
    let app = router(state.clone(), leptos_options("target/site", addr));
    tokio::spawn(serve(listener, app, std::future::pending()));
    TestApp {
        base: format!("http://{addr}"),
        state,
        _dir: TempDir(dir),
    }
}

impl TestApp {
    fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
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

#[tokio::test]
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
    assert_eq!(body["database"]["backend"], "sqlite");
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

#[tokio::test]
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
    assert!(cookie.starts_with("portal_session="), "{cookie}");
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
}

#[tokio::test]
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

#[tokio::test]
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
    let page = app
        .client()
        .get(location)
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

#[tokio::test]
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

#[tokio::test]
async fn every_endpoint_in_the_access_table_is_registered_and_the_other_way_round() {
    let registered: std::collections::BTreeSet<&str> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    let declared: std::collections::BTreeSet<&str> = ENDPOINTS.iter().map(|(p, _)| *p).collect();
    assert_eq!(registered, declared);
    assert!(declared.contains("/api/sign_in"));
}

#[tokio::test]
async fn every_server_function_refuses_an_anonymous_caller_with_401() {
    let app = spawn_app().await;
    let client = app.client();
    for (path, method) in server_fn::axum::server_fn_paths() {
        if ENDPOINTS
            .iter()
            .any(|(p, a)| *p == path && *a == Access::Public)
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
async fn unknown_api_paths_are_not_found() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let res = app.call(&admin, "/api/drop_everything", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
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

#[tokio::test]
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
    assert_eq!(body["settings"].as_object().unwrap().len(), 24);

    let anonymous = app.client().get(url(north)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let helpdesk = app.signed_in(Role::Helpdesk).await;
    assert_eq!(
        helpdesk.get(url(south)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
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

#[tokio::test]
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
