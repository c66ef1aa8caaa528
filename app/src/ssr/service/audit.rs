//! Writes audit lines for changes made by staff.

use crate::{
    error::AppError,
    model::{Millis, StaffView},
    ssr::store::{self, audit::AuditEntry},
};
use sqlx::AnyConnection;

/// What changed: the action, the customer and the thing it was done to, and its values before
/// and after as JSON.
pub struct Change<'a> {
    pub action: &'a str,
    pub customer_id: Option<i64>,
    pub subject: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Records that `staff` made `change` at `at`. Runs on the caller's transaction so the line
/// exists exactly when the change does.
pub async fn record(
    conn: &mut AnyConnection,
    staff: &StaffView,
    at: Millis,
    change: Change<'_>,
) -> Result<(), sqlx::Error> {
    record_by(conn, Some(staff.id), &staff.email, at, change).await
}

/// Records a change by whoever `actor_email` names: a staff member (`actor_id`), or the
/// command line or a job (no id).
pub async fn record_by(
    conn: &mut AnyConnection,
    actor_id: Option<i64>,
    actor_email: &str,
    at: Millis,
    change: Change<'_>,
) -> Result<(), sqlx::Error> {
    store::audit::insert(
        conn,
        AuditEntry {
            at,
            actor_id,
            actor_email,
            action: change.action,
            customer_id: change.customer_id,
            subject: change.subject,
            before_json: change.before.map(|v| v.to_string()),
            after_json: change.after.map(|v| v.to_string()),
        },
    )
    .await
}

/// Who asked: a staff member, or the command line / a job (named in the audit).
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    Staff(&'a StaffView),
    System(&'a str),
}

impl Actor<'_> {
    pub(crate) fn id_and_email(&self) -> (Option<i64>, &str) {
        match self {
            Actor::Staff(staff) => (Some(staff.id), staff.email.as_str()),
            Actor::System(name) => (None, name),
        }
    }

    /// Refuses a customer this actor may not see (the command line sees every customer).
    pub(crate) async fn ensure_visible(
        &self,
        conn: &mut AnyConnection,
        customer_id: i64,
    ) -> Result<(), AppError> {
        match self {
            Actor::Staff(staff) => super::customers::ensure_visible(conn, staff, customer_id).await,
            Actor::System(_) => store::customers::find(conn, customer_id)
                .await?
                .map(|_| ())
                .ok_or_else(|| AppError::not_found("The customer")),
        }
    }

    pub(crate) async fn audit(
        &self,
        conn: &mut AnyConnection,
        at: Millis,
        change: Change<'_>,
    ) -> Result<(), sqlx::Error> {
        let (actor_id, actor_email) = self.id_and_email();
        record_by(conn, actor_id, actor_email, at, change).await
    }
}
