//! The audit log.

use crate::{error::AppError, model::AuditPage};
use leptos::prelude::*;

/// A page of the audit log, newest first. Empty texts switch a filter off; `before` is where
/// an older page starts.
#[server(endpoint = "get_audit_page")]
pub async fn get_audit_page(
    customer: String,
    staff: String,
    action: String,
    from: String,
    to: String,
    #[server(default)] before: Option<i64>,
) -> Result<AuditPage, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let who = auth::authorize(Permission::ViewAuditLog)?;
    let query = service::audit::LogQuery {
        customer,
        staff,
        action,
        from,
        to,
        before,
    };
    service::audit::log_page(&state()?.db, &who, &query).await
}

/// A customer's entries of the audit log, newest first (its Activity section). Anyone who may
/// see the customer; finance sees the billing and report entries.
#[server(endpoint = "get_customer_activity")]
pub async fn get_customer_activity(
    customer_id: i64,
    #[server(default)] before: Option<i64>,
) -> Result<AuditPage, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let who = auth::authorize(Permission::ViewCustomers)?;
    service::audit::customer_activity(&state()?.db, &who, customer_id, before).await
}
