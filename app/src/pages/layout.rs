use crate::{
    api::auth::{get_session, SignOut},
    model::Permission,
};
use leptos::prelude::*;
use leptos_router::components::Outlet;

/// The frame of every signed-in page: the top bar with who is signed in and sign-out.
#[component]
pub fn SignedInLayout() -> impl IntoView {
    let session = Resource::new(|| (), |_| get_session());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="topbar">
            <a class="brand" href="/customers">
                "CSP Portal"
            </a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    session
                        .await
                        .ok()
                        .map(|staff| {
                            let defaults = staff
                                .role
                                .allows(Permission::ManageGlobalDefaults)
                                .then(|| view! { <a href="/settings/defaults">"Global defaults"</a> });
                            let matrix = staff
                                .role
                                .allows(Permission::ViewOverrideMatrix)
                                .then(|| view! { <a href="/settings/overrides">"Override matrix"</a> });
                            let sync = staff
                                .role
                                .allows(Permission::ReloadAllCustomers)
                                .then(|| view! { <a href="/sync">"Sync"</a> });
                            view! {
                                <nav class="main-nav" aria-label="Main">
                                    <a href="/customers">"Customers"</a>
                                    {defaults}
                                    {matrix}
                                    {sync}
                                </nav>
                                <div class="who">
                                    <span class="who-name" data-testid="signed-in-as">
                                        {staff.email}
                                    </span>
                                    <span class="role-badge">{staff.role.label()}</span>
                                </div>
                            }
                        })
                })}
            </Transition>
            <ActionForm action=sign_out attr:class="sign-out">
                <button type="submit" class="link-button">
                    "Sign out"
                </button>
            </ActionForm>
        </header>
        <main class="page">
            <Outlet />
        </main>
    }
}
