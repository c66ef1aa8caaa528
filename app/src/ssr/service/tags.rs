//! Define Tags: name/value pairs on a customer. Tags also decide what Help Desk staff see.

use crate::{
    error::{AppError, FieldErrors},
    model::{Permission, StaffView, Tag, TagName, TagValue, TagsSection},
    ssr::{
        db::{now_millis, Db},
        service::{audit, customers::ensure_visible},
        store,
    },
};
use serde_json::json;

pub async fn section(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
) -> Result<TagsSection, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    Ok(TagsSection {
        tags: store::tags::list(&mut conn, customer_id).await?,
        can_edit: staff.role.allows(Permission::EditTags),
    })
}

/// Adds a tag after validating name and value; a customer has at most one tag of a name.
/// The customer's visibility is checked before the input is even parsed.
pub async fn add(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    name: &str,
    value: &str,
) -> Result<Tag, AppError> {
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", TagName::parse(name));
    let value = errors.check("value", TagValue::parse(value));
    errors.into_result()?;
    let (Some(name), Some(value)) = (name, value) else {
        unreachable!("both parsed when there is no field error")
    };
    let now = now_millis();
    let inserted = store::tags::insert(
        &mut tx,
        customer_id,
        name.as_str(),
        &store::fold(name.as_str()),
        value.as_str(),
        now,
    )
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(AppError::field(
                "name",
                format!("This customer already has a tag named “{}”.", name.as_str()),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    store::customers::touch(&mut tx, customer_id, now).await?;
    let tag = Tag {
        id,
        name: name.as_str().to_owned(),
        value: value.as_str().to_owned(),
    };
    audit::record(
        &mut tx,
        staff,
        now,
        audit::Change {
            action: "tag.add",
            customer_id: Some(customer_id),
            subject: &format!("tag {}", tag.name),
            before: None,
            after: Some(json!({ "name": tag.name, "value": tag.value })),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, customer_id, tag = %tag.name, "tag added");
    Ok(tag)
}

pub async fn remove(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    tag_id: i64,
) -> Result<Tag, AppError> {
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let now = now_millis();
    let removed = store::tags::delete(&mut tx, customer_id, tag_id).await?;
    let tag = removed.ok_or_else(|| AppError::not_found("The tag"))?;
    store::customers::touch(&mut tx, customer_id, now).await?;
    audit::record(
        &mut tx,
        staff,
        now,
        audit::Change {
            action: "tag.remove",
            customer_id: Some(customer_id),
            subject: &format!("tag {}", tag.name),
            before: Some(json!({ "name": tag.name, "value": tag.value })),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, customer_id, tag = %tag.name, "tag removed");
    Ok(tag)
}
