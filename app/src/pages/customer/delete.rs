//! `/customers/{id}/delete`: Delete Customer. What goes with the customer, then its name typed
//! back to delete it from the portal (never from Partner Center). Works without JavaScript.

use super::customer_id_param;
use crate::components::data;
use crate::{
    api::customers::{get_deletion_preview, DeleteCustomer},
    components::{action_error, ErrorMessage, FieldMessage, FocusPoint, FormMessage},
    model::{count_of, DeletionPreview, Permission},
};
use leptos::prelude::*;

#[component]
pub fn DeleteSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let delete = ServerAction::<DeleteCustomer>::new();
    let preview = data(move || id.get(), get_deletion_preview);
    view! {
        <h2 id="page-heading" tabindex="-1">"Delete Customer"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Ok(preview) => view! { <DeleteForm preview delete /> <FocusPoint /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeleteForm(preview: DeletionPreview, delete: ServerAction<DeleteCustomer>) -> impl IntoView {
    let goes = [
        count_of(preview.tenants as usize, "tenant link", "tenant links"),
        count_of(preview.billed_rows as usize, "billed row", "billed rows"),
        count_of(preview.tags as usize, "tag", "tags"),
        count_of(
            preview.account_managers as usize,
            "account manager",
            "account managers",
        ),
        count_of(
            preview.overrides as usize,
            "configuration override",
            "configuration overrides",
        ),
        count_of(
            preview.billing_links as usize,
            "billing profile link",
            "billing profile links",
        ),
    ];
    let about = view! {
        <p>
            "Deleting removes the customer from the portal only: its Microsoft Partner Center account is not touched, and nothing is sent to Partner Center."
        </p>
        <p>
            {format!(
                "It leaves every list, search, report, the override matrix, sync jobs and Help Desk scopes at once. A System Admin can restore it as it was for {} days; then it is removed for good. Its tenants stay linked to it until then.",
                preview.retention_days
            )}
        </p>
        <h3>"What goes with it"</h3>
        <ul data-testid="deletion-list">
            {goes.into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}
        </ul>
    };
    if !preview.can_delete {
        return view! {
            {about}
            <p class="read-only-note" data-testid="read-only">
                {format!(
                    "Only {} can delete a customer.",
                    Permission::DeleteCustomers.granted_to()
                )}
            </p>
        }
        .into_any();
    }
    let error = action_error(delete);
    let invalid = move || {
        error
            .get()
            .is_some_and(|e| e.field_message("confirm_name").is_some())
            .then_some("true")
    };
    view! {
        {about}
        <ActionForm action=delete attr:class="card stack-form delete-form">
            <input type="hidden" name="customer_id" value=preview.customer_id />
            <div class="field">
                <label for="confirm-name">
                    {format!("Type the customer's name, {}, to delete it", preview.name)}
                </label>
                <input
                    id="confirm-name"
                    name="confirm_name"
                    autocomplete="off"
                    required
                    aria-invalid=invalid
                    aria-describedby="confirm-name-error"
                />
                <FieldMessage error field="confirm_name" id="confirm-name-error" />
            </div>
            <FormMessage error />
            <div class="form-actions">
                <button type="submit" class="danger" disabled=move || delete.pending().get()>
                    "Delete customer"
                </button>
                <a class="button" href=format!("/customers/{}", preview.customer_id)>"Cancel"</a>
            </div>
        </ActionForm>
    }
    .into_any()
}
