//! `/customers/{id}/configuration`: Customer Configuration. Which setting is being edited,
//! reverted or shown with its history is in the URL (`?edit=`, `?revert=`, `?history=`), so
//! every step is a link or a plain form and works without JavaScript.

use super::customer_id_param;
use crate::components::{data, loaded, Data};
use crate::pages::{by_category, dom_id};
use crate::{
    api::configuration::{
        get_configuration, get_setting_history, RestoreSetting, RevertOverride, SaveOverride,
    },
    components::{
        action_error, after_success, refetch_after, use_feedback, Confirm, ErrorMessage,
        FocusPoint, FormMessage, HelpTip, SourceBadge, ValueEditor,
    },
    error::AppError,
    model::{count_of, format_time, Permission, SettingHistory, SettingView, ValueSource},
};
use leptos::{html, prelude::*};
use leptos_router::{
    components::Form,
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// Which setting the address opens, and how (`?edit=`, `?revert=`, `?history=`): read once
/// for the page, not once per row.
#[derive(Clone, PartialEq, Default)]
struct Selected {
    edit: Option<String>,
    revert: Option<String>,
    history: Option<String>,
}

impl Selected {
    fn mode_of(&self, key: &str) -> Mode {
        let is = |named: &Option<String>| named.as_deref() == Some(key);
        if is(&self.edit) {
            Mode::Edit
        } else if is(&self.revert) {
            Mode::ConfirmRevert
        } else if is(&self.history) {
            Mode::History
        } else {
            Mode::View
        }
    }
}

/// What every row of the page shares.
#[derive(Clone, Copy)]
struct RowContext {
    customer_id: i64,
    can_edit: bool,
    actions: Actions,
    history: HistoryResource,
    selected: Memo<Selected>,
}

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveOverride>,
    revert: ServerAction<RevertOverride>,
    restore: ServerAction<RestoreSetting>,
}

/// The history of the setting named by `?history=`, if any. Made once by the page, before any
/// `Suspend`: a resource made inside a suspended child is made in another order on the server
/// than in the browser, and hydration then reads another resource's data (and panics).
type HistoryResource = Data<Result<Option<SettingHistory>, AppError>>;

#[component]
pub fn ConfigurationSectionPage() -> impl IntoView {
    let id = customer_id_param();
    let actions = Actions {
        save: ServerAction::<SaveOverride>::new(),
        revert: ServerAction::<RevertOverride>::new(),
        restore: ServerAction::<RestoreSetting>::new(),
    };
    let (saved, reverted, restored) = (
        refetch_after(actions.save),
        refetch_after(actions.revert),
        refetch_after(actions.restore),
    );
    // After a change, focus returns to the setting's row.
    let row_button = |s: &SettingView| Some(dom_id("override", &s.key));
    after_success(actions.save, row_button);
    after_success(actions.revert, row_button);
    after_success(actions.restore, |s: &SettingView| {
        Some(dom_id("history", &s.key))
    });
    let section = data(
        move || (id.get(), saved.get(), reverted.get(), restored.get()),
        |(id, ..)| get_configuration(id),
    );
    let query = use_query_map();
    let history: HistoryResource = data(
        move || {
            (
                id.get(),
                query.read().get("history"),
                restored.get(),
                actions.save.version().get(),
            )
        },
        |(id, key, ..)| async move {
            match key {
                Some(key) => get_setting_history(id, key).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let filter = move || query.read().get("filter").unwrap_or_default();
    let selected = Memo::new(move |_| {
        let q = query.read();
        Selected {
            edit: q.get("edit"),
            revert: q.get("revert"),
            history: q.get("history"),
        }
    });
    view! {
        <h2 id="page-heading" tabindex="-1">
            "Customer Configuration"
        </h2>
        <p class="muted intro">
            "Each setting follows the global default unless it is overridden for this customer. Tap (i) for what a setting does."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading configuration…"</p> }>
            {move || Suspend::new(async move {
                match loaded(section).await {
                    Ok(section) => {
                        let can_edit = section.can_edit;
                        let customer_id = id.get_untracked();
                        let rows = RowContext { customer_id, can_edit, actions, history, selected };
                        let filter = filter();
                        let groups = by_category(section.settings);
                        let categories: Vec<String> = groups.iter().map(|(c, _)| c.clone()).collect();
                        let total: usize = groups.iter().map(|(_, s)| s.len()).sum();
                        let shown: Vec<(String, Vec<SettingView>)> = groups
                            .into_iter()
                            .map(|(c, list)| {
                                let list = list.into_iter().filter(|s| matches(s, &filter)).collect::<Vec<_>>();
                                (c, list)
                            })
                            .filter(|(_, list)| !list.is_empty())
                            .collect();
                        let count: usize = shown.iter().map(|(_, s)| s.len()).sum();
                        let summary = if filter.trim().is_empty() {
                            count_of(total, "setting", "settings")
                        } else {
                            format!("{} of {total} match “{}”", count_of(count, "setting", "settings"), filter.trim())
                        };
                        let list = if shown.is_empty() {
                            view! { <p class="empty">{format!("No setting matches “{}”.", filter.trim())}</p> }.into_any()
                        } else {
                            shown
                                .into_iter()
                                .map(|(category, settings)| {
                                    view! { <Category category settings rows /> }
                                })
                                .collect_view()
                                .into_any()
                        };
                        view! {
                            {(!can_edit).then(|| view! {
                                <p class="read-only-note" data-testid="read-only">
                                    {format!(
                                        "You can view this customer's configuration; changes need {}.",
                                        Permission::EditConfiguration.granted_to()
                                    )}
                                </p>
                            })}
                            <SettingsFinder customer_id categories filter=filter.clone() summary />
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

/// Whether a setting matches the filter box: its name, key, category or help text contains
/// every word typed, ignoring case.
fn matches(setting: &SettingView, filter: &str) -> bool {
    if filter.trim().is_empty() {
        return true;
    }
    let text = format!(
        "{} {} {} {}",
        setting.label, setting.key, setting.category, setting.help
    )
    .to_lowercase();
    filter
        .to_lowercase()
        .split_whitespace()
        .all(|word| text.contains(word))
}

/// The id of a category's heading, for the jump links.
fn category_anchor(category: &str) -> String {
    let slug: String = category
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("category-{slug}")
}

/// The filter box (a GET form: `?filter=`; with JavaScript it filters as the person types)
/// and the links that jump to a category.
#[component]
fn SettingsFinder(
    customer_id: i64,
    categories: Vec<String>,
    filter: String,
    summary: String,
) -> impl IntoView {
    let navigate = use_navigate();
    let action = format!("/customers/{customer_id}/configuration");
    let path = action.clone();
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        let href = if text.trim().is_empty() {
            path.clone()
        } else {
            format!(
                "{path}?filter={}",
                leptos_router::location::Url::escape(&text)
            )
        };
        navigate(
            &href,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    view! {
        <div class="finder">
            <Form method="GET" action=action attr:class="search" attr:role="search">
                <label for="settings-filter" class="visually-hidden">
                    "Filter settings"
                </label>
                <input
                    id="settings-filter"
                    type="search"
                    name="filter"
                    placeholder="Filter settings, e.g. invoice"
                    value=filter
                    autocomplete="off"
                    on:input=on_input
                />
                <button type="submit">"Filter"</button>
            </Form>
            <p class="muted small-text" data-testid="settings-count" aria-live="polite">{summary}</p>
            <nav class="jump" aria-label="Jump to a category">
                {categories
                    .into_iter()
                    .map(|c| view! { <a href=format!("#{}", category_anchor(&c))>{c.clone()}</a> })
                    .collect_view()}
            </nav>
        </div>
    }
}

#[component]
fn Category(category: String, settings: Vec<SettingView>, rows: RowContext) -> impl IntoView {
    view! {
        <section class="setting-category">
            <h3 id=category_anchor(&category)>{category.clone()}</h3>
            <ul class="settings">
                {settings
                    .into_iter()
                    .map(|setting| view! { <SettingItem setting rows /> })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn SettingItem(setting: SettingView, rows: RowContext) -> impl IntoView {
    let RowContext {
        customer_id,
        can_edit,
        actions,
        history,
        selected,
    } = rows;
    let key = setting.key.clone();
    let mode = {
        let key = key.clone();
        move || selected.with(|s| s.mode_of(&key))
    };
    let base = format!("/customers/{customer_id}/configuration");
    let anchor = dom_id("setting", &key);
    let overridden = setting.source == ValueSource::Overridden;
    let replaces = overridden.then(|| {
        view! {
            <p class="replaces">
                "Replaces the global default: " <span class="default-value">{setting.default_display.clone()}</span>
            </p>
        }
    });
    let edit_href = format!("{base}?edit={key}#{anchor}");
    let revert_href = format!("{base}?revert={key}#{anchor}");
    let history_href = format!("{base}?history={key}#{anchor}");
    let close_href = format!("{base}#{anchor}");
    let override_label = if overridden { "Edit" } else { "Override" };
    let label = setting.label.clone();
    let setting = StoredValue::new(setting);
    let (override_id, revert_id, history_id) = (
        dom_id("override", &key),
        dom_id("revert", &key),
        dom_id("history", &key),
    );
    view! {
        <li
            class="setting"
            class:is-overridden=overridden
            id=anchor.clone()
            data-key=key.clone()
        >
            <div class="setting-head">
                <span class="setting-label">{label.clone()}</span>
                <HelpTip
                    label=label.clone()
                    help=setting.with_value(|s| s.help.clone())
                    id=dom_id("help", &key)
                />
            </div>
            <div class="setting-value">
                <span class="value">{setting.with_value(|s| s.value_display.clone())}</span>
                <SourceBadge source=setting.with_value(|s| s.source) />
            </div>
            {replaces}
            {
                move || match mode() {
                Mode::Edit if can_edit => {
                    view! { <OverrideForm customer_id setting=setting.get_value() close_href=close_href.clone() actions return_focus=override_id.clone() /> }
                        .into_any()
                }
                Mode::ConfirmRevert if can_edit && overridden => {
                    view! { <RevertConfirm customer_id setting=setting.get_value() close_href=close_href.clone() actions return_focus=revert_id.clone() /> }
                        .into_any()
                }
                Mode::History => {
                    view! { <History customer_id history close_href=close_href.clone() can_edit actions return_focus=history_id.clone() /> }
                        .into_any()
                }
                _ => {
                    view! {
                        <div class="setting-actions">
                            {can_edit
                                .then(|| {
                                    view! {
                                        <a class="button" id=override_id.clone() href=edit_href.clone() aria-label=format!("{override_label} {label}")>
                                            {override_label}
                                        </a>
                                    }
                                })}
                            {(can_edit && overridden)
                                .then(|| {
                                    view! {
                                        <a class="button danger" id=revert_id.clone() href=revert_href.clone() aria-label=format!("Revert {label}")>
                                            "Revert"
                                        </a>
                                    }
                                })}
                            <a class="button quiet" id=history_id.clone() href=history_href.clone() aria-label=format!("History of {label}")>
                                "History"
                            </a>
                            <FocusPoint />
                        </div>
                    }
                        .into_any()
                }
            }
            }
        </li>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    View,
    Edit,
    ConfirmRevert,
    History,
}

/// The hidden fields that name the override a form changes, and the version it was shown at.
#[component]
fn SettingTarget(customer_id: i64, key: String, version: i64) -> impl IntoView {
    view! {
        <input type="hidden" name="customer_id" value=customer_id />
        <input type="hidden" name="key" value=key />
        <input type="hidden" name="version" value=version />
    }
}

/// Focus goes back to `target` when the person follows this link (with JavaScript).
fn return_focus_on_click(target: String) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static {
    let feedback = use_feedback();
    move |_| {
        if let Some(feedback) = feedback {
            feedback.request_focus(target.clone());
        }
    }
}

#[component]
fn OverrideForm(
    customer_id: i64,
    setting: SettingView,
    close_href: String,
    actions: Actions,
    return_focus: String,
) -> impl IntoView {
    let error = action_error(actions.save);
    let id = dom_id("value", &setting.key);
    // Opening the editor puts the cursor in its input.
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        if let Some(form) = form.get() {
            focus_first_input(&form);
        }
    });
    view! {
        <ActionForm action=actions.save node_ref=form attr:class="form setting-editor" attr:novalidate=true>
            <SettingTarget customer_id key=setting.key.clone() version=setting.override_version />
            <ValueEditor
                kind=setting.kind.clone()
                value=setting.value.clone()
                id
                label=format!("New value for {}", setting.label)
                server_error=error
            />
            <FormMessage error />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || actions.save.pending().get()>
                    "Save"
                </button>
                <a class="button" href=close_href on:click=return_focus_on_click(return_focus)>
                    "Cancel"
                </a>
            </div>
        </ActionForm>
    }
}

/// Focuses the first input, select or textarea of `form`.
fn focus_first_input(form: &leptos::web_sys::HtmlFormElement) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = form
            .query_selector("input:not([type=hidden]), select, textarea")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = input.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = form;
}

#[component]
fn RevertConfirm(
    customer_id: i64,
    setting: SettingView,
    close_href: String,
    actions: Actions,
    return_focus: String,
) -> impl IntoView {
    let error = action_error(actions.revert);
    view! {
        <ActionForm action=actions.revert>
            <SettingTarget customer_id key=setting.key.clone() version=setting.override_version />
            <FormMessage error />
            <Confirm
                yes="Yes, revert".to_owned()
                cancel_href=close_href
                return_focus
                pending=actions.revert.pending()
            >
                "Revert “"
                {setting.label.clone()}
                "” to the global default ("
                <strong>{setting.default_display.clone()}</strong>
                ")? The override "
                <strong>{setting.value_display.clone()}</strong>
                " is removed."
            </Confirm>
        </ActionForm>
    }
}

#[component]
fn History(
    customer_id: i64,
    history: HistoryResource,
    close_href: String,
    can_edit: bool,
    actions: Actions,
    return_focus: String,
) -> impl IntoView {
    let error = action_error(actions.restore);
    view! {
        <div class="history">
            <div class="history-head">
                <h4>"History"</h4>
                <a href=close_href on:click=return_focus_on_click(return_focus)>"Close"</a>
            </div>
            <FormMessage error />
            <Transition fallback=|| view! { <p class="muted">"Loading history…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(history)) if history.entries.is_empty() => {
                            view! { <p class="empty">"Never changed for this customer."</p> }.into_any()
                        }
                        Ok(Some(history)) => {
                            let version = history.setting.override_version;
                            let key = history.setting.key.clone();
                            view! {
                                <ol class="history-list">
                                    {history
                                        .entries
                                        .into_iter()
                                        .map(|entry| {
                                            let key = key.clone();
                                            let restore_label = format!("Restore {}", entry.after);
                                            let restore = (can_edit && entry.restorable)
                                                .then(|| {
                                                    view! {
                                                        <ActionForm action=actions.restore attr:class="inline">
                                                            <SettingTarget customer_id key=key.clone() version />
                                                            <input type="hidden" name="history_id" value=entry.id />
                                                            <button
                                                                type="submit"
                                                                class="small"
                                                                aria-label=restore_label
                                                            >
                                                                "Restore"
                                                            </button>
                                                        </ActionForm>
                                                    }
                                                });
                                            view! {
                                                <li>
                                                    <div>
                                                        <strong>{entry.action}</strong>
                                                        " · "
                                                        <span class="change">
                                                            {entry.before} " → " {entry.after.clone()}
                                                        </span>
                                                    </div>
                                                    <div class="muted small-text">
                                                        {entry.actor_email} " · " {format_time(entry.at)}
                                                    </div>
                                                    {restore}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ol>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
