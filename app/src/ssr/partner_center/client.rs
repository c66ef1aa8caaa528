//! The Partner Center REST client: an app-only token by client credentials, and for the calls
//! that need one an App+User token from the Secure Application Model's refresh token (each
//! cached until shortly before it expires; the refresh token that each exchange returns
//! replaces the one used), the headers Partner Center asks for on every call, continuation
//! paging, retries (a 429 waits `Retry-After` plus a little jitter, so waiting tasks do not all
//! return at once, and slows the shared rate for a while; throttling is waited out for a time
//! budget, not a count; 5xx, connection errors and timeouts back off exponentially with
//! jitter; other 4xx fail at once) and one rate limit shared by every task that uses the same
//! client, or, with [`PartnerCenterClient::with_shared_budget`], by every process on the same
//! database (Partner Center throttles the partner, not a process).

use super::wire::{ApiError, Collection, Customer, SubscribedSku, Subscription, TokenResponse};
use crate::ssr::{db::Db, store};
use rand::Rng;
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::{sync::Mutex, time::Instant};

pub const DEFAULT_API_URL: &str = "https://api.partnercenter.microsoft.com";
pub const DEFAULT_TOKEN_URL: &str = "https://login.microsoftonline.com/common/oauth2/token";
pub const RESOURCE: &str = "https://api.partnercenter.microsoft.com";

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "(empty)"
        } else {
            "(redacted)"
        })
    }
}

/// Where Partner Center is and how to use it.
#[derive(Clone, Debug)]
pub struct PartnerCenterConfig {
    /// The API root without `/v1`, e.g. Microsoft's or the simulator's.
    pub api_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The Secure Application Model's refresh token, for the calls that need App+User
    /// (subscribed SKUs); without it those calls are not made and their figures are recorded
    /// as needing delegated consent.
    pub refresh_token: Option<Secret>,
    /// Requests per minute for all work sharing the client (Partner Center allows about 500).
    pub rate_per_minute: u32,
    /// How long one request may take before it counts as hung.
    pub request_timeout: Duration,
    /// Retries of a 5xx, a connection error or a timeout before giving up.
    pub max_retries: u32,
    /// How long one call waits out throttling (429s) in total before giving up.
    pub throttle_budget: Duration,
    /// The first back-off; doubled on each retry, with jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` waited out; a longer one is cut to this.
    pub max_retry_after: Duration,
    /// Customers asked for per page.
    pub page_size: u32,
}

impl PartnerCenterConfig {
    pub fn new(api_url: &str, token_url: &str, client_id: &str, client_secret: Secret) -> Self {
        PartnerCenterConfig {
            api_url: api_url.trim_end_matches('/').to_owned(),
            token_url: token_url.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            refresh_token: None,
            rate_per_minute: 500,
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            throttle_budget: Duration::from_secs(600),
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(120),
            page_size: 500,
        }
    }
}

/// What can go wrong talking to Partner Center.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartnerCenterError {
    #[error("Partner Center refused the credentials: {0}")]
    Authentication(String),
    #[error("Partner Center kept throttling for {waited_s} s ({attempts} waits)")]
    Throttled { attempts: u32, waited_s: u64 },
    #[error("needs delegated consent: no App+User refresh token is configured (PARTNER_CENTER_REFRESH_TOKEN)")]
    NeedsDelegatedConsent,
    #[error("Partner Center has no {0}")]
    NotFound(String),
    #[error("Partner Center answered {status}: {description}")]
    Server { status: u16, description: String },
    #[error("Partner Center refused the request ({status}): {description}")]
    Rejected { status: u16, description: String },
    #[error("Partner Center's answer could not be read: {0}")]
    Malformed(String),
    #[error("Partner Center did not answer in time")]
    Timeout,
    #[error("Partner Center could not be reached: {0}")]
    Connection(String),
}

/// Counters a sync reads to report how a run went.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    /// Time spent waiting because of 429 answers, in milliseconds.
    pub throttle_wait_ms: AtomicU64,
    pub tokens_fetched: AtomicU64,
}

tokio::task_local! {
    /// Milliseconds the current task spent waiting out 429s, for a sync that wants its own
    /// figure while other tasks share the client.
    pub static THROTTLE_WAIT_MS: std::cell::Cell<u64>;
}

/// Spaces requests evenly at the configured rate, for every task sharing it.
#[derive(Debug)]
struct RateLimit {
    interval: Duration,
    next: Mutex<Instant>,
    /// Until when the rate is halved (a 429 was answered not long ago).
    slow_until: Mutex<Instant>,
}

/// How long the rate stays halved after a 429's wait.
const SLOW_AFTER_THROTTLE: Duration = Duration::from_secs(60);

/// Which token a call needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Auth {
    /// Client credentials: customers and subscriptions.
    App,
    /// The Secure Application Model: subscribed SKUs, users and licences.
    AppUser,
}

/// The App+User side: its token, and the refresh token the next exchange uses.
#[derive(Debug)]
struct Delegated {
    token: Option<Token>,
    refresh_token: Option<Secret>,
}

impl RateLimit {
    fn new(per_minute: u32) -> Self {
        RateLimit {
            interval: Duration::from_secs(60) / per_minute.max(1),
            next: Mutex::new(Instant::now()),
            slow_until: Mutex::new(Instant::now()),
        }
    }

    /// Holds every caller back until `until`, and halves the rate for a minute after it
    /// (after a 429: the whole client waits and then goes slower, not only the task that was
    /// told to).
    async fn pause_until(&self, until: Instant) {
        let mut next = self.next.lock().await;
        *next = (*next).max(until);
        let mut slow = self.slow_until.lock().await;
        *slow = (*slow).max(until + SLOW_AFTER_THROTTLE);
    }

    /// Waits for this caller's slot.
    async fn acquire(&self) {
        let slot = {
            let slow = *self.slow_until.lock().await;
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            let interval = if now < slow {
                self.interval * 2
            } else {
                self.interval
            };
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Where the pace is kept: in this process, or in the database for every process on it.
#[derive(Debug)]
enum Pace {
    Local(RateLimit),
    /// The budget row named after the partner's app. While the database cannot be reached,
    /// this process paces itself alone (`fallback`) and says so once.
    Shared {
        db: Db,
        budget: String,
        interval_us: i64,
        fallback: RateLimit,
        degraded: AtomicBool,
    },
}

impl Pace {
    /// Waits for this caller's slot.
    async fn acquire(&self) {
        match self {
            Pace::Local(limit) => limit.acquire().await,
            Pace::Shared {
                db,
                budget,
                interval_us,
                fallback,
                degraded,
            } => {
                let slot = async {
                    let mut conn = db.pool().acquire().await?;
                    store::partner_center_budget::take(
                        &mut conn,
                        db.backend(),
                        budget,
                        *interval_us,
                    )
                    .await
                };
                match slot.await {
                    Ok(slot) => {
                        if degraded.swap(false, Ordering::Relaxed) {
                            tracing::info!("the shared Partner Center rate budget is read again");
                        }
                        tokio::time::sleep(slot.wait()).await;
                    }
                    Err(e) => {
                        if !degraded.swap(true, Ordering::Relaxed) {
                            tracing::warn!(error = %e, "the shared Partner Center rate budget cannot be read; this process paces itself alone until it can");
                        }
                        fallback.acquire().await;
                    }
                }
            }
        }
    }

    /// Holds every caller back for `wait`, then halves the rate for a while.
    async fn pause_for(&self, wait: Duration) {
        match self {
            Pace::Local(limit) => limit.pause_until(Instant::now() + wait).await,
            Pace::Shared {
                db,
                budget,
                fallback,
                ..
            } => {
                fallback.pause_until(Instant::now() + wait).await;
                let paused = async {
                    let mut conn = db.pool().acquire().await?;
                    store::partner_center_budget::pause(
                        &mut conn,
                        db.backend(),
                        budget,
                        wait.as_micros() as i64,
                        SLOW_AFTER_THROTTLE.as_micros() as i64,
                    )
                    .await
                };
                if let Err(e) = paused.await {
                    tracing::warn!(error = %e, "the shared Partner Center rate budget could not be paused");
                }
            }
        }
    }
}

#[derive(Debug)]
struct Token {
    value: Secret,
    refresh_at: Instant,
}

/// The client. Cheap to clone; clones share the token, the rate limit and the counters.
#[derive(Clone, Debug)]
pub struct PartnerCenterClient {
    http: reqwest::Client,
    config: Arc<PartnerCenterConfig>,
    token: Arc<Mutex<Option<Token>>>,
    delegated: Arc<Mutex<Delegated>>,
    limit: Arc<Pace>,
    pub stats: Arc<ClientStats>,
}

/// One call's outcome before it is decided whether to retry.
enum Attempt {
    Done(reqwest::Response),
    Retry(PartnerCenterError),
    /// A 429, with its `Retry-After` when it sent one.
    Throttled(Option<Duration>),
    TokenExpired,
    Fail(PartnerCenterError),
}

impl PartnerCenterClient {
    pub fn new(config: PartnerCenterConfig) -> Result<Self, PartnerCenterError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| PartnerCenterError::Connection(e.to_string()))?;
        Ok(PartnerCenterClient {
            http,
            limit: Arc::new(Pace::Local(RateLimit::new(config.rate_per_minute))),
            delegated: Arc::new(Mutex::new(Delegated {
                token: None,
                refresh_token: config.refresh_token.clone(),
            })),
            config: Arc::new(config),
            token: Arc::new(Mutex::new(None)),
            stats: Arc::new(ClientStats::default()),
        })
    }

    /// The same client, its rate kept in `db` for every process that uses the database with
    /// the same app (one `partner_center_budget` row per client id): N processes together stay
    /// within the configured rate.
    pub fn with_shared_budget(mut self, db: Db) -> Self {
        let per_minute = i64::from(self.config.rate_per_minute.max(1));
        self.limit = Arc::new(Pace::Shared {
            db,
            budget: self.config.client_id.clone(),
            interval_us: (60_000_000 + per_minute - 1) / per_minute,
            fallback: RateLimit::new(self.config.rate_per_minute),
            degraded: AtomicBool::new(false),
        });
        self
    }

    pub fn config(&self) -> &PartnerCenterConfig {
        &self.config
    }

    /// Whether App+User calls can be made (a refresh token is configured).
    pub fn has_delegated_consent(&self) -> bool {
        self.config.refresh_token.is_some()
    }

    /// A valid token of the kind asked for: the cached one, or a new one when it is about to
    /// expire.
    async fn token(&self, auth: Auth) -> Result<Secret, PartnerCenterError> {
        match auth {
            Auth::App => {
                let mut cached = self.token.lock().await;
                if let Some(token) = cached.as_ref() {
                    if Instant::now() < token.refresh_at {
                        return Ok(token.value.clone());
                    }
                }
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", self.config.client_id.as_str()),
                    ("client_secret", self.config.client_secret.expose()),
                    ("resource", RESOURCE),
                ];
                let (token, _) = self.exchange(&form).await?;
                let value = token.value.clone();
                *cached = Some(token);
                Ok(value)
            }
            Auth::AppUser => {
                let mut delegated = self.delegated.lock().await;
                if let Some(token) = delegated.token.as_ref() {
                    if Instant::now() < token.refresh_at {
                        return Ok(token.value.clone());
                    }
                }
                let Some(refresh) = delegated.refresh_token.clone() else {
                    return Err(PartnerCenterError::NeedsDelegatedConsent);
                };
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                    ("client_id", self.config.client_id.as_str()),
                    ("client_secret", self.config.client_secret.expose()),
                    ("resource", RESOURCE),
                ];
                let (token, rotated) = self.exchange(&form).await?;
                let value = token.value.clone();
                delegated.token = Some(token);
                if let Some(rotated) = rotated {
                    // The answer's refresh token replaces the one used (kept in memory only;
                    // the configured one is used again after a restart).
                    delegated.refresh_token = Some(rotated);
                }
                Ok(value)
            }
        }
    }

    /// Posts a grant to the token endpoint: the token, and the refresh token it returned.
    async fn exchange(
        &self,
        form: &[(&str, &str)],
    ) -> Result<(Token, Option<Secret>), PartnerCenterError> {
        self.stats.tokens_fetched.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .post(&self.config.token_url)
            .form(form)
            .send()
            .await
            .map_err(|e| PartnerCenterError::Authentication(transport(&e).to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| PartnerCenterError::Authentication(e.to_string()))?;
        if !status.is_success() {
            return Err(PartnerCenterError::Authentication(format!(
                "the token endpoint answered {status}"
            )));
        }
        let token: TokenResponse = serde_json::from_str(without_byte_order_mark(&body))
            .map_err(|e| PartnerCenterError::Malformed(format!("token answer: {e}")))?;
        let lifetime = Duration::from_secs(token.expires_in_seconds().unwrap_or(3600));
        // Renew five minutes early (or at 90 % of a short lifetime) so no call carries a token
        // that expires on the way.
        let margin = Duration::from_secs(300).min(lifetime / 10);
        tracing::debug!(
            lifetime_s = lifetime.as_secs(),
            "partner center token fetched"
        );
        Ok((
            Token {
                value: Secret::new(token.access_token),
                refresh_at: Instant::now() + lifetime - margin,
            },
            token.refresh_token.map(Secret::new),
        ))
    }

    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .config
            .base_backoff
            .saturating_mul(1 << retry.min(16))
            .min(self.config.max_backoff);
        // Full jitter on the upper half: spreads retries of many tasks apart.
        let half = exp / 2;
        half + rand::thread_rng().gen_range(Duration::ZERO..=half)
    }

    async fn attempt(
        &self,
        url: &str,
        request_id: &str,
        extra: &HeaderMap,
        auth: Auth,
    ) -> Result<Attempt, PartnerCenterError> {
        let token = self.token(auth).await?;
        self.limit.acquire().await;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let sent = self
            .http
            .request(Method::GET, url)
            .bearer_auth(token.expose())
            .header("Accept", "application/json")
            .header("MS-RequestId", request_id)
            .header("MS-CorrelationId", uuid::Uuid::new_v4().to_string())
            .header("MS-Contract-Version", "v1")
            .headers(extra.clone())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_timeout() => return Ok(Attempt::Retry(PartnerCenterError::Timeout)),
            Err(e) => return Ok(Attempt::Retry(transport(&e))),
        };
        let status = response.status();
        Ok(match status {
            s if s.is_success() => Attempt::Done(response),
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = response
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, std::time::SystemTime::now()));
                Attempt::Throttled(wait)
            }
            StatusCode::UNAUTHORIZED => Attempt::TokenExpired,
            s if s.is_server_error() => {
                let description = describe(response).await;
                Attempt::Retry(PartnerCenterError::Server {
                    status: s.as_u16(),
                    description,
                })
            }
            StatusCode::NOT_FOUND => Attempt::Fail(PartnerCenterError::NotFound(
                url.rsplit("/v1/").next().unwrap_or(url).to_owned(),
            )),
            s => {
                let description = describe(response).await;
                Attempt::Fail(PartnerCenterError::Rejected {
                    status: s.as_u16(),
                    description,
                })
            }
        })
    }

    /// GETs `url` and reads the JSON answer, retrying as the module says. The `MS-RequestId` is
    /// the same on every retry of this call.
    async fn get<T: DeserializeOwned>(
        &self,
        url: &str,
        extra: HeaderMap,
    ) -> Result<T, PartnerCenterError> {
        self.get_as(url, extra, Auth::App).await
    }

    async fn get_as<T: DeserializeOwned>(
        &self,
        url: &str,
        extra: HeaderMap,
        auth: Auth,
    ) -> Result<T, PartnerCenterError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (mut retries, mut throttled, mut reauthenticated) = (0, 0u32, false);
        let mut throttle_waited = Duration::ZERO;
        loop {
            match self.attempt(url, &request_id, &extra, auth).await? {
                Attempt::Done(response) => {
                    let body = match response.text().await {
                        Ok(body) => body,
                        Err(e) if e.is_timeout() => {
                            if retries >= self.config.max_retries {
                                return Err(PartnerCenterError::Timeout);
                            }
                            retries += 1;
                            self.stats.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(self.backoff(retries)).await;
                            continue;
                        }
                        Err(e) => return Err(transport(&e)),
                    };
                    return serde_json::from_str(without_byte_order_mark(&body))
                        .map_err(|e| PartnerCenterError::Malformed(format!("{url}: {e}")));
                }
                Attempt::Throttled(retry_after) => {
                    throttled += 1;
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    // Retry-After, then exponential back-off; with jitter, so the tasks told
                    // to wait do not all come back at the same instant.
                    let wait = throttle_wait(
                        retry_after,
                        throttled,
                        self.config.base_backoff,
                        self.config.max_retry_after,
                    );
                    if throttle_waited + wait > self.config.throttle_budget {
                        return Err(PartnerCenterError::Throttled {
                            attempts: throttled,
                            waited_s: throttle_waited.as_secs(),
                        });
                    }
                    throttle_waited += wait;
                    tracing::debug!(wait_s = wait.as_secs(), "throttled by partner center");
                    let started = Instant::now();
                    self.limit.pause_for(wait).await;
                    tokio::time::sleep(wait).await;
                    let waited = started.elapsed().as_millis() as u64;
                    self.stats
                        .throttle_wait_ms
                        .fetch_add(waited, Ordering::Relaxed);
                    let _ = THROTTLE_WAIT_MS.try_with(|total| total.set(total.get() + waited));
                }
                Attempt::TokenExpired if !reauthenticated => {
                    reauthenticated = true;
                    match auth {
                        Auth::App => *self.token.lock().await = None,
                        Auth::AppUser => self.delegated.lock().await.token = None,
                    }
                }
                Attempt::TokenExpired => {
                    return Err(PartnerCenterError::Authentication(
                        "the API refused a fresh token (401)".into(),
                    ))
                }
                Attempt::Retry(error) => {
                    if retries >= self.config.max_retries {
                        return Err(error);
                    }
                    retries += 1;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = self.backoff(retries);
                    tracing::debug!(%error, retry = retries, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Attempt::Fail(error) => return Err(error),
            }
        }
    }

    /// Where `links.next.uri` points: a path (it already carries `/v1/`) is resolved against the
    /// API's host with nothing added; an absolute URL is followed only on the API's own origin,
    /// so the token is never sent to another host.
    fn next_page_url(&self, uri: &str) -> Result<String, PartnerCenterError> {
        let origin = origin_of(&self.config.api_url);
        if uri.starts_with('/') && !uri.starts_with("//") {
            return Ok(format!("{origin}{uri}"));
        }
        if origin_of(uri).eq_ignore_ascii_case(origin) && uri.len() > origin.len() {
            return Ok(uri.to_owned());
        }
        Err(PartnerCenterError::Malformed(format!(
            "the next page is on another host ({uri}); not followed"
        )))
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/v1/{}",
            self.config.api_url,
            path.trim_start_matches('/')
        )
    }

    /// Every customer of the partner, following continuation tokens through every page.
    pub async fn list_customers(&self) -> Result<Vec<Customer>, PartnerCenterError> {
        let mut url = self.url(&format!("customers?size={}", self.config.page_size));
        let mut headers = HeaderMap::new();
        let mut customers = Vec::new();
        loop {
            let page: Collection<Customer> = self.get(&url, headers).await?;
            customers.extend(page.items);
            let Some(next) = page.links.next else {
                return Ok(customers);
            };
            url = self.next_page_url(&next.uri)?;
            headers = HeaderMap::new();
            for h in next.headers {
                let (Ok(name), Ok(value)) = (
                    reqwest::header::HeaderName::from_bytes(h.key.as_bytes()),
                    reqwest::header::HeaderValue::from_str(&h.value),
                ) else {
                    return Err(PartnerCenterError::Malformed(format!(
                        "next-page header {:?}",
                        h.key
                    )));
                };
                headers.insert(name, value);
            }
        }
    }

    pub async fn get_customer(&self, customer_id: &str) -> Result<Customer, PartnerCenterError> {
        self.get(
            &self.url(&format!("customers/{}", path_segment(customer_id)?)),
            HeaderMap::new(),
        )
        .await
    }

    pub async fn list_subscriptions(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, PartnerCenterError> {
        let url = self.url(&format!(
            "customers/{}/subscriptions",
            path_segment(customer_id)?
        ));
        Ok(self
            .get::<Collection<Subscription>>(&url, HeaderMap::new())
            .await?
            .items)
    }

    pub async fn list_subscribed_skus(
        &self,
        customer_id: &str,
    ) -> Result<Vec<SubscribedSku>, PartnerCenterError> {
        if !self.has_delegated_consent() {
            return Err(PartnerCenterError::NeedsDelegatedConsent);
        }
        let url = self.url(&format!(
            "customers/{}/subscribedskus",
            path_segment(customer_id)?
        ));
        Ok(self
            .get_as::<Collection<SubscribedSku>>(&url, HeaderMap::new(), Auth::AppUser)
            .await?
            .items)
    }
}

/// How long to wait after the `n`-th 429 of a call (from 1): `Retry-After` (or, without one,
/// the exponential back-off) plus up to a quarter more at random, at most `max`.
fn throttle_wait(retry_after: Option<Duration>, n: u32, base: Duration, max: Duration) -> Duration {
    let floor = retry_after
        .unwrap_or_else(|| base.saturating_mul(1 << n.min(16)))
        .min(max);
    let jitter =
        rand::thread_rng().gen_range(Duration::ZERO..=floor / 4 + Duration::from_millis(50));
    (floor + jitter).min(max)
}

/// `scheme://host[:port]` of a URL (the whole text when it has no path).
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(end) => &url[..after_scheme + end],
        None => url,
    }
}

/// A `Retry-After` value: delay-seconds, or an HTTP-date (its distance from `now`).
fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A customer id goes into a URL path: only GUID characters are allowed.
fn path_segment(id: &str) -> Result<&str, PartnerCenterError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(id)
    } else {
        Err(PartnerCenterError::Rejected {
            status: 400,
            description: format!("{id:?} is not a customer id"),
        })
    }
}

fn transport(e: &reqwest::Error) -> PartnerCenterError {
    if e.is_timeout() {
        PartnerCenterError::Timeout
    } else {
        PartnerCenterError::Connection(e.to_string())
    }
}

/// A JSON answer without the UTF-8 byte order mark Microsoft's services sometimes begin one
/// with (serde_json refuses it).
fn without_byte_order_mark(body: &str) -> &str {
    body.strip_prefix('\u{FEFF}').unwrap_or(body)
}

/// The description of an error answer, or its status when the body is not Partner Center's.
async fn describe(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    error_description(status, &body)
}

/// Partner Center's two error shapes: `{code, description, ...}`, and a 429's own
/// `{"statusCode":429,"message":"..."}`; anything else is named by its status.
fn error_description(status: StatusCode, body: &str) -> String {
    let body = without_byte_order_mark(body);
    serde_json::from_str::<ApiError>(body)
        .map(|e| format!("{} (code {})", e.description, e.code))
        .or_else(|_| {
            // A 429 answers in a shape of its own: {"statusCode":429,"message":"..."}.
            serde_json::from_str::<serde_json::Value>(body)
                .map_err(|_| ())
                .and_then(|v| {
                    v.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_owned)
                        .ok_or(())
                })
        })
        .unwrap_or_else(|_| status.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_shapes_are_read_with_or_without_a_byte_order_mark() {
        let ordinary =
            r#"{"code":20002,"description":"Customer not found.","data":[],"source":"PartnerFD"}"#;
        let throttled =
            r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 57 seconds."}"#;
        for prefix in ["", "\u{FEFF}"] {
            assert_eq!(
                error_description(StatusCode::BAD_REQUEST, &format!("{prefix}{ordinary}")),
                "Customer not found. (code 20002)"
            );
            assert_eq!(
                error_description(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("{prefix}{throttled}")
                ),
                "Rate limit is exceeded. Try again in 57 seconds."
            );
        }
        assert_eq!(
            error_description(StatusCode::BAD_GATEWAY, "<html>proxy</html>"),
            "502 Bad Gateway"
        );
    }

    #[test]
    fn the_secret_is_redacted_in_debug_output() {
        let config = PartnerCenterConfig::new("http://x", "http://y", "id", Secret::new("hunter2"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("(redacted)"));
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        let mut config = PartnerCenterConfig::new("http://x", "http://y", "id", Secret::default());
        config.base_backoff = Duration::from_millis(100);
        config.max_backoff = Duration::from_millis(1000);
        let client = PartnerCenterClient::new(config).unwrap();
        for retry in 1..20 {
            let wait = client.backoff(retry);
            let exp =
                Duration::from_millis(100 * (1 << retry.min(16))).min(Duration::from_millis(1000));
            assert!(wait >= exp / 2 && wait <= exp, "retry {retry}: {wait:?}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(retry_after(" 57 ", now), Some(Duration::from_secs(57)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn the_next_page_stays_on_the_api_host() {
        let config = PartnerCenterConfig::new(
            "https://api.partnercenter.microsoft.com",
            "http://y",
            "id",
            Secret::default(),
        );
        let client = PartnerCenterClient::new(config).unwrap();
        assert_eq!(
            client
                .next_page_url("/v1/customers?size=500&seekOperation=Next")
                .unwrap(),
            "https://api.partnercenter.microsoft.com/v1/customers?size=500&seekOperation=Next"
        );
        assert!(client
            .next_page_url("https://api.partnercenter.microsoft.com/v1/customers?x=1")
            .is_ok());
        for hostile in [
            "https://evil.example/v1/customers",
            "//evil.example/v1/customers",
            "https://api.partnercenter.microsoft.com.evil.example/v1/customers",
            "https://api.partnercenter.microsoft.com@evil.example/v1",
        ] {
            assert!(client.next_page_url(hostile).is_err(), "{hostile}");
        }
    }

    #[test]
    fn only_guid_characters_go_into_a_path() {
        assert!(path_segment("0b6f9a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b").is_ok());
        assert!(path_segment("../admin").is_err());
        assert!(path_segment("").is_err());
    }
}
