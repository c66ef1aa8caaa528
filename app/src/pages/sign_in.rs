use crate::{
    api::auth::SignIn,
    components::{action_error, FieldMessage, FormMessage},
};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/sign-in`: the form posts to `/api/sign_in`, with or without JavaScript.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = action_error(action);
    view! {
        <Title text="Sign in" />
        <main class="sign-in">
            <div class="card">
                <h1>"Sign in"</h1>
                <p class="muted">"Customer settings for partner staff."</p>
                <ActionForm action attr:class="form" attr:novalidate=true>
                    <div class="field">
                        <label for="email">"E-mail address"</label>
                        <input
                            id="email"
                            type="email"
                            name="email"
                            autocomplete="username"
                            aria-describedby="email-error"
                        />
                        <FieldMessage error field="email" id="email-error" />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input
                            id="password"
                            type="password"
                            name="password"
                            autocomplete="current-password"
                            aria-describedby="password-error"
                        />
                        <FieldMessage error field="password" id="password-error" />
                    </div>
                    <FormMessage error />
                    <button type="submit" class="primary" disabled=move || action.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
