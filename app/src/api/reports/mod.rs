//! Reports: the billed record and the License Reconciliation.

mod acknowledge_difference;
mod adopt_billed;
mod get_reconciliation;
mod save_billed;

pub use acknowledge_difference::*;
pub use adopt_billed::*;
pub use get_reconciliation::*;
pub use save_billed::*;
