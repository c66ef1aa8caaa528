//! `/customers/{id}/reports/…`: the Reports section, its two reports side by side in a menu.

use super::customer_id_param;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

#[component]
pub fn ReportsLayout() -> impl IntoView {
    let id = customer_id_param();
    view! {
        <nav class="sections report-tabs" aria-label="Reports">
            <A href=move || format!("/customers/{}/reports/reconciliation", id.get())>"License Reconciliation"</A>
            <A href=move || format!("/customers/{}/reports/consumption", id.get())>"License Consumption"</A>
        </nav>
        <Outlet />
    }
}
