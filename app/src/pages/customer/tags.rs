use super::customer_id_param;
use crate::components::data;
use crate::{
    api::tags::{get_tags, AddTag, RemoveTag},
    components::{
        action_error, after_success, refetch_after, Confirm, ErrorMessage, FieldMessage,
        FocusPoint, FormMessage, PAGE_HEADING,
    },
    model::{Permission, Tag, TAG_NAME_MAX_CHARS},
};
use leptos::{html, prelude::*};
use leptos_router::hooks::use_query_map;

/// `/customers/{id}/tags`: Define Tags. `?remove=TAG_ID` asks before removing a tag (tags
/// decide what Help Desk staff see).
#[component]
pub fn TagsSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let add = ServerAction::<AddTag>::new();
    let remove = ServerAction::<RemoveTag>::new();
    let (added, removed) = (refetch_after(add), refetch_after(remove));
    let section = data(
        move || (id.get(), added.get(), removed.get()),
        |(id, _, _)| get_tags(id),
    );
    // After a tag is added, the cursor waits in the name field of an empty form for the next.
    after_success(add, |_| Some("tag-name".to_owned()));
    after_success(remove, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <h2 id="page-heading" tabindex="-1">
            "Define Tags"
        </h2>
        <Transition fallback=|| view! { <p class="muted">"Loading tags…"</p> }>
            {move || Suspend::new(async move {
                match section.await {
                    Ok(section) => {
                        view! {
                            {(!section.can_edit).then(|| view! {
                                <p class="read-only-note" data-testid="read-only">
                                    {format!(
                                        "You can view this customer's tags; changing them needs {}.",
                                        Permission::EditTags.granted_to()
                                    )}
                                </p>
                            })}
                            <TagList tags=section.tags can_edit=section.can_edit remove />
                            {section
                                .can_edit
                                .then(|| view! { <AddTagForm customer_id=id.get_untracked() add /> })}
                            <FocusPoint />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TagList(tags: Vec<Tag>, can_edit: bool, remove: ServerAction<RemoveTag>) -> impl IntoView {
    if tags.is_empty() {
        return view! { <p class="empty">"This customer has no tags yet."</p> }.into_any();
    }
    let id = customer_id_param().get_untracked();
    let error = action_error(remove);
    let query = use_query_map();
    let base = format!("/customers/{id}/tags");
    view! {
        <FormMessage error />
        <ul class="tag-list">
            {tags
                .into_iter()
                .map(|tag| {
                    let label = format!("Remove tag {}", tag.name);
                    let button_id = format!("remove-tag-{}", tag.id);
                    let asking = {
                        let tag_id = tag.id.to_string();
                        move || can_edit && query.read().get("remove").as_deref() == Some(tag_id.as_str())
                    };
                    let remove_href = format!("{base}?remove={}#tag-{}", tag.id, tag.id);
                    let cancel_href = format!("{base}#tag-{}", tag.id);
                    let shown = format!("{}: {}", tag.name, tag.value);
                    view! {
                        <li id=format!("tag-{}", tag.id)>
                            <span class="tag-name">{tag.name}</span>
                            <span class="tag-value">{tag.value}</span>
                            {move || {
                                if asking() {
                                    let (cancel_href, button_id, shown) =
                                        (cancel_href.clone(), button_id.clone(), shown.clone());
                                    view! {
                                        <ActionForm action=remove attr:class="remove-tag">
                                            <input type="hidden" name="customer_id" value=id />
                                            <input type="hidden" name="tag_id" value=tag.id />
                                            <Confirm
                                                yes="Yes, remove".to_owned()
                                                cancel_href
                                                return_focus=button_id
                                                pending=remove.pending()
                                            >
                                                "Remove the tag “" <strong>{shown}</strong>
                                                "”? Help Desk staff whose scope is this tag no longer see this customer."
                                            </Confirm>
                                        </ActionForm>
                                    }
                                        .into_any()
                                } else if can_edit {
                                    view! {
                                        <a class="button danger small" id=button_id.clone() href=remove_href.clone() aria-label=label.clone()>
                                            "Remove"
                                        </a>
                                        <FocusPoint />
                                    }
                                        .into_any()
                                } else {
                                    ().into_any()
                                }
                            }}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn AddTagForm(customer_id: i64, add: ServerAction<AddTag>) -> impl IntoView {
    let error = action_error(add);
    let form = NodeRef::<html::Form>::new();
    // After a tag is added the form is emptied for the next one (the page reloads without JS).
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(form)) = (add.value().get(), form.get()) {
            form.reset();
        }
    });
    view! {
        <ActionForm action=add node_ref=form attr:class="form add-tag">
            <h3>"Add tag"</h3>
            <input type="hidden" name="customer_id" value=customer_id />
            <div class="field">
                <label for="tag-name">"Name"</label>
                <input id="tag-name" name="name" autocomplete="off" aria-describedby="tag-name-error" />
                <p class="hint">{format!("Up to {TAG_NAME_MAX_CHARS} characters, e.g. Region")}</p>
                <FieldMessage error field="name" id="tag-name-error" />
            </div>
            <div class="field">
                <label for="tag-value">"Value"</label>
                <input id="tag-value" name="value" autocomplete="off" aria-describedby="tag-value-error" />
                <FieldMessage error field="value" id="tag-value-error" />
            </div>
            <FormMessage error />
            <button type="submit" class="primary" disabled=move || add.pending().get()>
                "Add tag"
            </button>
        </ActionForm>
    }
}
