//! The settings pages outside a customer: the global defaults (`/settings/defaults`, admin) and
//! the override matrix (`/settings/overrides`, admin and reader).

use crate::components::data;
use crate::{
    api::configuration::{
        get_global_defaults, get_override_matrix, RevertOverrides, SaveGlobalDefault,
    },
    components::{
        action_error, after_success, refetch_after, use_feedback, Confirm, ErrorMessage,
        FieldMessage, FocusPoint, FormMessage, HelpTip, ValueEditor, PAGE_HEADING,
    },
    model::{count_of, format_time, OverrideMatrix, SettingView, MATRIX_MAX_ROWS},
    pages::{by_category, dom_id},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

/// `/settings/defaults`: every setting's global default; `?edit=KEY` opens its editor.
#[component]
pub fn GlobalDefaultsPage() -> impl IntoView {
    let save = ServerAction::<SaveGlobalDefault>::new();
    let saved = refetch_after(save);
    let defaults = data(move || saved.get(), |_| get_global_defaults());
    after_success(save, |s: &SettingView| Some(dom_id("change", &s.key)));
    view! {
        <Title text="Global defaults" />
        <h1 tabindex="-1">"Global defaults"</h1>
        <p class="muted intro">
            "The value every customer gets unless it is overridden for that customer. A change applies at once to every customer without an override; overrides stay."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match defaults.await {
                    Ok(page) => {
                        let can_edit = page.can_edit;
                        let list = by_category(page.settings)
                            .into_iter()
                            .map(|(category, settings)| {
                                view! {
                                    <section class="setting-category card">
                                        <h2>{category}</h2>
                                        <ul class="settings">
                                            {settings
                                                .into_iter()
                                                .map(|setting| view! { <DefaultItem setting can_edit save /> })
                                                .collect_view()}
                                        </ul>
                                    </section>
                                }
                            })
                            .collect_view();
                        view! {
                            {list}
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
fn DefaultItem(
    setting: SettingView,
    can_edit: bool,
    save: ServerAction<SaveGlobalDefault>,
) -> impl IntoView {
    let query = use_query_map();
    let key = setting.key.clone();
    let anchor = dom_id("setting", &key);
    let editing = {
        let key = key.clone();
        move || can_edit && query.read().get("edit").as_deref() == Some(key.as_str())
    };
    let edit_href = format!("/settings/defaults?edit={key}#{anchor}");
    let close_href = format!("/settings/defaults#{anchor}");
    let label = setting.label.clone();
    let changed = if setting.changed_at == 0 {
        "The catalog's default: not changed here yet".to_owned()
    } else {
        format!(
            "Last changed by {} · {}",
            setting.changed_by,
            format_time(setting.changed_at)
        )
    };
    let change_id = dom_id("change", &key);
    let feedback = use_feedback();
    let setting = StoredValue::new(setting);
    let error = action_error(save);
    view! {
        <li class="setting" id=anchor.clone() data-key=key.clone()>
            <div class="setting-head">
                <span class="setting-label">{label.clone()}</span>
                <HelpTip label=label.clone() help=setting.with_value(|s| s.help.clone()) id=dom_id("help", &key) />
            </div>
            <div class="setting-value">
                <span class="value">{setting.with_value(|s| s.value_display.clone())}</span>
            </div>
            <p class="muted small-text">{changed}</p>
            {move || {
                if editing() {
                    let s = setting.get_value();
                    let close_href = close_href.clone();
                    let target = change_id.clone();
                    let on_cancel = move |_| {
                        if let Some(f) = feedback {
                            f.request_focus(target.clone());
                        }
                    };
                    view! {
                        <ActionForm action=save attr:class="form setting-editor" attr:novalidate=true>
                            <input type="hidden" name="key" value=s.key.clone() />
                            <input type="hidden" name="version" value=s.default_version />
                            <ValueEditor
                                kind=s.kind.clone()
                                value=s.value.clone()
                                id=dom_id("value", &s.key)
                                label=format!("New default for {}", s.label)
                                server_error=error
                            />
                            <FormMessage error />
                            <div class="form-actions">
                                <button type="submit" class="primary" disabled=move || save.pending().get()>
                                    "Save"
                                </button>
                                <a
                                    class="button"
                                    href=close_href.clone()
                                    on:click=on_cancel
                                >
                                    "Cancel"
                                </a>
                            </div>
                        </ActionForm>
                    }
                        .into_any()
                } else if can_edit {
                    view! {
                        <div class="setting-actions">
                            <a class="button" id=change_id.clone() href=edit_href.clone() aria-label=format!("Change default of {label}")>
                                "Change"
                            </a>
                            <FocusPoint />
                        </div>
                    }
                        .into_any()
                } else {
                    ().into_any()
                }
            }}
        </li>
    }
}

/// `/settings/overrides`: which customers override which setting, filtered by setting,
/// category and customer tag; an admin reverts a selection in one action.
#[component]
pub fn OverrideMatrixPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    let (setting, category, tag) = (param("setting"), param("category"), param("tag"));
    let revert = ServerAction::<RevertOverrides>::new();
    let reverted = refetch_after(revert);
    after_success(revert, |_| Some(PAGE_HEADING.to_owned()));
    let matrix = data(
        move || (setting(), category(), tag(), reverted.get()),
        |(setting, category, tag, _)| get_override_matrix(setting, category, tag),
    );
    view! {
        <Title text="Override matrix" />
        <h1 tabindex="-1">"Override matrix"</h1>
        <p class="muted intro">"Which customers override which setting, and with what value."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading overrides…"</p> }>
            {move || Suspend::new(async move {
                match matrix.await {
                    Ok(m) => view! {
                        <MatrixFilters matrix=m.clone() setting=setting() category=category() tag=tag() />
                        <MatrixTable
                            matrix=m
                            revert
                            setting=setting()
                            category=category()
                            tag=tag()
                            selected=query.read().get_all("select").unwrap_or_default()
                            asking=query.read().get("confirm").is_some()
                        />
                        <FocusPoint />
                    }
                    .into_any(),
                    Err(error) => view! {
                        <MatrixFilters matrix=OverrideMatrix {
                            rows: vec![], truncated: false, settings: vec![], categories: vec![], can_revert: false,
                        } setting=setting() category=category() tag=tag() />
                        <ErrorMessage error />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MatrixFilters(
    matrix: OverrideMatrix,
    setting: String,
    category: String,
    tag: String,
) -> impl IntoView {
    view! {
        <Form method="GET" action="/settings/overrides" attr:class="filters card">
            <div class="field">
                <label for="filter-setting">"Setting"</label>
                <select id="filter-setting" name="setting">
                    <option value="" selected=setting.is_empty()>"Any setting"</option>
                    {matrix
                        .settings
                        .into_iter()
                        .map(|s| {
                            let selected = s.key == setting;
                            view! {
                                <option value=s.key selected=selected>
                                    {format!("{} — {}", s.category, s.label)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-category">"Category"</label>
                <select id="filter-category" name="category">
                    <option value="" selected=category.is_empty()>"Any category"</option>
                    {matrix
                        .categories
                        .into_iter()
                        .map(|c| {
                            let selected = c == category;
                            view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-tag">"Customer tag"</label>
                <input id="filter-tag" name="tag" value=tag placeholder="Name=Value, e.g. Region=North" />
            </div>
            <div class="form-actions">
                <button type="submit" class="primary">"Filter"</button>
                <a class="button" href="/settings/overrides">"Clear"</a>
            </div>
        </Form>
    }
}

/// The override rows, with (for an admin) a checkbox each. Reverting the selection asks first:
/// the selection form is a GET to this page with `confirm=1` and the selected rows (`select`),
/// which shows the question with the count; the answer posts the revert.
#[component]
fn MatrixTable(
    matrix: OverrideMatrix,
    revert: ServerAction<RevertOverrides>,
    setting: String,
    category: String,
    tag: String,
    /// The rows ticked (`select`), and whether the person asked to revert them (`confirm`).
    selected: Vec<String>,
    asking: bool,
) -> impl IntoView {
    let error = action_error(revert);
    if matrix.rows.is_empty() {
        return view! { <p class="empty">"No customer overrides a setting that matches these filters."</p> }
            .into_any();
    }
    let can_revert = matrix.can_revert;
    let count = matrix.rows.len();
    let truncated = matrix.truncated.then(|| {
        view! { <p class="muted">{format!("Showing the first {MATRIX_MAX_ROWS}; narrow the filters to see the rest.")}</p> }
    });
    let rows = matrix
        .rows
        .into_iter()
        .map(|row| {
            let item = format!("{}:{}:{}", row.customer_id, row.setting_key, row.version);
            let checked = selected.contains(&item);
            let check_label = format!("Select {} of {}", row.setting_label, row.customer_name);
            view! {
                <tr>
                    {can_revert
                        .then(|| {
                            view! {
                                <td class="select">
                                    // The label makes the whole 44 x 44 cell the target.
                                    <label class="check-target">
                                        <input type="checkbox" name="select" value=item checked=checked prop:checked=checked aria-label=check_label />
                                    </label>
                                </td>
                            }
                        })}
                    <td class="name" data-label="Customer">
                        <a href=format!("/customers/{}/configuration#{}", row.customer_id, dom_id("setting", &row.setting_key))>
                            {row.customer_name}
                        </a>
                    </td>
                    <td data-label="Setting">{row.setting_label} <span class="muted small-text">" · "{row.category}</span></td>
                    <td data-label="Override"><strong>{row.value_display}</strong></td>
                    <td data-label="Global default">{row.default_display}</td>
                </tr>
            }
        })
        .collect_view();
    let table = view! {
        <table class="matrix">
            <thead>
                <tr>
                    {can_revert.then(|| view! { <th scope="col"><span class="visually-hidden">"Select"</span></th> })}
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Setting"</th>
                    <th scope="col">"Override"</th>
                    <th scope="col">"Global default"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    };
    let summary = format!("{} in force", count_of(count, "override", "overrides"));
    if !can_revert {
        return view! {
            <p class="muted">{summary}</p>
            {truncated}
            {table}
        }
        .into_any();
    }
    let filters_href = {
        let mut pairs = Vec::new();
        for (name, value) in [
            ("setting", &setting),
            ("category", &category),
            ("tag", &tag),
        ] {
            if !value.is_empty() {
                pairs.push(format!(
                    "{name}={}",
                    leptos_router::location::Url::escape(value)
                ));
            }
        }
        if pairs.is_empty() {
            "/settings/overrides".to_owned()
        } else {
            format!("/settings/overrides?{}", pairs.join("&"))
        }
    };
    let filter_values = (setting.clone(), category.clone(), tag.clone());
    let question = match (asking, selected.len()) {
        (false, _) => None,
        (true, 0) => Some(
            view! {
                <p class="field-error" id="select-error" role="alert">
                    "Select at least one override to revert."
                </p>
            }
            .into_any(),
        ),
        (true, n) => Some(
            view! {
                <ActionForm action=revert attr:class="bulk-revert">
                    {selected
                        .iter()
                        .enumerate()
                        .map(|(i, item)| view! { <input type="hidden" name=format!("items[{i}]") value=item.clone() /> })
                        .collect_view()}
                    <input type="hidden" name="setting" value=filter_values.0 />
                    <input type="hidden" name="category" value=filter_values.1 />
                    <input type="hidden" name="tag" value=filter_values.2 />
                    <FieldMessage error field="items" id="items-error" />
                    <FormMessage error />
                    <Confirm
                        yes=format!("Yes, revert {}", count_of(n, "override", "overrides"))
                        cancel_href=filters_href.clone()
                        return_focus="revert-selected"
                        pending=revert.pending()
                    >
                        {format!(
                            "Revert {} to the global default? The customers lose these values; each one's history keeps them.",
                            count_of(n, "selected override", "selected overrides")
                        )}
                    </Confirm>
                </ActionForm>
            }
            .into_any(),
        ),
    };
    view! {
        <p class="muted">{summary}</p>
        {truncated}
        {question}
        <Form method="GET" action="/settings/overrides" attr:class="matrix-form">
            <input type="hidden" name="setting" value=setting />
            <input type="hidden" name="category" value=category />
            <input type="hidden" name="tag" value=tag />
            {table}
            <button type="submit" id="revert-selected" class="danger" name="confirm" value="1">
                "Revert selected to the global default…"
            </button>
        </Form>
    }
    .into_any()
}
