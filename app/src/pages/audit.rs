//! `/audit`: the audit log, newest first, 50 entries a page: who, when, what, and each changed
//! field before and after. Filters (customer id, staff member, action, days) and the page are in
//! the address, so they work without JavaScript and can be shared.

use crate::components::data;
use crate::{
    api::audit::get_audit_page,
    components::{ErrorMessage, FocusPoint},
    error::AppError,
    model::{format_time, AuditEntryView, AuditPage},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map, location::Url};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Filters {
    customer: String,
    staff: String,
    action: String,
    from: String,
    to: String,
}

impl Filters {
    fn href(&self, before: Option<i64>) -> String {
        let mut pairs = Vec::new();
        for (name, value) in [
            ("customer", &self.customer),
            ("staff", &self.staff),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                pairs.push(format!("{name}={}", Url::escape(value)));
            }
        }
        if let Some(before) = before {
            pairs.push(format!("before={before}"));
        }
        if pairs.is_empty() {
            "/audit".to_owned()
        } else {
            format!("/audit?{}", pairs.join("&"))
        }
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        let get = |name: &str| q.get(name).unwrap_or_default();
        Filters {
            customer: get("customer"),
            staff: get("staff"),
            action: get("action"),
            from: get("from"),
            to: get("to"),
        }
    });
    let before = Memo::new(move |_| query.read().get("before").and_then(|b| b.parse().ok()));
    let page = data(
        move || (filters.get(), before.get()),
        |(f, before)| get_audit_page(f.customer, f.staff, f.action, f.from, f.to, before),
    );
    view! {
        <Title text="Audit log" />
        <h1 tabindex="-1">"Audit log"</h1>
        <p class="muted intro">
            "Every change made in the portal, newest first: who made it, when, and each changed field before and after."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading the audit log…"</p> }>
            {move || {
                let filters = filters.get();
                let first = before.get().is_none();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <AuditFilters filters=filters.clone() error=None />
                            <Entries page filters first />
                            <FocusPoint />
                        }
                        .into_any(),
                        Err(error) if matches!(error, AppError::Validation { .. }) => view! {
                            <AuditFilters filters error=Some(error) />
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn AuditFilters(filters: Filters, error: Option<AppError>) -> impl IntoView {
    let field = move |id: &'static str,
                      name: &'static str,
                      label: &'static str,
                      value: String,
                      kind: &'static str,
                      hint: &'static str| {
        let message = error
            .as_ref()
            .and_then(|e| e.field_message(name))
            .map(str::to_owned);
        let error_id = format!("{id}-error");
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input
                    id=id
                    name=name
                    type=kind
                    value=value
                    placeholder=hint
                    aria-invalid=message.is_some().then_some("true")
                    aria-describedby=message.is_some().then(|| error_id.clone())
                />
                {message.map(|m| view! { <p class="field-error" id=error_id.clone() role="alert">{m}</p> })}
            </div>
        }
    };
    view! {
        <Form method="GET" action="/audit" attr:class="filters card audit-filters">
            {field("audit-customer", "customer", "Customer id", filters.customer, "text", "e.g. 12")}
            {field("audit-staff", "staff", "Staff member", filters.staff, "text", "e-mail")}
            {field("audit-action", "action", "Action", filters.action, "text", "e.g. billed.change")}
            {field("audit-from", "from", "From", filters.from, "date", "")}
            {field("audit-to", "to", "To", filters.to, "date", "")}
            <div class="form-actions">
                <button type="submit" class="primary">"Filter"</button>
                <a class="button" href="/audit">"Clear"</a>
            </div>
        </Form>
    }
}

#[component]
fn Entries(page: AuditPage, filters: Filters, first: bool) -> impl IntoView {
    let scope = page.billing_and_reports_only.then(|| {
        view! {
            <p class="read-only-note" data-testid="audit-scope">
                "You see the billing and report entries of the audit log."
            </p>
        }
    });
    let older = page.next_before.map(
        |before| view! { <a href=filters.href(Some(before)) rel="next">"Older entries »"</a> },
    );
    let newest = (!first).then(|| view! { <a href=filters.href(None)>"« Newest entries"</a> });
    let body = if page.entries.is_empty() {
        view! { <p class="empty">"No entry matches these filters."</p> }.into_any()
    } else {
        view! {
            <ol class="audit-entries" data-testid="audit-entries">
                {page.entries.into_iter().map(|entry| view! { <Entry entry /> }).collect_view()}
            </ol>
        }
        .into_any()
    };
    let csv = {
        let href = filters.href(None);
        let query = href.split_once('?').map_or("", |(_, q)| q).to_owned();
        let with = |extra: &str| {
            let pairs: Vec<&str> = [query.as_str(), extra]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            if pairs.is_empty() {
                crate::api::AUDIT_CSV_ROUTE.to_owned()
            } else {
                format!("{}?{}", crate::api::AUDIT_CSV_ROUTE, pairs.join("&"))
            }
        };
        view! {
            <p class="section-actions">
                <a class="button" href=with("") download="" rel="external">"Download CSV"</a>
                <a class="button" href=with("excel=1") download="" rel="external">"CSV for Excel"</a>
            </p>
        }
    };
    view! {
        {scope}
        {csv}
        {body}
        <nav class="pager" aria-label="Pages">{newest} {older}</nav>
    }
}

#[component]
pub(crate) fn Entry(entry: AuditEntryView) -> impl IntoView {
    let customer = entry
        .customer_id
        .map(|id| match entry.customer_name.clone() {
            Some(name) => view! {
                <span>" · "<a href=format!("/customers/{id}")>{name}</a></span>
            }
            .into_any(),
            None => view! { <span class="muted">{format!(" · customer {id} (removed)")}</span> }
                .into_any(),
        });
    let changes = (!entry.changes.is_empty()).then(|| {
        view! {
            <table class="audit-changes">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Before"</th>
                        <th scope="col">"After"</th>
                    </tr>
                </thead>
                <tbody>
                    {entry
                        .changes
                        .into_iter()
                        .map(|c| {
                            let changed = c.before != c.after;
                            view! {
                                <tr class:changed=changed>
                                    <th scope="row">{c.field}</th>
                                    <td>{c.before.unwrap_or_else(|| "—".into())}</td>
                                    <td>{c.after.unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
    });
    let action = entry.action.clone();
    view! {
        <li class="card audit-entry" data-action=action>
            <p class="audit-head">
                <strong>{entry.action}</strong>
                " "
                <span>{entry.subject}</span>
                {customer}
            </p>
            <p class="muted small-text">
                {format!("{} · {}", format_time(entry.at), entry.actor)}
            </p>
            {changes}
        </li>
    }
}
