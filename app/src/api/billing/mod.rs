//! Link to Billing Profile (only when a payment gateway is configured; 404 otherwise).

use crate::{
    error::AppError,
    model::{BillingProfileView, BillingSection},
};
use leptos::prelude::*;

/// The section: the gateway and the customer's billing link.
#[server(endpoint = "get_billing_section")]
pub async fn get_billing_section(customer_id: i64) -> Result<BillingSection, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    let state = state()?;
    service::billing::section(&state.db, state.gateway.as_ref(), &staff, customer_id).await
}

/// The first step of a link: the id's form checked and the gateway's answer, nothing saved.
#[server(endpoint = "check_billing_profile")]
pub async fn check_billing_profile(
    customer_id: i64,
    billing_id: String,
) -> Result<BillingProfileView, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    let state = state()?;
    service::billing::check(
        &state.db,
        state.gateway.as_ref(),
        &staff,
        customer_id,
        &billing_id,
    )
    .await
}

/// Links the customer to the billing id, as confirmed.
#[server(endpoint = "link_billing_profile")]
pub async fn link_billing_profile(customer_id: i64, billing_id: String) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    let state = state()?;
    let profile = service::billing::link(
        &state.db,
        state.gateway.as_ref(),
        &staff,
        customer_id,
        &billing_id,
    )
    .await?;
    crate::ssr::status::say(&format!(
        "Linked to {} ({}).",
        profile.id,
        if profile.name.is_empty() {
            profile.email
        } else {
            profile.name
        }
    ));
    leptos_axum::redirect(&format!("/customers/{customer_id}/billing"));
    Ok(())
}

/// Asks the gateway again about the linked id.
#[server(endpoint = "verify_billing_profile")]
pub async fn verify_billing_profile(customer_id: i64) -> Result<(), AppError> {
    use crate::{
        model::{format_time, Permission},
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    let state = state()?;
    let link =
        service::billing::verify(&state.db, state.gateway.as_ref(), &staff, customer_id).await?;
    crate::ssr::status::say(&match link.gone_at {
        Some(at) => format!(
            "{} is no longer in the payment gateway (noticed {}).",
            link.profile.id,
            format_time(at)
        ),
        None => format!("{} is still there: {}.", link.profile.id, link.profile.name),
    });
    leptos_axum::redirect(&format!("/customers/{customer_id}/billing"));
    Ok(())
}

/// Ends the customer's billing link.
#[server(endpoint = "unlink_billing_profile")]
pub async fn unlink_billing_profile(customer_id: i64) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ManageBilled)?;
    let state = state()?;
    let id =
        service::billing::unlink(&state.db, state.gateway.as_ref(), &staff, customer_id).await?;
    crate::ssr::status::say(&format!("Unlinked {id}."));
    leptos_axum::redirect(&format!("/customers/{customer_id}/billing"));
    Ok(())
}
