//! The Partner Center simulator (`portal pc-sim`): a real HTTP server on loopback that speaks the
//! same API as Microsoft's (token endpoint, envelope, `links.next` with the continuation
//! header, error body), serves customers, subscriptions and subscribed SKUs from a data file,
//! and injects faults on demand: a rate limit answering 429 with `Retry-After`, added latency,
//! and shares of 500s, malformed bodies and hung requests, drawn from a seeded generator so a
//! run can be repeated.

use app::ssr::partner_center::wire::{
    ApiError, Attributes, Collection, Customer, Link, LinkHeader, Links, SubscribedSku,
    Subscription, TokenResponse,
};
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The data file: every customer with its subscriptions and subscribed SKUs, in the API's own
/// JSON shapes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SimulatorData {
    pub customers: Vec<SimulatedCustomer>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulatedCustomer {
    pub customer: Customer,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    #[serde(default)]
    pub subscribed_skus: Vec<SubscribedSku>,
}

/// How the simulator behaves. Shares are probabilities from 0 to 1.
#[derive(Clone, Debug)]
pub struct SimulatorOptions {
    pub client_id: String,
    pub client_secret: String,
    /// The Secure Application Model's refresh token the partner was given at consent: it
    /// (and every refresh token an exchange returns) buys an App+User token.
    pub refresh_token: String,
    pub token_lifetime: Duration,
    /// Requests allowed per window before 429; `None` for no limit.
    pub rate_limit: Option<u32>,
    pub rate_window: Duration,
    pub latency: Duration,
    pub error_share: f64,
    pub malformed_share: f64,
    pub hang_share: f64,
    pub seed: u64,
    pub max_page_size: usize,
    /// Begin every JSON answer with a UTF-8 byte order mark, as Microsoft's answers are
    /// publicly reported to do at times.
    pub byte_order_mark: bool,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        SimulatorOptions {
            client_id: "simulator".into(),
            client_secret: "simulator-secret".into(),
            refresh_token: "simulator-refresh-token".into(),
            token_lifetime: Duration::from_secs(3600),
            rate_limit: None,
            rate_window: Duration::from_secs(60),
            latency: Duration::ZERO,
            error_share: 0.0,
            malformed_share: 0.0,
            hang_share: 0.0,
            seed: 1,
            max_page_size: 500,
            byte_order_mark: false,
        }
    }
}

/// One API request as the simulator saw it (for tests and for the benchmark's figures).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub path: String,
    /// The `Retry-After` seconds of a 429.
    pub retry_after: Option<u64>,
    pub request_id: String,
    pub correlation_id: String,
    pub status: u16,
}

/// The simulator's state; tests hold it to read what happened.
pub struct Simulator {
    by_id: HashMap<String, usize>,
    data: SimulatorData,
    options: SimulatorOptions,
    rng: Mutex<StdRng>,
    /// Access tokens: when each expires, and whether it is App+User (delegated).
    tokens: Mutex<HashMap<String, (Instant, bool)>>,
    /// Refresh tokens that an exchange accepts: the one given at consent and each one issued
    /// since (Azure AD keeps a used one valid until it expires).
    refresh_tokens: Mutex<Vec<String>>,
    /// The refresh token each App+User exchange presented, in order.
    refresh_log: Mutex<Vec<String>>,
    window: Mutex<(Instant, u32)>,
    log: Mutex<Vec<RequestRecord>>,
    tokens_issued: Mutex<u64>,
}

/// The most request records kept.
const LOG_LIMIT: usize = 100_000;

impl Simulator {
    pub fn new(data: SimulatorData, options: SimulatorOptions) -> Arc<Self> {
        let consented = options.refresh_token.clone();
        let by_id = data
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.customer.id.to_ascii_lowercase(), i))
            .collect();
        Arc::new(Simulator {
            by_id,
            rng: Mutex::new(StdRng::seed_from_u64(options.seed)),
            data,
            options,
            tokens: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(vec![consented]),
            refresh_log: Mutex::new(Vec::new()),
            window: Mutex::new((Instant::now(), 0)),
            log: Mutex::new(Vec::new()),
            tokens_issued: Mutex::new(0),
        })
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Makes every token issued so far invalid, as Azure AD does when an app's consent or
    /// secret changes before the token's own expiry: the next call with one is answered 401.
    pub fn revoke_tokens(&self) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.clear();
        }
    }

    /// The refresh token each App+User exchange presented, in order.
    pub fn refresh_tokens_used(&self) -> Vec<String> {
        self.refresh_log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    pub fn tokens_issued(&self) -> u64 {
        self.tokens_issued.lock().map(|n| *n).unwrap_or(0)
    }

    fn record(&self, path: &str, headers: &HeaderMap, response: &Response) {
        let status = response.status();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        if let Ok(mut log) = self.log.lock() {
            if log.len() < LOG_LIMIT {
                log.push(RequestRecord {
                    path: path.to_owned(),
                    retry_after,
                    request_id: header("MS-RequestId"),
                    correlation_id: header("MS-CorrelationId"),
                    status: status.as_u16(),
                });
            }
        }
    }
}

/// The router: the token endpoint at `/{tenant}/oauth2/token` and the API under `/v1`.
pub fn router(simulator: Arc<Simulator>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/token", post(token))
        .route("/v1/customers", get(list_customers))
        .route("/v1/customers/{id}", get(get_customer))
        .route("/v1/customers/{id}/subscriptions", get(list_subscriptions))
        .route(
            "/v1/customers/{id}/subscribedskus",
            get(list_subscribed_skus),
        )
        .layer(axum::middleware::from_fn_with_state(
            simulator.clone(),
            with_byte_order_mark,
        ))
        .with_state(simulator)
}

/// When the options ask for it, puts a UTF-8 byte order mark before every JSON answer.
async fn with_byte_order_mark(
    State(sim): State<Arc<Simulator>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !sim.options.byte_order_mark || !json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut with_mark = "\u{FEFF}".as_bytes().to_vec();
    with_mark.extend_from_slice(&bytes);
    parts.headers.remove("content-length");
    Response::from_parts(parts, axum::body::Body::from(with_mark))
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Azure AD's token endpoint: client credentials give an app-only token; a refresh token
/// (the Secure Application Model) gives an App+User token and a new refresh token.
async fn token(State(sim): State<Arc<Simulator>>, Form(form): Form<TokenForm>) -> Response {
    let refused = |code: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": code, "error_description": description })),
        )
            .into_response()
    };
    if form.client_id != sim.options.client_id || form.client_secret != sim.options.client_secret {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided." })),
        )
            .into_response();
    }
    let delegated = match form.grant_type.as_str() {
        "client_credentials" => false,
        "refresh_token" => {
            let presented = form.refresh_token.unwrap_or_default();
            let known = sim
                .refresh_tokens
                .lock()
                .map(|t| t.contains(&presented))
                .unwrap_or(false);
            if let Ok(mut log) = sim.refresh_log.lock() {
                log.push(presented);
            }
            if !known {
                return refused(
                    "invalid_grant",
                    "AADSTS70000: The provided refresh token is invalid or expired.",
                );
            }
            true
        }
        _ => {
            return refused(
                "unsupported_grant_type",
                "AADSTS70003: The grant type is not supported.",
            )
        }
    };
    let value = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(mut tokens) = sim.tokens.lock() {
        tokens.insert(
            value.clone(),
            (Instant::now() + sim.options.token_lifetime, delegated),
        );
    }
    if let Ok(mut n) = sim.tokens_issued.lock() {
        *n += 1;
    }
    let refresh_token = delegated.then(|| {
        let rotated = format!("rt-{}", uuid::Uuid::new_v4().simple());
        if let Ok(mut t) = sim.refresh_tokens.lock() {
            t.push(rotated.clone());
        }
        rotated
    });
    Json(TokenResponse {
        token_type: "Bearer".into(),
        expires_in: serde_json::Value::String(sim.options.token_lifetime.as_secs().to_string()),
        access_token: value,
        refresh_token,
    })
    .into_response()
}

fn error(status: StatusCode, code: i64, description: &str) -> Response {
    (
        status,
        Json(ApiError {
            code,
            description: description.to_owned(),
            data: vec![],
            source: "PartnerFD".into(),
        }),
    )
        .into_response()
}

/// What happens to a request before it is answered: authentication, the rate limit, latency and
/// the injected faults. `Some` is the answer that replaces the real one.
async fn admit(sim: &Simulator, headers: &HeaderMap) -> Option<Response> {
    let bearer = headers
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let valid = sim
        .tokens
        .lock()
        .map(|t| {
            t.get(bearer)
                .is_some_and(|(expiry, _)| Instant::now() < *expiry)
        })
        .unwrap_or(false);
    if !valid {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            900,
            "The access token is missing, invalid or expired.",
        ));
    }
    if let Some(limit) = sim.options.rate_limit {
        let retry_after = sim.window.lock().ok().and_then(|mut w| {
            let now = Instant::now();
            if now.duration_since(w.0) >= sim.options.rate_window {
                *w = (now, 0);
            }
            w.1 += 1;
            (w.1 > limit).then(|| {
                (sim.options.rate_window - now.duration_since(w.0))
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64
            })
        });
        if let Some(seconds) = retry_after {
            // A 429 has its own body shape, not the ordinary error's.
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(serde_json::json!({
                    "statusCode": 429,
                    "message": format!("Rate limit is exceeded. Try again in {seconds} seconds."),
                })),
            )
                .into_response();
            if let Ok(value) = seconds.to_string().parse() {
                response.headers_mut().insert("Retry-After", value);
            }
            return Some(response);
        }
    }
    if !sim.options.latency.is_zero() {
        tokio::time::sleep(sim.options.latency).await;
    }
    let draw: f64 = sim.rng.lock().map(|mut r| r.gen()).unwrap_or(1.0);
    let o = &sim.options;
    if draw < o.hang_share {
        // A request that never ends: the client's timeout must deal with it.
        std::future::pending::<()>().await;
    }
    if draw < o.hang_share + o.error_share {
        return Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            500,
            "An internal error occurred.",
        ));
    }
    if draw < o.hang_share + o.error_share + o.malformed_share {
        return Some(
            (
                StatusCode::OK,
                [("Content-Type", "application/json")],
                "{\"totalCount\": 3, \"items\": [{\"id\": ",
            )
                .into_response(),
        );
    }
    None
}

/// Whether the request carries a valid app-only token (an App+User one, or none, is not).
fn bearer_is_app_only(sim: &Simulator, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    sim.tokens
        .lock()
        .map(|t| t.get(bearer).is_some_and(|(_, delegated)| !delegated))
        .unwrap_or(false)
}

fn collection<T>(items: Vec<T>, total: usize, next: Option<Link>) -> Collection<T> {
    Collection {
        total_count: total as i64,
        items,
        continuation_token: next
            .as_ref()
            .and_then(|l| l.headers.first().map(|h| h.value.clone())),
        links: Links { self_: None, next },
        attributes: Attributes::of("Collection"),
    }
}

#[derive(Deserialize)]
struct PageQuery {
    size: Option<usize>,
    #[serde(rename = "seekOperation")]
    seek_operation: Option<String>,
}

async fn list_customers(
    State(sim): State<Arc<Simulator>>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let response = answer_customers(&sim, &query, &headers).await;
    sim.record("/v1/customers", &headers, &response);
    response
}

async fn answer_customers(sim: &Simulator, query: &PageQuery, headers: &HeaderMap) -> Response {
    if let Some(refusal) = admit(sim, headers).await {
        return refusal;
    }
    let size = query
        .size
        .unwrap_or(100)
        .clamp(1, sim.options.max_page_size);
    let offset = if query.seek_operation.as_deref() == Some("Next") {
        // The continuation token is opaque to clients; here it is the offset of the next page.
        match headers
            .get("MS-ContinuationToken")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix("sim-"))
            .and_then(|t| t.parse::<usize>().ok())
        {
            Some(offset) => offset,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    400,
                    "The continuation token is missing or invalid.",
                )
            }
        }
    } else {
        0
    };
    let all = &sim.data.customers;
    let end = (offset + size).min(all.len());
    let items = all
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|c| c.customer.clone())
        .collect();
    let next = (end < all.len()).then(|| Link {
        // As Microsoft writes it: the path already carries /v1/.
        uri: format!("/v1/customers?size={size}&seekOperation=Next"),
        method: "GET".into(),
        headers: vec![LinkHeader {
            key: "MS-ContinuationToken".into(),
            value: format!("sim-{end}"),
        }],
    });
    Json(collection(items, all.len(), next)).into_response()
}

async fn customer_answer<T: Serialize>(
    sim: &Simulator,
    id: &str,
    headers: &HeaderMap,
    pick: impl FnOnce(&SimulatedCustomer) -> T,
) -> Response {
    if let Some(refusal) = admit(sim, headers).await {
        return refusal;
    }
    match sim.by_id.get(&id.to_ascii_lowercase()) {
        Some(&i) => Json(pick(&sim.data.customers[i])).into_response(),
        None => error(StatusCode::NOT_FOUND, 600, "The customer was not found."),
    }
}

async fn get_customer(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = customer_answer(&sim, &id, &headers, |c| c.customer.clone()).await;
    sim.record("/v1/customers/{id}", &headers, &response);
    response
}

async fn list_subscriptions(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = customer_answer(&sim, &id, &headers, |c| {
        collection(c.subscriptions.clone(), c.subscriptions.len(), None)
    })
    .await;
    sim.record("/v1/customers/{id}/subscriptions", &headers, &response);
    response
}

async fn list_subscribed_skus(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    // Subscribed SKUs need App+User: an app-only token is refused.
    let response = if bearer_is_app_only(&sim, &headers) {
        error(
            StatusCode::FORBIDDEN,
            900,
            "This operation requires App+User authentication (the Secure Application Model); an app-only token is not allowed.",
        )
    } else {
        customer_answer(&sim, &id, &headers, |c| {
            collection(c.subscribed_skus.clone(), c.subscribed_skus.len(), None)
        })
        .await
    };
    sim.record("/v1/customers/{id}/subscribedskus", &headers, &response);
    response
}
