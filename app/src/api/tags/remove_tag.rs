use crate::{error::AppError, model::Tag};
use leptos::prelude::*;

/// Removes a tag from a customer (audited).
#[server(endpoint = "remove_tag")]
pub async fn remove_tag(customer_id: i64, tag_id: i64) -> Result<Tag, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::EditTags)?;
    let db = &state()?.db;
    let tag = service::tags::remove(db, &staff, customer_id, tag_id).await?;
    crate::ssr::status::say_for_customer(db, customer_id, |customer| {
        format!("Removed tag {}: {} from {customer}.", tag.name, tag.value)
    })
    .await;
    // Without JavaScript: back to the tags, without the question.
    leptos_axum::redirect(&format!("/customers/{customer_id}/tags"));
    Ok(tag)
}
