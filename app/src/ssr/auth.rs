//! Staff sign-in: argon2id password hashes, server-side sessions, the session cookie, and the
//! authorisation check every server function starts with.

use super::{db::now_millis, store, AppState};
use crate::{
    error::AppError,
    model::{Millis, Permission, StaffView},
};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The session cookie's name over plain HTTP (a developer's machine, the demo).
pub const SESSION_COOKIE: &str = "portal_session";
/// Its name when cookies are `Secure`: the `__Host-` prefix makes the browser refuse it unless
/// it is Secure, host-only and `Path=/`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-portal_session";
/// A session lasts a working day at most; signing in again starts a new one.
pub const SESSION_LIFETIME_MS: Millis = 12 * 60 * 60 * 1000;
/// A session not used for this long ends (configurable: `--session-idle-minutes`).
pub const DEFAULT_SESSION_IDLE_MS: Millis = 30 * 60 * 1000;

/// The name of the session cookie: `__Host-` prefixed when it is Secure.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The staff member a request was made by, resolved once per request by the HTTP layer from the
/// session cookie and kept in the request's extensions.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Option<StaffView>);

/// The client's address, when the server was started with connection info (as `portal` is).
pub fn peer_address(extensions: &http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The signed-in staff member of this request, or 401.
pub fn signed_in() -> Result<StaffView, AppError> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Authenticated>().cloned())
        .and_then(|a| a.0)
        .ok_or(AppError::Unauthenticated)
}

/// The signed-in staff member if their role allows `permission`: 401 when nobody is signed in,
/// 403 when the role does not allow it.
pub fn authorize(permission: Permission) -> Result<StaffView, AppError> {
    let staff = signed_in()?;
    if staff.role.allows(permission) {
        Ok(staff)
    } else {
        tracing::info!(staff = %staff.email, ?permission, "refused: role does not allow");
        Err(AppError::Forbidden)
    }
}

/// Hashes a password with argon2id (its CPU cost is paid on a blocking thread).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| super::internal_error(&e))?
    .map_err(|e| super::internal_error(&e))
}

/// A hash of no one's password, verified when the e-mail is unknown so that an unknown user
/// takes as long to refuse as a wrong password.
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no one's password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Checks a password against a stored hash, or against the decoy when there is none.
fn verify_password_blocking(password: &str, hash: Option<&str>) -> bool {
    let hash = hash.unwrap_or(DECOY_HASH.as_str());
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify_password_blocking(&password, hash.as_deref()))
        .await
        .unwrap_or(false)
}

/// The message for a failed sign-in, the same whether the e-mail is unknown or the password wrong.
pub const SIGN_IN_REFUSED: &str = "That e-mail address and password do not match an account.";

/// How sign-in defends itself against guessing and floods.
#[derive(Clone, Debug)]
pub struct SignInPolicy {
    /// Failures an account may have before it is locked.
    pub free_failures: i64,
    /// The first lock; each further failure after a lock doubles it, up to `max_lock_ms`.
    pub first_lock_ms: Millis,
    pub max_lock_ms: Millis,
    /// Password checks that run at once (Argon2id takes a core and 19 MiB each).
    pub hashing_permits: usize,
    /// How long a sign-in waits for a free check before it is refused as "busy".
    pub hashing_wait: std::time::Duration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            free_failures: 5,
            first_lock_ms: 60_000,
            max_lock_ms: 15 * 60_000,
            hashing_permits: std::thread::available_parallelism().map_or(2, |n| n.get()),
            hashing_wait: std::time::Duration::from_secs(5),
        }
    }
}

impl SignInPolicy {
    /// How long an account is locked after its `failures`-th failure in a row (0: not locked).
    pub fn lock_after(&self, failures: i64) -> Millis {
        if failures < self.free_failures {
            return 0;
        }
        let doublings = u32::try_from(failures - self.free_failures)
            .unwrap_or(u32::MAX)
            .min(20);
        self.first_lock_ms
            .saturating_mul(1 << doublings)
            .min(self.max_lock_ms)
    }
}

/// A password to check against a hash (or the decoy), and where to send the answer.
type Check = (String, Option<String>, tokio::sync::oneshot::Sender<bool>);

/// The sign-in policy and the one pool of password checks of this process: `hashing_permits`
/// threads of its own (not the runtime's blocking pool, whose many threads would each keep an
/// allocator arena holding Argon2's 19 MiB blocks), taken through a semaphore.
#[derive(Clone, Debug)]
pub struct SignInGuard {
    pub policy: std::sync::Arc<SignInPolicy>,
    hashing: std::sync::Arc<tokio::sync::Semaphore>,
    checks: std::sync::mpsc::SyncSender<Check>,
}

impl SignInGuard {
    pub fn new(policy: SignInPolicy) -> Self {
        let permits = policy.hashing_permits.max(1);
        let (checks, queue) = std::sync::mpsc::sync_channel::<Check>(permits);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..permits {
            let queue = queue.clone();
            // The threads end when the last guard (the sender) is dropped.
            let _ = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || loop {
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok((password, hash, answer))) = next else {
                        return;
                    };
                    let _ = answer.send(verify_password_blocking(&password, hash.as_deref()));
                });
        }
        SignInGuard {
            policy: std::sync::Arc::new(policy),
            hashing: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)),
            checks,
        }
    }

    /// One of the `hashing_permits` password checks; refuses as busy when none is free within
    /// `hashing_wait`.
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        tokio::time::timeout(
            self.policy.hashing_wait,
            self.hashing.clone().acquire_owned(),
        )
        .await
        .map_err(|_| busy())?
        .map_err(|e| super::internal_error(&e))
    }

    /// Checks a password on the pool's threads; the caller holds one of the permits (and keeps
    /// it until a failure is recorded, so that no queued attempt passes the lock check before).
    async fn verify(
        &self,
        _permit: &tokio::sync::OwnedSemaphorePermit,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, AppError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        // Never more checks queued than threads: the permit bounds them.
        self.checks
            .try_send((password, hash, answer))
            .map_err(|e| super::internal_error(&e))?;
        answered.await.map_err(|e| super::internal_error(&e))
    }
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard::new(SignInPolicy::default())
    }
}

fn busy() -> AppError {
    AppError::TooManyRequests {
        message: "The portal is busy signing people in. Try again in a moment.".into(),
        retry_after_secs: 1,
    }
}

fn locked(until: Millis, now: Millis) -> AppError {
    let secs = u64::try_from((until - now).max(1_000))
        .unwrap_or(1_000)
        .div_ceil(1_000);
    let minutes = secs.div_ceil(60);
    AppError::TooManyRequests {
        message: format!(
            "Too many failed sign-ins for this e-mail address. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ),
        retry_after_secs: secs,
    }
}

/// A hash of the folded e-mail address: the key of its failure count, and what logs show
/// instead of the address.
pub fn email_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

/// A new session for the staff member whose credentials these are; returns the session token
/// (for the cookie) and the staff member. Ends `previous` (the token the browser had), so the
/// session id always changes at sign-in.
///
/// Unknown account, wrong password and disabled account get the same answer after the same
/// work; after `free_failures` failures in a row an address (known or not) is locked, and a
/// locked one is refused at once (429) whatever the password. No database connection is held
/// while the password is checked.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    previous: Option<&str>,
    peer: Option<std::net::IpAddr>,
) -> Result<(String, StaffView), AppError> {
    let email = email.trim().to_lowercase();
    let key = email_hash(&email);
    let peer = peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let guard = &state.sign_in;
    let refuse_if_locked = |until: Option<Millis>, now: Millis| match until {
        Some(until) => {
            tracing::warn!(email_hash = %key, %peer, "sign-in refused: locked");
            Err(locked(until, now))
        }
        None => Ok(()),
    };
    // A locked address is refused at once, without waiting for a password check...
    let now = now_millis();
    refuse_if_locked(
        store::sign_in_failures::locked_until(&mut *state.db.pool().acquire().await?, &key, now)
            .await?,
        now,
    )?;
    let permit = guard.permit().await?;
    // ...and checked again once this attempt may run: guesses that queued together must not
    // all be tried after the first ones locked the address.
    let found = {
        let mut conn = state.db.pool().acquire().await?;
        let now = now_millis();
        refuse_if_locked(
            store::sign_in_failures::locked_until(&mut conn, &key, now).await?,
            now,
        )?;
        store::staff::find_by_email(&mut conn, &email).await?
    };
    let (hash, staff) = match found {
        Some(c) if !c.disabled => (Some(c.password_hash), Some(c.staff)),
        _ => (None, None),
    };
    let matches = guard.verify(&permit, password, hash).await?;
    let staff = match (staff, matches) {
        (Some(staff), true) => staff,
        _ => {
            let now = now_millis();
            let mut tx = state.db.begin_write().await?;
            let failures = store::sign_in_failures::add_failure(&mut tx, &key, now).await?;
            let lock = guard.policy.lock_after(failures);
            if lock > 0 {
                store::sign_in_failures::lock(&mut tx, &key, now + lock).await?;
            }
            tx.commit().await?;
            drop(permit);
            if lock > 0 {
                tracing::warn!(email_hash = %key, %peer, failures, lock_ms = lock, "sign-in refused: account locked");
                return Err(locked(now + lock, now));
            }
            tracing::info!(email_hash = %key, %peer, failures, "sign-in refused");
            return Err(AppError::field("password", SIGN_IN_REFUSED));
        }
    };
    drop(permit);
    let mut tx = state.db.begin_write().await?;
    store::sign_in_failures::clear(&mut tx, &key).await?;
    if let Some(previous) = previous {
        store::sessions::delete(&mut tx, &token_hash(previous)).await?;
    }
    let token = new_token();
    let now = now_millis();
    let user_agent = leptos::prelude::use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect::<String>())
    });
    store::sessions::insert(
        &mut tx,
        &token_hash(&token),
        staff.id,
        now,
        now + SESSION_LIFETIME_MS,
        store::sessions::Origin {
            user_agent: user_agent.as_deref(),
            address: Some(peer.as_str()).filter(|p| *p != "unknown"),
        },
    )
    .await?;
    store::staff::record_sign_in(&mut tx, staff.id, now).await?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, %peer, "signed in");
    Ok((token, staff))
}

/// Checks a signed-in member's password (to change it), on the sign-in checks' threads.
pub async fn check_password(
    state: &AppState,
    password: String,
    hash: String,
) -> Result<bool, AppError> {
    let permit = state.sign_in.permit().await?;
    state.sign_in.verify(&permit, password, Some(hash)).await
}

pub async fn sign_out(state: &AppState, token: &str) -> Result<(), AppError> {
    let mut conn = state.db.pool().acquire().await?;
    store::sessions::delete(&mut conn, &token_hash(token)).await?;
    Ok(())
}

/// A session's last use is recorded at most this often (not a write per request).
const SESSION_TOUCH_EVERY_MS: Millis = 60_000;

/// The staff member of a live session token: not past its absolute lifetime, not idle for
/// longer than the idle timeout, staff member not disabled. Records the use.
pub async fn resolve(state: &AppState, token: &str) -> Result<Option<StaffView>, sqlx::Error> {
    Ok(resolve_session(state, token).await?.map(|s| s.staff))
}

/// [`resolve`], with whether the member must change their password first.
pub async fn resolve_session(
    state: &AppState,
    token: &str,
) -> Result<Option<store::sessions::LiveSession>, sqlx::Error> {
    let mut conn = state.db.pool().acquire().await?;
    let now = now_millis();
    let hash = token_hash(token);
    let found =
        store::sessions::find_staff(&mut conn, &hash, now, now - state.session_idle_timeout_ms)
            .await?;
    if let Some(session) = &found {
        if now - session.last_seen_at >= SESSION_TOUCH_EVERY_MS {
            store::sessions::touch(&mut conn, &hash, now).await?;
        }
    }
    Ok(found)
}

/// The stored handle of the session of this request (the hash of its cookie's token).
pub fn current_session_handle() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    let secure = super::state().is_ok_and(|s| s.secure_cookies);
    token_from_cookies(&parts.headers, secure).map(|t| token_hash(&t))
}

/// Set by the HTTP layer when an API token (of this scope) made the request.
#[derive(Clone, Copy, Debug)]
pub struct TokenCaller(pub crate::model::TokenScope);

/// Deletes the sessions that can no longer be used (expired or idle); returns how many.
pub async fn purge_sessions(state: &AppState) -> Result<u64, sqlx::Error> {
    let now = now_millis();
    let mut conn = state.db.pool().acquire().await?;
    let purged =
        store::sessions::delete_expired(&mut conn, now, now - state.session_idle_timeout_ms)
            .await?;
    store::sign_in_failures::purge(&mut conn, now - 24 * 60 * 60 * 1000).await?;
    Ok(purged)
}

/// Disables a staff member and ends their sessions at once; false when no such e-mail.
pub async fn disable_staff(state: &AppState, email: &str) -> Result<bool, AppError> {
    let mut tx = state.db.begin_write().await?;
    let Some(id) =
        store::staff::set_disabled(&mut tx, &email.trim().to_lowercase(), Some(now_millis()))
            .await?
    else {
        return Ok(false);
    };
    let ended = store::sessions::delete_for_staff(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(
        staff_id = id,
        sessions_ended = ended,
        "staff member disabled"
    );
    Ok(true)
}

pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Sessions are stored by the hash of their token, so a copy of the database holds no usable
/// session.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Every value of the cookie `name` in the request's `Cookie` headers, in order (the one place
/// the header is parsed).
pub fn cookie_values<'a>(
    headers: &'a http::HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The session token in the `Cookie` header: only the one cookie of the name this server
/// sets (`secure` picks it), and none when that name appears more than once (a planted
/// duplicate), so there is never a choice of which one counts.
pub fn token_from_cookies(headers: &http::HeaderMap, secure: bool) -> Option<String> {
    let mut found = cookie_values(headers, session_cookie_name(secure));
    match (found.next(), found.next()) {
        (Some(value), None) if !value.is_empty() => Some(value.to_owned()),
        _ => None,
    }
}

/// The `Set-Cookie` value that stores a session token (or, with `None`, removes it).
pub fn session_cookie(token: Option<&str>, secure: bool) -> String {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(token) => format!(
            "{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            SESSION_LIFETIME_MS / 1000
        ),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// Creates a staff member (for the command line and the demo).
pub async fn create_staff(
    state: &AppState,
    email: &str,
    display_name: &str,
    role: crate::model::Role,
    password: String,
) -> Result<i64, AppError> {
    let hash = hash_password(password).await?;
    let mut conn = state.db.pool().acquire().await?;
    let id = store::staff::insert(
        &mut conn,
        &email.trim().to_lowercase(),
        display_name,
        role,
        &hash,
        now_millis(),
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_http_only_lax_and_secure_unless_told_otherwise() {
        let c = session_cookie(Some("abc"), true);
        assert!(c.starts_with("__Host-portal_session=abc;"));
        assert!(session_cookie(Some("abc"), false).starts_with("portal_session=abc;"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"));
        assert!(!session_cookie(Some("abc"), false).contains("Secure"));
        assert!(session_cookie(None, true).contains("Max-Age=0"));
    }

    #[test]
    fn token_is_found_among_other_cookies() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "a=1; portal_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(token_from_cookies(&headers, false).as_deref(), Some("tok"));
        // A Secure server reads only its __Host- cookie.
        assert_eq!(token_from_cookies(&headers, true), None);
        headers.insert(
            http::header::COOKIE,
            "__Host-portal_session=sec; portal_session=tok"
                .parse()
                .unwrap(),
        );
        assert_eq!(token_from_cookies(&headers, true).as_deref(), Some("sec"));
        headers.insert(http::header::COOKIE, "portal_session=".parse().unwrap());
        assert_eq!(token_from_cookies(&headers, false), None);
    }

    #[test]
    fn a_duplicated_session_cookie_is_not_read() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "portal_session=planted; portal_session=real"
                .parse()
                .unwrap(),
        );
        assert_eq!(token_from_cookies(&headers, false), None);
    }

    #[test]
    fn locks_start_at_the_threshold_and_double_up_to_the_cap() {
        let policy = SignInPolicy::default();
        assert_eq!(policy.lock_after(4), 0);
        assert_eq!(policy.lock_after(5), 60_000);
        assert_eq!(policy.lock_after(6), 120_000);
        assert_eq!(policy.lock_after(7), 240_000);
        assert_eq!(policy.lock_after(9), 15 * 60_000);
        assert_eq!(policy.lock_after(1_000), 15 * 60_000);
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[tokio::test]
    async fn password_hash_verifies_only_the_same_password() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong".into(), Some(hash)).await);
        assert!(!verify_password("anything".into(), None).await);
    }
}
