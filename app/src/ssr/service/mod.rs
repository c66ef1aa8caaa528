//! The rules: who may see which customer, what a change must satisfy, and that every change is
//! audited in the same transaction as the change itself.

pub mod account_managers;
pub mod api_tokens;
pub mod audit;
pub mod billed_import;
pub mod billing;
pub mod configuration;
pub mod customers;
pub mod deletion;
pub mod provider;
pub mod reports;
pub mod staff;
pub mod sync;
pub mod tags;
