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

/// After a change, sends the browser back to the setting (closing its editor), with its history
/// open when `history`. Without JavaScript this is the redirect a form post answers with; with
/// JavaScript the router follows it.
#[cfg(feature = "ssr")]
fn show_setting(customer_id: i64, key: &str, history: bool) {
    let anchor = crate::pages::dom_id("setting", key);
    let query = if history {
        format!("?history={key}")
    } else {
        String::new()
    };
    leptos_axum::redirect(&format!(
        "/customers/{customer_id}/configuration{query}#{anchor}"
    ));
}
