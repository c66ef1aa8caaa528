//! `/account` (every signed-in member): change one's password, see and end one's sessions. A
//! member whose password an admin set is sent here until they choose their own.

use crate::components::data;
use crate::{
    api::account::{get_account, ChangePassword, EndOwnSession},
    components::{
        action_error, after_success, refetch_after, ErrorMessage, FieldMessage, FocusPoint,
        FormMessage, PAGE_HEADING,
    },
    model::{format_time, AccountView, PASSWORD_MIN_CHARS},
    pages::staff::SessionText,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let end = ServerAction::<EndOwnSession>::new();
    let (v1, v2) = (refetch_after(change), refetch_after(end));
    let account = data(move || (v1.get(), v2.get()), |_| get_account());
    after_success(change, |_| Some(PAGE_HEADING.to_owned()));
    after_success(end, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <Title text="My account" />
        <h1 id="page-heading" tabindex="-1">"My account"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(a) => view! { <Account a change end /> <FocusPoint /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Account(
    a: AccountView,
    change: ServerAction<ChangePassword>,
    end: ServerAction<EndOwnSession>,
) -> impl IntoView {
    let error = action_error(change);
    let end_error = action_error(end);
    let must = a.password_change_required.then(|| {
        view! {
            <div class="notice" role="status">
                <p>"Choose your own password to go on: the one you signed in with was set by an admin."</p>
            </div>
        }
    });
    view! {
        <p class="muted">{a.display_name} " · " {a.email} " · " {a.role.label()}</p>
        {must}
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <ActionForm action=change attr:class="stack-form">
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current" type="password" autocomplete="current-password" aria-describedby="current-password-error" />
                    <FieldMessage error field="current" id="current-password-error" />
                </div>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new" type="password" autocomplete="new-password" aria-describedby="new-password-hint new-password-error" />
                    <p class="hint" id="new-password-hint">
                        {format!("At least {PASSWORD_MIN_CHARS} characters, and not one of the most common passwords. A few unrelated words make a long one that is easy to remember.")}
                    </p>
                    <FieldMessage error field="new" id="new-password-error" />
                </div>
                <div class="field">
                    <label for="repeated-password">"New password again"</label>
                    <input id="repeated-password" name="repeated" type="password" autocomplete="new-password" aria-describedby="repeated-password-error" />
                    <FieldMessage error field="repeated" id="repeated-password-error" />
                </div>
                <FormMessage error />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || change.pending().get()>
                        "Change password"
                    </button>
                </div>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Your sessions"</h2>
            <p class="hint">"Each browser you are signed in on. End one you do not recognise, then change your password."</p>
            <FormMessage error=end_error />
            <ul class="session-list">
                {a.sessions
                    .into_iter()
                    .map(|s| {
                        let label = format!("End the session started {}", format_time(s.created_at));
                        let handle = s.handle.clone();
                        view! {
                            <li>
                                <SessionText s />
                                <ActionForm action=end attr:class="inline-form">
                                    <input type="hidden" name="handle" value=handle />
                                    <button type="submit" aria-label=label disabled=move || end.pending().get()>
                                        "End session"
                                    </button>
                                </ActionForm>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
