//! API tokens (System Admin).

use crate::{
    error::AppError,
    model::{ApiTokenView, NewToken},
};
use leptos::prelude::*;

/// The tokens page: every token; and, once, a token just created by a form post without
/// JavaScript (carried to the page by a short-lived HttpOnly cookie, read here and cleared).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiTokensPage {
    pub tokens: Vec<ApiTokenView>,
    pub just_created: Option<NewToken>,
}

/// The API tokens page.
pub const API_TOKENS_PAGE: &str = "/admin/api-tokens";

/// The cookie that carries a new token to its page when the form posted without JavaScript.
pub const NEW_TOKEN_COOKIE: &str = "portal_new_token";

#[server(endpoint = "get_api_tokens")]
pub async fn get_api_tokens() -> Result<ApiTokensPage, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    auth::authorize(Permission::ManageApiTokens)?;
    let tokens = service::api_tokens::list(&state()?.db).await?;
    let just_created = crate::ssr::one_time_cookie::take(NEW_TOKEN_COOKIE, API_TOKENS_PAGE)
        .and_then(|value| serde_json::from_str::<NewToken>(&value).ok());
    Ok(ApiTokensPage {
        tokens,
        just_created,
    })
}

/// Creates a token: the answer is its only showing.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    scope: String,
    #[server(default)] expires_in_days: String,
) -> Result<NewToken, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let admin = auth::authorize(Permission::ManageApiTokens)?;
    let created =
        service::api_tokens::create(&state()?.db, &admin, &name, &scope, &expires_in_days).await?;
    // A form posted without JavaScript is answered with a redirect: the page shows the token.
    if crate::ssr::one_time_cookie::is_plain_form_post() {
        let value = serde_json::to_string(&created).map_err(|e| crate::ssr::internal_error(&e))?;
        crate::ssr::one_time_cookie::set(NEW_TOKEN_COOKIE, &value, API_TOKENS_PAGE);
    }
    Ok(created)
}

/// Revokes a token at once.
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(token_id: i64) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state, status},
    };
    let admin = auth::authorize(Permission::ManageApiTokens)?;
    let name = service::api_tokens::revoke(&state()?.db, &admin, token_id).await?;
    status::say(&format!("Revoked {name}; it no longer works."));
    Ok(())
}
