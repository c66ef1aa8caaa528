//! The screens, one module per screen or settings section.

pub mod customer;
mod customer_list;
mod layout;
mod sign_in;

pub use customer_list::CustomerListPage;
pub use layout::SignedInLayout;
pub use sign_in::SignInPage;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
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
