//! The customer settings area of a portal for Microsoft CSP partners: components, server
//! functions and the types shared by the browser (`hydrate`) and the server (`ssr`).

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};
use pages::{
    customer::{
        AccountManagersSectionPage, ActivitySectionPage, BillingSectionPage,
        ConfigurationSectionPage, ConsumptionPage, CustomerLayout, CustomerOverview,
        DeleteSectionPage, ReconciliationPage, ReportsLayout, TagsSectionPage, TenantsSectionPage,
    },
    AccountPage, ApiTokensPage, AuditLogPage, BilledImportPage, BilledImportUploadPage,
    CustomerListPage, DeletedCustomersPage, GlobalDefaultsPage, NotFoundPage, OverrideMatrixPage,
    PartnerConsumptionPage, PartnerReconciliationPage, ProviderDirectoryPage, SignInPage,
    SignedInLayout, StaffMemberPage, StaffPage, SyncPage,
};

/// The HTML document around the app, rendered on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    let files = ssr::client_files::client_files(&options);
    let stylesheet = match files.css_text.clone() {
        Some(css) => {
            let nonce = leptos::nonce::use_nonce();
            view! { <style nonce=nonce inner_html=css></style> }.into_any()
        }
        None => {
            view! { <link rel="stylesheet" id="leptos" href=format!("/pkg/{}.css", files.css) /> }
                .into_any()
        }
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                {stylesheet}
                <AutoReload options />
                <ClientLoader files />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Loads the client and hydrates the page once the browser is first idle, after the page has
/// painted: the page works without it meanwhile (every form posts without JavaScript), so on a
/// slow connection the client's download does not compete with the HTML and the stylesheet.
/// The script and the wasm are fetched side by side. (Leptos's `HydrationScripts` preloads
/// both from the head, which delays the first paint on slow 4G.) Between instantiating the
/// module and hydrating, the loader yields to the browser: the two are separate tasks, so the
/// page answers a tap in between instead of blocking for both at once.
#[cfg(feature = "ssr")]
#[component]
fn ClientLoader(files: std::sync::Arc<ssr::client_files::ClientFiles>) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let script = format!(
        "(() => {{ const start = () => {{ const wasm = fetch({wasm:?}); \
         import({js:?}).then((client) => client.default({{ module_or_path: wasm }}).then(() => new Promise((next) => setTimeout(next))).then(() => client.hydrate())); }}; \
         if (\"requestIdleCallback\" in window) requestIdleCallback(start, {{ timeout: 2000 }}); else setTimeout(start); }})();",
        js = format!("/pkg/{}.js", files.js),
        wasm = format!("/pkg/{}.wasm", files.wasm),
    );
    view! { <script type="module" nonce=nonce>{script}</script> }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} · CSP Portal") />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/sign-in") view=SignInPage />
                // Async: the server waits for the data, so a page is complete without JavaScript.
                <ParentRoute path=path!("") view=SignedInLayout ssr=SsrMode::Async>
                    <Route path=path!("/customers") view=CustomerListPage />
                    <Route path=path!("/settings/defaults") view=GlobalDefaultsPage />
                    <Route path=path!("/settings/overrides") view=OverrideMatrixPage />
                    <Route path=path!("/sync") view=SyncPage />
                    <Route path=path!("/provider") view=ProviderDirectoryPage />
                    <Route path=path!("/reports") view=PartnerReconciliationPage />
                    <Route path=path!("/reports/reconciliation") view=PartnerReconciliationPage />
                    <Route path=path!("/reports/consumption") view=PartnerConsumptionPage />
                    <Route path=path!("/deleted-customers") view=DeletedCustomersPage />
                    <Route path=path!("/audit") view=AuditLogPage />
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/admin/staff") view=StaffPage />
                    <Route path=path!("/admin/staff/:id") view=StaffMemberPage />
                    <Route path=path!("/admin/api-tokens") view=ApiTokensPage />
                    <Route path=path!("/reports/billed-import") view=BilledImportUploadPage />
                    <Route path=path!("/reports/billed-import/:id") view=BilledImportPage />
                    <ParentRoute path=path!("/customers/:id") view=CustomerLayout>
                        <Route path=path!("") view=CustomerOverview />
                        <Route path=path!("configuration") view=ConfigurationSectionPage />
                        <Route path=path!("tenants") view=TenantsSectionPage />
                        <Route path=path!("tags") view=TagsSectionPage />
                        <Route path=path!("billing") view=BillingSectionPage />
                        <ParentRoute path=path!("reports") view=ReportsLayout>
                            <Route path=path!("") view=ReconciliationPage />
                            <Route path=path!("reconciliation") view=ReconciliationPage />
                            <Route path=path!("consumption") view=ConsumptionPage />
                        </ParentRoute>
                        <Route path=path!("account-managers") view=AccountManagersSectionPage />
                        <Route path=path!("activity") view=ActivitySectionPage />
                        <Route path=path!("delete") view=DeleteSectionPage />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
