//! Builds the router and runs the server until it is told to stop.

use crate::gate::{gate, GateState};
use app::{
    error::AppError,
    model::Permission,
    shell,
    ssr::{auth, db::Db, service::configuration, AppState},
    App,
};
use axum::{
    extract::{FromRef, Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Json, Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::{future::Future, net::SocketAddr};
use tokio::net::TcpListener;

/// The router's state: what Leptos needs to render, and what the app needs to answer.
#[derive(Clone, FromRef)]
pub struct ServerState {
    pub leptos: LeptosOptions,
    pub app: AppState,
}

/// Leptos options for serving the built site from `site_root` (cargo-leptos's output folder).
/// When the build named the client's files after their content, the pages ask for those names.
pub fn leptos_options(site_root: &str, addr: SocketAddr) -> LeptosOptions {
    let hash_file = crate::assets::hash_file(site_root);
    LeptosOptions::builder()
        .output_name(env!("LEPTOS_OUTPUT_NAME"))
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_files(hash_file.is_some())
        .hash_file(
            hash_file
                .map(|path| path.display().to_string())
                .unwrap_or_else(|| crate::assets::HASH_FILE.to_string())
                .into(),
        )
        .build()
}

/// The portal's router, with the gate enforcing the access table and the default sign-in limit.
pub fn router(app_state: AppState, leptos: LeptosOptions) -> Router {
    router_with(GateState::new(app_state), leptos)
}

/// The router behind a given gate (tests switch the access table off to reach the checks each
/// server function makes itself).
pub fn router_with(gate_state: GateState, leptos: LeptosOptions) -> Router {
    let app_state = gate_state.app.clone();
    let routes = generate_route_list(App);
    let context_state = app_state.clone();
    let state = ServerState {
        leptos: leptos.clone(),
        app: app_state.clone(),
    };
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route(
            app::api::CUSTOMER_CONFIGURATION_ROUTE,
            get(customer_configuration),
        )
        .route(
            app::api::PARTNER_RECONCILIATION_ROUTE,
            get(partner_reconciliation),
        )
        .route(
            app::api::BILLED_IMPORT_UPLOAD_ROUTE,
            post(upload_billed_import).layer(axum::extract::DefaultBodyLimit::max(
                app::api::BILLED_IMPORT_MAX_BODY,
            )),
        )
        .route(
            app::api::PARTNER_RECONCILIATION_CSV_ROUTE,
            get(partner_reconciliation_csv),
        )
        .route(app::api::AUDIT_CSV_ROUTE, get(audit_csv))
        .route(app::api::OPENAPI_ROUTE, get(openapi_json))
        .route(
            app::api::PARTNER_CONSUMPTION_CSV_ROUTE,
            get(partner_consumption_csv),
        )
        .route(
            app::api::CUSTOMER_RECONCILIATION_ROUTE,
            get(customer_reconciliation),
        )
        .route(
            app::api::CUSTOMER_RECONCILIATION_CSV_ROUTE,
            get(customer_reconciliation_csv),
        )
        .route(
            app::api::CUSTOMER_CONSUMPTION_ROUTE,
            get(customer_consumption),
        )
        .route(
            app::api::CUSTOMER_CONSUMPTION_CSV_ROUTE,
            get(customer_consumption_csv),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_state.clone());
                crate::headers::provide_request_nonce();
                app::ssr::service::customers::provide_visible_in_this_page();
            },
            {
                let leptos = leptos.clone();
                move || shell(leptos.clone())
            },
        )
        .fallback(crate::assets::static_or_not_found)
        .layer(axum::middleware::from_fn_with_state(gate_state, gate))
        .with_state(state);
    crate::assets::apply(crate::headers::apply(router, app_state.secure_cookies))
}

/// The customer id of a JSON route: one that is not a 64-bit number names no customer (404,
/// the JSON error every other refusal has).
pub(crate) struct CustomerId(i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CustomerId {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| CustomerId(id))
            .map_err(|_| crate::gate::error_response(AppError::not_found("The customer")))
    }
}

/// A JSON route's query: one that cannot be read is a 400 with the JSON error (axum's own
/// answer would be plain text).
pub(crate) struct ApiQuery<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(query)| ApiQuery(query))
            .map_err(|rejection| {
                crate::gate::error_response(AppError::BadRequest {
                    message: rejection.body_text(),
                })
            })
    }
}

/// `GET /api/openapi.json`: this API's OpenAPI 3 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi_json() -> Response {
    Json(crate::openapi::document()).into_response()
}

/// `GET /healthz`: 200 while the database answers and the sync worker (when this process runs
/// one) goes round its loop; 503 otherwise, with what is wrong.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let backend = state.db.backend().name();
    let database = match state.db.ping().await {
        Ok(()) => "ok",
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            "unreachable"
        }
    };
    let worker = state.sync_worker.as_ref().map(|health| {
        let (worker_state, error) = health.state(app::ssr::db::now_millis());
        (worker_state, error, health.errors())
    });
    let healthy = database == "ok" && worker.as_ref().is_none_or(|(s, _, _)| *s != "silent");
    let mut body = serde_json::json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "database": { "backend": backend, "state": database },
    });
    body["sync_worker"] = match worker {
        None => serde_json::json!({ "state": "off" }),
        Some((worker_state, error, errors)) => {
            serde_json::json!({ "state": worker_state, "error": error, "errors_recovered": errors })
        }
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// `GET /api/customers/{id}/reports/reconciliation`: the License Reconciliation as JSON,
/// `{"customer_id":N,"snapshot_at":"<RFC 3339 or null>","rows":[{"product":…,"offer_id":…,
/// "pc_subscription_id":…,"bought":…,"assigned":…,"billed":…,"pc":{…}|null,
/// "billed_record":{…}|null,"differences":[{"kind":…,"pc":…,"billed":…,"acknowledged":…}]}]}`.
/// The same access rules as the page: the gate checks the role, the service the customer's
/// visibility.
#[utoipa::path(get, path = "/api/customers/{id}/reports/reconciliation", tag = "reports", params(("id" = i64, Path, description = "The customer id")),
    responses((status = 200, description = "The License Reconciliation", body = crate::openapi::ReconciliationJson), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError), (status = 404, description = "No such customer, or not one the caller may see", body = AppError)))]
pub(crate) async fn customer_reconciliation(
    State(state): State<AppState>,
    CustomerId(customer_id): CustomerId,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let answer = async {
        let staff = staff.ok_or(AppError::Unauthenticated)?;
        if !staff.role.allows(Permission::ViewReports) {
            return Err(AppError::Forbidden);
        }
        app::ssr::service::reports::reconciliation(&state.db, &staff, customer_id).await
    };
    match answer.await {
        Ok(report) => {
            use crate::openapi::{DifferenceJson, ReconciliationJson, ReconciliationRowJson};
            let rows = report
                .rows
                .into_iter()
                .map(|r| ReconciliationRowJson {
                    product: r.product,
                    offer_id: r.offer_id,
                    pc_subscription_id: r.pc_subscription_id,
                    bought: r.bought,
                    assigned: r.assigned,
                    billed: r.billed,
                    pc: r.pc,
                    billed_record: r.billed_record,
                    // The documented shape: kind, both values, acknowledged.
                    differences: r
                        .differences
                        .into_iter()
                        .map(|d| DifferenceJson {
                            kind: d.kind,
                            pc: d.pc,
                            billed: d.billed,
                            acknowledged: d.acknowledged,
                        })
                        .collect(),
                })
                .collect();
            Json(ReconciliationJson {
                customer_id: report.customer_id,
                snapshot_at: report.snapshot_at.map(app::model::rfc3339),
                rows,
            })
            .into_response()
        }
        Err(error) => crate::gate::error_response(error),
    }
}

/// The filters of the partner-wide reconciliation, as the page's address has them.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PartnerQueryParams {
    #[serde(default)]
    tag: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    acknowledged: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    /// The CSV only: with a byte order mark, for Excel.
    #[serde(default)]
    excel: Option<String>,
}

impl PartnerQueryParams {
    fn query(&self) -> app::ssr::service::reports::PartnerQuery {
        app::ssr::service::reports::PartnerQuery {
            tag: self.tag.clone(),
            kind: self.kind.clone(),
            include_acknowledged: self
                .acknowledged
                .as_deref()
                .is_some_and(|a| a == "1" || a == "true"),
            page: self.page.unwrap_or(1),
        }
    }
}

/// `GET /api/reports/reconciliation`: the partner-wide License Reconciliation as JSON (the
/// page's data: one line per customer with differences, counts per kind, money at stake).
#[utoipa::path(get, path = "/api/reports/reconciliation", tag = "reports", params(PartnerQueryParams),
    responses((status = 200, description = "Every visible customer's differences, a page of 50", body = app::model::PartnerReconciliation), (status = 400, description = "A filter that cannot be read", body = AppError), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError)))]
pub(crate) async fn partner_reconciliation(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<PartnerQueryParams>,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let answer = async {
        let staff = report_reader(staff)?;
        app::ssr::service::reports::partner_reconciliation(&state.db, &staff, &params.query()).await
    };
    match answer.await {
        Ok(report) => Json(report).into_response(),
        Err(error) => crate::gate::error_response(error),
    }
}

/// `POST /api/billed-import`: keeps a billing export uploaded by a form (multipart, the file in
/// field `file`) and answers 303 to its page, where its dry run is shown and it is imported. A
/// file that cannot be read as the import's CSV is kept too: its page says why.
#[utoipa::path(post, path = "/api/billed-import", tag = "billed record", params(UploadOptions),
    request_body(content = crate::openapi::ImportUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The dry run, or with apply=true the import (a token)", body = app::ssr::service::billed_import::ApiImportResult),
        (status = 303, description = "A signed-in browser is sent to the file's page"),
        (status = 422, description = "A line is rejected: nothing was imported", body = app::ssr::service::billed_import::ApiImportResult),
        (status = 400, description = "Not a form with a CSV file that can be read", body = AppError), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError)))]
pub(crate) async fn upload_billed_import(
    State(state): State<AppState>,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
    token: Option<Extension<auth::TokenCaller>>,
    ApiQuery(options): ApiQuery<UploadOptions>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let not_a_form = |e: &dyn std::fmt::Display| AppError::BadRequest {
        message: format!("The upload is not a form with a file: {e}"),
    };
    let answer = async {
        let staff = staff.ok_or(AppError::Unauthenticated)?;
        if !staff.role.allows(Permission::ManageBilled) {
            return Err(AppError::Forbidden);
        }
        let mut form = multipart.map_err(|e| not_a_form(&e))?;
        while let Some(field) = form.next_field().await.map_err(|e| not_a_form(&e))? {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| not_a_form(&e))?;
                // Another system gets JSON: the dry run, or with `?apply=true` the import, all
                // or nothing, without a page to review (the file is not kept).
                if token.is_some() {
                    let result = app::ssr::service::billed_import::import_from_api(
                        &state.db,
                        &staff,
                        &bytes,
                        options.apply,
                    )
                    .await?;
                    let status = if result.rejected.is_empty() {
                        StatusCode::OK
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    };
                    return Ok((status, Json(result)).into_response());
                }
                let id = app::ssr::service::billed_import::upload(&state.db, &staff, &name, &bytes)
                    .await?;
                // A browser is sent to the file's page: its dry run, and the import button.
                return Ok(
                    axum::response::Redirect::to(&format!("/reports/billed-import/{id}"))
                        .into_response(),
                );
            }
        }
        Err(AppError::field("file", "Choose the CSV file to import."))
    };
    match answer.await {
        Ok(response) => response,
        Err(error) => crate::gate::error_response(error),
    }
}

/// `POST /api/billed-import?apply=true`: import at once (API tokens only; without, a dry run).
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadOptions {
    #[serde(default)]
    apply: bool,
}

/// `GET /api/reports/reconciliation.csv`: the partner-wide License Reconciliation as CSV, with
/// the page's filters, in its order, streamed a batch of customers at a time. The first batch
/// is read before the response starts, so a filter that cannot be read is a 400.
#[utoipa::path(get, path = "/api/reports/reconciliation.csv", tag = "reports", params(PartnerQueryParams),
    responses((status = 200, description = "The partner-wide reconciliation as CSV (RFC 4180), streamed", content_type = "text/csv", body = String), (status = 400, description = "A filter that cannot be read", body = AppError), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError)))]
pub(crate) async fn partner_reconciliation_csv(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<PartnerQueryParams>,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    use crate::csv_stream::{streamed, write_reconciliation, RECONCILIATION_BATCH};
    let query = params.query();
    let answer = async {
        let staff = report_reader(staff)?;
        let first = app::ssr::service::reports::partner_reconciliation_lines(
            &state.db,
            &staff,
            &query,
            0,
            RECONCILIATION_BATCH,
        )
        .await?;
        Ok::<_, AppError>((staff, first))
    };
    match answer.await {
        Ok((staff, first)) => {
            let today = app::model::rfc3339(app::ssr::db::now_millis());
            let name =
                crate::csv_export::file_name("reconciliation", "all customers", &today[..10]);
            let (db, excel) = (state.db.clone(), params.excel.is_some());
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                streamed("partner-wide reconciliation CSV", move |tx| async move {
                    write_reconciliation(&db, &staff, &query, first, excel, &tx).await
                }),
            )
                .into_response()
        }
        Err(error) => crate::gate::error_response(error),
    }
}

/// The filters of the audit log, as the page's address has them.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    #[serde(default)]
    customer: String,
    #[serde(default)]
    staff: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    excel: Option<String>,
}

/// `GET /api/audit.csv`: the audit log with the page's filters as CSV, newest first, one line per
/// changed field, streamed a batch at a time (the first read before the response: a bad filter
/// is a 400).
#[utoipa::path(get, path = "/api/audit.csv", tag = "audit", params(AuditParams),
    responses((status = 200, description = "The audit log as CSV (RFC 4180), newest first, streamed; a signed-in admin, reader or finance member only", content_type = "text/csv", body = String), (status = 400, description = "A filter that cannot be read", body = AppError), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError)))]
pub(crate) async fn audit_csv(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AuditParams>,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let query = app::ssr::service::audit::LogQuery {
        customer: params.customer,
        staff: params.staff,
        action: params.action,
        from: params.from,
        to: params.to,
        before: None,
    };
    let answer = async {
        let staff = staff.ok_or(AppError::Unauthenticated)?;
        let first = crate::csv_stream::first_audit_batch(&state.db, &staff, &query).await?;
        Ok::<_, AppError>((staff, first))
    };
    match answer.await {
        Ok((staff, first)) => {
            let today = app::model::rfc3339(app::ssr::db::now_millis());
            let name = crate::csv_export::file_name("audit", "log", &today[..10]);
            let (db, excel) = (state.db.clone(), params.excel.is_some());
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                crate::csv_stream::streamed("audit log CSV", move |tx| async move {
                    crate::csv_stream::write_audit(&db, &staff, query, first, excel, &tx).await
                }),
            )
                .into_response()
        }
        Err(error) => crate::gate::error_response(error),
    }
}

/// `?tag=Name=Value&excel=1` of the partner-wide consumption CSV.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PartnerCsvQuery {
    #[serde(default)]
    tag: String,
    #[serde(default)]
    excel: Option<String>,
}

/// `GET /api/reports/consumption.csv`: every visible customer's licence counts, one line per
/// tenant product, streamed from the database cursor.
#[utoipa::path(get, path = "/api/reports/consumption.csv", tag = "reports", params(PartnerCsvQuery),
    responses((status = 200, description = "Every visible customer's licence counts as CSV (RFC 4180), streamed", content_type = "text/csv", body = String), (status = 400, description = "A filter that cannot be read", body = AppError), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError)))]
pub(crate) async fn partner_consumption_csv(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PartnerCsvQuery>,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let answer = async {
        let staff = report_reader(staff)?;
        let tag = app::ssr::service::customers::parse_tag_filter(&query.tag)?;
        let thresholds = crate::csv_stream::Thresholds::load(&state.db)
            .await
            .map_err(AppError::from)?;
        Ok::<_, AppError>(crate::csv_stream::PartnerExport {
            scoped_to_staff: app::ssr::service::customers::scope_of(&staff),
            tag,
            excel: query.excel.is_some(),
        })
        .map(|export| (export, thresholds))
    };
    match answer.await {
        Ok((export, thresholds)) => {
            let today = app::model::rfc3339(app::ssr::db::now_millis());
            let name = crate::csv_export::file_name("consumption", "all customers", &today[..10]);
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                crate::csv_stream::body(state.db.clone(), export, thresholds),
            )
                .into_response()
        }
        Err(error) => crate::gate::error_response(error),
    }
}

/// The caller, refused unless signed in and allowed to see reports (the gate checked it
/// already; this checks again).
fn report_reader(staff: Option<app::model::StaffView>) -> Result<app::model::StaffView, AppError> {
    let staff = staff.ok_or(AppError::Unauthenticated)?;
    if !staff.role.allows(Permission::ViewReports) {
        return Err(AppError::Forbidden);
    }
    Ok(staff)
}

/// `?excel=1`: a CSV for Excel (with a byte order mark).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CsvQuery {
    #[serde(default)]
    excel: Option<String>,
}

/// A CSV answer, named after the report, the customer and the day (or the error that stopped
/// it being written).
fn csv_response(bytes: Result<Vec<u8>, csv::Error>, report: &str, customer: &str) -> Response {
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(e) => return crate::gate::error_response(app::ssr::internal_error(&e)),
    };
    let today = app::model::rfc3339(app::ssr::db::now_millis());
    let name = crate::csv_export::file_name(report, customer, &today[..10]);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /api/customers/{id}/reports/reconciliation.csv`: the License Reconciliation as CSV.
#[utoipa::path(get, path = "/api/customers/{id}/reports/reconciliation.csv", tag = "reports", params(("id" = i64, Path, description = "The customer id"), CsvQuery),
    responses((status = 200, description = "The License Reconciliation as CSV (RFC 4180)", content_type = "text/csv", body = String), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError), (status = 404, description = "No such customer, or not one the caller may see", body = AppError)))]
pub(crate) async fn customer_reconciliation_csv(
    State(state): State<AppState>,
    CustomerId(customer_id): CustomerId,
    ApiQuery(query): ApiQuery<CsvQuery>,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let answer = async {
        let staff = report_reader(staff)?;
        app::ssr::service::reports::reconciliation(&state.db, &staff, customer_id).await
    };
    match answer.await {
        Ok(report) => csv_response(
            crate::csv_export::reconciliation(&report, query.excel.is_some()),
            "reconciliation",
            &report.customer_name,
        ),
        Err(error) => crate::gate::error_response(error),
    }
}

/// `GET /api/customers/{id}/reports/consumption`: the License Consumption as JSON.
#[utoipa::path(get, path = "/api/customers/{id}/reports/consumption", tag = "reports", params(("id" = i64, Path, description = "The customer id")),
    responses((status = 200, description = "The License Consumption", body = app::model::ConsumptionReport), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError), (status = 404, description = "No such customer, or not one the caller may see", body = AppError)))]
pub(crate) async fn customer_consumption(
    State(state): State<AppState>,
    CustomerId(customer_id): CustomerId,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let answer = async {
        let staff = report_reader(staff)?;
        app::ssr::service::reports::consumption(&state.db, &staff, customer_id).await
    };
    match answer.await {
        Ok(report) => Json(report).into_response(),
        Err(error) => crate::gate::error_response(error),
    }
}

/// `GET /api/customers/{id}/reports/consumption.csv`: the License Consumption as CSV.
#[utoipa::path(get, path = "/api/customers/{id}/reports/consumption.csv", tag = "reports", params(("id" = i64, Path, description = "The customer id"), CsvQuery),
    responses((status = 200, description = "The License Consumption as CSV (RFC 4180)", content_type = "text/csv", body = String), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError), (status = 404, description = "No such customer, or not one the caller may see", body = AppError)))]
pub(crate) async fn customer_consumption_csv(
    State(state): State<AppState>,
    CustomerId(customer_id): CustomerId,
    ApiQuery(query): ApiQuery<CsvQuery>,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let answer = async {
        let staff = report_reader(staff)?;
        app::ssr::service::reports::consumption(&state.db, &staff, customer_id).await
    };
    match answer.await {
        Ok(report) => csv_response(
            crate::csv_export::consumption(&report, query.excel.is_some()),
            "consumption",
            &report.customer_name,
        ),
        Err(error) => crate::gate::error_response(error),
    }
}

/// `GET /api/customers/{id}/configuration`: the effective configuration as JSON,
/// `{"customer_id": 1, "settings": {"billing.cycle": {"value": "monthly", "source": "global_default", "default": "monthly"}, …}}`.
/// The gate has already checked the session and role; this checks again and applies the Help
/// Desk tag scope.
#[utoipa::path(get, path = "/api/customers/{id}/configuration", tag = "customers", params(("id" = i64, Path, description = "The customer id")),
    responses((status = 200, description = "The effective configuration", body = crate::openapi::ConfigurationJson), (status = 401, description = "No valid token or session", body = AppError), (status = 403, description = "The token's scope or the role does not allow it", body = AppError), (status = 404, description = "No such customer, or not one the caller may see", body = AppError)))]
pub(crate) async fn customer_configuration(
    State(state): State<AppState>,
    CustomerId(customer_id): CustomerId,
    Extension(auth::Authenticated(staff)): Extension<auth::Authenticated>,
) -> Response {
    let answer = async {
        let staff = staff.ok_or(AppError::Unauthenticated)?;
        if !staff.role.allows(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        configuration::section(&state.db, &staff, customer_id)
            .await
            .map(|section| section.settings)
    };
    match answer.await {
        Ok(settings) => {
            use crate::openapi::{ConfigurationJson, GatewayJson, SettingJson};
            let settings = settings
                .into_iter()
                .map(|s| {
                    let value = SettingJson {
                        value: s.value,
                        source: s.source,
                        default: s.default_value,
                    };
                    (s.key, value)
                })
                .collect();
            // Which payment gateway Link to Billing Profile uses (never its keys).
            let payment_gateway = state.gateway.as_ref().map(|g| GatewayJson {
                gateway: g.key().to_owned(),
                test_mode: g.test_mode(),
            });
            Json(ConfigurationJson {
                customer_id,
                settings,
                payment_gateway,
            })
            .into_response()
        }
        Err(error) => crate::gate::error_response(error),
    }
}

/// Connects to the database and brings its schema up to date.
pub async fn open_database(url: &str) -> Result<Db, Box<dyn std::error::Error + Send + Sync>> {
    let db = Db::connect(url)
        .await
        .map_err(|e| format!("cannot open the database ({}): {e}", redact_url(url)))?;
    db.migrate()
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(db)
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address reaches the gate (per-address sign-in limit) and the sign-in logs.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_password_is_redacted() {
        assert_eq!(
            redact_url("postgres://portal:s3cret@db:5432/portal"),
            "postgres://portal:***@db:5432/portal"
        );
        assert_eq!(
            redact_url("postgres://postgres@db/x"),
            "postgres://postgres@db/x"
        );
        assert_eq!(
            redact_url("sqlite://data/portal.db"),
            "sqlite://data/portal.db"
        );
    }
}
