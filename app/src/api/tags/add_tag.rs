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
    service::tags::add(&state()?.db, &staff, customer_id, &name, &value).await
}
