//! A customer's settings page: the header and section navigation, and one module per section.

mod account_managers;
mod activity;
mod billing;
mod configuration;
mod consumption;
mod delete;
mod reconciliation;
mod reports;
mod tags;
mod tenants;

pub use account_managers::AccountManagersSectionPage;
pub use activity::ActivitySectionPage;
pub use billing::BillingSectionPage;
pub use configuration::ConfigurationSectionPage;
pub use consumption::ConsumptionPage;
pub(crate) use consumption::{usage_bar, usage_figures};
pub use delete::DeleteSectionPage;
pub use reconciliation::ReconciliationPage;
pub use reports::ReportsLayout;
pub use tags::TagsSectionPage;
pub use tenants::{SyncBadgeView, TenantsSectionPage};

use crate::components::{data, loaded, Data};
use crate::{
    api::customers::get_customer,
    components::{ErrorMessage, FocusPoint, NavLink},
    error::AppError,
    model::CustomerHeader,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Outlet,
    hooks::{use_location, use_params_map},
};

/// The settings sections that exist, in menu order: (path segment, label, what it is for).
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "configuration",
        "Customer Configuration",
        "Every setting with its help text: see the value in force, override a global default, revert, and see its history.",
    ),
    (
        "tenants",
        "Provider Tenants",
        "The customer's Microsoft tenants (name and tenant ID), their last sync, and Reload Reconciliation.",
    ),
    (
        "billing",
        "Link to Billing Profile",
        "The customer's id in the payment gateway, with what the gateway says about it: link, verify, unlink.",
    ),
    (
        "reports",
        "Reports",
        "License Reconciliation (Partner Center beside the billed record, every difference typed) and License Consumption (licences purchased, assigned and unassigned, as CSV too).",
    ),
    (
        "tags",
        "Define Tags",
        "Name/value pairs on the customer. Help Desk staff see only customers whose tags match theirs.",
    ),
    (
        "account-managers",
        "Account Manager Details",
        "The partner staff responsible for this customer, with their contact details.",
    ),
    (
        "activity",
        "Activity",
        "Every change made to this customer in the portal: who, when, and each field before and after.",
    ),
    (
        "delete",
        "Delete Customer",
        "Remove the customer from the portal (not from Partner Center); a System Admin can restore it within the retention period.",
    ),
];

/// The customer id in the URL (0, which no customer has, when it is not a number).
pub(crate) fn customer_id_param() -> Memo<i64> {
    let params = use_params_map();
    Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse().ok())
            .unwrap_or(0)
    })
}

/// `/customers/{id}/…`: the customer's name and domain, and the section navigation.
///
/// The section (the `Outlet`) is outside the header's `Transition`: on the server a `Suspense`
/// walks its children again each time their data may have arrived, and a section rendered
/// inside would make its resources (and ask the database) once per walk.
#[component]
pub fn CustomerLayout() -> impl IntoView {
    let id = customer_id_param();
    let customer = data(move || id.get(), get_customer);
    provide_context(CustomerHeaderData(customer));
    let location = use_location();
    // "Customer Configuration · Contoso": the section the address names, then the customer.
    let section_label = move || {
        let path = location.pathname.get();
        SECTIONS
            .iter()
            .find(|(slug, ..)| {
                path.ends_with(&format!("/{slug}")) || path.contains(&format!("/{slug}/"))
            })
            .map_or("Overview", |(_, label, _)| *label)
    };
    view! {
        <nav class="crumbs">
            <a href="/customers">"← Customers"</a>
        </nav>
        <Transition fallback=|| view! { <p class="muted">"Loading customer…"</p> }>
            {move || Suspend::new(async move {
                match loaded(customer).await {
                    Ok(c) => {
                        let name = c.name.clone();
                        view! {
                            // The title is text, made again when the section changes: the
                            // server reads titles after the page is rendered, when a reactive
                            // value they read may be gone (a panic that cut the page short).
                            {move || {
                                view! { <Title text=format!("{} · {name}", section_label()) /> }
                            }}
                            <header class="customer-header">
                                <h1>{c.name}</h1>
                                <p class="domain">{c.primary_domain}</p>
                            </header>
                            <nav class="sections" aria-label="Customer settings">
                                <NavLink href=format!("/customers/{}", c.id) exact=true>
                                    "Overview"
                                </NavLink>
                                {SECTIONS
                                    .iter()
                                    .filter(|(slug, ..)| shown(slug, c.billing_gateway.is_some()))
                                    .map(|(slug, label, _)| {
                                        view! {
                                            <NavLink href=format!("/customers/{}/{slug}", c.id)>{*label}</NavLink>
                                        }
                                    })
                                    .collect_view()}
                            </nav>
                            <FocusPoint />
                        }
                            .into_any()
                    }
                    // The section says why (each section's data is refused the same way).
                    Err(_) => view! { <Title text="Customer not shown" /> }.into_any(),
                }
            })}
        </Transition>
        <section class="section-body">
            <Outlet />
        </section>
    }
}

/// The customer's header data, given to the sections by [`CustomerLayout`].
#[derive(Clone, Copy)]
struct CustomerHeaderData(Data<Result<CustomerHeader, AppError>>);

/// Whether the section `slug` exists: Link to Billing Profile only with a payment gateway.
fn shown(slug: &str, gateway: bool) -> bool {
    slug != "billing" || gateway
}

/// `/customers/{id}`: the settings sections as a menu (Link to Billing Profile only with a
/// payment gateway, as the header says).
#[component]
pub fn CustomerOverview() -> impl IntoView {
    let header = use_context::<CustomerHeaderData>();
    view! {
        <h2 class="visually-hidden">"Settings"</h2>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Some(CustomerHeaderData(customer)) = header else {
                    return ().into_any();
                };
                match customer.await {
                    Ok(c) => {
                        let gateway = c.billing_gateway.is_some();
                        view! {
                            <ul class="section-cards">
                                {SECTIONS
                                    .iter()
                                    .filter(|(slug, ..)| shown(slug, gateway))
                                    .map(|(slug, label, description)| {
                                        view! {
                                            <li>
                                                <a href=format!("/customers/{}/{slug}", c.id)>
                                                    <strong>{*label}</strong>
                                                    <span>{*description}</span>
                                                </a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
