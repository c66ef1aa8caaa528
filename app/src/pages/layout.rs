use crate::components::{data, loaded};
use crate::{
    api::auth::{get_session, SignOut},
    components::{status_on_arrival, Feedback, NavLink, StatusRegion},
    model::Permission,
};
use leptos::prelude::*;
use leptos_router::{components::Outlet, hooks::use_location};

/// With JavaScript the router would take the skip link's click: focus the page ourselves
/// (without JavaScript the browser follows `#main`).
fn skip_to_main(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
        {
            ev.prevent_default();
            let _ = main.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The frame of every signed-in page: a skip link, the top bar (one row on a phone, the rest
/// behind its Menu button), the status region, and the page.
#[component]
pub fn SignedInLayout() -> impl IntoView {
    let session = data(|| (), |_| get_session());
    let arrival = data(|| (), |_| status_on_arrival());
    let sign_out = ServerAction::<SignOut>::new();
    let feedback = Feedback::provide();
    // A client-side route change: the old page's message no longer applies, and focus moves
    // to the new page's heading (which also says which page this is).
    let location = use_location();
    Effect::watch(
        move || location.pathname.get(),
        move |_, _, _| {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                if let Some(menu) = document()
                    .get_element_by_id("main-menu")
                    .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = menu.hide_popover();
                }
            }
            feedback.route_changed();
            feedback.request_page_heading();
        },
        false,
    );
    view! {
        <a class="skip-link" href="#main" on:click=skip_to_main>
            "Skip to main content"
        </a>
        <header class="topbar">
            <a class="brand" href="/customers">
                "CSP Portal"
            </a>
            <button type="button" class="menu-button" popovertarget="main-menu" aria-label="Menu">
                <span aria-hidden="true" class="menu-icon"></span>
                "Menu"
            </button>
            <div id="main-menu" class="main-menu" popover="auto">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        loaded(session)
                            .await
                            .ok()
                            .map(|staff| {
                                let defaults = staff
                                    .role
                                    .allows(Permission::ManageGlobalDefaults)
                                    .then(|| view! { <NavLink href="/settings/defaults".to_owned()>"Global defaults"</NavLink> });
                                let matrix = staff
                                    .role
                                    .allows(Permission::ViewOverrideMatrix)
                                    .then(|| view! { <NavLink href="/settings/overrides".to_owned()>"Override matrix"</NavLink> });
                                let provider = staff
                                    .role
                                    .allows(Permission::ViewProviderDirectory)
                                    .then(|| view! { <NavLink href="/provider".to_owned()>"Provider directory"</NavLink> });
                                let reports = staff
                                    .role
                                    .allows(Permission::ViewReports)
                                    .then(|| view! { <NavLink href="/reports".to_owned()>"Reports"</NavLink> });
                                let sync = staff
                                    .role
                                    .allows(Permission::ReloadAllCustomers)
                                    .then(|| view! { <NavLink href="/sync".to_owned()>"Sync"</NavLink> });
                                let audit = staff
                                    .role
                                    .allows(Permission::ViewAuditLog)
                                    .then(|| view! { <NavLink href="/audit".to_owned()>"Audit log"</NavLink> });
                                let staff_link = staff
                                    .role
                                    .allows(Permission::ManageStaff)
                                    .then(|| view! { <NavLink href="/admin/staff".to_owned()>"Staff"</NavLink> });
                                view! {
                                    <nav class="main-nav" aria-label="Main">
                                        <NavLink href="/customers".to_owned()>"Customers"</NavLink>
                                        {provider}
                                        {reports}
                                        {defaults}
                                        {matrix}
                                        {sync}
                                        {audit}
                                        {staff_link}
                                    </nav>
                                    <div class="who">
                                        <NavLink href="/account".to_owned() attr:class="who-name" attr:data-testid="signed-in-as" attr:title="My account">
                                            {staff.email}
                                        </NavLink>
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
            </div>
        </header>
        <main class="page" id="main" tabindex="-1">
            <StatusRegion arrival />
            <Outlet />
        </main>
    }
}
