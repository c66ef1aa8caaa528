use crate::error::AppError;
use leptos::prelude::*;

/// Links tenants of the provider directory, all or none: `to` is `existing` (all to
/// `customer_id`), `new_each` (one new customer per tenant, named from Partner Center) or `new`
/// (one tenant to a new customer named `name` with primary domain `domain`). The tenants are
/// those ticked (`items`), or with `all_q` every unlinked tenant matching it (refused when their
/// number is no longer `all_n`, the number shown). Answers with the
/// number of tenants linked; a reload of each customer linked is queued.
#[server(endpoint = "link_tenants")]
pub async fn link_tenants(
    #[server(default)] items: Vec<String>,
    #[server(default)] all_q: Option<String>,
    #[server(default)] all_n: Option<usize>,
    to: String,
    #[server(default)] customer_id: Option<i64>,
    #[server(default)] name: String,
    #[server(default)] domain: String,
) -> Result<usize, AppError> {
    use crate::{
        model::{count_of, Permission},
        ssr::{
            auth, service,
            service::provider::{Actor, LinkTarget},
            state,
        },
    };
    let staff = auth::authorize(Permission::LinkTenants)?;
    let target = match (to.as_str(), customer_id) {
        ("existing", Some(id)) => LinkTarget::Existing(id),
        ("existing", None) => {
            return Err(AppError::field(
                "customer_id",
                "Choose the customer to link the tenants to.",
            ))
        }
        ("new_each", _) => LinkTarget::NewEach,
        ("new", _) => LinkTarget::New { name, domain },
        _ => {
            return Err(AppError::BadRequest {
                message: format!("`to` is {to:?}: expected existing, new_each or new."),
            })
        }
    };
    let state = state()?;
    let wakeup = state.partner_center.as_ref().map(|_| &*state.sync_wakeup);
    let outcome = service::provider::link(
        &state.db,
        Actor::Staff(&staff),
        &super::selection(items, all_q, all_n),
        &target,
        wakeup,
    )
    .await?;
    let tenants = count_of(outcome.linked.len(), "tenant", "tenants");
    let customers = match &target {
        LinkTarget::Existing(_) => 1,
        _ => outcome.created.len(),
    };
    let sync = super::sync_note(outcome.sync_queued, customers);
    let message = match (&target, &outcome.customer) {
        (LinkTarget::Existing(_), Some(customer)) => {
            format!("Linked {tenants} to {}.{sync}", customer.name)
        }
        (_, Some(customer)) => format!(
            "Linked {tenants} to a new customer, {}.{sync}",
            customer.name
        ),
        _ => format!(
            "Linked {tenants} as {}.{sync}",
            count_of(outcome.created.len(), "new customer", "new customers")
        ),
    };
    crate::ssr::status::say(&message);
    leptos_axum::redirect(&match &outcome.customer {
        Some(customer) => format!("/customers/{}/tenants", customer.id),
        None => "/provider".to_owned(),
    });
    Ok(outcome.linked.len())
}
