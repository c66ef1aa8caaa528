//! Widgets for settings: the (i) help text, the value-source badge, and the typed value editor
//! that validates in the browser with the same parser the server uses.

use crate::{
    error::AppError,
    model::{SettingKind, ValueSource},
};
use leptos::prelude::*;

/// An (i) that opens its help text on tap, click, Enter or Space: a `<details>`, so it opens
/// on every engine without JavaScript and without relying on a button taking focus. With
/// JavaScript it also opens while a mouse hovers it (the text itself can be hovered) and
/// closes with Escape (see `Feedback`). On a phone the text opens above the setting, so it
/// never covers the value it explains.
#[component]
pub fn HelpTip(label: String, help: String, id: String) -> impl IntoView {
    let details = NodeRef::<leptos::html::Details>::new();
    let opened_by_hover = StoredValue::new(false);
    let set_open = move |open: bool| {
        if let Some(details) = details.get_untracked() {
            details.set_open(open);
        }
    };
    let is_open = move || details.get_untracked().is_some_and(|d| d.open());
    let enter = move |ev: leptos::ev::PointerEvent| {
        if ev.pointer_type() == "mouse" && !is_open() {
            opened_by_hover.set_value(true);
            set_open(true);
        }
    };
    let leave = move |ev: leptos::ev::PointerEvent| {
        if ev.pointer_type() == "mouse" && opened_by_hover.get_value() {
            opened_by_hover.set_value(false);
            set_open(false);
        }
    };
    // A click while it is open because of hover keeps it open (the click is the person's).
    let toggled = move |_| {
        if opened_by_hover.get_value() && !is_open() {
            opened_by_hover.set_value(false);
        }
    };
    let click = move |ev: leptos::ev::MouseEvent| {
        if opened_by_hover.get_value() {
            ev.prevent_default();
            opened_by_hover.set_value(false);
        }
    };
    view! {
        <details
            class="help"
            node_ref=details
            on:pointerenter=enter
            on:pointerleave=leave
            on:toggle=toggled
        >
            <summary class="help-icon" aria-label=format!("About {label}") aria-describedby=id.clone() on:click=click>
                "i"
            </summary>
            <span class="tip" role="tooltip" id=id>
                {help}
            </span>
        </details>
    }
}

/// "Overridden" or "Global default", visually distinct.
#[component]
pub fn SourceBadge(source: ValueSource) -> impl IntoView {
    match source {
        ValueSource::Overridden => view! { <span class="badge overridden">"Overridden"</span> },
        ValueSource::GlobalDefault => view! { <span class="badge default">"Global default"</span> },
    }
}

/// The input for a value of `kind`, named `value`, with its hint and its message. While the
/// person types, the browser checks the input with the setting's own parser and shows the
/// reason at once; after a submit, the server's message is shown.
#[component]
pub fn ValueEditor(
    kind: SettingKind,
    /// The value the editor starts with (canonical text).
    value: String,
    /// Element id of the input; the message is `{id}-error`.
    id: String,
    label: String,
    #[prop(into)] server_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let client_error = RwSignal::new(None::<String>);
    let count = RwSignal::new(value.chars().count());
    let check = {
        let kind = kind.clone();
        move |input: String| {
            count.set(input.chars().count());
            client_error.set(kind.parse(&input).err());
        }
    };
    let error_id = format!("{id}-error");
    let message = move || {
        client_error.get().or_else(|| {
            server_error
                .get()
                .and_then(|e| e.field_message("value").map(str::to_owned))
        })
    };
    let invalid = move || message().is_some().to_string();
    let hint = kind.hint();
    let kind_for_label = kind.clone();
    let input = match kind.clone() {
        SettingKind::Boolean => view! {
            <label class="checkbox">
                <input
                    type="checkbox"
                    id=id.clone()
                    name="value"
                    value="true"
                    checked=value == "true"
                    aria-describedby=error_id.clone()
                />
                {label.clone()}
            </label>
        }
        .into_any(),
        SettingKind::Choice { options } => view! {
            <select id=id.clone() name="value" aria-describedby=error_id.clone()>
                {options
                    .into_iter()
                    .map(|o| {
                        let selected = o.value == value;
                        view! {
                            <option value=o.value selected=selected>
                                {o.label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
        .into_any(),
        SettingKind::Integer { min, max } => view! {
            <input
                type="number"
                id=id.clone()
                name="value"
                value=value.clone()
                min=min
                max=max
                step="1"
                inputmode="numeric"
                aria-invalid=invalid
                aria-describedby=error_id.clone()
                on:input=move |ev| check(event_target_value(&ev))
            />
        }
        .into_any(),
        SettingKind::EmailList { .. }
        | SettingKind::Text {
            multiline: true, ..
        } => view! {
            <textarea
                id=id.clone()
                name="value"
                rows="3"
                aria-invalid=invalid
                aria-describedby=error_id.clone()
                on:input=move |ev| check(event_target_value(&ev))
            >
                {value.clone()}
            </textarea>
        }
        .into_any(),
        other => {
            let (input_type, mode) = match other {
                SettingKind::Email => ("email", "email"),
                SettingKind::Url => ("url", "url"),
                SettingKind::Decimal { .. } => ("text", "decimal"),
                _ => ("text", "text"),
            };
            view! {
                <input
                    type=input_type
                    inputmode=mode
                    id=id.clone()
                    name="value"
                    value=value.clone()
                    autocomplete="off"
                    aria-invalid=invalid
                    aria-describedby=error_id.clone()
                    on:input=move |ev| check(event_target_value(&ev))
                />
            }
            .into_any()
        }
    };
    let counter = match kind {
        SettingKind::Text { max_chars, .. } => Some(view! {
            <p class="counter" class:over=move || { count.get() > max_chars }>
                {move || format!("{} / {max_chars} characters", count.get())}
            </p>
        }),
        _ => None,
    };
    let visible_label = (!matches!(kind_for_label, SettingKind::Boolean))
        .then(|| view! { <label for=id.clone()>{label.clone()}</label> });
    view! {
        <div class="field">
            {visible_label}
            {input}
            <p class="hint">{hint}</p>
            {counter}
            {move || {
                message()
                    .map(|m| {
                        view! {
                            <p class="field-error" id=error_id.clone() role="alert">
                                {m}
                            </p>
                        }
                    })
            }}
        </div>
    }
}
