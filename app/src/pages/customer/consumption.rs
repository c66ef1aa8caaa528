//! `/customers/{id}/reports/consumption`: License Consumption. Per product (subscribed SKU) of
//! each tenant: purchased, active, warning, suspended, assigned, unassigned and utilisation, a
//! bar drawn on the server as SVG (so it shows without JavaScript and on a phone), flags for
//! over-assigned and under-used products (the customer's own threshold), and the subscriptions
//! behind each with a renewal decision date for annual and three-year commitments ending soon.

use super::customer_id_param;
use crate::components::data;
use crate::{
    api::reports::get_consumption,
    components::ErrorMessage,
    model::{format_time, thousands, ConsumptionReport, ProductUsage},
};
use leptos::prelude::*;

#[component]
pub fn ConsumptionPage() -> impl IntoView {
    let id = customer_id_param();
    let report = data(move || id.get(), get_consumption);
    view! {
        <h2 id="page-heading" tabindex="-1">
            "License Consumption"
        </h2>
        <Transition fallback=|| view! { <p class="muted">"Loading the consumption…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <Consumption report /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Consumption(report: ConsumptionReport) -> impl IntoView {
    let csv = format!(
        "/api/customers/{}/reports/consumption.csv",
        report.customer_id
    );
    let snapshot = match report.snapshot_at {
        Some(at) if report.stale => view! {
            <p class="warning" role="note">
                {format!("Licence counts as synced {}: more than a day ago.", format_time(at))}
            </p>
        }
        .into_any(),
        Some(at) => view! { <p class="muted">{format!("Licence counts as synced {}.", format_time(at))}</p> }.into_any(),
        None => view! {
            <p class="warning" role="note">"Not every tenant of this customer has been synced yet."</p>
        }
        .into_any(),
    };
    let consent = (!report.tenants_needing_consent.is_empty()).then(|| {
        view! {
            <p class="warning" role="note">
                {format!(
                    "Licence counts need delegated consent for {}: Partner Center gives them to App+User tokens only, so they are not shown (not zero).",
                    report.tenants_needing_consent.join(", ")
                )}
            </p>
        }
    });
    let rules = format!(
        "Under-used below {} %; renewal decisions {} days ahead (this customer's settings).",
        report.under_used_percent, report.renewal_reminder_days
    );
    let products = if report.products.is_empty() {
        view! { <p class="empty">"No licence counts for this customer yet."</p> }.into_any()
    } else {
        view! {
            <ul class="usage-list">
                {report.products.into_iter().map(|p| view! { <Product product=p /> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        {snapshot}
        {consent}
        <div class="directory-head">
            <p class="muted">{rules}</p>
            <a class="button" href=csv.clone() download="" rel="external">"Download CSV"</a>
            <a class="button" href=format!("{csv}?excel=1") download="" rel="external">"CSV for Excel"</a>
        </div>
        {products}
    }
}

/// The bar: assigned within what was purchased, unassigned, and assigned beyond it, each a
/// share of the larger of purchased and assigned.
pub(crate) fn usage_bar(p: &ProductUsage) -> impl IntoView {
    let within = p.assigned.clamp(0, p.purchased.max(0));
    let free = p.unassigned.max(0);
    let over = (p.assigned - p.purchased).max(0);
    let whole = (within + free + over).max(1) as f64;
    let width = |n: i64| n as f64 * 100.0 / whole;
    let (w_in, w_free, w_over) = (width(within), width(free), width(over));
    let label = format!(
        "{}: {} assigned of {} purchased{}",
        p.product,
        thousands(p.assigned),
        thousands(p.purchased),
        if over > 0 {
            format!(", {} over-assigned", thousands(over))
        } else {
            format!(", {} unassigned", thousands(free))
        }
    );
    let title = label.clone();
    view! {
        <svg class="usage-bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label=label>
            <title>{title}</title>
            <rect class="assigned" x="0" y="0" width=format!("{w_in:.2}") height="8" />
            <rect class="unassigned" x=format!("{w_in:.2}") y="0" width=format!("{w_free:.2}") height="8" />
            <rect class="over" x=format!("{:.2}", w_in + w_free) y="0" width=format!("{w_over:.2}") height="8" />
        </svg>
    }
}

/// A product's figures: purchased to unassigned, and the utilisation.
pub(crate) fn usage_figures(p: &ProductUsage) -> impl IntoView {
    let utilisation = p
        .utilisation_percent
        .map_or_else(|| "—".to_owned(), |u| format!("{u} %"));
    let figures = [
        ("Purchased", p.purchased),
        ("Active", p.active),
        ("Warning", p.warning),
        ("Suspended", p.suspended),
        ("Assigned", p.assigned),
        ("Unassigned", p.unassigned),
    ];
    view! {
        <dl class="usage-figures">
            {figures
                .into_iter()
                .map(|(label, n)| view! { <div><dt>{label}</dt><dd>{thousands(n)}</dd></div> })
                .collect_view()}
            <div><dt>"Utilisation"</dt><dd>{utilisation}</dd></div>
        </dl>
    }
}

#[component]
fn Product(product: ProductUsage) -> impl IntoView {
    let p = product;
    let flags = view! {
        {p.over_assigned.then(|| view! { <span class="badge sync-failed">"Over-assigned"</span> })}
        {p.under_used.then(|| view! { <span class="badge sync-stale">"Under-used"</span> })}
    };
    let subscriptions = (!p.subscriptions.is_empty()).then(|| {
        view! {
            <ul class="usage-subscriptions">
                {p.subscriptions
                    .iter()
                    .map(|s| {
                        let renewal = s.renewal_decision.clone().map(|d| {
                            view! { <span class="badge sync-stale">{format!("Renewal decision by {d}")}</span> }
                        });
                        view! {
                            <li>
                                {format!(
                                    "{}: {} licences, term {}, billed {}{}",
                                    s.offer_name,
                                    thousands(s.quantity),
                                    s.term,
                                    s.billing_cycle,
                                    if s.commitment_end.is_empty() {
                                        String::new()
                                    } else {
                                        format!(", commitment ends {}", s.commitment_end.get(..10).unwrap_or(&s.commitment_end))
                                    }
                                )}
                                " "
                                {renewal}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    });
    view! {
        <li class="card usage">
            <h3>{p.product.clone()} " " {flags}</h3>
            <p class="muted small-text">{format!("{} · tenant {}", p.sku_part_number, p.tenant_id)}</p>
            {usage_bar(&p)}
            {usage_figures(&p)}
            {subscriptions}
        </li>
    }
}
