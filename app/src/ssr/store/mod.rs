//! SQL, and only SQL: one function per statement, each taking a connection (or a transaction)
//! so callers decide what runs together. The rules live in `service`.

pub mod account_managers;
pub mod api_tokens;
pub mod audit;
pub mod billed;
pub mod billed_imports;
pub mod billing;
pub mod customers;
pub mod partner_center_budget;
pub mod provider;
pub mod sessions;
pub mod settings;
pub mod sign_in_failures;
pub mod staff;
pub mod summaries;
pub mod sync;
pub mod tags;

/// Case-folds text the same way for every backend (SQL `lower()` folds only ASCII on SQLite).
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}
