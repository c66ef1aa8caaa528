//! `/customers/{id}/billing`: Link to Billing Profile (only when a payment gateway is configured).
//! The linked billing customer with what the gateway said about it; Verify now; Unlink; and a
//! link in two steps: `?check=ID` looks the id up (its form said next to the field) and shows the
//! gateway's name and e-mail, then Link saves it. Everything works without JavaScript.

use super::customer_id_param;
use crate::components::data;
use crate::{
    api::billing::{
        check_billing_profile, get_billing_section, LinkBillingProfile, UnlinkBillingProfile,
        VerifyBillingProfile,
    },
    components::{
        action_error, after_success, refetch_after, ErrorMessage, FocusPoint, FormMessage,
        PAGE_HEADING,
    },
    error::AppError,
    model::{format_time, BillingProfileView, BillingSection, Permission},
};
use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

#[component]
pub fn BillingSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let query = use_query_map();
    let check = Memo::new(move |_| query.read().get("check").filter(|c| !c.trim().is_empty()));
    let link = ServerAction::<LinkBillingProfile>::new();
    let verify = ServerAction::<VerifyBillingProfile>::new();
    let unlink = ServerAction::<UnlinkBillingProfile>::new();
    let (linked, verified, unlinked) = (
        refetch_after(link),
        refetch_after(verify),
        refetch_after(unlink),
    );
    let section = data(
        move || (id.get(), linked.get(), verified.get(), unlinked.get()),
        |(id, ..)| get_billing_section(id),
    );
    let looked_up = data(
        move || (id.get(), check.get()),
        |(id, check)| async move {
            match check {
                Some(billing_id) => Some(check_billing_profile(id, billing_id).await),
                None => None,
            }
        },
    );
    after_success(link, |_| Some(PAGE_HEADING.to_owned()));
    after_success(verify, |_| Some(PAGE_HEADING.to_owned()));
    after_success(unlink, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <h2 id="page-heading" tabindex="-1">"Link to Billing Profile"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let asked = check.get();
                Suspend::new(async move {
                    let section = match section.await {
                        Ok(section) => section,
                        Err(error) => return view! { <ErrorMessage error /> }.into_any(),
                    };
                    let looked_up = looked_up.await;
                    view! {
                        <Linked section=section.clone() verify unlink />
                        <LinkForm section asked looked_up link />
                        <FocusPoint />
                    }
                    .into_any()
                })
            }}
        </Transition>
    }
}

fn profile_line(p: &BillingProfileView) -> String {
    let name = if p.name.is_empty() {
        "(no name)"
    } else {
        &p.name
    };
    let email = if p.email.is_empty() {
        String::new()
    } else {
        format!(", {}", p.email)
    };
    format!(
        "{} — {name}{email}{}",
        p.id,
        if p.test_mode { " (test mode)" } else { "" }
    )
}

#[component]
fn Linked(
    section: BillingSection,
    verify: ServerAction<VerifyBillingProfile>,
    unlink: ServerAction<UnlinkBillingProfile>,
) -> impl IntoView {
    let mode = section.gateway_test_mode.then(|| {
        view! {
            <p class="warning" data-testid="test-mode">
                {format!(
                    "The portal uses {}'s test mode: only test customers can be linked.",
                    section.gateway
                )}
            </p>
        }
    });
    let Some(link) = section.link else {
        return view! {
            {mode}
            <p class="empty" data-testid="billing-link">
                {format!("No {} customer is linked to this customer.", section.gateway)}
            </p>
        }
        .into_any();
    };
    let gone = link.gone_at.map(|at| {
        view! {
            <p class="warning" role="alert" data-testid="billing-gone">
                {format!(
                    "{} no longer has this customer (deleted or missing, noticed {}). Link another or unlink it.",
                    section.gateway,
                    format_time(at)
                )}
            </p>
        }
    });
    let actions = section.can_edit.then(|| {
        let (verify_error, unlink_error) = (action_error(verify), action_error(unlink));
        view! {
            <div class="section-actions">
                <ActionForm action=verify attr:class="inline-form">
                    <input type="hidden" name="customer_id" value=section.customer_id />
                    <FormMessage error=verify_error />
                    <button type="submit" disabled=move || verify.pending().get()>"Verify now"</button>
                </ActionForm>
                <ActionForm action=unlink attr:class="inline-form">
                    <input type="hidden" name="customer_id" value=section.customer_id />
                    <FormMessage error=unlink_error />
                    <button type="submit" class="danger" disabled=move || unlink.pending().get()>
                        "Unlink"
                    </button>
                </ActionForm>
            </div>
        }
    });
    view! {
        {mode}
        <div class="card" data-testid="billing-link">
            <p>
                <strong>{format!("{} customer: ", section.gateway)}</strong>
                {profile_line(&link.profile)}
            </p>
            <p class="muted small-text">
                {format!(
                    "Linked by {} on {}; {} last asked {}.",
                    link.linked_by,
                    format_time(link.linked_at),
                    section.gateway,
                    format_time(link.checked_at)
                )}
            </p>
            {gone}
            {actions}
        </div>
    }
    .into_any()
}

#[component]
fn LinkForm(
    section: BillingSection,
    asked: Option<String>,
    looked_up: Option<Result<BillingProfileView, AppError>>,
    link: ServerAction<LinkBillingProfile>,
) -> impl IntoView {
    if !section.can_edit {
        return view! {
            <p class="read-only-note" data-testid="read-only">
                {format!(
                    "You can see the billing link; it is kept by {}.",
                    Permission::ManageBilled.granted_to()
                )}
            </p>
        }
        .into_any();
    }
    let base = format!("/customers/{}/billing", section.customer_id);
    let field_error = looked_up
        .as_ref()
        .and_then(|r| r.as_ref().err())
        .and_then(|e| e.field_message("billing_id").map(str::to_owned));
    let other_error = looked_up
        .as_ref()
        .and_then(|r| r.as_ref().err())
        .filter(|e| e.field_message("billing_id").is_none())
        .cloned();
    let found = looked_up.and_then(Result::ok);
    let heading = if section.link.is_some() {
        "Link another billing customer"
    } else {
        "Link a billing customer"
    };
    let (gateway, cancel) = (section.gateway.clone(), base.clone());
    let confirm = found.map(move |profile| {
        let error = action_error(link);
        view! {
            <ActionForm action=link attr:class="card stack-form" attr:data-testid="billing-confirm">
                <input type="hidden" name="customer_id" value=section.customer_id />
                <input type="hidden" name="billing_id" value=profile.id.clone() />
                <p>
                    {format!("{gateway} says: ")}
                    <strong>{profile_line(&profile)}</strong>
                </p>
                <FormMessage error />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || link.pending().get()>
                        {format!("Link {}", profile.id)}
                    </button>
                    <a class="button" href=cancel>"Cancel"</a>
                </div>
            </ActionForm>
        }
    });
    view! {
        <h3>{heading}</h3>
        <Form method="GET" action=base.clone() attr:class="card stack-form">
            <div class="field">
                <label for="billing-id">{format!("{} customer id", section.gateway)}</label>
                <input
                    id="billing-id"
                    name="check"
                    value=asked.unwrap_or_default()
                    autocomplete="off"
                    required
                    aria-invalid=field_error.is_some().then_some("true")
                    aria-describedby="billing-id-error"
                />
                {field_error.map(|m| view! { <p class="field-error" id="billing-id-error" role="alert">{m}</p> })}
            </div>
            {other_error.map(|error| view! { <ErrorMessage error /> })}
            <div class="form-actions">
                <button type="submit">"Look up"</button>
            </div>
        </Form>
        {confirm}
    }
    .into_any()
}
