use crate::error::AppError;
use leptos::prelude::*;

/// Adopts Partner Center subscriptions into the billed record, equal to Partner Center (a
/// baseline to edit): the one named by `subscription_id`, or without it every unbilled one.
/// Answers how many were adopted.
#[server(endpoint = "adopt_billed")]
pub async fn adopt_billed(
    customer_id: i64,
    #[server(default)] subscription_id: Option<String>,
) -> Result<usize, AppError> {
    use crate::{
        model::{count_of, Permission},
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    let db = &state()?.db;
    let subscription = subscription_id.filter(|s| !s.trim().is_empty());
    let adopted = service::reports::adopt(db, &staff, customer_id, subscription.as_deref()).await?;
    crate::ssr::status::say(&format!(
        "Adopted {} from Partner Center into the billed record.",
        count_of(adopted, "subscription", "subscriptions")
    ));
    leptos_axum::redirect(&format!("/customers/{customer_id}/reports/reconciliation"));
    Ok(adopted)
}
