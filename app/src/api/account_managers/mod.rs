//! Account Manager Details.

mod assign_account_manager;
mod get_account_managers;
mod unassign_account_manager;

pub use assign_account_manager::*;
pub use get_account_managers::*;
pub use unassign_account_manager::*;
