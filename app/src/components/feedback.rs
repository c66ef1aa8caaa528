//! What a person is told after they act, and where their focus goes.
//!
//! - The status region (`role="status"`, in the top of every signed-in page) says what a change
//!   did. The server function leaves the sentence in a cookie (`ssr::status`): a page rendered
//!   after a form post (no JavaScript) shows it; with JavaScript, [`after_success`] reads it
//!   when the action finishes.
//! - Focus requests: after an action or a route change the page asks for an element to be
//!   focused; the request is met by the first render in which the element exists and nothing
//!   else holds focus, and kept until the person presses a key or the pointer (a list that is
//!   fetched again after a change replaces the element that was focused first).

use crate::components::Data;
use crate::error::AppError;
use leptos::prelude::*;

/// The focus request that means "the page's heading": `#page-heading`, else the `h1` of `main`.
pub const PAGE_HEADING: &str = "page-heading";

#[derive(Clone, Copy)]
pub struct Feedback {
    /// `None` until something is said on this page: the region then shows what the page was
    /// rendered with. `Some(None)`: silence (a new page).
    said: RwSignal<Option<Option<String>>>,
    focus: RwSignal<Option<String>>,
    /// The page announced after a client-side route change.
    page: RwSignal<String>,
    /// A change said its message and nobody has pressed a key or the pointer since: a route
    /// change now is the change's own redirect, and the message stays for the new page.
    carry: RwSignal<bool>,
    /// After a route change: the old page's heading, which does not meet the request (the new
    /// page may still be loading while the old one is shown), and how many more checks it is
    /// skipped for.
    #[cfg(feature = "hydrate")]
    old_heading: StoredValue<Option<(web_sys::Element, u32)>, LocalStorage>,
}

/// How often, and how many times, a route change looks for the new page's heading before it
/// settles for whatever heading is shown (a page that keeps its heading element).
#[cfg(feature = "hydrate")]
const HEADING_CHECK_MS: u64 = 50;
#[cfg(feature = "hydrate")]
const HEADING_CHECKS: u32 = 40;

impl Feedback {
    /// Made by the signed-in layout, once per page load.
    pub fn provide() -> Self {
        let feedback = Feedback {
            said: RwSignal::new(None),
            focus: RwSignal::new(None),
            page: RwSignal::new(String::new()),
            carry: RwSignal::new(false),
            #[cfg(feature = "hydrate")]
            old_heading: StoredValue::new_local(None),
        };
        provide_context(feedback);
        #[cfg(feature = "hydrate")]
        {
            // The person has taken over: a pending request no longer applies. Escape also
            // closes any open help text.
            let (focus, carry) = (feedback.focus, feedback.carry);
            let keys = window_event_listener(leptos::ev::keydown, move |ev| {
                focus.try_set(None);
                carry.try_set(false);
                if ev.key() == "Escape" {
                    close_help_tips();
                }
            });
            let pointer = window_event_listener(leptos::ev::pointerdown, move |_| {
                focus.try_set(None);
                carry.try_set(false);
            });
            on_cleanup(move || {
                keys.remove();
                pointer.remove();
            });
        }
        feedback
    }

    pub fn say(&self, message: Option<String>) {
        self.said.try_set(Some(message));
    }

    /// A client-side route change: the old page's message no longer applies, unless the
    /// change that said it is what navigated (its server redirected). A message left for the
    /// new page by such a change is shown.
    pub fn route_changed(&self) {
        if self.carry.try_get_untracked() == Some(true) {
            self.carry.try_set(false);
            return;
        }
        #[cfg(not(feature = "ssr"))]
        self.say(take_status_cookie());
        #[cfg(feature = "ssr")]
        self.say(None);
    }

    /// Asks for the element with id `target` (or [`PAGE_HEADING`]) to be focused, now if it
    /// is on the page, else by the next render that shows it.
    pub fn request_focus(&self, target: impl Into<String>) {
        self.focus.try_set(Some(target.into()));
        self.apply_focus();
    }

    /// Asks for focus on the new page's heading after a route change: met once the new page
    /// has rendered (the old page's heading is still in the document now).
    pub fn request_page_heading(&self) {
        self.focus.try_set(Some(PAGE_HEADING.to_owned()));
        #[cfg(feature = "hydrate")]
        {
            self.old_heading
                .try_set_value(page_heading().map(|h| (h, HEADING_CHECKS)));
            self.check_page_heading();
        }
    }

    /// Meets a pending heading request, or looks again shortly while the old page is shown.
    #[cfg(feature = "hydrate")]
    fn check_page_heading(&self) {
        self.apply_focus();
        let pending = self.focus.try_get_untracked().flatten().as_deref() == Some(PAGE_HEADING);
        if pending {
            let this = *self;
            set_timeout(
                move || this.check_page_heading(),
                std::time::Duration::from_millis(HEADING_CHECK_MS),
            );
        }
    }

    /// Meets the pending focus request if its element is on the page. Called after renders
    /// (see [`FocusPoint`]).
    pub fn apply_focus(&self) {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(target) = self.focus.try_get_untracked().flatten() else {
                return;
            };
            let doc = document();
            let heading = target == PAGE_HEADING;
            let element = if heading {
                page_heading()
            } else {
                doc.get_element_by_id(&target)
            };
            let Some(element) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                return;
            };
            if heading && self.still_old_page(&element) {
                return;
            }
            let free = doc
                .active_element()
                .is_none_or(|a| doc.body().is_some_and(|b| *b == a) || !a.is_connected());
            if heading {
                self.page
                    .try_set(element.text_content().unwrap_or_default());
                self.focus.try_set(None);
                let _ = element.focus();
            } else if free {
                let _ = element.focus();
            }
        }
    }
}

#[cfg(feature = "hydrate")]
impl Feedback {
    /// Whether `heading` is the page heading that was shown when the route changed, and the
    /// new page may yet replace it. Each call counts as one check.
    fn still_old_page(&self, heading: &web_sys::HtmlElement) -> bool {
        let Some(Some((old, left))) = self.old_heading.try_get_value() else {
            return false;
        };
        let same: &web_sys::Element = heading;
        if *same != old || left == 0 {
            self.old_heading.try_set_value(None);
            return false;
        }
        self.old_heading.try_set_value(Some((old, left - 1)));
        true
    }
}

/// The heading of the page shown: `#page-heading` in `main`, else its `h1`.
#[cfg(feature = "hydrate")]
fn page_heading() -> Option<web_sys::Element> {
    let doc = document();
    doc.query_selector("main #page-heading")
        .ok()
        .flatten()
        .or_else(|| doc.query_selector("main h1").ok().flatten())
}

/// Closes every open (i) help text.
#[cfg(feature = "hydrate")]
fn close_help_tips() {
    if let Ok(open) = document().query_selector_all("details.help[open]") {
        for i in 0..open.length() {
            if let Some(element) = open
                .item(i)
                .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
            {
                let _ = element.remove_attribute("open");
            }
        }
    }
}

pub fn use_feedback() -> Option<Feedback> {
    use_context::<Feedback>()
}

/// The message a page was rendered with, if a change left one (see `ssr::status`).
pub async fn status_on_arrival() -> Option<String> {
    #[cfg(feature = "ssr")]
    return crate::ssr::status::take();
    #[cfg(not(feature = "ssr"))]
    return take_status_cookie();
}

/// In the browser: the message a change just left, and clears it.
#[cfg(not(feature = "ssr"))]
fn take_status_cookie() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use crate::model::status_cookie_name;
        use leptos_router::location::Url;
        use wasm_bindgen::JsCast;
        let doc = document().dyn_into::<web_sys::HtmlDocument>().ok()?;
        let cookies = doc.cookie().ok()?;
        // Only the name this page's server writes: over HTTPS the `__Host-` one, which a
        // sibling subdomain cannot set.
        let https = window().location().protocol().is_ok_and(|p| p == "https:");
        let name = status_cookie_name(https);
        let message = cookies
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| Url::unescape(v))?;
        let flags = if https { "; Secure" } else { "" };
        let _ = doc.set_cookie(&format!(
            "{name}=; Path=/; SameSite=Strict; Max-Age=0{flags}"
        ));
        let message = message.trim().to_owned();
        if !message.is_empty() {
            return Some(message);
        }
        None
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// The live region that says what the last change did, and (hidden) which page a client-side
/// navigation arrived at.
#[component]
pub fn StatusRegion(arrival: Data<Option<String>>) -> impl IntoView {
    let feedback = use_feedback().expect("StatusRegion is inside the signed-in layout");
    view! {
        <div class="status-region" role="status" aria-atomic="true" data-testid="status">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let arrived = arrival.await;
                    let message = feedback.said.get().unwrap_or(arrived);
                    message.map(|m| view! { <p class="notice">{m}</p> })
                })}
            </Transition>
        </div>
        <p class="visually-hidden" aria-live="polite" data-testid="page-announcer">
            {move || feedback.page.get()}
        </p>
    }
}

/// Renders nothing; once mounted, meets a pending focus request (place it at the end of
/// content that appears after a fetch).
#[component]
pub fn FocusPoint() -> impl IntoView {
    if let Some(feedback) = use_feedback() {
        Effect::new(move |_| feedback.apply_focus());
    }
}

/// With JavaScript: when `action` succeeds, says what the server said it did and asks for
/// focus on the element `focus` names; when its input is refused, focuses the first field in
/// error.
pub fn after_success<I, O>(action: ServerAction<I>, focus: impl Fn(&O) -> Option<String> + 'static)
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let Some(feedback) = use_feedback() else {
        return;
    };
    Effect::watch(
        move || action.version().get(),
        move |_, _, _| match action.value().get_untracked() {
            Some(Ok(output)) => {
                // Only a message replaces one: a route change this change caused may have
                // shown it already.
                #[cfg(not(feature = "ssr"))]
                if let Some(message) = take_status_cookie() {
                    feedback.say(Some(message));
                    feedback.carry.try_set(true);
                }
                if let Some(target) = focus(&output) {
                    feedback.request_focus(target);
                }
            }
            // Once the messages are on the page.
            Some(Err(AppError::Validation { .. })) => request_animation_frame(focus_first_error),
            _ => {}
        },
        false,
    );
}

/// Focuses the input described by the first field message on the page.
fn focus_first_error() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let doc = document();
        let Some(id) = doc
            .query_selector(".field-error[id]")
            .ok()
            .flatten()
            .map(|e| e.id())
        else {
            return;
        };
        let selector = format!("[aria-describedby~=\"{id}\"]");
        if let Some(input) = doc
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = input.focus();
        }
    }
}
