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

pub const SESSION_COOKIE: &str = "portal_session";
/// A session lasts a working day; signing in again starts a new one.
pub const SESSION_LIFETIME_MS: Millis = 12 * 60 * 60 * 1000;

/// The staff member a request was made by, resolved once per request by the HTTP layer from the
/// session cookie and kept in the request's extensions.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Option<StaffView>);

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
async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| DECOY_HASH.clone());
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// The message for a failed sign-in, the same whether the e-mail is unknown or the password wrong.
pub const SIGN_IN_REFUSED: &str = "That e-mail address and password do not match an account.";

/// A new session for the staff member whose credentials these are; returns the session token
/// (for the cookie) and the staff member. Ends `previous` (the token the browser had), so the
/// session id always changes at sign-in.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    previous: Option<&str>,
) -> Result<(String, StaffView), AppError> {
    let email = email.trim().to_lowercase();
    let mut conn = state.db.pool().acquire().await?;
    let found = store::staff::find_by_email(&mut conn, &email).await?;
    let (hash, staff) = match found {
        Some(c) if !c.disabled => (Some(c.password_hash), Some(c.staff)),
        _ => (None, None),
    };
    let matches = verify_password(password, hash).await;
    let staff = match (staff, matches) {
        (Some(staff), true) => staff,
        _ => {
            tracing::info!("sign-in refused");
            return Err(AppError::field("password", SIGN_IN_REFUSED));
        }
    };
    if let Some(previous) = previous {
        store::sessions::delete(&mut conn, &token_hash(previous)).await?;
    }
    let token = new_token();
    let now = now_millis();
    store::sessions::insert(
        &mut conn,
        &token_hash(&token),
        staff.id,
        now,
        now + SESSION_LIFETIME_MS,
    )
    .await?;
    tracing::info!(staff = %staff.email, "signed in");
    Ok((token, staff))
}

pub async fn sign_out(state: &AppState, token: &str) -> Result<(), AppError> {
    let mut conn = state.db.pool().acquire().await?;
    store::sessions::delete(&mut conn, &token_hash(token)).await?;
    Ok(())
}

/// The staff member of a live session token.
pub async fn resolve(state: &AppState, token: &str) -> Result<Option<StaffView>, sqlx::Error> {
    let mut conn = state.db.pool().acquire().await?;
    store::sessions::find_staff(&mut conn, &token_hash(token), now_millis()).await
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Sessions are stored by the hash of their token, so a copy of the database holds no usable
/// session.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookies(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value that stores a session token (or, with `None`, removes it).
pub fn session_cookie(token: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(token) => format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            SESSION_LIFETIME_MS / 1000
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
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
        assert!(c.starts_with("portal_session=abc;"));
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
        assert_eq!(token_from_cookies(&headers).as_deref(), Some("tok"));
        headers.insert(http::header::COOKIE, "portal_session=".parse().unwrap());
        assert_eq!(token_from_cookies(&headers), None);
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
