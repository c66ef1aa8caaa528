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
    let state = AppState { db, secure_cookies };
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
