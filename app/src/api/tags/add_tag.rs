use crate::{error::AppError, model::Tag};
use leptos::prelude::*;

/// Adds a name/value tag to a customer (validated; audited).
#[server(endpoint = "add_tag")]
pub async fn add_tag(customer_id: i64, name: String, value: String) -> Result<Tag, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::EditTags)?;
    let db = &state()?.db;
    let tag = service::tags::add(db, &staff, customer_id, &name, &value).await?;
    crate::ssr::status::say_for_customer(db, customer_id, |customer| {
        format!("Added tag {}: {} to {customer}.", tag.name, tag.value)
    })
    .await;
    Ok(tag)
}
