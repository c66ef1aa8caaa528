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
    // An API token acts as id 0 (no staff member's): its line names the token alone.
    let id = Some(staff.id).filter(|id| *id > 0);
    record_by(conn, id, &staff.email, at, change).await
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
            Actor::Staff(staff) => (Some(staff.id).filter(|id| *id > 0), staff.email.as_str()),
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

/// What the audit log page asks for; empty texts switch a filter off.
#[derive(Clone, Debug, Default)]
pub struct LogQuery {
    /// A customer id.
    pub customer: String,
    /// A staff member's e-mail (or a job's name, such as `purge`).
    pub staff: String,
    /// An action's name, such as `billed.change`.
    pub action: String,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    pub from: String,
    /// `YYYY-MM-DD`, to the end of that day (UTC).
    pub to: String,
    /// The id the page starts below (the previous page's last).
    pub before: Option<i64>,
}

/// The actions finance sees: the billed record, the billing link and the reports.
pub const BILLING_AND_REPORT_ACTIONS: [&str; 3] = ["billed.", "billing.", "reconciliation."];

/// Midnight UTC of a `YYYY-MM-DD` date, in milliseconds.
fn day_start(field: &str, text: &str) -> Result<Option<Millis>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).map_err(|_| {
        AppError::field(
            field,
            format!("{text:?} is not a date: write it as 2026-12-01."),
        )
    })?;
    Ok(Some(date.midnight().assume_utc().unix_timestamp() * 1000))
}

/// A JSON value as text for people (strings without their quotes).
fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// The fields of an entry's before and after, side by side: those of both objects, in the
/// after's order then the before's (a value that is not an object is the field `value`).
pub fn changes(before: Option<&str>, after: Option<&str>) -> Vec<crate::model::FieldChange> {
    let parse = |text: Option<&str>| -> Vec<(String, String)> {
        match text.map(serde_json::from_str::<serde_json::Value>) {
            Some(Ok(serde_json::Value::Object(map))) => {
                map.iter().map(|(k, v)| (k.clone(), shown(v))).collect()
            }
            Some(Ok(other)) => vec![("value".into(), shown(&other))],
            Some(Err(_)) => vec![("value".into(), text.unwrap_or_default().to_owned())],
            None => Vec::new(),
        }
    };
    let (before, after) = (parse(before), parse(after));
    let mut fields: Vec<String> = after.iter().map(|(k, _)| k.clone()).collect();
    for (k, _) in &before {
        if !fields.contains(k) {
            fields.push(k.clone());
        }
    }
    let find = |list: &[(String, String)], key: &str| {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    fields
        .into_iter()
        .map(|field| crate::model::FieldChange {
            before: find(&before, &field),
            after: find(&after, &field),
            field,
        })
        .collect()
}

/// A page of the audit log, newest first, filtered; admin and reader see every entry, finance
/// the billing and report ones.
pub async fn log_page(
    db: &crate::ssr::db::Db,
    staff: &StaffView,
    query: &LogQuery,
) -> Result<crate::model::AuditPage, AppError> {
    log_batch(db, staff, query, crate::model::AUDIT_PAGE_SIZE).await
}

/// [`log_page`] with `size` entries a page (an export reads larger ones).
pub async fn log_batch(
    db: &crate::ssr::db::Db,
    staff: &StaffView,
    query: &LogQuery,
    size: i64,
) -> Result<crate::model::AuditPage, AppError> {
    use crate::model::Permission;
    if !staff.role.allows(Permission::ViewAuditLog) {
        return Err(AppError::Forbidden);
    }
    batch(db, staff, query, size).await
}

/// A customer's entries (its Activity section): for anyone who may see the customer (a
/// customer they may not see is missing, 404); finance sees the billing and report ones.
pub async fn customer_activity(
    db: &crate::ssr::db::Db,
    staff: &StaffView,
    customer_id: i64,
    before: Option<i64>,
) -> Result<crate::model::AuditPage, AppError> {
    super::customers::ensure_visible(&mut *db.pool().acquire().await?, staff, customer_id).await?;
    let query = LogQuery {
        customer: customer_id.to_string(),
        before,
        ..LogQuery::default()
    };
    batch(db, staff, &query, crate::model::AUDIT_PAGE_SIZE).await
}

/// The page of `query`, for a caller already allowed to see it.
async fn batch(
    db: &crate::ssr::db::Db,
    staff: &StaffView,
    query: &LogQuery,
    size: i64,
) -> Result<crate::model::AuditPage, AppError> {
    use crate::model::{AuditEntryView, AuditPage, Role};
    let mut errors = crate::error::FieldErrors::default();
    let customer = errors.check("customer", {
        let text = query.customer.trim();
        if text.is_empty() {
            Ok(None)
        } else {
            text.parse::<i64>()
                .map(Some)
                .map_err(|_| format!("{text:?} is not a customer id (a number)."))
        }
    });
    let from = errors.check(
        "from",
        day_start("from", &query.from)
            .map_err(|e| e.field_message("from").unwrap_or_default().to_owned()),
    );
    let to = errors.check(
        "to",
        day_start("to", &query.to)
            .map(|t| t.map(|t| t + 24 * 60 * 60 * 1000))
            .map_err(|e| e.field_message("to").unwrap_or_default().to_owned()),
    );
    errors.into_result()?;
    let billing_only = staff.role == Role::Finance;
    let (staff_filter, action) = (
        query.staff.trim().to_lowercase(),
        query.action.trim().to_owned(),
    );
    let filter = store::audit::AuditFilter {
        customer_id: customer.flatten(),
        actor_email: (!staff_filter.is_empty()).then_some(staff_filter.as_str()),
        action: (!action.is_empty()).then_some(action.as_str()),
        from: from.flatten(),
        to: to.flatten(),
        action_prefixes: billing_only.then_some(&BILLING_AND_REPORT_ACTIONS[..]),
    };
    let mut conn = db.pool().acquire().await?;
    let size = size.clamp(1, 999);
    let mut lines = store::audit::page(&mut conn, &filter, query.before, size + 1).await?;
    let more = lines.len() as i64 > size;
    lines.truncate(size as usize);
    let next_before = more.then(|| lines.last().map(|l| l.id)).flatten();
    Ok(AuditPage {
        entries: lines
            .into_iter()
            .map(|l| AuditEntryView {
                changes: changes(l.before_json.as_deref(), l.after_json.as_deref()),
                id: l.id,
                at: l.at,
                actor: l.actor_email,
                action: l.action,
                customer_id: l.customer_id,
                customer_name: l.customer_name,
                subject: l.subject,
            })
            .collect(),
        next_before,
        billing_and_reports_only: billing_only,
    })
}
