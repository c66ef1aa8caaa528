//! The browser entry point: hydrates the server-rendered page.

use std::{cell::RefCell, rc::Rc};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{
    Document, Element, Event, EventInit, HtmlInputElement, HtmlOptionElement, HtmlSelectElement,
    HtmlTextAreaElement,
};

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(document) = window.document() else {
        return;
    };
    // A person on a slow connection ticks, types and chooses before the client arrives; the
    // client renders the server's values (a `prop:checked`, a `prop:value`) when it hydrates.
    // What they changed is noted now, and again at each change until hydration (which waits
    // for the page's chunk of the client), and put back once hydration is done; the page's own
    // handlers hear of it as if it had been typed after.
    let kept = Rc::new(RefCell::new(changed_before_hydration(&document)));
    let note = {
        let (kept, document) = (kept.clone(), document.clone());
        Closure::<dyn Fn()>::new(move || *kept.borrow_mut() = changed_before_hydration(&document))
    };
    for kind in ["input", "change"] {
        let _ = document.add_event_listener_with_callback_and_bool(
            kind,
            note.as_ref().unchecked_ref(),
            true,
        );
    }
    wasm_bindgen_futures::spawn_local(async move {
        let Some(body) = document.body() else {
            return;
        };
        // The page's route is lazy: this fetches its chunk, then hydrates.
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        for kind in ["input", "change"] {
            let _ = document.remove_event_listener_with_callback_and_bool(
                kind,
                note.as_ref().unchecked_ref(),
                true,
            );
        }
        drop(note);
        let kept = kept.take();
        // The sections inside Suspense hydrate in tasks queued meanwhile: a timeout runs after.
        let after = Closure::once_into_js(move || {
            for (element, state) in kept {
                state.restore(&element);
            }
            // Says the page is interactive; end-to-end tests wait for it before they click.
            if let Some(body) = document.body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        });
        let _ = window.set_timeout_with_callback(after.unchecked_ref());
    });
}

/// A form control's state as a person left it.
enum Changed {
    Checked(bool),
    Value(String),
    Selected(Vec<bool>),
}

impl Changed {
    fn restore(&self, element: &Element) {
        match self {
            Changed::Checked(checked) => {
                if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
                    input.set_checked(*checked);
                }
            }
            Changed::Value(value) => {
                if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
                    input.set_value(value);
                } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
                    area.set_value(value);
                }
            }
            Changed::Selected(selected) => {
                if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
                    for (index, option) in options(select).into_iter().enumerate() {
                        option.set_selected(selected.get(index).copied().unwrap_or(false));
                    }
                }
            }
        }
        let init = EventInit::new();
        init.set_bubbles(true);
        for kind in ["input", "change"] {
            if let Ok(event) = Event::new_with_event_init_dict(kind, &init) {
                let _ = element.dispatch_event(&event);
            }
        }
    }
}

fn options(select: &HtmlSelectElement) -> Vec<HtmlOptionElement> {
    let all = select.options();
    (0..all.length())
        .filter_map(|i| all.item(i))
        .filter_map(|element| element.dyn_into::<HtmlOptionElement>().ok())
        .collect()
}

/// Every form control whose state differs from the one the server wrote.
fn changed_before_hydration(document: &Document) -> Vec<(Element, Changed)> {
    let Ok(controls) = document.query_selector_all("input, select, textarea") else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    for i in 0..controls.length() {
        let Some(element) = controls.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let state = if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            match input.type_().as_str() {
                "hidden" | "submit" | "button" | "reset" | "image" | "file" => None,
                "checkbox" | "radio" => (input.checked() != input.default_checked())
                    .then(|| Changed::Checked(input.checked())),
                _ => {
                    (input.value() != input.default_value()).then(|| Changed::Value(input.value()))
                }
            }
        } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
            area.default_value()
                .is_ok_and(|written| written != area.value())
                .then(|| Changed::Value(area.value()))
        } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
            let options = options(select);
            let selected: Vec<bool> = options.iter().map(|o| o.selected()).collect();
            let mut written: Vec<bool> = options.iter().map(|o| o.default_selected()).collect();
            // A single choice with no option marked shows its first one.
            if !select.multiple() && !written.contains(&true) {
                if let Some(first) = written.first_mut() {
                    *first = true;
                }
            }
            (selected != written).then_some(Changed::Selected(selected))
        } else {
            None
        };
        if let Some(state) = state {
            changed.push((element, state));
        }
    }
    changed
}
