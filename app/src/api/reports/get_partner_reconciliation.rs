use crate::{error::AppError, model::PartnerReconciliation};
use leptos::prelude::*;

/// The License Reconciliation of every customer the caller may see: one line per customer with
/// differences, counts per kind and the money at stake. `tag` (`Name=Value`) and `kind` (a
/// difference kind's name) narrow it; empty texts switch them off. `page` is 1-based.
#[server(endpoint = "get_partner_reconciliation")]
pub async fn get_partner_reconciliation(
    tag: String,
    kind: String,
    acknowledged: bool,
    page: i64,
) -> Result<PartnerReconciliation, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewReports)?;
    let query = service::reports::PartnerQuery {
        tag,
        kind,
        include_acknowledged: acknowledged,
        page,
    };
    service::reports::partner_reconciliation(&state()?.db, &staff, &query).await
}
