//! Reports: the billed record, the License Reconciliation and the License Consumption.

mod acknowledge_difference;
mod adopt_billed;
mod apply_billed_import;
mod get_billed_import;
mod get_consumption;
mod get_partner_consumption;
mod get_partner_reconciliation;
mod get_reconciliation;
mod save_billed;

pub use acknowledge_difference::*;
pub use adopt_billed::*;
pub use apply_billed_import::*;
pub use get_billed_import::*;
pub use get_consumption::*;
pub use get_partner_consumption::*;
pub use get_partner_reconciliation::*;
pub use get_reconciliation::*;
pub use save_billed::*;
