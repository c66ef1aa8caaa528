//! The axum host of the portal: configuration, the HTTP layer in front of the Leptos app, the
//! demo data, and start-up. `main.rs` is only the command line.

pub mod assets;
pub mod bench;
pub mod bench_audit;
pub mod bench_csv;
pub mod bench_customers;
pub mod bench_import;
pub mod bench_link;
pub mod bench_reports;
pub mod bench_sign_in;
pub mod config;
pub mod csv_export;
pub mod csv_stream;
pub mod demo;
pub mod gate;
pub mod gateway_sim;
pub mod headers;
pub mod openapi;
pub mod simulator;
pub mod startup;
