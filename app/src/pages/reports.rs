//! The partner-wide reports. `/reports/reconciliation`: the License Reconciliation of every
//! customer the staff member may see, one line per customer with differences, the most money at
//! stake first; `/reports/consumption`: each product's licences summed over those customers.
//! Filters (tag, kind of difference, acknowledged included) and the page are in the address, so
//! they work without JavaScript and can be shared.

use crate::components::data;
use crate::{
    api::reports::{get_partner_consumption, get_partner_reconciliation},
    components::{ErrorMessage, FocusPoint, NavLink},
    error::AppError,
    model::{
        count_of, format_time, thousands, CustomerDifferences, DifferenceKind, PartnerConsumption,
        PartnerReconciliation, ProductUsage,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_query_map, location::Url};

/// The filters as the address has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Filters {
    tag: String,
    kind: String,
    acknowledged: bool,
}

impl Filters {
    /// The CSV download with these filters (`excel`: with a byte order mark).
    fn csv_href(&self, excel: bool) -> String {
        let query = self.href(1);
        let query = query.split_once('?').map_or("", |(_, q)| q);
        let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        if excel {
            pairs.push("excel=1");
        }
        if pairs.is_empty() {
            crate::api::PARTNER_RECONCILIATION_CSV_ROUTE.to_owned()
        } else {
            format!(
                "{}?{}",
                crate::api::PARTNER_RECONCILIATION_CSV_ROUTE,
                pairs.join("&")
            )
        }
    }

    /// The page's address with these filters, on page `page` (1: none).
    fn href(&self, page: i64) -> String {
        let mut pairs = Vec::new();
        if !self.tag.is_empty() {
            pairs.push(format!("tag={}", Url::escape(&self.tag)));
        }
        if !self.kind.is_empty() {
            pairs.push(format!("kind={}", Url::escape(&self.kind)));
        }
        if self.acknowledged {
            pairs.push("acknowledged=1".to_owned());
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        if pairs.is_empty() {
            "/reports/reconciliation".to_owned()
        } else {
            format!("/reports/reconciliation?{}", pairs.join("&"))
        }
    }
}

#[component]
pub fn PartnerReconciliationPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        Filters {
            tag: q.get("tag").unwrap_or_default(),
            kind: q.get("kind").unwrap_or_default(),
            acknowledged: q.get("acknowledged").is_some(),
        }
    });
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
    });
    let report = data(
        move || (filters.get(), page.get()),
        |(f, page)| get_partner_reconciliation(f.tag, f.kind, f.acknowledged, page),
    );
    view! {
        <Title text="License Reconciliation, all customers" />
        <h1 tabindex="-1">"License Reconciliation"</h1>
        <PartnerReportTabs />
        <p class="muted intro">
            "Every customer whose Partner Center subscriptions, licence counts and billed record disagree, the most money at stake first (where billed rows have a price)."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading the reconciliation…"</p> }>
            {move || {
                let filters = filters.get();
                Suspend::new(async move {
                    match report.await {
                        Ok(report) => view! {
                            {report.can_import_billed.then(|| view! {
                                <p class="section-actions">
                                    <a class="button" href="/reports/billed-import">"Import the billed record from a file…"</a>
                                </p>
                            })}
                            <PartnerFilters filters=filters.clone() error=None />
                            <PartnerTable report filters />
                            <FocusPoint />
                        }
                        .into_any(),
                        // A filter that cannot be read is said next to its field.
                        Err(error) if error.field_message("tag").is_some()
                            || error.field_message("kind").is_some() => view! {
                            <PartnerFilters filters error=Some(error) />
                        }
                        .into_any(),
                        Err(error) => view! {
                            <PartnerFilters filters error=None />
                            <ErrorMessage error />
                        }
                        .into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn PartnerFilters(filters: Filters, error: Option<AppError>) -> impl IntoView {
    let message = |field: &str| {
        error
            .as_ref()
            .and_then(|e| e.field_message(field))
            .map(str::to_owned)
    };
    let (tag_error, kind_error) = (message("tag"), message("kind"));
    view! {
        <leptos_router::components::Form method="GET" action="/reports/reconciliation" attr:class="filters card">
            <div class="field">
                <label for="filter-tag">"Customer tag"</label>
                <input
                    id="filter-tag"
                    name="tag"
                    value=filters.tag.clone()
                    placeholder="Name=Value, e.g. Region=North"
                    aria-invalid=tag_error.is_some().then_some("true")
                    aria-describedby=tag_error.is_some().then_some("filter-tag-error")
                />
                {tag_error.map(|m| view! { <p class="field-error" id="filter-tag-error" role="alert">{m}</p> })}
            </div>
            <div class="field">
                <label for="filter-kind">"Kind of difference"</label>
                <select
                    id="filter-kind"
                    name="kind"
                    aria-invalid=kind_error.is_some().then_some("true")
                    aria-describedby=kind_error.is_some().then_some("filter-kind-error")
                >
                    <option value="" selected=filters.kind.is_empty()>"Any kind"</option>
                    {DifferenceKind::ALL
                        .iter()
                        .map(|k| {
                            let selected = k.as_str() == filters.kind;
                            view! { <option value=k.as_str() selected=selected>{k.label()}</option> }
                        })
                        .collect_view()}
                </select>
                {kind_error.map(|m| view! { <p class="field-error" id="filter-kind-error" role="alert">{m}</p> })}
            </div>
            <label class="check-line">
                <input type="checkbox" name="acknowledged" value="1" checked=filters.acknowledged prop:checked=filters.acknowledged />
                "Include acknowledged differences"
            </label>
            <div class="form-actions">
                <button type="submit" class="primary">"Filter"</button>
                <a class="button" href="/reports/reconciliation">"Clear"</a>
            </div>
        </leptos_router::components::Form>
    }
}

#[component]
fn PartnerTable(report: PartnerReconciliation, filters: Filters) -> impl IntoView {
    let summary = format!(
        "{} of {} customers with a billed record or a Partner Center subscription {} {}.",
        thousands(report.customers_listed),
        thousands(report.customers),
        if report.customers_listed == 1 {
            "has"
        } else {
            "have"
        },
        match report.kind {
            Some(kind) => format!("a difference “{}”", kind.label()),
            None => "differences".to_owned(),
        }
    );
    let totals = (!report.totals.is_empty()).then(|| {
        view! {
            <ul class="kind-totals" aria-label="Differences by kind, over all these customers">
                {report
                    .totals
                    .iter()
                    .map(|(kind, n)| {
                        let href = Filters { kind: kind.as_str().to_owned(), ..filters.clone() }.href(1);
                        let current = report.kind == Some(*kind);
                        view! {
                            <li>
                                <a href=href aria-current=current.then_some("true") data-kind=kind.as_str()>
                                    {format!("{} {}", thousands(*n), kind.label())}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    });
    let rows = report
        .rows
        .into_iter()
        .map(|line| view! { <PartnerLine line /> })
        .collect_view();
    let previous = (report.page > 1).then(|| filters.href(report.page - 1));
    let next = (report.page < report.pages).then(|| filters.href(report.page + 1));
    let pager = (report.pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                {previous.map(|href| view! { <a href=href rel="prev">"« Previous page"</a> })}
                <span class="muted">{format!("Page {} of {}", report.page, report.pages)}</span>
                {next.map(|href| view! { <a href=href rel="next">"Next page »"</a> })}
            </nav>
        }
    });
    view! {
        <div class="directory-head">
            <p data-testid="partner-summary">{summary}</p>
            <a class="button" href=filters.csv_href(false) download="" rel="external">
                "Download CSV"
            </a>
            <a class="button" href=filters.csv_href(true) download="" rel="external">
                "CSV for Excel"
            </a>
        </div>
        {totals}
        <table class="customers partner-recon">
            <thead>
                <tr>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Differences"</th>
                    <th scope="col">"By kind"</th>
                    <th scope="col">"Money at stake"</th>
                    <th scope="col">"Partner Center as synced"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {pager}
    }
}

#[component]
fn PartnerLine(line: CustomerDifferences) -> impl IntoView {
    let money = if line.money_at_stake.is_empty() {
        view! { <span class="muted">"No price recorded"</span> }.into_any()
    } else {
        line.money_at_stake
            .iter()
            .map(|m| view! { <span class="money">{format!("{} {}", m.currency, m.amount)}</span> " " })
            .collect_view()
            .into_any()
    };
    let synced = match line.snapshot_at {
        Some(at) if line.stale => {
            view! { <span class="badge sync-stale">{format!("{} (stale)", format_time(at))}</span> }
                .into_any()
        }
        Some(at) => view! { <span>{format_time(at)}</span> }.into_any(),
        None => view! { <span class="muted">"Not fully synced"</span> }.into_any(),
    };
    view! {
        <tr data-customer=line.customer_id>
            <td class="name" data-label="Customer">
                <a href=format!("/customers/{}/reports/reconciliation", line.customer_id)>{line.customer_name}</a>
            </td>
            <td data-label="Differences"><strong>{thousands(line.differences)}</strong></td>
            <td data-label="By kind">
                <ul class="kind-counts">
                    {line
                        .counts
                        .into_iter()
                        .map(|(kind, n)| view! { <li data-kind=kind.as_str()>{format!("{} {}", thousands(n), kind.label())}</li> })
                        .collect_view()}
                </ul>
            </td>
            <td data-label="Money at stake">{money}</td>
            <td data-label="Synced">{synced}</td>
        </tr>
    }
}

/// `/reports/consumption`: License Consumption over every customer the staff member may see,
/// each product's licences summed, with a bar per product; the tag filter is in the address.
#[component]
pub fn PartnerConsumptionPage() -> impl IntoView {
    let query = use_query_map();
    let tag = Memo::new(move |_| query.read().get("tag").unwrap_or_default());
    let report = data(move || tag.get(), get_partner_consumption);
    view! {
        <Title text="License Consumption, all customers" />
        <h1 tabindex="-1">"License Consumption"</h1>
        <PartnerReportTabs />
        <p class="muted intro">
            "Licences purchased, assigned and unassigned per product, summed over every customer's tenants as last synced."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading the consumption…"</p> }>
            {move || {
                let tag = tag.get();
                Suspend::new(async move {
                    match report.await {
                        Ok(report) => view! {
                            <TagFilter action="/reports/consumption" tag=tag.clone() error=None />
                            <PartnerProducts report />
                            <FocusPoint />
                        }
                        .into_any(),
                        Err(error) if error.field_message("tag").is_some() => view! {
                            <TagFilter action="/reports/consumption" tag error=Some(error) />
                        }
                        .into_any(),
                        Err(error) => view! {
                            <TagFilter action="/reports/consumption" tag error=None />
                            <ErrorMessage error />
                        }
                        .into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// The two partner-wide reports.
#[component]
pub(crate) fn PartnerReportTabs() -> impl IntoView {
    view! {
        <nav class="sections report-tabs" aria-label="Reports">
            <NavLink href="/reports/reconciliation".to_owned()>"License Reconciliation"</NavLink>
            <NavLink href="/reports/consumption".to_owned()>"License Consumption"</NavLink>
        </nav>
    }
}

#[component]
fn TagFilter(action: &'static str, tag: String, error: Option<AppError>) -> impl IntoView {
    let message = error
        .as_ref()
        .and_then(|e| e.field_message("tag"))
        .map(str::to_owned);
    view! {
        <leptos_router::components::Form method="GET" action=action attr:class="filters card">
            <div class="field">
                <label for="filter-tag">"Customer tag"</label>
                <input
                    id="filter-tag"
                    name="tag"
                    value=tag
                    placeholder="Name=Value, e.g. Region=North"
                    aria-invalid=message.is_some().then_some("true")
                    aria-describedby=message.is_some().then_some("filter-tag-error")
                />
                {message.map(|m| view! { <p class="field-error" id="filter-tag-error" role="alert">{m}</p> })}
            </div>
            <div class="form-actions">
                <button type="submit" class="primary">"Filter"</button>
                <a class="button" href=action>"Clear"</a>
            </div>
        </leptos_router::components::Form>
    }
}

#[component]
fn PartnerProducts(report: PartnerConsumption) -> impl IntoView {
    let csv = if report.tag.is_empty() {
        "/api/reports/consumption.csv".to_owned()
    } else {
        format!(
            "/api/reports/consumption.csv?tag={}",
            Url::escape(&report.tag)
        )
    };
    let excel = format!("{csv}{}excel=1", if csv.contains('?') { "&" } else { "?" });
    let downloads = view! {
        <p class="section-actions">
            <a class="button" href=csv download>"Download every licence line (CSV)"</a>
            <a class="button" href=excel download>"CSV for Excel"</a>
        </p>
    };
    if report.products.is_empty() {
        return view! {
            {downloads}
            <p class="empty">"No licence counts yet: they come with each customer's sync (and need delegated consent)."</p>
        }
        .into_any();
    }
    let products = report
        .products
        .into_iter()
        .map(|p| {
            // The bar of the per-customer report, drawn for the totals.
            let usage = ProductUsage {
                tenant_id: String::new(),
                product: p.product.clone(),
                sku_part_number: String::new(),
                purchased: p.purchased,
                active: p.active,
                warning: p.warning,
                suspended: p.suspended,
                assigned: p.assigned,
                unassigned: p.unassigned,
                utilisation_percent: p.utilisation_percent,
                over_assigned: p.over_assigned_tenants > 0,
                under_used: false,
                subscriptions: Vec::new(),
            };
            let over = (p.over_assigned_tenants > 0).then(|| {
                view! {
                    <span class="badge sync-failed">
                        {format!("Over-assigned in {}", count_of(p.over_assigned_tenants as usize, "tenant", "tenants"))}
                    </span>
                }
            });
            view! {
                <li class="card usage" data-product=p.product.clone()>
                    <h2>{p.product.clone()} " " {over}</h2>
                    <p class="muted small-text">
                        {format!(
                            "{} · {}",
                            count_of(p.customers as usize, "customer", "customers"),
                            count_of(p.tenants as usize, "tenant", "tenants")
                        )}
                    </p>
                    {crate::pages::customer::usage_bar(&usage)}
                    {crate::pages::customer::usage_figures(&usage)}
                </li>
            }
        })
        .collect_view();
    view! {
        {downloads}
        <ul class="usage-list">{products}</ul>
    }
    .into_any()
}
