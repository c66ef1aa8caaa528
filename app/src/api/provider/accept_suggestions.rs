use crate::error::AppError;
use leptos::prelude::*;

/// Links each selected tenant that is unlinked and has one clear suggested customer to that
/// customer (all in one transaction); the others are left as they are. Answers with the number
/// linked: running it again links none.
#[server(endpoint = "accept_suggestions")]
pub async fn accept_suggestions(
    #[server(default)] items: Vec<String>,
    #[server(default)] all_q: Option<String>,
    #[server(default)] all_n: Option<usize>,
) -> Result<usize, AppError> {
    use crate::{
        model::{count_of, Permission},
        ssr::{auth, service, service::provider::Actor, state},
    };
    let staff = auth::authorize(Permission::LinkTenants)?;
    let state = state()?;
    let wakeup = state.partner_center.as_ref().map(|_| &*state.sync_wakeup);
    let outcome = service::provider::accept_suggestions(
        &state.db,
        Actor::Staff(&staff),
        &super::selection(items, all_q, all_n),
        wakeup,
        false,
    )
    .await?;
    let mut customers: Vec<i64> = outcome.linked.iter().map(|(_, c)| *c).collect();
    customers.sort_unstable();
    customers.dedup();
    let left = if outcome.left == 0 {
        String::new()
    } else {
        format!(
            " {} left as {} (no clear suggestion, or linked already).",
            count_of(outcome.left, "tenant", "tenants"),
            if outcome.left == 1 {
                "it was"
            } else {
                "they were"
            }
        )
    };
    crate::ssr::status::say(&format!(
        "Accepted suggestions: linked {} to {}.{left}{}",
        count_of(outcome.linked.len(), "tenant", "tenants"),
        count_of(customers.len(), "customer", "customers"),
        super::sync_note(outcome.sync_queued, customers.len())
    ));
    leptos_axum::redirect("/provider");
    Ok(outcome.linked.len())
}
