//! `/deleted-customers`: the customers deleted from the portal, each restorable as it was until
//! its purge day (System Admin). Works without JavaScript.

use crate::components::data;
use crate::{
    api::customers::{get_deleted_customers, ReleaseTenants, RestoreCustomer},
    components::{
        action_error, after_success, ErrorMessage, FocusPoint, FormMessage, PAGE_HEADING,
    },
    model::{format_time, DeletedCustomer},
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DeletedCustomersPage() -> impl IntoView {
    let restore = ServerAction::<RestoreCustomer>::new();
    let release = ServerAction::<ReleaseTenants>::new();
    let deleted = data(
        move || (restore.version().get(), release.version().get()),
        |_| get_deleted_customers(),
    );
    after_success(restore, |_| Some(PAGE_HEADING.to_owned()));
    after_success(release, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <Title text="Deleted customers" />
        <h1 id="page-heading" tabindex="-1">"Deleted customers"</h1>
        <p class="muted intro">
            "Customers deleted from the portal (never from Partner Center). Each can be restored as it was, tenant links included, until its purge day; then it is removed for good. Its tenants stay linked to it meanwhile: release them to link them to another customer (a restore takes back those nobody took)."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match deleted.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No customer is deleted."</p>
                    }
                    .into_any(),
                    Ok(list) => view! { <DeletedList list restore release /> <FocusPoint /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeletedList(
    list: Vec<DeletedCustomer>,
    restore: ServerAction<RestoreCustomer>,
    release: ServerAction<ReleaseTenants>,
) -> impl IntoView {
    let (error, release_error) = (action_error(restore), action_error(release));
    view! {
        <FormMessage error />
        <FormMessage error=release_error />
        <table class="customers deleted-customers">
            <thead>
                <tr>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Deleted"</th>
                    <th scope="col">"Purged after"</th>
                    <th scope="col"><span class="visually-hidden">"Restore"</span></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|c| {
                        let restore_label = format!("Restore {}", c.name);
                        let release_label = format!("Release the tenants of {}", c.name);
                        view! {
                            <tr>
                                <td class="name" data-label="Customer">
                                    <strong>{c.name.clone()}</strong>
                                    <span class="muted small-text">{c.primary_domain}</span>
                                </td>
                                <td data-label="Deleted">
                                    {format!("{} by {}", format_time(c.deleted_at), c.deleted_by)}
                                </td>
                                <td data-label="Purged after">{format_time(c.purge_after)}</td>
                                <td>
                                    <ActionForm action=restore attr:class="inline-form">
                                        <input type="hidden" name="customer_id" value=c.id />
                                        <button
                                            type="submit"
                                            aria-label=restore_label
                                            disabled=move || restore.pending().get()
                                        >
                                            "Restore"
                                        </button>
                                    </ActionForm>
                                    <ActionForm action=release attr:class="inline-form">
                                        <input type="hidden" name="customer_id" value=c.id />
                                        <button
                                            type="submit"
                                            aria-label=release_label
                                            title="Unlink its tenants so other customers may link them"
                                            disabled=move || release.pending().get()
                                        >
                                            "Release tenants"
                                        </button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
