//! Account Manager Details: the partner employees responsible for a customer.

use crate::{
    error::AppError,
    model::{AccountManager, AccountManagersSection, Permission, StaffView},
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
) -> Result<AccountManagersSection, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let assigned = store::account_managers::assigned_to(&mut conn, customer_id).await?;
    let can_assign = staff.role.allows(Permission::AssignAccountManagers);
    let assignable = if can_assign {
        store::account_managers::list_all(&mut conn)
            .await?
            .into_iter()
            .filter(|m| !assigned.iter().any(|a| a.id == m.id))
            .collect()
    } else {
        Vec::new()
    };
    Ok(AccountManagersSection {
        assigned,
        assignable,
        can_assign,
    })
}

pub async fn assign(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    manager_id: i64,
) -> Result<AccountManager, AppError> {
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let manager = store::account_managers::find(&mut tx, manager_id)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "account_manager_id",
                "Choose an account manager from the list.",
            )
        })?;
    let now = now_millis();
    let added = store::account_managers::assign(&mut tx, customer_id, manager_id, now).await?;
    if added {
        store::customers::touch(&mut tx, customer_id, now).await?;
        audit::record(
            &mut tx,
            staff,
            now,
            audit::Change {
                action: "account_manager.assign",
                customer_id: Some(customer_id),
                subject: &format!("account manager {}", manager.email),
                before: None,
                after: Some(json!({ "name": manager.name, "email": manager.email })),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(manager)
}

pub async fn unassign(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    manager_id: i64,
) -> Result<Option<AccountManager>, AppError> {
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let now = now_millis();
    let removed = store::account_managers::unassign(&mut tx, customer_id, manager_id).await?;
    if !removed {
        return Err(AppError::not_found("That account manager assignment"));
    }
    let manager = store::account_managers::find(&mut tx, manager_id).await?;
    store::customers::touch(&mut tx, customer_id, now).await?;
    audit::record(
        &mut tx,
        staff,
        now,
        audit::Change {
            action: "account_manager.unassign",
            customer_id: Some(customer_id),
            subject: &format!(
                "account manager {}",
                manager.as_ref().map_or("(deleted)", |m| m.email.as_str())
            ),
            before: manager
                .as_ref()
                .map(|m| json!({ "name": m.name, "email": m.email })),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(manager)
}
