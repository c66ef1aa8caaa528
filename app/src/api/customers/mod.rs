//! The customer list, the customer header, and deleting and restoring customers.

mod delete_customer;
mod get_customer;
mod get_deleted_customers;
mod get_deletion_preview;
mod list_customers;
mod release_tenants;
mod restore_customer;

pub use delete_customer::*;
pub use get_customer::*;
pub use get_deleted_customers::*;
pub use get_deletion_preview::*;
pub use list_customers::*;
pub use release_tenants::*;
pub use restore_customer::*;
