//! The screens, one module per screen or settings section.

mod account;
mod api_tokens;
mod audit;
mod billed_import;
pub mod customer;
mod customer_list;
mod deleted_customers;
mod layout;
mod provider;
mod reports;
mod settings;
mod sign_in;
pub mod staff;
mod sync;

pub use settings::{GlobalDefaultsPage, OverrideMatrixPage};
pub use sync::SyncPage;

pub use account::AccountPage;
pub use api_tokens::ApiTokensPage;
pub use audit::AuditLogPage;
pub use billed_import::{BilledImportPage, BilledImportUploadPage};
pub use customer_list::CustomerListPage;
pub use deleted_customers::DeletedCustomersPage;
pub use layout::SignedInLayout;
pub use provider::ProviderDirectoryPage;
pub use reports::{PartnerConsumptionPage, PartnerReconciliationPage};
pub use sign_in::SignInPage;
pub use staff::{StaffMemberPage, StaffPage};

use crate::model::SettingView;
use leptos::prelude::*;
use leptos_meta::Title;

/// The settings grouped by category, in catalog order.
pub(crate) fn by_category(settings: Vec<SettingView>) -> Vec<(String, Vec<SettingView>)> {
    let mut groups: Vec<(String, Vec<SettingView>)> = Vec::new();
    for setting in settings {
        match groups.iter_mut().find(|(c, _)| *c == setting.category) {
            Some((_, list)) => list.push(setting),
            None => groups.push((setting.category.clone(), vec![setting])),
        }
    }
    groups
}

/// An element id made from a setting key (letters, digits, `.` and `_`), e.g. `setting-billing-cycle`.
pub fn dom_id(prefix: &str, key: &str) -> String {
    format!("{prefix}-{}", key.replace('.', "-"))
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    crate::components::set_page_status(&crate::error::AppError::not_found("The page"));
    view! {
        <Title text="Not found" />
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>
                <a href="/customers">"Go to the customer list"</a>
            </p>
        </main>
    }
}
