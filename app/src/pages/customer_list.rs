use crate::components::{data, loaded};
use crate::{
    api::customers::list_customers,
    components::ErrorMessage,
    model::{count_of, thousands, CustomerPage, CustomerSummary},
    pages::customer::SyncBadgeView,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map, location::Url};

/// `/customers`: search by name, domain or tenant id; paged by a keyset cursor (`after`).
#[component]
pub fn CustomerListPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let after = move || {
        query
            .read()
            .get("after")
            .and_then(|a| a.parse::<i64>().ok())
    };
    let start = move || match after() {
        None => Some(1),
        Some(_) => query
            .read()
            .get("start")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|n| *n >= 1),
    };
    let page = data(
        move || (search(), after()),
        |(search, after)| list_customers(search, after),
    );
    // The box shows the search in the address. The server writes it as the value; in the
    // browser it is set again only when the address changes later (back, forward, a link), so
    // whatever was typed before the client arrived is not overwritten at hydration.
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |shown: Option<String>| {
        let wanted = search();
        if shown.is_some_and(|shown| shown != wanted) {
            if let Some(input) = input.get() {
                input.set_value(&wanted);
            }
        }
        wanted
    });
    view! {
        <Title text="Customers" />
        <h1 tabindex="-1">"Customers"</h1>
        <Form method="GET" action="/customers" attr:class="search" attr:role="search">
            <label for="q" class="visually-hidden">
                "Search customers"
            </label>
            <input
                id="q"
                type="search"
                name="q"
                placeholder="Name, domain or tenant ID"
                value=search()
                node_ref=input
            />
            <button type="submit">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p class="muted">"Loading customers…"</p> }>
            {move || Suspend::new(async move {
                match loaded(page).await {
                    Ok(page) => {
                        view! { <CustomerTable page search=search() start=start() /> }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CustomerTable(
    page: CustomerPage,
    search: String,
    /// The 1-based position of this page's first customer (carried by the Next link; unknown
    /// on a page reached another way).
    start: Option<i64>,
) -> impl IntoView {
    let q = Url::escape(&search);
    let shown = page.customers.len() as i64;
    let next = page.next_after.map(|after| match start {
        Some(start) => format!("/customers?q={q}&after={after}&start={}", start + shown),
        None => format!("/customers?q={q}&after={after}"),
    });
    let first_page = (start != Some(1)).then(|| format!("/customers?q={q}"));
    let deleted = page.can_restore.then(|| {
        view! {
            <p class="muted deleted-link">
                <a href="/deleted-customers">"Deleted customers"</a>
                " can be restored for a while."
            </p>
        }
    });
    if page.customers.is_empty() {
        if search.is_empty() && page.can_link && page.next_after.is_none() && start == Some(1) {
            // A new installation: the customers come from Partner Center.
            return view! {
                <p class="empty">
                    "No customers yet. Bring them in from Partner Center: the "
                    <a href="/provider">"Provider directory"</a>
                    " lists every customer tenant of yours there, to link to new or existing customers."
                </p>
            }
            .into_any();
        }
        let message = if search.is_empty() {
            "There are no customers to show.".to_owned()
        } else {
            format!("No customer matches “{search}”.")
        };
        return view! { <p class="empty">{message}</p> {deleted} }.into_any();
    }
    let of = page.total.map(|total| {
        if page.total_is_at_least {
            format!(" of more than {} customers", thousands(total))
        } else {
            format!(" of {} customers", thousands(total))
        }
    });
    let range = match (start, of) {
        (Some(1), _) if page.next_after.is_none() => {
            count_of(page.customers.len(), "customer", "customers")
        }
        (Some(start), of) => format!(
            "{}–{}{}",
            thousands(start),
            thousands(start + shown - 1),
            of.unwrap_or_default()
        ),
        (None, Some(of)) => format!(
            "{}{of}",
            count_of(page.customers.len(), "customer", "customers")
        ),
        (None, None) => count_of(page.customers.len(), "customer", "customers"),
    };
    view! {
        <p class="muted list-range" data-testid="list-range">{range}</p>
        <table class="customers">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Domain"</th>
                    <th scope="col">"Tags"</th>
                    <th scope="col">"Account manager"</th>
                    <th scope="col">"Sync"</th>
                </tr>
            </thead>
            <tbody>
                {page.customers.into_iter().map(|c| view! { <CustomerRow customer=c /> }).collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {first_page.map(|href| view! { <a href=href>"« First page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page »"</a> })}
        </nav>
        {deleted}
    }
    .into_any()
}

#[component]
fn CustomerRow(customer: CustomerSummary) -> impl IntoView {
    let managers = if customer.account_managers.is_empty() {
        "—".to_owned()
    } else {
        customer.account_managers.join(", ")
    };
    view! {
        <tr>
            <td class="name">
                <a href=format!("/customers/{}", customer.id)>{customer.name}</a>
            </td>
            <td data-label="Domain">{customer.primary_domain}</td>
            <td data-label="Tags">
                <ul class="tags">
                    {customer
                        .tags
                        .into_iter()
                        .map(|t| view! { <li class="tag">{t.name}": "{t.value}</li> })
                        .collect_view()}
                </ul>
            </td>
            <td data-label="Account manager">{managers}</td>
            <td data-label="Sync">
                <SyncBadgeView badge=customer.sync />
            </td>
        </tr>
    }
}
