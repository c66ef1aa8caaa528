//! API tokens for other systems: created by a System Admin, shown once, stored as a hash, with a
//! scope and an optional expiry; revoked at once. A token acts on the JSON API only, as a staff
//! member whose role is its scope (read: System Reader; billed writes: Finance Admin, kept by
//! the gate to the read endpoints and the billed-record import).

use super::audit::{record, Change};
use crate::{
    error::{AppError, FieldErrors},
    model::{parse_token_name, ApiTokenView, Millis, NewToken, Role, StaffView, TokenScope},
    ssr::{
        auth,
        db::{now_millis, Db},
        store,
    },
};
use serde_json::json;

/// What every token starts with, so that secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "pcp_";

/// The longest expiry: a year.
const MAX_EXPIRY_DAYS: i64 = 366;

/// An expiry typed as a number of days from now; empty is none.
fn parse_expiry(text: &str, now: Millis) -> Result<Option<Millis>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(days) if (1..=MAX_EXPIRY_DAYS).contains(&days) => {
            Ok(Some(now + days * 24 * 60 * 60 * 1000))
        }
        _ => Err(format!(
            "Write the number of days the token lasts, 1 to {MAX_EXPIRY_DAYS}, or leave it empty for a token that lasts until revoked."
        )),
    }
}

pub async fn list(db: &Db) -> Result<Vec<ApiTokenView>, AppError> {
    let mut conn = db.pool().acquire().await?;
    Ok(store::api_tokens::list(&mut conn).await?)
}

/// Creates a token; the answer is its only showing.
pub async fn create(
    db: &Db,
    admin: &StaffView,
    name: &str,
    scope: &str,
    expires_in_days: &str,
) -> Result<NewToken, AppError> {
    let now = now_millis();
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_token_name(name));
    let scope = errors.check("scope", TokenScope::parse(scope));
    let expires_at = errors.check("expires_in_days", parse_expiry(expires_in_days, now));
    errors.into_result()?;
    let (Some(name), Some(scope), Some(expires_at)) = (name, scope, expires_at) else {
        return Err(AppError::field("name", "Fill in every field."));
    };
    let token = format!("{TOKEN_PREFIX}{}", auth::new_token());
    let mut tx = db.begin_write().await?;
    if store::api_tokens::name_taken(&mut tx, &name).await? {
        return Err(AppError::field(
            "name",
            format!("A token named {name:?} exists (or existed); give this one another name."),
        ));
    }
    let id = store::api_tokens::insert(
        &mut tx,
        store::api_tokens::NewTokenRow {
            name: &name,
            token_hash: &auth::token_hash(&token),
            scope,
            created_by: &admin.email,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    record(
        &mut tx,
        admin,
        now,
        Change {
            action: "token.create",
            customer_id: None,
            subject: &name,
            before: None,
            after: Some(json!({
                "name": name,
                "scope": scope.as_str(),
                "expires_at": expires_at.map(crate::model::rfc3339),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %admin.email, token = %name, token_id = id, "API token created");
    Ok(NewToken { name, token })
}

/// Revokes a token at once.
pub async fn revoke(db: &Db, admin: &StaffView, id: i64) -> Result<String, AppError> {
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    let token = store::api_tokens::find(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("That token"))?;
    if !store::api_tokens::revoke(&mut tx, id, now).await? {
        return Ok(token.name);
    }
    record(
        &mut tx,
        admin,
        now,
        Change {
            action: "token.revoke",
            customer_id: None,
            subject: &token.name,
            before: Some(json!({ "status": "live" })),
            after: Some(json!({ "status": "revoked" })),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %admin.email, token = %token.name, "API token revoked");
    Ok(token.name)
}

/// The audit name of a token's actions.
pub fn actor_name(token_name: &str) -> String {
    format!("token:{token_name}")
}

/// The caller a bearer token stands for: refused (401, saying why) when unknown, revoked or
/// expired. Records the use.
pub async fn authenticate(db: &Db, bearer: &str) -> Result<(StaffView, TokenScope), AppError> {
    let now = now_millis();
    let mut conn = db.pool().acquire().await?;
    let Some(token) = store::api_tokens::find_by_hash(&mut conn, &auth::token_hash(bearer)).await?
    else {
        tracing::info!("refused: unknown API token");
        return Err(AppError::Unauthenticated);
    };
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        tracing::info!(token = %token.name, revoked = token.revoked_at.is_some(), "refused: API token no longer valid");
        return Err(AppError::Unauthenticated);
    }
    store::api_tokens::touch(&mut conn, token.id, now).await?;
    tracing::info!(token = %token.name, "API token used");
    Ok((
        StaffView {
            // No staff member has id 0: the audit records a token's actions under its name alone.
            id: 0,
            email: actor_name(&token.name),
            display_name: token.name,
            role: match token.scope {
                TokenScope::Read => Role::Reader,
                TokenScope::BilledWrite => Role::Finance,
            },
        },
        token.scope,
    ))
}
