//! Define Tags.

mod add_tag;
mod get_tags;
mod remove_tag;

pub use add_tag::*;
pub use get_tags::*;
pub use remove_tag::*;
