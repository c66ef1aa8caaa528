//! Delete Customer: a customer deleted from the portal (never from Partner Center: nothing is
//! sent there) leaves every list, search, report, matrix, sync job and Help Desk scope at once,
//! as every read skips `deleted_at`; its rows stay, so an admin can restore it as it was within
//! the retention period. Then it is purged: its row and every row that belongs to it removed for
//! good, one transaction per customer; the audit log keeps who deleted, restored and purged it,
//! with its name.

use super::{
    audit::{self, Change},
    customers::ensure_visible,
};
use crate::{
    error::AppError,
    model::{DeletedCustomer, DeletionPreview, Millis, Permission, StaffView},
    ssr::{
        db::{now_millis, Db},
        store,
    },
};
use serde_json::json;

/// Days a deleted customer can be restored, unless configured otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

const DAY_MS: Millis = 24 * 60 * 60 * 1000;

fn ensure_may_delete(staff: &StaffView) -> Result<(), AppError> {
    if staff.role.allows(Permission::DeleteCustomers) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// What deleting the customer takes with it (anyone who may see the customer may see this).
pub async fn preview(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    retention_days: i64,
) -> Result<DeletionPreview, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let (_, name, ..) = store::customers::find(&mut conn, customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("The customer"))?;
    let (tenants, billed_rows, tags, account_managers, overrides, billing_links) =
        store::customers::belongings(&mut conn, customer_id).await?;
    Ok(DeletionPreview {
        customer_id,
        name,
        tenants,
        billed_rows,
        tags,
        account_managers,
        overrides,
        billing_links,
        retention_days,
        can_delete: staff.role.allows(Permission::DeleteCustomers),
    })
}

/// Deletes the customer from the portal once its name is typed back (spaces around it aside).
/// Its sync work not yet started is dropped. Returns its name.
pub async fn delete(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    typed_name: &str,
) -> Result<String, AppError> {
    ensure_may_delete(staff)?;
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let (_, name, ..) = store::customers::find(&mut tx, customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("The customer"))?;
    if typed_name.trim() != name {
        return Err(AppError::field(
            "confirm_name",
            format!("Type the customer's name exactly as shown, {name}, to delete it."),
        ));
    }
    let (tenants, billed_rows, tags, account_managers, overrides, billing_links) =
        store::customers::belongings(&mut tx, customer_id).await?;
    if !store::customers::mark_deleted(&mut tx, customer_id, &staff.email, now).await? {
        return Err(AppError::not_found("The customer"));
    }
    let jobs = store::sync::drop_pending_of(&mut tx, customer_id, now).await?;
    for job in jobs {
        store::sync::finish_job_if_complete(&mut tx, job, now).await?;
    }
    audit::record(
        &mut tx,
        staff,
        now,
        Change {
            action: "customer.delete",
            customer_id: Some(customer_id),
            subject: &format!("customer {customer_id}"),
            before: Some(json!({
                "name": name,
                "tenants": tenants,
                "billed_rows": billed_rows,
                "tags": tags,
                "account_managers": account_managers,
                "overrides": overrides,
                "billing_links": billing_links,
            })),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, customer_id, "customer deleted from the portal");
    Ok(name)
}

/// The deleted customers, the most recent first, with the day each one is purged.
pub async fn deleted(
    db: &Db,
    staff: &StaffView,
    retention_days: i64,
) -> Result<Vec<DeletedCustomer>, AppError> {
    ensure_may_delete(staff)?;
    let mut conn = db.pool().acquire().await?;
    Ok(store::customers::deleted(&mut conn)
        .await?
        .into_iter()
        .map(|row| DeletedCustomer {
            id: row.id,
            name: row.name,
            primary_domain: row.primary_domain,
            deleted_at: row.deleted_at,
            deleted_by: row.deleted_by,
            purge_after: row.deleted_at + retention_days * DAY_MS,
        })
        .collect())
}

/// Restores a deleted customer as it was, its released tenants linked again unless another
/// customer took them meanwhile (those are named and left out). Refused when another customer
/// has taken its primary domain meanwhile (named).
pub async fn restore(db: &Db, staff: &StaffView, customer_id: i64) -> Result<Restored, AppError> {
    ensure_may_delete(staff)?;
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    let row = store::customers::find_deleted(&mut tx, customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("That deleted customer"))?;
    if let Some(other) = store::customers::find_by_domain(&mut tx, &row.primary_domain).await? {
        let other_name = store::customers::find(&mut tx, other)
            .await?
            .map(|c| c.1)
            .unwrap_or_default();
        return Err(AppError::Conflict {
            message: format!(
                "{} cannot be restored: its primary domain {} is now {other_name}'s.",
                row.name, row.primary_domain
            ),
        });
    }
    store::customers::restore(&mut tx, customer_id, now).await?;
    // Released tenants come back unless another customer took them meanwhile.
    let mut relinked = Vec::new();
    let mut left_out = Vec::new();
    if let Some((_, released)) = store::customers::released_tenants(&mut tx, customer_id).await? {
        for tenant in released {
            if store::customers::relink_released(&mut tx, customer_id, &tenant).await? {
                relinked.push(tenant);
            } else {
                let holder = store::provider::holder(&mut tx, &tenant)
                    .await?
                    .map_or_else(|| "another customer".to_owned(), |(_, name)| name);
                left_out.push(format!("{tenant} (linked to {holder} meanwhile)"));
            }
        }
        store::customers::clear_released(&mut tx, customer_id).await?;
    }
    audit::record(
        &mut tx,
        staff,
        now,
        Change {
            action: "customer.restore",
            customer_id: Some(customer_id),
            subject: &format!("customer {customer_id}"),
            before: None,
            after: Some(json!({
                "name": row.name,
                "deleted_at": row.deleted_at,
                "deleted_by": row.deleted_by,
                "tenants_linked_again": relinked,
                "tenants_left_out": left_out,
            })),
        },
    )
    .await?;
    super::reports::refresh_summary(&mut tx, customer_id).await?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, customer_id, "deleted customer restored");
    Ok(Restored {
        name: row.name,
        left_out,
    })
}

/// A restored customer: its name, and the released tenants another customer took meanwhile
/// (left out, each with who has it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub name: String,
    pub left_out: Vec<String>,
}

/// Releases a deleted customer's tenants: unlinked, so another customer may link them before
/// the purge; a restore links them again where nobody did. Returns how many were released.
pub async fn release_tenants(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
) -> Result<usize, AppError> {
    ensure_may_delete(staff)?;
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    let row = store::customers::find_deleted(&mut tx, customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("That deleted customer"))?;
    let released = store::customers::release_tenants(&mut tx, customer_id, now).await?;
    audit::record(
        &mut tx,
        staff,
        now,
        Change {
            action: "customer.release_tenants",
            customer_id: Some(customer_id),
            subject: &format!("customer {customer_id}"),
            before: Some(json!({ "name": row.name })),
            after: Some(json!({ "tenants_released": released })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(released.len())
}

/// Purges every customer deleted more than `retention_days` before `now`, one transaction each
/// (a customer restored meanwhile is left). Returns (id, name) of those purged.
pub async fn purge(
    db: &Db,
    retention_days: i64,
    now: Millis,
) -> Result<Vec<(i64, String)>, AppError> {
    let cutoff = now - retention_days.max(0) * DAY_MS;
    let due = store::customers::purge_due(&mut *db.pool().acquire().await?, cutoff).await?;
    let mut purged = Vec::new();
    for (customer_id, name) in due {
        let mut tx = db.begin_write().await?;
        if store::customers::purge(&mut tx, customer_id, cutoff).await? {
            audit::record_by(
                &mut tx,
                None,
                "purge",
                now,
                Change {
                    action: "customer.purge",
                    customer_id: Some(customer_id),
                    subject: &format!("customer {customer_id}"),
                    before: Some(json!({ "name": name })),
                    after: None,
                },
            )
            .await?;
            tx.commit().await?;
            tracing::info!(customer_id, "deleted customer purged");
            purged.push((customer_id, name));
        }
    }
    Ok(purged)
}
