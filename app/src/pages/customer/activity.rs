//! Activity: every change made to this customer, newest first (who, when, each field before and
//! after), 50 a page; the same entries as the audit log filtered by this customer. Finance sees
//! the billing and report ones.

use super::customer_id_param;
use crate::components::data;
use crate::{
    api::audit::get_customer_activity,
    components::{ErrorMessage, FocusPoint},
    pages::audit::Entry,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ActivitySectionPage() -> impl IntoView {
    let id = customer_id_param();
    let query = use_query_map();
    let before = Memo::new(move |_| {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    });
    let page = data(
        move || (id.get(), before.get()),
        |(id, before)| get_customer_activity(id, before),
    );
    view! {
        <h2 id="page-heading" tabindex="-1">"Activity"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading the activity…"</p> }>
            {move || {
                let id = id.get();
                let first = before.get().is_none();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let scope = page.billing_and_reports_only.then(|| view! {
                                <p class="read-only-note">"You see the billing and report entries."</p>
                            });
                            let older = page.next_before.map(|b| view! {
                                <a href=format!("/customers/{id}/activity?before={b}") rel="next">"Older entries »"</a>
                            });
                            let newest = (!first).then(|| view! {
                                <a href=format!("/customers/{id}/activity")>"« Newest entries"</a>
                            });
                            let body = if page.entries.is_empty() {
                                view! { <p class="empty">"Nothing has been changed on this customer yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ol class="audit-entries" data-testid="activity-entries">
                                        {page.entries.into_iter().map(|entry| view! { <Entry entry /> }).collect_view()}
                                    </ol>
                                }
                                .into_any()
                            };
                            view! {
                                {scope}
                                {body}
                                <nav class="pager" aria-label="Pages">{newest} {older}</nav>
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
