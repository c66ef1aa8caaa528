use super::customer_id_param;
use crate::{
    api::tags::{get_tags, AddTag, RemoveTag},
    components::{action_error, ErrorMessage, FieldMessage, FormMessage},
    model::{Tag, TAG_NAME_MAX_CHARS},
};
use leptos::{html, prelude::*};

/// `/customers/{id}/tags`: Define Tags.
#[component]
pub fn TagsSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let add = ServerAction::<AddTag>::new();
    let remove = ServerAction::<RemoveTag>::new();
    let section = Resource::new(
        move || (id.get(), add.version().get(), remove.version().get()),
        |(id, _, _)| get_tags(id),
    );
    view! {
        <h2>"Define Tags"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading tags…"</p> }>
            {move || Suspend::new(async move {
                match section.await {
                    Ok(section) => {
                        view! {
                            <TagList tags=section.tags can_edit=section.can_edit remove />
                            {section
                                .can_edit
                                .then(|| view! { <AddTagForm customer_id=id.get_untracked() add /> })}
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
    let id = customer_id_param();
    let error = action_error(remove);
    view! {
        <FormMessage error />
        <ul class="tag-list">
            {tags
                .into_iter()
                .map(|tag| {
                    let label = format!("Remove tag {}", tag.name);
                    view! {
                        <li>
                            <span class="tag-name">{tag.name}</span>
                            <span class="tag-value">{tag.value}</span>
                            {can_edit
                                .then(|| {
                                    view! {
                                        <ActionForm action=remove attr:class="inline">
                                            <input type="hidden" name="customer_id" value=id.get_untracked() />
                                            <input type="hidden" name="tag_id" value=tag.id />
                                            <button type="submit" class="danger small" aria-label=label>
                                                "Remove"
                                            </button>
                                        </ActionForm>
                                    }
                                })}
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
                "Submit"
            </button>
        </ActionForm>
    }
}
