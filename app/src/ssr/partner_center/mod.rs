//! Microsoft Partner Center: the REST client and the API's JSON shapes. Server side only.

pub mod client;
pub mod wire;

pub use client::{PartnerCenterClient, PartnerCenterConfig, PartnerCenterError, Secret};
