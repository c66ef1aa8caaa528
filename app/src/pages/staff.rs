//! `/admin/staff` (System Admin): every staff member with role, tag scopes, status, last sign-in
//! and sessions, and the form that adds one; `/admin/staff/{id}`: one member's role, scopes,
//! status, password and sessions. Every form posts without JavaScript.

use crate::components::data;
use crate::{
    api::staff::{
        get_staff_page, AddStaffMember, ChangeStaffRole, EndStaffSession, ResetStaffPassword,
        SetStaffEnabled, SetStaffScopes,
    },
    components::{
        action_error, after_success, refetch_after, ErrorMessage, FieldMessage, FocusPoint,
        FormMessage, PAGE_HEADING,
    },
    error::AppError,
    model::{format_time, Role, SessionView, StaffMember, PASSWORD_MIN_CHARS},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn status_text(m: &StaffMember) -> String {
    match m.disabled_at {
        Some(at) => format!("Disabled {}", format_time(at)),
        None if m.password_change_required => "Enabled; must choose a password".into(),
        None => "Enabled".into(),
    }
}

fn scopes_text(m: &StaffMember) -> String {
    if m.role != Role::Helpdesk {
        return "All customers".into();
    }
    if m.scopes.is_empty() {
        return "No customers (no tag scope)".into();
    }
    m.scopes
        .iter()
        .map(|s| s.as_pair())
        .collect::<Vec<_>>()
        .join(", ")
}

fn role_options(selected: Option<Role>) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|r| {
            view! {
                <option value=r.as_str() selected=selected == Some(r)>
                    {r.label()}
                </option>
            }
        })
        .collect_view()
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let add = ServerAction::<AddStaffMember>::new();
    let version = refetch_after(add);
    let page = data(move || version.get(), |_| get_staff_page());
    after_success(add, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <Title text="Staff" />
        <h1 id="page-heading" tabindex="-1">"Staff"</h1>
        <p class="muted intro">
            "Who may sign in to the portal and what each may do. Disable someone who left: their sessions end at once. "
            <a href="/admin/api-tokens">"API tokens"</a>
            " let other systems read the JSON API."
        </p>
        <AddMemberForm add />
        <Transition fallback=|| view! { <p class="muted">"Loading the staff…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! {
                        <h2>"Staff members"</h2>
                        <ul class="staff-list">
                            {page
                                .members
                                .into_iter()
                                .map(|m| view! { <MemberCard m me=page.me /> })
                                .collect_view()}
                        </ul>
                        <FocusPoint />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MemberCard(m: StaffMember, me: i64) -> impl IntoView {
    let href = format!("/admin/staff/{}", m.id);
    let label = format!("Manage {}", m.email);
    let last = m.last_sign_in_at.map_or_else(
        || "Never signed in".to_owned(),
        |at| format!("Last sign-in {}", format_time(at)),
    );
    let sessions = match m.sessions.len() {
        0 => "no active session".to_owned(),
        1 => "1 active session".to_owned(),
        n => format!("{n} active sessions"),
    };
    view! {
        <li class="card staff-card" class:disabled=m.disabled_at.is_some()>
            <div class="staff-head">
                <strong>{m.display_name.clone()}</strong>
                {(m.id == me).then(|| view! { <span class="badge">"You"</span> })}
                <span class="role-badge">{m.role.label()}</span>
            </div>
            <p class="small-text">{m.email.clone()}</p>
            <p class="small-text muted">{status_text(&m)} " · " {last} " · " {sessions}</p>
            <p class="small-text">"Sees: " {scopes_text(&m)}</p>
            <a href=href aria-label=label>"Manage"</a>
        </li>
    }
}

#[component]
fn AddMemberForm(add: ServerAction<AddStaffMember>) -> impl IntoView {
    let error = action_error(add);
    let open = move || error.get().is_some();
    view! {
        <details class="card add-member" open=open>
            <summary>"Add a staff member"</summary>
            <ActionForm action=add attr:class="stack-form">
                <div class="field">
                    <label for="member-email">"E-mail address"</label>
                    <input id="member-email" name="email" type="email" autocomplete="off" aria-describedby="member-email-error" />
                    <FieldMessage error field="email" id="member-email-error" />
                </div>
                <div class="field">
                    <label for="member-name">"Name"</label>
                    <input id="member-name" name="display_name" autocomplete="off" aria-describedby="member-name-error" />
                    <FieldMessage error field="display_name" id="member-name-error" />
                </div>
                <div class="field">
                    <label for="member-role">"Role"</label>
                    <select id="member-role" name="role" aria-describedby="member-role-error">
                        {role_options(Some(Role::Helpdesk))}
                    </select>
                    <FieldMessage error field="role" id="member-role-error" />
                </div>
                <div class="field">
                    <label for="member-scopes">"Tag scopes (Help Desk)"</label>
                    <textarea id="member-scopes" name="scopes" rows="2" aria-describedby="member-scopes-hint member-scopes-error"></textarea>
                    <p class="hint" id="member-scopes-hint">
                        "Name=Value pairs, one per line or separated by commas, such as Region=North. A Help Desk member sees only customers with one of these tags."
                    </p>
                    <FieldMessage error field="scopes" id="member-scopes-error" />
                </div>
                <div class="field">
                    <label for="member-password">"First password"</label>
                    <input id="member-password" name="password" type="password" autocomplete="new-password" aria-describedby="member-password-hint member-password-error" />
                    <p class="hint" id="member-password-hint">
                        {format!("At least {PASSWORD_MIN_CHARS} characters. They must choose their own when they first sign in; give it to them by another channel than e-mail.")}
                    </p>
                    <FieldMessage error field="password" id="member-password-error" />
                </div>
                <FormMessage error />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || add.pending().get()>
                        "Add staff member"
                    </button>
                </div>
            </ActionForm>
        </details>
    }
}

/// `/admin/staff/{id}`: one member.
#[component]
pub fn StaffMemberPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|v| v.parse::<i64>().ok()));
    let role = ServerAction::<ChangeStaffRole>::new();
    let scopes = ServerAction::<SetStaffScopes>::new();
    let enabled = ServerAction::<SetStaffEnabled>::new();
    let reset = ServerAction::<ResetStaffPassword>::new();
    let end = ServerAction::<EndStaffSession>::new();
    let (v1, v2, v3, v4, v5) = (
        refetch_after(role),
        refetch_after(scopes),
        refetch_after(enabled),
        refetch_after(reset),
        refetch_after(end),
    );
    // Keyed on the member too, so that the page follows the address.
    let page = data(
        move || (id.get(), v1.get(), v2.get(), v3.get(), v4.get(), v5.get()),
        |_| get_staff_page(),
    );
    after_success(role, |_| Some(PAGE_HEADING.to_owned()));
    after_success(scopes, |_| Some(PAGE_HEADING.to_owned()));
    after_success(enabled, |_| Some(PAGE_HEADING.to_owned()));
    after_success(reset, |_| Some(PAGE_HEADING.to_owned()));
    after_success(end, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <p class="crumbs"><a href="/admin/staff">"Staff"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let found = page
                    .await
                    .and_then(|page| {
                        let me = page.me;
                        page.members
                            .into_iter()
                            .find(|m| Some(m.id) == id.get_untracked())
                            .map(|m| (m, me))
                            .ok_or_else(|| AppError::not_found("That staff member"))
                    });
                match found {
                    Ok((m, me)) => view! {
                        <MemberDetail m me role scopes enabled reset end />
                        <FocusPoint />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MemberDetail(
    m: StaffMember,
    me: i64,
    role: ServerAction<ChangeStaffRole>,
    scopes: ServerAction<SetStaffScopes>,
    enabled: ServerAction<SetStaffEnabled>,
    reset: ServerAction<ResetStaffPassword>,
    end: ServerAction<EndStaffSession>,
) -> impl IntoView {
    let (role_error, scopes_error, enabled_error, reset_error, end_error) = (
        action_error(role),
        action_error(scopes),
        action_error(enabled),
        action_error(reset),
        action_error(end),
    );
    let scope_lines = m
        .scopes
        .iter()
        .map(|s| s.as_pair())
        .collect::<Vec<_>>()
        .join("\n");
    let is_helpdesk = m.role == Role::Helpdesk;
    let disabled = m.disabled_at.is_some();
    let toggle_label = if disabled { "Enable" } else { "Disable" };
    let toggle_hint = if disabled {
        "Enabling lets them sign in again with their password."
    } else {
        "Disabling stops them signing in and ends their sessions at once."
    };
    let last = m
        .last_sign_in_at
        .map_or_else(|| "Never".to_owned(), format_time);
    view! {
        <Title text=format!("Staff: {}", m.email) />
        <h1 id="page-heading" tabindex="-1">{m.display_name.clone()}</h1>
        <p class="muted">{m.email.clone()} " · " {status_text(&m)} " · Last sign-in: " {last}</p>

        <section class="card" aria-labelledby="role-heading">
            <h2 id="role-heading">"Role"</h2>
            <ActionForm action=role attr:class="stack-form">
                <input type="hidden" name="staff_id" value=m.id />
                <div class="field">
                    <label for="staff-role">"Role"</label>
                    <select id="staff-role" name="role" aria-describedby="staff-role-error">
                        {role_options(Some(m.role))}
                    </select>
                    <FieldMessage error=role_error field="role" id="staff-role-error" />
                </div>
                <FormMessage error=role_error />
                <div class="form-actions">
                    <button type="submit" disabled=move || role.pending().get()>"Change role"</button>
                </div>
            </ActionForm>
        </section>

        <section class="card" aria-labelledby="scopes-heading">
            <h2 id="scopes-heading">"Tag scopes"</h2>
            {if is_helpdesk {
                view! {
                    <ActionForm action=scopes attr:class="stack-form">
                        <input type="hidden" name="staff_id" value=m.id />
                        <div class="field">
                            <label for="staff-scopes">"Customers with any of these tags"</label>
                            <textarea id="staff-scopes" name="scopes" rows="3" aria-describedby="staff-scopes-hint staff-scopes-error">
                                {scope_lines}
                            </textarea>
                            <p class="hint" id="staff-scopes-hint">
                                "Name=Value pairs, one per line or separated by commas, such as Region=North."
                            </p>
                            <FieldMessage error=scopes_error field="scopes" id="staff-scopes-error" />
                        </div>
                        <FormMessage error=scopes_error />
                        <div class="form-actions">
                            <button type="submit" disabled=move || scopes.pending().get()>"Save scopes"</button>
                        </div>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! {
                    <p class="muted">
                        {format!("A {} sees every customer; tag scopes limit Help Desk members only.", m.role.label())}
                    </p>
                }
                .into_any()
            }}
        </section>

        <section class="card" aria-labelledby="status-heading">
            <h2 id="status-heading">"Status"</h2>
            {if m.id == me {
                view! { <p class="muted">"This is you: another System Admin can disable your account."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=enabled attr:class="inline-form">
                        <input type="hidden" name="staff_id" value=m.id />
                        <input type="hidden" name="enabled" value=if disabled { "true" } else { "false" } />
                        <p class="hint">{toggle_hint}</p>
                        <button type="submit" class:danger=!disabled disabled=move || enabled.pending().get()>
                            {toggle_label}
                        </button>
                    </ActionForm>
                    <FormMessage error=enabled_error />
                }
                .into_any()
            }}
        </section>

        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Reset password"</h2>
            <ActionForm action=reset attr:class="stack-form">
                <input type="hidden" name="staff_id" value=m.id />
                <div class="field">
                    <label for="reset-password">"New password"</label>
                    <input id="reset-password" name="password" type="password" autocomplete="new-password" aria-describedby="reset-password-hint reset-password-error" />
                    <p class="hint" id="reset-password-hint">
                        {format!("At least {PASSWORD_MIN_CHARS} characters. Their sessions end, and they must choose their own password at their next sign-in.")}
                    </p>
                    <FieldMessage error=reset_error field="password" id="reset-password-error" />
                </div>
                <FormMessage error=reset_error />
                <div class="form-actions">
                    <button type="submit" disabled=move || reset.pending().get()>"Reset password"</button>
                </div>
            </ActionForm>
        </section>

        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Sessions"</h2>
            <FormMessage error=end_error />
            <SessionList sessions=m.sessions staff_id=m.id end />
        </section>
    }
}

#[component]
fn SessionList(
    sessions: Vec<SessionView>,
    staff_id: i64,
    end: ServerAction<EndStaffSession>,
) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="empty">"No active session."</p> }.into_any();
    }
    view! {
        <ul class="session-list">
            {sessions
                .into_iter()
                .map(|s| {
                    let label = format!("End the session started {}", format_time(s.created_at));
                    view! {
                        <li>
                            <SessionText s=s.clone() />
                            <ActionForm action=end attr:class="inline-form">
                                <input type="hidden" name="staff_id" value=staff_id />
                                <input type="hidden" name="handle" value=s.handle.clone() />
                                <button type="submit" aria-label=label disabled=move || end.pending().get()>
                                    "End session"
                                </button>
                            </ActionForm>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// A session for people: when, from where, with what.
#[component]
pub fn SessionText(s: SessionView) -> impl IntoView {
    let agent = s.user_agent.unwrap_or_else(|| "Unknown browser".into());
    let address = s.address.map(|a| format!(" from {a}")).unwrap_or_default();
    view! {
        <span class="session-text">
            {s.current.then(|| view! { <span class="badge">"This session"</span> " " })}
            {format!(
                "Started {}{address}, last used {}",
                format_time(s.created_at),
                format_time(s.last_seen_at)
            )}
            <span class="small-text muted session-agent">{agent}</span>
        </span>
    }
}
