use crate::error::AppError;
use leptos::prelude::*;

/// Lists every customer of the partner from Partner Center and updates the directory: new
/// tenants added, renamed ones updated, tenants no longer listed marked gone (audited with the
/// counts). A failure keeps the last good directory.
#[server(endpoint = "refresh_provider_directory")]
pub async fn refresh_provider_directory() -> Result<i64, AppError> {
    use crate::{
        model::{count_of, Permission},
        ssr::{auth, service, service::provider::Actor, state},
    };
    let staff = auth::authorize(Permission::LinkTenants)?;
    let state = state()?;
    let client = state
        .partner_center
        .clone()
        .ok_or_else(service::sync::not_configured)?;
    let counts = service::provider::refresh(&state.db, &client, Actor::Staff(&staff)).await?;
    crate::ssr::status::say(&format!(
        "Provider directory refreshed: {} listed, {} new, {} gone, {} renamed.",
        count_of(counts.listed as usize, "tenant", "tenants"),
        counts.added,
        counts.gone,
        counts.renamed
    ));
    leptos_axum::redirect("/provider");
    Ok(counts.listed)
}
