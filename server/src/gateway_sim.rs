//! The payment gateways' simulator: Stripe's customer look-up and Authorize.Net's customer
//! profile look-up as their documentation describes them, from a data file, so the demo and the
//! tests run without the internet.
//!
//! - Stripe, under `/stripe`: `GET /stripe/v1/customers/{id}`, the secret key as the HTTP Basic
//!   user (401 with Stripe's error body otherwise). A test key (`sk_test_`) sees the test-mode
//!   customers, a live key the live ones; a deleted customer answers 200 `{"id","object":
//!   "customer","deleted":true}`; an unknown one 404 `resource_missing`.
//! - Authorize.Net, at `POST /authorize-net/xml/v1/request.api`: `getCustomerProfileRequest`
//!   with `merchantAuthentication`; answers start with a byte order mark, as Authorize.Net's do;
//!   `E00007` for wrong credentials, `E00040` for no such profile.
//!
//! Faults on purpose: the id `cus_fail500` (Stripe) and profile `500` (Authorize.Net) answer
//! HTTP 500; `cus_hang` and profile `999` never answer.

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// A Stripe customer as the simulator keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StripeCustomer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub livemode: bool,
    #[serde(default)]
    pub deleted: bool,
}

/// An Authorize.Net customer profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeNetProfile {
    pub customer_profile_id: String,
    pub merchant_customer_id: String,
    pub description: String,
    pub email: String,
}

/// The data file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GatewayData {
    pub stripe_test_key: String,
    pub stripe_live_key: String,
    pub stripe_customers: Vec<StripeCustomer>,
    pub authorize_net_login_id: String,
    pub authorize_net_transaction_key: String,
    pub authorize_net_profiles: Vec<AuthorizeNetProfile>,
}

impl GatewayData {
    /// The demo's (and the tests') data: a few customers of each gateway, one deleted.
    pub fn demo() -> Self {
        let stripe =
            |id: &str, name: &str, email: &str, livemode: bool, deleted: bool| StripeCustomer {
                id: id.into(),
                name: name.into(),
                email: email.into(),
                livemode,
                deleted,
            };
        GatewayData {
            stripe_test_key: "sk_test_demo4eC39HqLyjWDarjtT1zdp7dc".into(),
            stripe_live_key: "sk_live_demo51H8xKLd0Q1vQ2Zb3Yc4".into(),
            stripe_customers: vec![
                stripe(
                    "cus_NffrFeUfNV2Hib",
                    "Alder Creek Dental",
                    "billing@aldercreek.example",
                    false,
                    false,
                ),
                stripe(
                    "cus_Q3ZCqnd3JtX2Ld",
                    "Alpine Ridge Logistics",
                    "ap@alpineridge.example",
                    false,
                    false,
                ),
                stripe(
                    "cus_R8TmWq1BvXy7Ka",
                    "Amberfield Accounting",
                    "accounts@amberfield.example",
                    false,
                    false,
                ),
                stripe(
                    "cus_S2LpHd9KzQw4Rb",
                    "Bayview Veterinary Clinic",
                    "finance@bayview.example",
                    false,
                    false,
                ),
                stripe(
                    "cus_T7VnBc3MxLq8Pd",
                    "Beacon Hill Architects",
                    "office@beaconhill.example",
                    false,
                    false,
                ),
                stripe(
                    "cus_OldDeleted0001",
                    "Closed account",
                    "old@closed.example",
                    false,
                    true,
                ),
                stripe(
                    "cus_LiveOnly00001",
                    "A live customer",
                    "live@customer.example",
                    true,
                    false,
                ),
            ],
            authorize_net_login_id: "5KP3u95bQpv".into(),
            authorize_net_transaction_key: "346HZ32z3fP4hTG2".into(),
            authorize_net_profiles: vec![
                AuthorizeNetProfile {
                    customer_profile_id: "40338125".into(),
                    merchant_customer_id: "ALDER-01".into(),
                    description: "Alder Creek Dental".into(),
                    email: "billing@aldercreek.example".into(),
                },
                AuthorizeNetProfile {
                    customer_profile_id: "40338126".into(),
                    merchant_customer_id: "ALPINE-02".into(),
                    description: String::new(),
                    email: "ap@alpineridge.example".into(),
                },
            ],
        }
    }
}

/// The simulator's state: its data and the requests it was sent (path, and whether the
/// credentials were right).
pub struct GatewaySimulator {
    data: Mutex<GatewayData>,
    requests: Mutex<Vec<String>>,
}

impl GatewaySimulator {
    pub fn new(data: GatewayData) -> Arc<Self> {
        Arc::new(GatewaySimulator {
            data: Mutex::new(data),
            requests: Mutex::new(Vec::new()),
        })
    }

    fn data(&self) -> GatewayData {
        self.data
            .lock()
            .map(|d| d.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Deletes a Stripe customer, as someone would in Stripe's dashboard.
    pub fn delete_stripe_customer(&self, id: &str) {
        if let Ok(mut data) = self.data.lock() {
            for c in data.stripe_customers.iter_mut().filter(|c| c.id == id) {
                c.deleted = true;
            }
        }
    }

    /// The paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn record(&self, path: String) {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(path);
        }
    }
}

pub fn router(simulator: Arc<GatewaySimulator>) -> Router {
    Router::new()
        .route("/stripe/v1/customers/{id}", get(stripe_customer))
        .route("/authorize-net/xml/v1/request.api", post(authorize_net))
        .with_state(simulator)
}

fn stripe_error(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

/// The key of an HTTP Basic `Authorization` header (the user; Stripe takes no password).
fn basic_user(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next().unwrap_or_default().to_owned())
}

async fn stripe_customer(
    State(sim): State<Arc<GatewaySimulator>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    sim.record(format!("/stripe/v1/customers/{id}"));
    let data = sim.data();
    let key = basic_user(&headers).unwrap_or_default();
    let livemode = if key == data.stripe_test_key {
        false
    } else if key == data.stripe_live_key {
        true
    } else {
        let shown: String = key.chars().take(8).collect();
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            json!({"error": {
                "message": format!("Invalid API Key provided: {shown}****"),
                "type": "invalid_request_error"
            }}),
        );
    };
    match id.as_str() {
        "cus_fail500" => {
            return stripe_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": {"message": "An unknown error occurred", "type": "api_error"}}),
            )
        }
        "cus_hang" => std::future::pending::<()>().await,
        _ => {}
    }
    match data
        .stripe_customers
        .iter()
        .find(|c| c.id == id && c.livemode == livemode)
    {
        Some(c) if c.deleted => {
            Json(json!({"id": c.id, "object": "customer", "deleted": true})).into_response()
        }
        Some(c) => Json(json!({
            "id": c.id,
            "object": "customer",
            "name": c.name,
            "email": c.email,
            "livemode": c.livemode,
            "created": 1_700_000_000,
            "currency": "eur",
            "delinquent": false,
            "metadata": {},
        }))
        .into_response(),
        None => stripe_error(
            StatusCode::NOT_FOUND,
            json!({"error": {
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": format!("No such customer: '{id}'"),
                "param": "id",
                "type": "invalid_request_error"
            }}),
        ),
    }
}

/// An Authorize.Net answer: JSON after a byte order mark, as the gateway sends it.
fn authorize_net_answer(body: serde_json::Value) -> Response {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(body.to_string().as_bytes());
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        bytes,
    )
        .into_response()
}

fn authorize_net_error(code: &str, text: &str) -> Response {
    authorize_net_answer(json!({
        "messages": {"resultCode": "Error", "message": [{"code": code, "text": text}]}
    }))
}

async fn authorize_net(
    State(sim): State<Arc<GatewaySimulator>>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return authorize_net_error("E00003", "An error occurred while parsing the request.");
    };
    let Some(get) = request.get("getCustomerProfileRequest") else {
        return authorize_net_error("E00045", "The root node does not reference a valid method.");
    };
    let id = get
        .get("customerProfileId")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    sim.record(format!("/authorize-net/getCustomerProfileRequest/{id}"));
    let data = sim.data();
    let auth = &get["merchantAuthentication"];
    if auth["name"].as_str() != Some(data.authorize_net_login_id.as_str())
        || auth["transactionKey"].as_str() != Some(data.authorize_net_transaction_key.as_str())
    {
        return authorize_net_error(
            "E00007",
            "User authentication failed due to invalid authentication values.",
        );
    }
    match id.as_str() {
        "500" => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "999" => std::future::pending::<()>().await,
        _ => {}
    }
    match data
        .authorize_net_profiles
        .iter()
        .find(|p| p.customer_profile_id == id)
    {
        Some(p) => authorize_net_answer(json!({
            "profile": {
                "paymentProfiles": [],
                "profileType": "regular",
                "customerProfileId": p.customer_profile_id,
                "merchantCustomerId": p.merchant_customer_id,
                "description": p.description,
                "email": p.email,
            },
            "messages": {"resultCode": "Ok", "message": [{"code": "I00001", "text": "Successful."}]}
        })),
        None => authorize_net_error("E00040", "The record cannot be found."),
    }
}
