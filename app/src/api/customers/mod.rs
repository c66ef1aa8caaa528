//! The customer list and the customer header.

mod get_customer;
mod list_customers;

pub use get_customer::*;
pub use list_customers::*;
