//! Widgets for settings: the (i) help text, the value-source badge, and the typed value editor
//! that validates in the browser with the same parser the server uses.

use crate::{
    error::AppError,
    model::{SettingKind, ValueSource},
};
use leptos::prelude::*;

/// An (i) button whose help text opens on hover, on keyboard focus and on tap (a tap focuses
/// the button). Pure CSS, so it works without JavaScript.
#[component]
pub fn HelpTip(label: String, help: String, id: String) -> impl IntoView {
    view! {
        <span class="help">
            <button
                type="button"
                class="help-icon"
                aria-label=format!("About {label}")
                aria-describedby=id.clone()
            >
                "i"
            </button>
            <span class="tip" role="tooltip" id=id>
                {help}
            </span>
        </span>
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
