use super::customer_id_param;
use crate::components::data;
use crate::{
    api::account_managers::{get_account_managers, AssignAccountManager, UnassignAccountManager},
    components::{
        action_error, after_success, refetch_after, ErrorMessage, FieldMessage, FocusPoint,
        FormMessage, PAGE_HEADING,
    },
    model::{AccountManager, AccountManagersSection, Permission},
};
use leptos::prelude::*;

/// `/customers/{id}/account-managers`: Account Manager Details.
#[component]
pub fn AccountManagersSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let assign = ServerAction::<AssignAccountManager>::new();
    let unassign = ServerAction::<UnassignAccountManager>::new();
    let (assigned, unassigned) = (refetch_after(assign), refetch_after(unassign));
    let section = data(
        move || (id.get(), assigned.get(), unassigned.get()),
        |(id, _, _)| get_account_managers(id),
    );
    after_success(assign, |_| Some(PAGE_HEADING.to_owned()));
    after_success(unassign, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <h2 id="page-heading" tabindex="-1">
            "Account Manager Details"
        </h2>
        <Transition fallback=|| view! { <p class="muted">"Loading account managers…"</p> }>
            {move || Suspend::new(async move {
                match section.await {
                    Ok(section) => view! { <Managers section assign unassign /> <FocusPoint /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Managers(
    section: AccountManagersSection,
    assign: ServerAction<AssignAccountManager>,
    unassign: ServerAction<UnassignAccountManager>,
) -> impl IntoView {
    let id = customer_id_param().get_untracked();
    let can_assign = section.can_assign;
    let unassign_error = action_error(unassign);
    let assigned = if section.assigned.is_empty() {
        view! { <p class="empty">"No account manager is assigned to this customer."</p> }.into_any()
    } else {
        view! {
            <FormMessage error=unassign_error />
            <ul class="manager-cards">
                {section
                    .assigned
                    .into_iter()
                    .map(|m| view! { <ManagerCard manager=m customer_id=id can_assign unassign /> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let assign_form = (can_assign && !section.assignable.is_empty())
        .then(|| view! { <AssignForm customer_id=id assignable=section.assignable assign /> });
    let read_only = (!can_assign).then(|| {
        view! {
            <p class="read-only-note" data-testid="read-only">
                {format!(
                    "You can view this customer's account managers; assigning them needs {}.",
                    Permission::AssignAccountManagers.granted_to()
                )}
            </p>
        }
    });
    view! {
        {read_only}
        {assigned}
        {assign_form}
    }
}

#[component]
fn ManagerCard(
    manager: AccountManager,
    customer_id: i64,
    can_assign: bool,
    unassign: ServerAction<UnassignAccountManager>,
) -> impl IntoView {
    let label = format!("Unassign {}", manager.name);
    view! {
        <li class="card manager">
            <strong class="manager-name">{manager.name}</strong>
            <a href=format!("mailto:{}", manager.email)>{manager.email.clone()}</a>
            <a href=format!("tel:{}", manager.phone.replace(' ', ""))>{manager.phone.clone()}</a>
            {can_assign
                .then(|| {
                    view! {
                        <ActionForm action=unassign attr:class="inline">
                            <input type="hidden" name="customer_id" value=customer_id />
                            <input type="hidden" name="account_manager_id" value=manager.id />
                            <button type="submit" class="danger small" aria-label=label>
                                "Unassign"
                            </button>
                        </ActionForm>
                    }
                })}
        </li>
    }
}

#[component]
fn AssignForm(
    customer_id: i64,
    assignable: Vec<AccountManager>,
    assign: ServerAction<AssignAccountManager>,
) -> impl IntoView {
    let error = action_error(assign);
    view! {
        <ActionForm action=assign attr:class="form assign-manager">
            <h3>"Assign an account manager"</h3>
            <input type="hidden" name="customer_id" value=customer_id />
            <div class="field">
                <label for="account-manager">"Account manager"</label>
                <select
                    id="account-manager"
                    name="account_manager_id"
                    aria-describedby="account-manager-error"
                >
                    {assignable
                        .into_iter()
                        .map(|m| view! { <option value=m.id>{format!("{} ({})", m.name, m.email)}</option> })
                        .collect_view()}
                </select>
                <FieldMessage error field="account_manager_id" id="account-manager-error" />
            </div>
            <FormMessage error />
            <button type="submit" class="primary" disabled=move || assign.pending().get()>
                "Assign"
            </button>
        </ActionForm>
    }
}
