//! Customer Configuration: overrides, history, global defaults and the override matrix.

mod get_configuration;
mod get_global_defaults;
mod get_override_matrix;
mod get_setting_history;
mod restore_setting;
mod revert_override;
mod revert_overrides;
mod save_global_default;
mod save_override;

pub use get_configuration::*;
pub use get_global_defaults::*;
pub use get_override_matrix::*;
pub use get_setting_history::*;
pub use restore_setting::*;
pub use revert_override::*;
pub use revert_overrides::*;
pub use save_global_default::*;
pub use save_override::*;

/// After a change, sends the browser back to the setting (closing its editor or history) and
/// leaves the status message `message` makes from the customer's name. Without JavaScript the
/// redirect is the answer to the form post; with JavaScript the router follows it.
#[cfg(feature = "ssr")]
async fn show_setting(customer_id: i64, key: &str, message: impl FnOnce(&str) -> String) {
    if let Ok(state) = crate::ssr::state() {
        crate::ssr::status::say_for_customer(&state.db, customer_id, message).await;
    }
    let anchor = crate::pages::dom_id("setting", key);
    leptos_axum::redirect(&format!("/customers/{customer_id}/configuration#{anchor}"));
}
