use crate::{error::AppError, model::TagsSection};
use leptos::prelude::*;

/// A customer's tags, and whether the caller may change them.
#[server(endpoint = "get_tags")]
pub async fn get_tags(customer_id: i64) -> Result<TagsSection, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    service::tags::section(&state()?.db, &staff, customer_id).await
}
