//! `/customers/{id}/tenants`: Provider Tenants, the customer's sync status, and Reload
//! Reconciliation for this customer.

use super::customer_id_param;
use crate::{
    api::sync::{get_provider_tenants, ReloadCustomer},
    components::{action_error, after_success, ErrorMessage, FocusPoint, FormMessage},
    model::{format_time, Permission, ProviderTenantsSection, SyncBadge, SyncStatus, TenantView},
};
use leptos::prelude::*;

#[component]
pub fn TenantsSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let reload = ServerAction::<ReloadCustomer>::new();
    // While a reload is queued or running, the section is fetched again every second (with
    // JavaScript; without it, on reload); polling stops when it is done.
    let tick = RwSignal::new(0u64);
    let section = Resource::new(
        move || (id.get(), reload.version().get(), tick.get()),
        |(id, _, _)| get_provider_tenants(id),
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
    view! {
        <h2 id="page-heading" tabindex="-1">
            "Provider Tenants"
        </h2>
        <Transition fallback=|| view! { <p class="muted">"Loading tenants…"</p> }>
            {move || Suspend::new(async move {
                match section.await {
                    Ok(section) => view! { <Tenants section reload /> <FocusPoint /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Tenants(section: ProviderTenantsSection, reload: ServerAction<ReloadCustomer>) -> impl IntoView {
    let customer_id = customer_id_param().get_untracked();
    let error = action_error(reload);
    let tenants = if section.tenants.is_empty() {
        view! { <p class="empty">"No Partner Center tenant is linked to this customer."</p> }
            .into_any()
    } else {
        view! {
            <ul class="tenant-list">
                {section.tenants.into_iter().map(|tenant| view! { <TenantItem tenant /> }).collect_view()}
            </ul>
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
fn TenantItem(tenant: TenantView) -> impl IntoView {
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
    let last = tenant
        .last_synced_at
        .map_or_else(|| "never".to_owned(), format_time);
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
