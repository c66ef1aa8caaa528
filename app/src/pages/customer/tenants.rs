//! `/customers/{id}/tenants`: Provider Tenants, the customer's sync status, and Reload
//! Reconciliation for this customer.

use super::customer_id_param;
use crate::components::data;
use crate::{
    api::{
        provider::UnlinkTenant,
        sync::{get_provider_tenants, ReloadCustomer},
    },
    components::{action_error, after_success, Confirm, ErrorMessage, FocusPoint, FormMessage},
    model::{format_time, Permission, ProviderTenantsSection, SyncBadge, SyncStatus, TenantView},
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn TenantsSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let reload = ServerAction::<ReloadCustomer>::new();
    let unlink = ServerAction::<UnlinkTenant>::new();
    let query = use_query_map();
    let asking = Memo::new(move |_| query.read().get("unlink").unwrap_or_default());
    // While a reload is queued or running, the section is fetched again every second (with
    // JavaScript; without it, on reload); polling stops when it is done.
    let tick = RwSignal::new(0u64);
    let section = data(
        move || {
            (
                id.get(),
                reload.version().get(),
                unlink.version().get(),
                tick.get(),
            )
        },
        |(id, _, _, _)| get_provider_tenants(id),
    );
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                let queued = section
                    .get_untracked()
                    .is_some_and(|s| s.as_ref().is_ok_and(|s| s.reload_queued));
                if queued {
                    tick.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
    after_success(reload, |_| Some("reload-button".to_owned()));
    after_success(unlink, |_| Some(crate::components::PAGE_HEADING.to_owned()));
    view! {
        <h2 id="page-heading" tabindex="-1">
            "Provider Tenants"
        </h2>
        <Transition fallback=|| view! { <p class="muted">"Loading tenants…"</p> }>
            {move || {
                // `?unlink=TENANT` asks before the unlink (a link, so it works without
                // JavaScript); read here, so the question appears when the address changes.
                let asking = asking.get();
                Suspend::new(async move {
                    match section.await {
                        Ok(section) => view! { <Tenants section reload unlink asking /> <FocusPoint /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn Tenants(
    section: ProviderTenantsSection,
    reload: ServerAction<ReloadCustomer>,
    unlink: ServerAction<UnlinkTenant>,
    /// The tenant the page asks about unlinking (`?unlink=`), if any.
    asking: String,
) -> impl IntoView {
    let customer_id = customer_id_param().get_untracked();
    let error = action_error(reload);
    let unlink_error = action_error(unlink);
    let can_link = section.can_link;
    let pending_sync = section.reload_queued;
    let link_button = can_link.then(|| {
        view! {
            <p class="section-actions">
                <a class="button primary" id="link-to-provider" href=format!("/provider?for={customer_id}")>
                    "Link to Provider…"
                </a>
            </p>
        }
    });
    let tenants = if section.tenants.is_empty() {
        view! { <p class="empty">"No Partner Center tenant is linked to this customer."</p> }
            .into_any()
    } else {
        view! {
            <ul class="tenant-list">
                {section
                    .tenants
                    .into_iter()
                    .map(|tenant| {
                        let ask = can_link && asking == tenant.tenant_id;
                        view! { <TenantItem tenant can_link ask pending_sync unlink /> }
                    })
                    .collect_view()}
            </ul>
            <FormMessage error=unlink_error />
        }
        .into_any()
    };
    let read_only = (!section.can_reload).then(|| {
        view! {
            <p class="read-only-note" data-testid="read-only">
                {format!(
                    "You can view this customer's tenants; Reload Reconciliation needs {}.",
                    Permission::ReloadCustomer.granted_to()
                )}
            </p>
        }
    });
    view! {
        {link_button}
        {read_only}
        {tenants}
        <section class="sync-status" aria-label="Reconciliation">
            <h3>"Reconciliation with Partner Center"</h3>
            <StatusLine status=section.status />
            {section
                .reload_queued
                .then(|| {
                    view! {
                        <p class="muted" role="status" data-testid="reload-queued">
                            "A reload is queued or running; this section updates when it is done. "
                            <a href=format!("/customers/{customer_id}/tenants")>"Refresh"</a>
                        </p>
                    }
                })}
            {section
                .can_reload
                .then(|| {
                    view! {
                        <ActionForm action=reload attr:class="inline-form">
                            <input type="hidden" name="customer_id" value=customer_id />
                            <button type="submit" id="reload-button" class="primary" disabled=move || reload.pending().get()>
                                {move || if reload.pending().get() { "Reloading…" } else { "Reload reconciliation" }}
                            </button>
                        </ActionForm>
                        <FormMessage error />
                    }
                })}
        </section>
    }
}

#[component]
fn TenantItem(
    tenant: TenantView,
    can_link: bool,
    /// Whether the page asks "unlink this tenant?".
    ask: bool,
    /// A reload of the customer is queued: a tenant never synced waits for it.
    pending_sync: bool,
    unlink: ServerAction<UnlinkTenant>,
) -> impl IntoView {
    let customer_id = customer_id_param().get_untracked();
    // What the last Copy did: None (nothing yet), Some(true) copied, Some(false) refused by the
    // browser. "Copied" shows only once the clipboard took the text, and for a few seconds.
    let copied = RwSignal::new(None::<bool>);
    let id_for_copy = tenant.tenant_id.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let id = id_for_copy.clone();
            leptos::task::spawn_local(async move {
                let written = match web_sys::window() {
                    Some(window) => {
                        let promise = window.navigator().clipboard().write_text(&id);
                        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
                    }
                    None => false,
                };
                copied.set(Some(written));
                set_timeout(move || copied.set(None), std::time::Duration::from_secs(3));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &id_for_copy;
    };
    let last = match tenant.last_synced_at {
        Some(at) => format_time(at),
        None if pending_sync => "pending (queued)".to_owned(),
        None => "never".to_owned(),
    };
    let licence_note = tenant.licence_note.clone();
    let unlink_id = format!("unlink-{}", tenant.tenant_id);
    let (unlink_tenant, unlink_name) = (tenant.tenant_id.clone(), tenant.name.clone());
    let question = format!(
        "Unlink {unlink_name} from this customer? Partner Center is not changed; the tenant goes back to the provider directory as unlinked, and what was synced from it leaves this customer's reconciliation."
    );
    let unlink_part = match (can_link, ask) {
        (false, _) => None,
        (true, false) => Some(
            view! {
                <a class="button small" id=unlink_id.clone() href=format!("/customers/{customer_id}/tenants?unlink={unlink_tenant}") aria-label=format!("Unlink {unlink_name}")>
                    "Unlink…"
                </a>
            }
            .into_any(),
        ),
        (true, true) => Some(
            view! {
                <ActionForm action=unlink>
                    <input type="hidden" name="customer_id" value=customer_id />
                    <input type="hidden" name="tenant_id" value=unlink_tenant />
                    <Confirm yes="Yes, unlink".to_owned() cancel_href=format!("/customers/{customer_id}/tenants") return_focus=unlink_id.clone() pending=unlink.pending()>
                        {question}
                    </Confirm>
                </ActionForm>
            }
            .into_any(),
        ),
    };
    view! {
        <li class="tenant card">
            <strong class="tenant-name">{tenant.name}</strong>
            <span class="muted small-text">{tenant.domain}</span>
            <div class="tenant-id">
                <span class="muted small-text">"Tenant ID "</span>
                <code class="copyable">{tenant.tenant_id.clone()}</code>
                <button type="button" class="small" on:click=copy aria-label=format!("Copy tenant ID {}", tenant.tenant_id)>
                    {move || if copied.get() == Some(true) { "Copied" } else { "Copy" }}
                </button>
                <span class="small-text" role="status">
                    {move || match copied.get() {
                        Some(false) => "The browser did not allow copying: select the ID and copy it.",
                        _ => "",
                    }}
                </span>
            </div>
            <span class="small-text">"Last sync: " {last}</span>
            {licence_note.map(|note| view! { <span class="small-text muted" data-testid="licence-note">{note}</span> })}
            {unlink_part}
        </li>
    }
}

#[component]
pub fn SyncBadgeView(badge: SyncBadge) -> impl IntoView {
    let class = match badge {
        SyncBadge::Ok => "badge sync-ok",
        SyncBadge::Stale => "badge sync-stale",
        SyncBadge::Failed => "badge sync-failed",
        SyncBadge::Never => "badge sync-never",
    };
    view! { <span class=class>{badge.label()}</span> }
}

#[component]
fn StatusLine(status: Option<SyncStatus>) -> impl IntoView {
    match status {
        None => view! { <p class="muted" data-testid="sync-status">"Never synced."</p> }.into_any(),
        Some(s) => {
            let seconds = s.duration_ms as f64 / 1000.0;
            let throttled = (s.throttle_wait_ms > 0).then(|| {
                format!(
                    " · {:.1} s waiting on throttling",
                    s.throttle_wait_ms as f64 / 1000.0
                )
            });
            view! {
                <div data-testid="sync-status" class="status-line">
                    <SyncBadgeView badge=s.badge />
                    <span>{format!("Last sync {} · took {seconds:.1} s", format_time(s.finished_at))} {throttled}</span>
                    {s.error.map(|e| view! { <p class="field-error">{e}</p> })}
                </div>
            }
            .into_any()
        }
    }
}
