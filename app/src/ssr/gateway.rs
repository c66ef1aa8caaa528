//! Payment gateways for Link to Billing Profile: a [`PaymentGateway`] looks a billing system's
//! customer up by its id. Two real clients, chosen by configuration:
//!
//! - **Stripe**: `GET {api}/v1/customers/{id}` with the secret key as the HTTP Basic user. 200 is
//!   the customer, unless it says `"deleted": true` (a deleted one, not a found one); 404 with
//!   error code `resource_missing` is no such customer. `sk_test_` keys see test-mode customers.
//! - **Authorize.Net** customer profiles: `getCustomerProfileRequest` posted as JSON with the
//!   merchant's API login id and transaction key in the body; the answer (which Authorize.Net
//!   starts with a byte order mark) says `messages.resultCode` `Ok` or `Error` with a code
//!   (`E00040`: no such profile; `E00007`: wrong credentials).
//!
//! Secrets are never logged: they sit in [`Secret`], whose `Debug` is redacted.

use super::partner_center::Secret;
use serde::Deserialize;
use std::time::Duration;

/// What a gateway says about a customer id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Found(BillingProfile),
    /// The gateway knows the id, as a deleted customer.
    Deleted,
    /// The gateway knows no such customer.
    Missing,
}

/// A billing system's customer as the gateway describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingProfile {
    pub id: String,
    pub name: String,
    pub email: String,
    /// A test-mode customer (Stripe's test keys, Authorize.Net's sandbox).
    pub test_mode: bool,
}

/// Why a look-up did not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The gateway refused the portal's credentials.
    #[error("{gateway} refused the portal's credentials: {message}")]
    Unauthorized { gateway: String, message: String },
    #[error("{gateway} is throttling requests; try again in a minute")]
    Throttled { gateway: String },
    /// Down, unreachable, timed out, or answered something that is not its API.
    #[error("{gateway} did not answer properly ({message}); try again later")]
    Unavailable { gateway: String, message: String },
}

/// Looks billing customers up.
pub trait PaymentGateway {
    /// The gateway's name, for people ("Stripe").
    fn name(&self) -> &'static str;
    /// Checks the form of an id as the gateway writes them; the id to store (trimmed).
    fn parse_id(&self, text: &str) -> Result<String, String>;
    /// Looks the customer up.
    fn look_up(
        &self,
        id: &str,
    ) -> impl std::future::Future<Output = Result<Lookup, GatewayError>> + Send;
}

/// The configured gateway.
#[derive(Clone, Debug)]
pub enum Gateway {
    Stripe(StripeClient),
    AuthorizeNet(AuthorizeNetClient),
}

impl Gateway {
    /// `stripe` or `authorize_net`, as configured.
    pub fn key(&self) -> &'static str {
        match self {
            Gateway::Stripe(_) => "stripe",
            Gateway::AuthorizeNet(_) => "authorize_net",
        }
    }

    /// Whether the portal is configured against the gateway's test mode.
    pub fn test_mode(&self) -> bool {
        match self {
            Gateway::Stripe(c) => c.secret_key.expose().starts_with("sk_test_"),
            Gateway::AuthorizeNet(c) => c.sandbox,
        }
    }
}

impl PaymentGateway for Gateway {
    fn name(&self) -> &'static str {
        match self {
            Gateway::Stripe(c) => c.name(),
            Gateway::AuthorizeNet(c) => c.name(),
        }
    }

    fn parse_id(&self, text: &str) -> Result<String, String> {
        match self {
            Gateway::Stripe(c) => c.parse_id(text),
            Gateway::AuthorizeNet(c) => c.parse_id(text),
        }
    }

    async fn look_up(&self, id: &str) -> Result<Lookup, GatewayError> {
        match self {
            Gateway::Stripe(c) => c.look_up(id).await,
            Gateway::AuthorizeNet(c) => c.look_up(id).await,
        }
    }
}

/// How long a look-up may take before the gateway counts as unavailable.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The gateway did not answer properly.
fn unavailable(gateway: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::Unavailable {
        gateway: gateway.into(),
        message: message.into(),
    }
}

/// Sends a look-up and reads the whole answer: its status and body (a timeout, an unreachable
/// host or a broken answer is the gateway unavailable).
async fn exchange(
    gateway: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<(u16, Vec<u8>), GatewayError> {
    let response = request.send().await.map_err(|e| {
        unavailable(
            gateway,
            if e.is_timeout() {
                "timed out"
            } else {
                "not reachable"
            },
        )
    })?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|_| unavailable(gateway, "the answer broke off"))?;
    tracing::debug!(gateway, status, "payment gateway look-up");
    Ok((status, body.to_vec()))
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, GatewayError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| GatewayError::Unavailable {
            gateway: "the payment gateway".into(),
            message: e.to_string(),
        })
}

/// Stripe's customers API.
#[derive(Clone, Debug)]
pub struct StripeClient {
    api_url: String,
    secret_key: Secret,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct StripeCustomer {
    id: String,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    livemode: bool,
}

#[derive(Deserialize)]
struct StripeErrorBody {
    error: StripeError,
}

#[derive(Deserialize)]
struct StripeError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl StripeClient {
    /// `api_url` without `/v1` (Stripe's: `https://api.stripe.com`).
    pub fn new(api_url: &str, secret_key: Secret, timeout: Duration) -> Result<Self, GatewayError> {
        Ok(StripeClient {
            api_url: api_url.trim_end_matches('/').to_owned(),
            secret_key,
            http: http_client(timeout)?,
        })
    }

    fn unavailable(message: impl Into<String>) -> GatewayError {
        unavailable("Stripe", message)
    }
}

impl PaymentGateway for StripeClient {
    fn name(&self) -> &'static str {
        "Stripe"
    }

    fn parse_id(&self, text: &str) -> Result<String, String> {
        let id = text.trim();
        match id.strip_prefix("cus_") {
            Some(rest)
                if !rest.is_empty()
                    && rest.len() <= 250
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Ok(id.to_owned())
            }
            _ => Err(format!(
                "{id:?} is not a Stripe customer id: those are cus_ followed by letters and digits."
            )),
        }
    }

    async fn look_up(&self, id: &str) -> Result<Lookup, GatewayError> {
        let url = format!("{}/v1/customers/{id}", self.api_url);
        let request = self
            .http
            .get(&url)
            .basic_auth(self.secret_key.expose(), None::<&str>);
        let (status, body) = exchange("Stripe", request).await?;
        match status {
            200 => {
                let customer: StripeCustomer = serde_json::from_slice(&body)
                    .map_err(|_| Self::unavailable("an answer that is not a customer"))?;
                if customer.deleted {
                    return Ok(Lookup::Deleted);
                }
                Ok(Lookup::Found(BillingProfile {
                    id: customer.id,
                    name: customer.name.unwrap_or_default(),
                    email: customer.email.unwrap_or_default(),
                    test_mode: !customer.livemode,
                }))
            }
            404 => {
                let error: StripeErrorBody = serde_json::from_slice(&body)
                    .map_err(|_| Self::unavailable("404 without Stripe's error body"))?;
                match error.error.code.as_deref() {
                    Some("resource_missing") => Ok(Lookup::Missing),
                    other => Err(Self::unavailable(format!(
                        "404 {}",
                        other.unwrap_or("without a code")
                    ))),
                }
            }
            401 | 403 => {
                let message = serde_json::from_slice::<StripeErrorBody>(&body)
                    .ok()
                    .and_then(|e| e.error.message)
                    .unwrap_or_else(|| "invalid API key".into());
                Err(GatewayError::Unauthorized {
                    gateway: "Stripe".into(),
                    message,
                })
            }
            429 => Err(GatewayError::Throttled {
                gateway: "Stripe".into(),
            }),
            code => Err(Self::unavailable(format!("HTTP {code}"))),
        }
    }
}

/// Authorize.Net's customer information manager (the JSON API).
#[derive(Clone, Debug)]
pub struct AuthorizeNetClient {
    api_url: String,
    login_id: String,
    transaction_key: Secret,
    sandbox: bool,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct AuthorizeNetAnswer {
    #[serde(default)]
    profile: Option<AuthorizeNetProfile>,
    messages: AuthorizeNetMessages,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeNetProfile {
    customer_profile_id: String,
    #[serde(default)]
    merchant_customer_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeNetMessages {
    result_code: String,
    #[serde(default)]
    message: Vec<AuthorizeNetMessage>,
}

#[derive(Deserialize)]
struct AuthorizeNetMessage {
    code: String,
    #[serde(default)]
    text: String,
}

impl AuthorizeNetClient {
    /// `api_url`: the JSON endpoint (`https://api.authorize.net/xml/v1/request.api`, or the
    /// sandbox's at `apitest.authorize.net`, which is test mode).
    pub fn new(
        api_url: &str,
        login_id: &str,
        transaction_key: Secret,
        timeout: Duration,
    ) -> Result<Self, GatewayError> {
        Ok(AuthorizeNetClient {
            sandbox: api_url.contains("apitest."),
            api_url: api_url.to_owned(),
            login_id: login_id.to_owned(),
            transaction_key,
            http: http_client(timeout)?,
        })
    }

    fn unavailable(message: impl Into<String>) -> GatewayError {
        unavailable("Authorize.Net", message)
    }
}

impl PaymentGateway for AuthorizeNetClient {
    fn name(&self) -> &'static str {
        "Authorize.Net"
    }

    fn parse_id(&self, text: &str) -> Result<String, String> {
        let id = text.trim();
        if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(id.to_owned())
        } else {
            Err(format!(
                "{id:?} is not an Authorize.Net customer profile id: those are numbers."
            ))
        }
    }

    async fn look_up(&self, id: &str) -> Result<Lookup, GatewayError> {
        let request = serde_json::json!({
            "getCustomerProfileRequest": {
                "merchantAuthentication": {
                    "name": self.login_id,
                    "transactionKey": self.transaction_key.expose(),
                },
                "customerProfileId": id,
            }
        });
        let (status, body) = exchange(
            "Authorize.Net",
            self.http.post(&self.api_url).json(&request),
        )
        .await?;
        if !(200..300).contains(&status) {
            return Err(Self::unavailable(format!("HTTP {status}")));
        }
        // Authorize.Net starts its JSON with a byte order mark.
        let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&body);
        let answer: AuthorizeNetAnswer = serde_json::from_slice(body)
            .map_err(|_| Self::unavailable("an answer that is not its API's"))?;
        let first = answer.messages.message.first();
        match (answer.messages.result_code.as_str(), answer.profile) {
            ("Ok", Some(profile)) => Ok(Lookup::Found(BillingProfile {
                id: profile.customer_profile_id,
                name: profile
                    .description
                    .filter(|d| !d.is_empty())
                    .or(profile.merchant_customer_id)
                    .unwrap_or_default(),
                email: profile.email.unwrap_or_default(),
                test_mode: self.sandbox,
            })),
            _ => match first.map(|m| m.code.as_str()) {
                Some("E00040") => Ok(Lookup::Missing),
                Some("E00007") => Err(GatewayError::Unauthorized {
                    gateway: "Authorize.Net".into(),
                    message: first.map(|m| m.text.clone()).unwrap_or_default(),
                }),
                Some(code) => Err(Self::unavailable(format!(
                    "{code}: {}",
                    first.map(|m| m.text.as_str()).unwrap_or_default()
                ))),
                None => Err(Self::unavailable("an error without a message")),
            },
        }
    }
}
