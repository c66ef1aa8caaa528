use crate::{error::AppError, model::StaffView};
use leptos::prelude::*;

/// The signed-in staff member.
#[server(endpoint = "get_session")]
pub async fn get_session() -> Result<StaffView, AppError> {
    crate::ssr::auth::signed_in()
}
