use crate::error::AppError;
use leptos::prelude::*;

/// Removes a tag from a customer (audited).
#[server(endpoint = "remove_tag")]
pub async fn remove_tag(customer_id: i64, tag_id: i64) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::EditTags)?;
    service::tags::remove(&state()?.db, &staff, customer_id, tag_id).await
}
