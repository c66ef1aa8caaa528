//! `/admin/api-tokens` (System Admin): create a named token for another system, with a scope and
//! an optional expiry, shown once; list tokens with their last use; revoke one at once.

use crate::components::data;
use crate::{
    api::staff::tokens::{get_api_tokens, CreateApiToken, RevokeApiToken},
    components::{
        action_error, after_success, refetch_after, ErrorMessage, FieldMessage, FocusPoint,
        FormMessage, PAGE_HEADING,
    },
    model::{format_time, ApiTokenView, NewToken, TokenScope},
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let (v1, v2) = (refetch_after(create), refetch_after(revoke));
    let page = data(move || (v1.get(), v2.get()), |_| get_api_tokens());
    after_success(create, |_| Some("new-token".to_owned()));
    after_success(revoke, |_| Some(PAGE_HEADING.to_owned()));
    let error = action_error(create);
    let revoke_error = action_error(revoke);
    view! {
        <Title text="API tokens" />
        <p class="crumbs"><a href="/admin/staff">"Staff"</a></p>
        <h1 id="page-heading" tabindex="-1">"API tokens"</h1>
        <p class="muted intro">
            "A token lets another system (a PSA, a billing job) call the JSON API with "
            <code>"Authorization: Bearer <token>"</code>
            ": customers' configuration and reports, and with the import scope the billed record. It works on nothing else. The endpoints are described at "
            <a href="/api/openapi.json">"/api/openapi.json"</a> "."
        </p>
        <section class="card" aria-labelledby="create-heading">
            <h2 id="create-heading">"Create a token"</h2>
            <ActionForm action=create attr:class="stack-form">
                <div class="field">
                    <label for="token-name">"Name"</label>
                    <input id="token-name" name="name" autocomplete="off" aria-describedby="token-name-hint token-name-error" />
                    <p class="hint" id="token-name-hint">"The system that will use it, such as ConnectWise."</p>
                    <FieldMessage error field="name" id="token-name-error" />
                </div>
                <div class="field">
                    <label for="token-scope">"May"</label>
                    <select id="token-scope" name="scope" aria-describedby="token-scope-error">
                        {TokenScope::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
                            .collect_view()}
                    </select>
                    <FieldMessage error field="scope" id="token-scope-error" />
                </div>
                <div class="field">
                    <label for="token-expiry">"Expires after (days)"</label>
                    <input id="token-expiry" name="expires_in_days" inputmode="numeric" autocomplete="off" aria-describedby="token-expiry-hint token-expiry-error" />
                    <p class="hint" id="token-expiry-hint">"1 to 366; empty for a token that lasts until it is revoked."</p>
                    <FieldMessage error field="expires_in_days" id="token-expiry-error" />
                </div>
                <FormMessage error />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Create token"</button>
                </div>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading the tokens…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let shown = create
                            .value()
                            .get_untracked()
                            .and_then(Result::ok)
                            .or(page.just_created);
                        view! {
                            {shown.map(|t| view! { <NewTokenNotice t /> })}
                            <FormMessage error=revoke_error />
                            <TokenList tokens=page.tokens revoke />
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
fn NewTokenNotice(t: NewToken) -> impl IntoView {
    view! {
        <div class="notice new-token" id="new-token" tabindex="-1" role="status">
            <p>
                <strong>{format!("The token {}:", t.name)}</strong>
                " copy it now; it is not shown again (only its hash is kept)."
            </p>
            <p><code class="token-value" data-testid="new-token">{t.token}</code></p>
        </div>
    }
}

fn when(at: Option<i64>, none: &str) -> String {
    at.map_or_else(|| none.to_owned(), format_time)
}

#[component]
fn TokenList(tokens: Vec<ApiTokenView>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="empty">"No token yet."</p> }.into_any();
    }
    view! {
        <h2>"Tokens"</h2>
        <table class="customers tokens">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"May"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col"><span class="visually-hidden">"Revoke"</span></th>
                </tr>
            </thead>
            <tbody>
                {tokens
                    .into_iter()
                    .map(|t| {
                        let label = format!("Revoke {}", t.name);
                        let action = match t.revoked_at {
                            Some(at) => view! { <span class="muted">{format!("Revoked {}", format_time(at))}</span> }.into_any(),
                            None => view! {
                                <ActionForm action=revoke attr:class="inline-form">
                                    <input type="hidden" name="token_id" value=t.id />
                                    <button type="submit" class="danger" aria-label=label disabled=move || revoke.pending().get()>
                                        "Revoke"
                                    </button>
                                </ActionForm>
                            }
                            .into_any(),
                        };
                        view! {
                            <tr>
                                <td class="name" data-label="Name"><strong>{t.name.clone()}</strong></td>
                                <td data-label="May">{t.scope.label()}</td>
                                <td data-label="Created">{format!("{} by {}", format_time(t.created_at), t.created_by)}</td>
                                <td data-label="Expires">{when(t.expires_at, "Never")}</td>
                                <td data-label="Last used">{when(t.last_used_at, "Never")}</td>
                                <td>{action}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
