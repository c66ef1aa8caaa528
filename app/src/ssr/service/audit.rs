//! Writes audit lines for changes made by staff.

use crate::{
    model::{Millis, StaffView},
    ssr::store::{self, audit::AuditEntry},
};
use sqlx::AnyConnection;

/// Records that `staff` did `action` to `subject` of a customer, with the values before and after
/// as JSON. Runs on the caller's transaction so the line exists exactly when the change does.
pub async fn record(
    conn: &mut AnyConnection,
    staff: &StaffView,
    at: Millis,
    action: &str,
    customer_id: Option<i64>,
    subject: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    store::audit::insert(
        conn,
        AuditEntry {
            at,
            actor_id: Some(staff.id),
            actor_email: &staff.email,
            action,
            customer_id,
            subject,
            before_json: before.map(|v| v.to_string()),
            after_json: after.map(|v| v.to_string()),
        },
    )
    .await
}
