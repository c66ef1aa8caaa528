//! The one way the portal asks before a change that cannot be undone.

use super::use_feedback;
use leptos::{html, prelude::*};

/// The question and its two answers, placed inside the form that makes the change (the form
/// holds what it acts on). Opening it is a link (`?revert=`, `?remove=`, `?confirm=`), so it
/// works without JavaScript; focus starts on Cancel, the answer that changes nothing.
#[component]
pub fn Confirm(
    /// The answer that makes the change: "Yes, revert".
    yes: String,
    /// Where Cancel goes: the page without the question.
    cancel_href: String,
    /// The element focused again after Cancel (with JavaScript): what opened the question.
    #[prop(optional, into)]
    return_focus: Option<String>,
    #[prop(into)] pending: Signal<bool>,
    /// The question: what is changed, what is lost.
    children: Children,
) -> impl IntoView {
    let cancel = NodeRef::<html::A>::new();
    Effect::new(move |_| {
        if let Some(cancel) = cancel.get() {
            let _ = cancel.focus();
        }
    });
    let feedback = use_feedback();
    let on_cancel = move |_| {
        if let (Some(feedback), Some(target)) = (feedback, return_focus.clone()) {
            feedback.request_focus(target);
        }
    };
    view! {
        <div class="confirm" role="group" aria-label="Confirm">
            <p class="confirm-question">{children()}</p>
            <div class="form-actions">
                <button type="submit" class="danger" disabled=move || pending.get()>
                    {yes}
                </button>
                <a class="button" href=cancel_href node_ref=cancel autofocus=true on:click=on_cancel>
                    "Cancel"
                </a>
            </div>
        </div>
    }
}
