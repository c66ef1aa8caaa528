//! Widgets shared by the pages.

mod confirm;
mod data;
mod feedback;
mod setting;

pub use confirm::Confirm;
pub use data::{data, loaded, Data, Json};
pub use feedback::{
    after_success, status_on_arrival, use_feedback, Feedback, FocusPoint, StatusRegion,
    PAGE_HEADING,
};
pub use setting::{HelpTip, SourceBadge, ValueEditor};

use crate::error::AppError;
use leptos::prelude::*;

/// The message for one field of a form, under that field, when the last submit was refused
/// because of it.
#[component]
pub fn FieldMessage(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
    /// Element id, referenced by the input's `aria-describedby`.
    id: &'static str,
) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.field_message(field).map(str::to_owned))
            .map(|message| {
                view! {
                    <p class="field-error" id=id role="alert">
                        {message}
                    </p>
                }
            })
    }
}

/// A refusal that belongs to no single field (no permission, conflict, server trouble).
#[component]
pub fn FormMessage(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|error| view! { <ErrorMessage error /> })
    }
}

/// On the server, gives the page being rendered the HTTP status of `error` when it is a missing
/// or forbidden thing (a page showing "not found" answers 404, not 200).
pub fn set_page_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if matches!(error, AppError::NotFound { .. } | AppError::Forbidden) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.status()) {
                response.set_status(status);
            }
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// An error in place of what could not be shown; for an ended session, a way to sign in again.
/// Rendered on the server, a missing or forbidden thing sets the page's status (404, 403).
#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    set_page_status(&error);
    let sign_in = matches!(error, AppError::Unauthenticated)
        .then(|| view! { <a href="/sign-in">"Sign in again"</a> });
    view! {
        <div class="error-box" role="alert">
            <p>{error.to_string()}</p>
            {sign_in}
        </div>
    }
}

/// The error of the last run of a server action, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// A signal that changes when `action` finishes, except when it was refused for invalid input:
/// a resource keyed on it is fetched again after a change or a conflict, while a form whose
/// input was refused keeps what the person typed.
pub fn refetch_after<I, O>(action: ServerAction<I>) -> Memo<usize>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Memo::new(move |previous: Option<&usize>| {
        let version = action.version().get();
        let refused_input = action
            .value()
            .with(|v| matches!(v, Some(Err(AppError::Validation { .. }))));
        match previous {
            Some(previous) if refused_input => *previous,
            _ => version,
        }
    })
}

/// A menu link that carries `aria-current="page"` while the page shown is the one it leads to
/// or, unless `exact`, one under it. The router's `<A>` does the same and also resolves relative
/// paths, with two memos per link on every render; every menu link here is absolute.
#[component]
pub fn NavLink(
    href: String,
    /// Current only on `href` itself, not on the pages under it.
    #[prop(optional)]
    exact: bool,
    children: Children,
) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let current = {
        let href = href.clone();
        move || {
            location
                .pathname
                .with(|path| is_current(&href, path, exact))
                .then_some("page")
        }
    };
    view! {
        <a href=href aria-current=current>
            {children()}
        </a>
    }
}

/// Whether a link to `href` leads to `path` (`exact`) or to `path` or a page under it.
fn is_current(href: &str, path: &str, exact: bool) -> bool {
    let href = href.trim_end_matches('/');
    let path = path.trim_end_matches('/');
    path == href
        || (!exact
            && path
                .strip_prefix(href)
                .is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod nav_link_tests {
    use super::is_current;

    #[test]
    fn a_link_is_current_on_its_page_and_below_it_unless_exact() {
        assert!(is_current("/customers", "/customers", false));
        assert!(is_current("/customers", "/customers/", true));
        assert!(is_current("/customers", "/customers/4/tags", false));
        assert!(!is_current("/customers/4", "/customers/4/tags", true));
        assert!(is_current("/customers/4", "/customers/4", true));
        // A path that only starts with the same letters is another page.
        assert!(!is_current("/customers/4", "/customers/42", false));
        assert!(!is_current("/reports", "/reports-old", false));
        assert!(!is_current("/customers/4/tags", "/customers/4", false));
    }
}
