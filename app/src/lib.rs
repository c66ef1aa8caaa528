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
    path, Lazy, SsrMode,
};
use pages::{
    customer::{ConfigurationSectionPage, CustomerLayout, ReportsLayout},
    NotFoundPage, SignedInLayout,
};

/// The HTML document around the app, rendered on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    let files = ssr::client_files::client_files(&options);
    // A page's route names its chunk of the client in the head (`announce_chunk`).
    provide_context(files.clone());
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
/// The script, the wasm and the files of the page's chunk of the client (which the head names,
/// see `announce_chunk`) are fetched side by side. (Leptos's `HydrationScripts` preloads the
/// script and the wasm from the head, which delays the first paint on slow 4G; with
/// JavaScript off, nothing of the client is fetched.) Between instantiating the
/// module and hydrating, the loader yields to the browser: the two are separate tasks, so the
/// page answers a tap in between instead of blocking for both at once.
#[cfg(feature = "ssr")]
#[component]
fn ClientLoader(files: std::sync::Arc<ssr::client_files::ClientFiles>) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let script = format!(
        "(() => {{ const start = () => {{ \
         for (const meta of document.querySelectorAll('meta[name={chunk_meta}]')) for (const href of meta.content.split(' ')) {{ \
         const link = document.createElement('link'); link.rel = 'preload'; link.as = 'fetch'; link.type = 'application/wasm'; link.crossOrigin = ''; link.href = href; document.head.append(link); }} \
         const wasm = fetch({wasm:?}); \
         import({js:?}).then((client) => client.default({{ module_or_path: wasm }}).then(() => new Promise((next) => setTimeout(next))).then(() => client.hydrate())); }}; \
         if (\"requestIdleCallback\" in window) requestIdleCallback(start, {{ timeout: 2000 }}); else setTimeout(start); }})();",
        js = format!("/pkg/{}.js", files.js),
        wasm = format!("/pkg/{}.wasm", files.wasm),
        chunk_meta = ssr::client_files::CHUNK_META,
    );
    view! { <script type="module" nonce=nonce>{script}</script> }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        // Each page names itself with a `<Title>`. Until the page's own hydrates (after its
        // chunk of the client arrives), the title is the one the server wrote, not blank.
        <Title text=server_title() formatter=|page: String| format!("{page}{TITLE_SUFFIX}") />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/sign-in") view={Lazy::<lazy::SignInPage>::new()} />
                // Async: the server waits for the data, so a page is complete without JavaScript.
                <ParentRoute path=path!("") view=SignedInLayout ssr=SsrMode::Async>
                    <Route path=path!("/customers") view={Lazy::<lazy::CustomerListPage>::new()} />
                    <Route path=path!("/settings/defaults") view={Lazy::<lazy::GlobalDefaultsPage>::new()} />
                    <Route path=path!("/settings/overrides") view={Lazy::<lazy::OverrideMatrixPage>::new()} />
                    <Route path=path!("/sync") view={Lazy::<lazy::SyncPage>::new()} />
                    <Route path=path!("/provider") view={Lazy::<lazy::ProviderDirectoryPage>::new()} />
                    <Route path=path!("/reports") view={Lazy::<lazy::PartnerReconciliationPage>::new()} />
                    <Route path=path!("/reports/reconciliation") view={Lazy::<lazy::PartnerReconciliationPage>::new()} />
                    <Route path=path!("/reports/consumption") view={Lazy::<lazy::PartnerConsumptionPage>::new()} />
                    <Route path=path!("/deleted-customers") view={Lazy::<lazy::DeletedCustomersPage>::new()} />
                    <Route path=path!("/audit") view={Lazy::<lazy::AuditLogPage>::new()} />
                    <Route path=path!("/account") view={Lazy::<lazy::AccountPage>::new()} />
                    <Route path=path!("/admin/staff") view={Lazy::<lazy::StaffPage>::new()} />
                    <Route path=path!("/admin/staff/:id") view={Lazy::<lazy::StaffMemberPage>::new()} />
                    <Route path=path!("/admin/api-tokens") view={Lazy::<lazy::ApiTokensPage>::new()} />
                    <Route path=path!("/reports/billed-import") view={Lazy::<lazy::BilledImportUploadPage>::new()} />
                    <Route path=path!("/reports/billed-import/:id") view={Lazy::<lazy::BilledImportPage>::new()} />
                    <ParentRoute path=path!("/customers/:id") view=CustomerLayout>
                        <Route path=path!("") view={Lazy::<lazy::CustomerOverview>::new()} />
                        // In the main module: the page staff open most (see `lazy`).
                        <Route path=path!("configuration") view=ConfigurationSectionPage />
                        <Route path=path!("tenants") view={Lazy::<lazy::TenantsSectionPage>::new()} />
                        <Route path=path!("tags") view={Lazy::<lazy::TagsSectionPage>::new()} />
                        <Route path=path!("billing") view={Lazy::<lazy::BillingSectionPage>::new()} />
                        <ParentRoute path=path!("reports") view=ReportsLayout>
                            <Route path=path!("") view={Lazy::<lazy::ReconciliationPage>::new()} />
                            <Route path=path!("reconciliation") view={Lazy::<lazy::ReconciliationPage>::new()} />
                            <Route path=path!("consumption") view={Lazy::<lazy::ConsumptionPage>::new()} />
                        </ParentRoute>
                        <Route path=path!("account-managers") view={Lazy::<lazy::AccountManagersSectionPage>::new()} />
                        <Route path=path!("activity") view={Lazy::<lazy::ActivitySectionPage>::new()} />
                        <Route path=path!("delete") view={Lazy::<lazy::DeleteSectionPage>::new()} />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

const TITLE_SUFFIX: &str = " · CSP Portal";

/// In the browser, the page's title as the server wrote it, without the portal's name (the
/// root `<Title>`'s formatter adds it back); on the server, nothing (the page's own counts).
fn server_title() -> String {
    #[cfg(feature = "hydrate")]
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        let title = document.title();
        return title
            .strip_suffix(TITLE_SUFFIX)
            .unwrap_or(&title)
            .to_owned();
    }
    String::new()
}

/// The pages' code is split out of the client into a few chunks (the build splits the wasm at
/// each `#[lazy]` function with `wasm-split-cli`), fetched when a page of the chunk is first
/// shown: the first page a phone opens downloads the framework, the layouts and its own
/// chunk, not every page of the portal. The chunks follow what a person opens: the sign-in
/// page; the customer list; the customer sections; the partner-wide and administration pages.
/// A customer's configuration, the section staff open most, stays in the main module: as a
/// chunk of its own it needed eleven files (its code and the code it shares with each subset
/// of the other chunks), each compressed apart, 363 KB brotli in all with the main module,
/// against 312 KB in one file. More chunks would mean more, smaller requests (a chunk per page made
/// 400 files). The server renders these routes as any other. Each route type is named after
/// its page.
mod lazy {
    use crate::pages::{customer::*, *};
    use leptos::prelude::*;
    use leptos_router::LazyRoute;

    // A braced struct names a type only, so each can share its page component's name.
    macro_rules! lazy_pages {
        ($chunk:ident: $($page:ident),* $(,)?) => {
            mod $chunk {
                use super::*;

                // Each variant is its page's name, `…Page` as the components are.
                #[allow(clippy::enum_variant_names)]
                #[derive(Clone, Copy)]
                pub enum Page {
                    $($page),*
                }

                #[lazy($chunk)]
                pub fn page_view(page: Page) -> AnyView {
                    match page {
                        $(Page::$page => view! { <$page /> }.into_any(),)*
                    }
                }
            }
            $(
                pub struct $page {}
                impl LazyRoute for $page {
                    fn data() -> Self {
                        $page {}
                    }
                    async fn view(_this: Self) -> AnyView {
                        #[cfg(feature = "ssr")]
                        crate::ssr::client_files::announce_chunk(stringify!($chunk));
                        $chunk::page_view($chunk::Page::$page).await
                    }
                    // The router fetches the chunk before it hydrates or shows the page, so
                    // the page's view is ready when the router asks for it (hydration would
                    // otherwise meet the server's HTML with nothing to hydrate it).
                    async fn preload() {
                        #[cfg(target_arch = "wasm32")]
                        $chunk::__preload_page_view().await;
                    }
                }
            )*
        };
    }

    lazy_pages!(sign_in_chunk: SignInPage);
    lazy_pages!(customer_list_chunk: CustomerListPage);
    lazy_pages!(
        customer_sections_chunk: CustomerOverview,
        TenantsSectionPage,
        TagsSectionPage,
        BillingSectionPage,
        ReconciliationPage,
        ConsumptionPage,
        AccountManagersSectionPage,
        ActivitySectionPage,
        DeleteSectionPage,
    );
    lazy_pages!(
        partner_chunk: GlobalDefaultsPage,
        OverrideMatrixPage,
        SyncPage,
        ProviderDirectoryPage,
        PartnerReconciliationPage,
        PartnerConsumptionPage,
        DeletedCustomersPage,
        AuditLogPage,
        AccountPage,
        StaffPage,
        StaffMemberPage,
        ApiTokensPage,
        BilledImportUploadPage,
        BilledImportPage,
    );
}
