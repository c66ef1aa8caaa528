//! `/provider`: the provider directory, Partner Center's customer tenants, and Link to
//! Provider. Search, filter (unlinked by default) and keyset pages; tick tenants, then choose
//! how to link them. Choosing is a GET to this page (`step`, the ticked `select`s, or `all`
//! for every tenant matching the search), so it works without JavaScript; the question then
//! posts the link.

use crate::components::{data, Data};
use crate::{
    api::{
        customers::list_customers,
        provider::{
            get_link_selection, get_provider_page, AcceptSuggestions, LinkTenants,
            RefreshProviderDirectory,
        },
    },
    components::{
        action_error, after_success, Confirm, ErrorMessage, FieldMessage, FocusPoint, FormMessage,
        PAGE_HEADING,
    },
    error::AppError,
    model::{
        count_of, format_time, thousands, CustomerPage, CustomerRef, DirectoryEntry, LinkFilter,
        LinkSelection, Permission, ProviderPage, SuggestionView,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map, location::Url};

/// What the address asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Query {
    q: String,
    show: LinkFilter,
    after: Option<String>,
    for_customer: Option<i64>,
    selected: Vec<String>,
    /// Every linkable row of this page drawn ticked (`tick=page`).
    tick_page: bool,
    all: bool,
    step: String,
    customer_q: String,
}

impl Query {
    /// This page with the search, filter and target customer kept (and nothing else).
    fn base_href(&self) -> String {
        let mut pairs = Vec::new();
        if !self.q.is_empty() {
            pairs.push(format!("q={}", Url::escape(&self.q)));
        }
        if self.show != LinkFilter::default() {
            pairs.push(format!("show={}", self.show.as_str()));
        }
        if let Some(id) = self.for_customer {
            pairs.push(format!("for={id}"));
        }
        if pairs.is_empty() {
            "/provider".to_owned()
        } else {
            format!("/provider?{}", pairs.join("&"))
        }
    }

    /// `all_q` for a selection of every unlinked tenant matching the search.
    fn all_q(&self) -> Option<String> {
        self.all.then(|| self.q.clone())
    }
}

#[component]
pub fn ProviderDirectoryPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let map = query_map.read();
        Query {
            q: map.get("q").unwrap_or_default(),
            show: LinkFilter::parse(&map.get("show").unwrap_or_default()),
            after: map.get("after").filter(|a| !a.is_empty()),
            for_customer: map.get("for").and_then(|f| f.parse().ok()),
            selected: map.get_all("select").unwrap_or_default(),
            tick_page: map.get("tick").is_some_and(|t| t == "page"),
            all: map.get("all").is_some_and(|a| a == "1"),
            step: map.get("step").unwrap_or_default(),
            customer_q: map.get("customer_q").unwrap_or_default(),
        }
    });
    let refresh = ServerAction::<RefreshProviderDirectory>::new();
    let link = ServerAction::<LinkTenants>::new();
    let accept = ServerAction::<AcceptSuggestions>::new();
    let page = data(
        move || {
            let q = query.get();
            (
                q.q,
                q.show,
                q.after,
                q.for_customer,
                refresh.version().get(),
                link.version().get(),
                accept.version().get(),
            )
        },
        |(q, show, after, for_customer, _, _, _)| {
            get_provider_page(q, show.as_str().to_owned(), after, for_customer)
        },
    );
    // Every resource is made here, once, before any Suspend: made inside a suspended part,
    // they would be made in another order in the browser and hydration would fail.
    let selection: SelectionResource = data(
        move || {
            let q = query.get();
            let asked = !q.step.is_empty() && (q.all || !q.selected.is_empty());
            asked.then(|| (q.selected.clone(), q.all_q()))
        },
        |asked| async move {
            match asked {
                Some((selected, all_q)) => get_link_selection(selected, all_q).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let choices: ChoicesResource = data(
        move || {
            let q = query.get();
            (q.step == "link")
                .then_some(q.customer_q)
                .filter(|c| !c.trim().is_empty())
        },
        |customer_q| async move {
            match customer_q {
                Some(q) => list_customers(q, None).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let steps = Steps { selection, choices };
    after_success(refresh, |_| Some(PAGE_HEADING.to_owned()));
    after_success(accept, |_| Some(PAGE_HEADING.to_owned()));
    after_success(link, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <Title text="Provider directory" />
        <h1 id="page-heading" tabindex="-1">
            "Provider directory"
        </h1>
        <Transition fallback=|| view! { <p class="muted">"Loading the directory…"</p> }>
            {move || {
                // Read here, so a new step or selection in the address renders again.
                let query = query.get();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            view! {
                                <Directory page query refresh link accept steps />
                                <FocusPoint />
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

type SelectionResource = Data<Result<Option<LinkSelection>, AppError>>;
type ChoicesResource = Data<Result<Option<CustomerPage>, AppError>>;

/// The data of the questions before a link: the selection, and the customers found.
#[derive(Clone, Copy)]
struct Steps {
    selection: SelectionResource,
    choices: ChoicesResource,
}

#[component]
fn Directory(
    steps: Steps,
    page: ProviderPage,
    query: Query,
    refresh: ServerAction<RefreshProviderDirectory>,
    link: ServerAction<LinkTenants>,
    accept: ServerAction<AcceptSuggestions>,
) -> impl IntoView {
    let refresh_error = action_error(refresh);
    let taken = match page.last_refresh {
        Some(at) => format!("Taken from Partner Center {}.", format_time(at)),
        None => "Not taken from Partner Center yet.".to_owned(),
    };
    let refresh_form = (page.can_link && page.configured).then(|| {
        view! {
            <ActionForm action=refresh attr:class="inline-form">
                <button type="submit" id="refresh-directory" disabled=move || refresh.pending().get()>
                    {move || if refresh.pending().get() { "Refreshing…" } else { "Refresh from Partner Center" }}
                </button>
            </ActionForm>
            <FormMessage error=refresh_error />
        }
    });
    let not_configured = (!page.configured).then(|| {
        view! {
            <p class="muted">
                "Partner Center is not configured on this server, so the directory cannot be refreshed."
            </p>
        }
    });
    let read_only = (!page.can_link).then(|| {
        view! {
            <p class="read-only-note" data-testid="read-only">
                {format!(
                    "You can view the directory; linking tenants needs {}.",
                    Permission::LinkTenants.granted_to()
                )}
            </p>
        }
    });
    let for_note = page.for_customer.clone().map(|c| {
        view! {
            <p class="notice" data-testid="linking-for">
                "Choose the tenants to link to "
                <a href=format!("/customers/{}/tenants", c.id)>{c.name}</a>
                "."
            </p>
        }
    });
    let step = (page.can_link && !query.step.is_empty()).then(|| {
        view! { <LinkStep query=query.clone() for_customer=page.for_customer.clone() link accept steps /> }
    });
    view! {
        <div class="directory-head">
            <p class="muted" data-testid="directory-taken">{taken}</p>
            {refresh_form}
        </div>
        {not_configured}
        {read_only}
        {for_note}
        <Filters query=query.clone() />
        {step}
        <DirectoryTable page query />
    }
}

/// Search and the link-state filter: a GET form, so the address says what is shown.
#[component]
fn Filters(query: Query) -> impl IntoView {
    view! {
        <Form method="GET" action="/provider" attr:class="filters directory-filters" attr:role="search">
            {query.for_customer.map(|id| view! { <input type="hidden" name="for" value=id /> })}
            <div class="field">
                <label for="directory-q">"Search"</label>
                <input id="directory-q" type="search" name="q" placeholder="Name, domain or tenant ID" value=query.q.clone() />
            </div>
            <div class="field">
                <label for="directory-show">"Show"</label>
                <select id="directory-show" name="show">
                    {LinkFilter::ALL
                        .into_iter()
                        .map(|f| view! { <option value=f.as_str() selected=f == query.show>{f.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="submit">"Search"</button>
        </Form>
    }
}

#[component]
fn DirectoryTable(page: ProviderPage, query: Query) -> impl IntoView {
    if page.entries.is_empty() {
        let message = match (query.q.is_empty(), query.show, page.last_refresh) {
            (_, _, None) => "The directory is empty: refresh it from Partner Center.".to_owned(),
            (true, LinkFilter::Unlinked, _) => {
                "Every tenant Partner Center lists is linked to a customer.".to_owned()
            }
            (true, filter, _) => format!("No tenant is {}.", filter.label().to_lowercase()),
            (false, _, _) => format!("No tenant matches “{}”.", query.q),
        };
        return view! { <p class="empty">{message}</p> }.into_any();
    }
    let base = query.base_href();
    let sep = if base.contains('?') { '&' } else { '?' };
    let next = page
        .next_after
        .clone()
        .map(|after| format!("{base}{sep}after={}", Url::escape(&after)));
    let first_page = query.after.is_some().then(|| base.clone());
    let selectable = page.can_link && page.entries.iter().any(DirectoryEntry::linkable);
    let summary = format!(
        "{} {}",
        thousands(page.matching),
        if page.matching == 1 {
            "tenant"
        } else {
            "tenants"
        }
    ) + &match query.show {
        LinkFilter::All => String::new(),
        f => format!(" {}", f.label().to_lowercase()),
    } + &if query.q.is_empty() {
        String::new()
    } else {
        format!(" matching “{}”", query.q)
    };
    let rows = page
        .entries
        .into_iter()
        .map(|entry| {
            let checked = query.tick_page || query.selected.contains(&entry.tenant_id);
            view! { <DirectoryRow entry selectable checked base=base.clone() /> }
        })
        .collect_view();
    let table = view! {
        <table class="matrix directory">
            <thead>
                <tr>
                    {selectable.then(|| view! { <th scope="col"><span class="visually-hidden">"Select"</span></th> })}
                    <th scope="col">"Company"</th>
                    <th scope="col">"Tenant ID"</th>
                    <th scope="col">"Link"</th>
                    <th scope="col">"Suggested customer"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    };
    let pager = view! {
        <nav class="pager" aria-label="Pages">
            {first_page.map(|href| view! { <a href=href>"« First page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page »"</a> })}
        </nav>
    };
    if !selectable {
        return view! {
            <p class="muted list-range" data-testid="list-range">{summary}</p>
            {table}
            {pager}
        }
        .into_any();
    }
    let unlinked_all = (query.show == LinkFilter::Unlinked).then(|| {
        view! {
            <label class="check-line">
                <input type="checkbox" name="all" value="1" checked=query.all prop:checked=query.all />
                {if page.matching == 1 {
                    "The 1 matching tenant".to_owned()
                } else {
                    format!(
                        "All {} matching tenants (every page, not only the ticked ones)",
                        thousands(page.matching)
                    )
                }}
            </label>
        }
    });
    // Ticking the whole page is a link, so it works without JavaScript.
    let this_page = match &query.after {
        Some(after) => format!("{base}{sep}after={}", Url::escape(after)),
        None => base.clone(),
    };
    let this_sep = if this_page.contains('?') { '&' } else { '?' };
    let tick_all = if query.tick_page {
        view! { <a href=this_page id="tick-page">"Untick this page"</a> }.into_any()
    } else {
        view! { <a href=format!("{this_page}{this_sep}tick=page") id="tick-page">"Tick every tenant on this page"</a> }.into_any()
    };
    let actions = match &page.for_customer {
        Some(customer) => view! {
            <input type="hidden" name="for" value=customer.id />
            <button type="submit" class="primary" name="step" value="link" id="link-selected">
                {format!("Link selected to {}…", customer.name)}
            </button>
        }
        .into_any(),
        None => view! {
            <button type="submit" class="primary" name="step" value="link" id="link-selected">
                "Link selected…"
            </button>
            <button type="submit" name="step" value="accept" id="accept-selected">
                "Accept suggestions…"
            </button>
        }
        .into_any(),
    };
    view! {
        <p class="muted list-range" data-testid="list-range">{summary}</p>
        <Form method="GET" action="/provider" attr:class="directory-form">
            <input type="hidden" name="q" value=query.q.clone() />
            <input type="hidden" name="show" value=query.show.as_str() />
            {table}
            <div class="form-actions selection-actions">
                {tick_all}
                {unlinked_all}
                {actions}
            </div>
        </Form>
        {pager}
    }
    .into_any()
}

#[component]
fn DirectoryRow(
    entry: DirectoryEntry,
    selectable: bool,
    checked: bool,
    base: String,
) -> impl IntoView {
    let linkable = entry.linkable();
    let sep = if base.contains('?') { '&' } else { '?' };
    let single = format!(
        "{base}{sep}step=link&select={}",
        Url::escape(&entry.tenant_id)
    );
    let state = match (&entry.linked_to, entry.gone_since) {
        (Some(c), _) => view! {
            <span class="badge sync-ok">"Linked"</span>
            " to "
            <a href=format!("/customers/{}/tenants", c.id)>{c.name.clone()}</a>
        }
        .into_any(),
        (None, Some(at)) => view! {
            <span class="badge sync-failed">"Gone"</span>
            <span class="small-text muted">{format!(" since {}", format_time(at))}</span>
        }
        .into_any(),
        (None, None) => view! {
            <span class="badge sync-never">"Unlinked"</span>
            {selectable.then(|| view! {
                " "
                <a href=single aria-label=format!("Link {}", entry.company_name)>"Link…"</a>
            })}
        }
        .into_any(),
    };
    let check_label = format!("Select {}", entry.company_name);
    view! {
        <tr data-tenant=entry.tenant_id.clone()>
            {selectable.then(|| {
                view! {
                    <td class="select">
                        {linkable.then(|| view! {
                            <label class="check-target">
                                <input type="checkbox" name="select" value=entry.tenant_id.clone() checked=checked prop:checked=checked aria-label=check_label />
                            </label>
                        })}
                    </td>
                }
            })}
            <td class="name" data-label="Company">
                <strong>{entry.company_name.clone()}</strong>
                <span class="muted small-text">" "{entry.domain.clone()}</span>
            </td>
            <td data-label="Tenant ID"><code class="small-text">{entry.tenant_id.clone()}</code></td>
            <td data-label="Link">{state}</td>
            <td data-label="Suggested">
                {match entry.suggestion {
                    Some(s) => view! { <SuggestionText suggestion=s /> }.into_any(),
                    None if linkable => view! { <span class="muted">"No clear match"</span> }.into_any(),
                    None => view! { <span class="muted">"—"</span> }.into_any(),
                }}
            </td>
        </tr>
    }
}

#[component]
fn SuggestionText(suggestion: SuggestionView) -> impl IntoView {
    match suggestion {
        SuggestionView::Customer {
            customer,
            confidence,
            reason,
        } => view! {
            <span class="suggestion">
                <a href=format!("/customers/{}", customer.id)>{customer.name}</a>
                <span class="small-text muted">{format!(" · {confidence}: {reason}")}</span>
            </span>
        }
        .into_any(),
        SuggestionView::Ambiguous { customers, reason } => {
            let names: Vec<String> = customers.into_iter().map(|c| c.name).collect();
            view! {
                <span class="suggestion ambiguous">
                    <span class="badge sync-stale">"Ambiguous"</span>
                    <span class="small-text">{format!(" {}: {reason}; choose one yourself.", names.join(" or "))}</span>
                </span>
            }
            .into_any()
        }
    }
}

/// The question before a link (`step=link`) or an acceptance (`step=accept`), about the
/// ticked tenants or all matching ones.
#[component]
fn LinkStep(
    steps: Steps,
    query: Query,
    for_customer: Option<CustomerRef>,
    link: ServerAction<LinkTenants>,
    accept: ServerAction<AcceptSuggestions>,
) -> impl IntoView {
    if query.selected.is_empty() && !query.all {
        return view! {
            <p class="field-error" id="select-error" role="alert">
                "Tick at least one tenant first (or all matching ones)."
            </p>
        }
        .into_any();
    }
    let selection = steps.selection;
    view! {
        <section class="link-step card" aria-labelledby="link-step-heading">
            <Transition fallback=|| view! { <p class="muted">"Loading the selection…"</p> }>
                {move || {
                    let (query, for_customer) = (query.clone(), for_customer.clone());
                    Suspend::new(async move {
                        match selection.await {
                            Ok(None) => ().into_any(),
                            Ok(Some(selection)) => {
                                if query.step == "accept" {
                                    view! { <AcceptQuestion selection query accept /> }.into_any()
                                } else {
                                    view! { <LinkQuestion selection query for_customer link choices=steps.choices /> }.into_any()
                                }
                            }
                            Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
    .into_any()
}

/// The hidden fields that say which tenants a form acts on (for all matching ones, also how
/// many the question showed, so a directory changed meanwhile is noticed).
fn selection_fields(query: &Query, total: usize) -> impl IntoView {
    match query.all_q() {
        Some(q) => view! {
            <input type="hidden" name="all_q" value=q />
            <input type="hidden" name="all_n" value=total />
        }
        .into_any(),
        None => query
            .selected
            .iter()
            .enumerate()
            .map(|(i, id)| view! { <input type="hidden" name=format!("items[{i}]") value=id.clone() /> })
            .collect_view()
            .into_any(),
    }
}

/// The first tenants of a selection, named (a long selection is counted, not listed).
fn selection_list(selection: &LinkSelection) -> impl IntoView {
    let more = selection.total.saturating_sub(selection.shown.len());
    view! {
        <ul class="selection-list" data-testid="selection-list">
            {selection
                .shown
                .iter()
                .map(|e| view! { <li>{e.company_name.clone()} <span class="muted small-text">" "{e.domain.clone()}</span></li> })
                .collect_view()}
            {(more > 0).then(|| view! { <li class="muted">{format!("and {} more", thousands(more as i64))}</li> })}
        </ul>
    }
}

#[component]
fn LinkQuestion(
    choices: ChoicesResource,
    selection: LinkSelection,
    query: Query,
    for_customer: Option<CustomerRef>,
    link: ServerAction<LinkTenants>,
) -> impl IntoView {
    let error = action_error(link);
    let cancel = query.base_href();
    let n = selection.total;
    if let Some(why) = selection.blocked.clone() {
        return view! {
            <h2 id="link-step-heading">"Link tenants"</h2>
            <p class="field-error" role="alert">{why} " Untick it and choose again."</p>
            <a class="button" href=cancel>"Back to the directory"</a>
        }
        .into_any();
    }
    let tenants = count_of(n, "tenant", "tenants");
    let single = (n == 1).then(|| selection.shown.first().cloned()).flatten();
    let heading = match &single {
        Some(e) => format!("Link {}", e.company_name),
        None => format!("Link {tenants}"),
    };
    // To one customer chosen already (the page was opened from its Provider Tenants section).
    if let Some(customer) = for_customer {
        let fields = selection_fields(&query, n);
        return view! {
            <h2 id="link-step-heading">{heading}</h2>
            {selection_list(&selection)}
            <ActionForm action=link>
                {fields}
                <input type="hidden" name="to" value="existing" />
                <input type="hidden" name="customer_id" value=customer.id />
                <FieldMessage error field="items" id="items-error" />
                <FormMessage error />
                <Confirm yes=format!("Yes, link {tenants}") cancel_href=cancel.clone() pending=link.pending() return_focus="link-selected">
                    {format!("Link {tenants} to {}? Its reconciliation and reports then include them.", customer.name)}
                </Confirm>
            </ActionForm>
        }
        .into_any();
    }
    // A new customer: one tenant's name and domain can be edited; many become one customer each.
    let fields = selection_fields(&query, n);
    let new_customer = match single {
        Some(e) => view! {
            <ActionForm action=link attr:class="stack-form">
                {fields}
                <input type="hidden" name="to" value="new" />
                <div class="field">
                    <label for="new-name">"Customer name"</label>
                    <input id="new-name" name="name" required maxlength="200" value=e.company_name.clone() aria-describedby="new-name-error" />
                    <FieldMessage error field="name" id="new-name-error" />
                </div>
                <div class="field">
                    <label for="new-domain">"Primary domain"</label>
                    <input id="new-domain" name="domain" required value=e.domain.clone() aria-describedby="new-domain-error" />
                    <FieldMessage error field="domain" id="new-domain-error" />
                </div>
                <FieldMessage error field="items" id="items-error" />
                <FormMessage error />
                <button type="submit" class="primary" id="create-and-link" disabled=move || link.pending().get()>
                    "Create customer and link"
                </button>
            </ActionForm>
        }
        .into_any(),
        None => view! {
            <ActionForm action=link>
                {fields}
                <input type="hidden" name="to" value="new_each" />
                <p>{format!("Creates {}, each named and with the primary domain Partner Center has for its tenant.", count_of(n, "customer", "customers"))}</p>
                <FieldMessage error field="items" id="items-error" />
                <FormMessage error />
                <button type="submit" class="primary" id="create-and-link" disabled=move || link.pending().get()>
                    {format!("Create {} and link", count_of(n, "customer", "customers"))}
                </button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <h2 id="link-step-heading">{heading}</h2>
        {selection_list(&selection)}
        <div class="link-choices">
            <section aria-labelledby="new-customer-heading">
                <h3 id="new-customer-heading">"To a new customer"</h3>
                {new_customer}
            </section>
            <section aria-labelledby="existing-customer-heading">
                <h3 id="existing-customer-heading">"To an existing customer"</h3>
                <ExistingCustomer count=n query link choices />
            </section>
        </div>
        <p><a class="button" href=cancel>"Cancel"</a></p>
    }
    .into_any()
}

/// A search over portal customers (a GET that keeps the selection), then a choice among the
/// ones found, then the link.
#[component]
fn ExistingCustomer(
    count: usize,
    query: Query,
    link: ServerAction<LinkTenants>,
    choices: ChoicesResource,
) -> impl IntoView {
    let error = action_error(link);
    let (q, show, all) = (query.q.clone(), query.show, query.all);
    let selected = (!all).then(|| {
        query
            .selected
            .iter()
            .map(|s| view! { <input type="hidden" name="select" value=s.clone() /> })
            .collect_view()
    });
    let keep = view! {
        <input type="hidden" name="step" value="link" />
        {(!q.is_empty()).then(|| view! { <input type="hidden" name="q" value=q /> })}
        {(show != LinkFilter::default()).then(|| view! { <input type="hidden" name="show" value=show.as_str() /> })}
        {all.then(|| view! { <input type="hidden" name="all" value="1" /> })}
        {selected}
    };
    let shown_q = query.customer_q.clone();
    view! {
        <Form method="GET" action="/provider" attr:class="field" attr:role="search">
            {keep}
            <label for="customer-q">"Find the customer"</label>
            <div class="search">
                <input id="customer-q" type="search" name="customer_q" placeholder="Name or domain" value=shown_q />
                <button type="submit">"Find"</button>
            </div>
        </Form>
        <Transition fallback=|| ()>
            {move || {
                let query = query.clone();
                Suspend::new(async move {
                    match choices.await {
                        Ok(None) => None,
                        Ok(Some(found)) if found.customers.is_empty() => Some(
                            view! { <p class="empty">{format!("No customer matches “{}”.", query.customer_q)}</p> }.into_any(),
                        ),
                        Ok(Some(found)) => Some(
                            view! {
                                <ActionForm action=link>
                                    {selection_fields(&query, count)}
                                    <input type="hidden" name="to" value="existing" />
                                    <fieldset class="choices">
                                        <legend>"Customer"</legend>
                                        {found
                                            .customers
                                            .into_iter()
                                            .enumerate()
                                            .map(|(i, c)| view! {
                                                <label class="check-line">
                                                    <input type="radio" name="customer_id" value=c.id checked=i == 0 />
                                                    {c.name} <span class="muted small-text">" "{c.primary_domain}</span>
                                                </label>
                                            })
                                            .collect_view()}
                                    </fieldset>
                                    <FieldMessage error field="customer_id" id="customer-id-error" />
                                    <FieldMessage error field="items" id="items-error" />
                                    <FormMessage error />
                                    <button type="submit" class="primary" id="link-existing" disabled=move || link.pending().get()>
                                        {format!("Link {} to this customer", count_of(count, "tenant", "tenants"))}
                                    </button>
                                </ActionForm>
                            }
                            .into_any(),
                        ),
                        Err(error) => Some(view! { <ErrorMessage error /> }.into_any()),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn AcceptQuestion(
    selection: LinkSelection,
    query: Query,
    accept: ServerAction<AcceptSuggestions>,
) -> impl IntoView {
    let error = action_error(accept);
    let cancel = query.base_href();
    let n = selection.clear;
    let left = selection.total - n;
    let left_note = (left > 0).then(|| {
        view! {
            <p class="muted" data-testid="accept-left">
                {format!(
                    "{} of the selection {} left as {}: no clear suggestion (none, or ambiguous), or linked already.",
                    count_of(left, "tenant", "tenants"),
                    if left == 1 { "is" } else { "are" },
                    if left == 1 { "it is" } else { "they are" },
                )}
            </p>
        }
    });
    if n == 0 {
        return view! {
            <h2 id="link-step-heading">"Accept suggestions"</h2>
            <p class="field-error" role="alert">"None of the selected tenants has one clear suggested customer."</p>
            <a class="button" href=cancel>"Back to the directory"</a>
        }
        .into_any();
    }
    let shown: Vec<(String, String, String)> = selection
        .shown
        .iter()
        .filter(|e| e.linkable())
        .filter_map(|e| match &e.suggestion {
            Some(SuggestionView::Customer {
                customer,
                confidence,
                ..
            }) => Some((
                e.company_name.clone(),
                customer.name.clone(),
                confidence.clone(),
            )),
            _ => None,
        })
        .collect();
    let more = n.saturating_sub(shown.len());
    let tenants = count_of(n, "tenant", "tenants");
    let fields = selection_fields(&query, n);
    view! {
        <h2 id="link-step-heading">"Accept suggestions"</h2>
        <ul class="selection-list" data-testid="accept-list">
            {shown
                .into_iter()
                .map(|(tenant, customer, confidence)| view! {
                    <li>{tenant} " → " <strong>{customer}</strong> <span class="muted small-text">{format!(" ({confidence})")}</span></li>
                })
                .collect_view()}
            {(more > 0).then(|| view! { <li class="muted">{format!("and {} more", thousands(more as i64))}</li> })}
        </ul>
        {left_note}
        <ActionForm action=accept>
            {fields}
            <FieldMessage error field="items" id="items-error" />
            <FormMessage error />
            <Confirm yes=format!("Yes, link {tenants}") cancel_href=cancel pending=accept.pending() return_focus="accept-selected">
                {format!("Link {tenants} to their suggested customers?")}
            </Confirm>
        </ActionForm>
    }
    .into_any()
}
