//! The provider directory: every customer tenant Partner Center lists for the partner, kept in
//! the portal so tenants can be found and linked. A refresh lists them all (following
//! `links.next`), then writes the difference in one transaction: new tenants added, changed
//! names and domains updated, tenants no longer listed marked gone (never deleted). A refresh
//! that fails leaves the last good directory as it was.

use crate::{
    error::AppError,
    model::{Millis, StaffView},
    ssr::{
        db::{now_millis, Db},
        partner_center::{wire::Customer, PartnerCenterClient},
        store::{
            self,
            audit::AuditEntry,
            provider::{DirectoryRow, RefreshCounts},
        },
    },
};
use serde_json::json;
use std::collections::HashMap;

/// A tenant as Partner Center lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedTenant {
    pub tenant_id: String,
    pub company_name: String,
    pub domain: String,
    pub relationship: String,
}

impl From<&Customer> for ListedTenant {
    fn from(c: &Customer) -> Self {
        let tenant_id = if c.company_profile.tenant_id.is_empty() {
            &c.id
        } else {
            &c.company_profile.tenant_id
        };
        ListedTenant {
            tenant_id: tenant_id.trim().to_lowercase(),
            company_name: c.company_profile.company_name.trim().to_owned(),
            domain: c.company_profile.domain.trim().to_lowercase(),
            relationship: c.relationship_to_partner.clone(),
        }
    }
}

/// Who asked for a refresh: a staff member, or the command line / a job.
pub enum Actor<'a> {
    Staff(&'a StaffView),
    System(&'a str),
}

/// Lists every customer of the partner from Partner Center and applies the difference.
pub async fn refresh(
    db: &Db,
    client: &PartnerCenterClient,
    actor: Actor<'_>,
) -> Result<RefreshCounts, AppError> {
    let listed: Vec<ListedTenant> = client
        .list_customers()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "provider directory refresh failed; the last one stays");
            AppError::Upstream {
                message: format!(
                    "Partner Center could not be read ({e}); the directory is as it was at its last refresh."
                ),
            }
        })?
        .iter()
        .map(ListedTenant::from)
        .collect();
    apply(db, &listed, actor, now_millis()).await
}

/// Writes what a complete listing says, in one transaction, and audits the counts.
pub async fn apply(
    db: &Db,
    listed: &[ListedTenant],
    actor: Actor<'_>,
    now: Millis,
) -> Result<RefreshCounts, AppError> {
    let mut tx = db.begin_write().await?;
    let known: HashMap<String, DirectoryRow> = store::provider::all(&mut tx)
        .await?
        .into_iter()
        .map(|row| (row.tenant_id.clone(), row))
        .collect();
    let mut counts = RefreshCounts::default();
    let mut seen = std::collections::HashSet::new();
    for tenant in listed {
        if !seen.insert(tenant.tenant_id.as_str()) {
            continue; // listed twice across pages: once is enough
        }
        counts.listed += 1;
        match known.get(&tenant.tenant_id) {
            None => {
                counts.added += 1;
                store::provider::insert(
                    &mut tx,
                    &DirectoryRow {
                        tenant_id: tenant.tenant_id.clone(),
                        company_name: tenant.company_name.clone(),
                        domain: tenant.domain.clone(),
                        relationship: tenant.relationship.clone(),
                        first_seen_at: now,
                        last_seen_at: now,
                        gone_since: None,
                    },
                )
                .await?;
            }
            Some(row) => {
                if row.company_name != tenant.company_name || row.domain != tenant.domain {
                    counts.renamed += 1;
                }
                if row.gone_since.is_some() {
                    counts.returned += 1;
                }
                store::provider::seen(
                    &mut tx,
                    &tenant.tenant_id,
                    &tenant.company_name,
                    &tenant.domain,
                    &tenant.relationship,
                    now,
                )
                .await?;
            }
        }
    }
    for row in known.values() {
        if row.gone_since.is_none() && !seen.contains(row.tenant_id.as_str()) {
            counts.gone += 1;
            store::provider::mark_gone(&mut tx, &row.tenant_id, now).await?;
        }
    }
    store::provider::record_refresh(&mut tx, now, counts).await?;
    let (actor_id, actor_email) = match actor {
        Actor::Staff(staff) => (Some(staff.id), staff.email.as_str()),
        Actor::System(name) => (None, name),
    };
    let after = json!({
        "listed": counts.listed,
        "added": counts.added,
        "gone": counts.gone,
        "renamed": counts.renamed,
        "returned": counts.returned,
    });
    store::audit::insert(
        &mut tx,
        AuditEntry {
            at: now,
            actor_id,
            actor_email,
            action: "provider.refresh",
            customer_id: None,
            subject: "provider directory",
            before_json: None,
            after_json: Some(after.to_string()),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        listed = counts.listed,
        added = counts.added,
        gone = counts.gone,
        renamed = counts.renamed,
        returned = counts.returned,
        "provider directory refreshed"
    );
    Ok(counts)
}
