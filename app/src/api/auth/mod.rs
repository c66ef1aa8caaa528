//! Signing in and out, and who is signed in.

mod get_session;
mod sign_in;
mod sign_out;

pub use get_session::*;
pub use sign_in::*;
pub use sign_out::*;
