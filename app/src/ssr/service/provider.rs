//! The provider directory: every customer tenant Partner Center lists for the partner, kept in
//! the portal so tenants can be found and linked. A refresh lists them all (following
//! `links.next`), then writes the difference in one transaction: new tenants added, changed
//! names and domains updated, tenants no longer listed marked gone (never deleted). A refresh
//! that fails leaves the last good directory as it was.

use super::audit::Change;
use crate::{
    error::AppError,
    model::{
        count_of, parse_customer_name, parse_domain, parse_tenant_id, CustomerRef, DirectoryEntry,
        LinkFilter, LinkSelection, Millis, Permission, ProviderPage, StaffView, SuggestionView,
        PROVIDER_PAGE_SIZE, SELECTION_SHOWN,
    },
    ssr::{
        db::{now_millis, Db},
        matching::{normalise_name, CustomerFacts, CustomerIndex, Suggestion, TenantFacts},
        partner_center::{wire::Customer, PartnerCenterClient},
        service::customers::ensure_visible,
        store::{
            self,
            provider::{
                DirectoryLine, DirectoryQuery, DirectoryRow, MatchCandidate, RefreshCounts,
            },
        },
    },
};
use serde_json::json;
use sqlx::AnyConnection;
use std::collections::HashMap;
use tokio::sync::Notify;

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

pub use super::audit::Actor;

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
    let after = json!({
        "listed": counts.listed,
        "added": counts.added,
        "gone": counts.gone,
        "renamed": counts.renamed,
        "returned": counts.returned,
    });
    actor
        .audit(
            &mut tx,
            now,
            Change {
                action: "provider.refresh",
                customer_id: None,
                subject: "provider directory",
                before: None,
                after: Some(after),
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

/// What a directory page asks for.
pub struct DirectoryRequest<'a> {
    pub search: &'a str,
    pub filter: LinkFilter,
    /// The tenant id the page starts after.
    pub after: Option<&'a str>,
    /// The customer the page links to (opened from its Provider Tenants section).
    pub for_customer: Option<i64>,
}

/// The longest search text accepted; longer input is cut.
const SEARCH_MAX_CHARS: usize = 200;

/// One page of the directory with each row's link state and, for unlinked rows, the
/// suggested customer. At most a handful of queries whatever the directory's size.
pub async fn directory_page(
    db: &Db,
    staff: &StaffView,
    configured: bool,
    request: DirectoryRequest<'_>,
) -> Result<ProviderPage, AppError> {
    let mut conn = db.pool().acquire().await?;
    let for_customer = match request.for_customer {
        Some(id) => {
            ensure_visible(&mut conn, staff, id).await?;
            store::customers::find(&mut conn, id)
                .await?
                .map(|(id, name, _, _)| CustomerRef { id, name })
        }
        None => None,
    };
    let search_key: String = store::fold(request.search.trim())
        .chars()
        .take(SEARCH_MAX_CHARS)
        .collect();
    let cursor = match request.after {
        Some(tenant_id) => store::provider::cursor(&mut conn, tenant_id).await?,
        None => None,
    };
    let query = DirectoryQuery {
        search_key: &search_key,
        filter: request.filter,
        after: cursor.as_ref().map(|(k, t)| (k.as_str(), t.as_str())),
        limit: PROVIDER_PAGE_SIZE + 1,
    };
    let mut lines = store::provider::page(&mut conn, &query).await?;
    let has_more = lines.len() as i64 > PROVIDER_PAGE_SIZE;
    lines.truncate(PROVIDER_PAGE_SIZE as usize);
    let matching = store::provider::count(&mut conn, &query).await?;
    let entries = entries_with_suggestions(&mut conn, lines).await?;
    Ok(ProviderPage {
        next_after: has_more
            .then(|| entries.last().map(|e| e.tenant_id.clone()))
            .flatten(),
        entries,
        matching,
        last_refresh: store::provider::last_refresh(&mut conn).await?,
        configured,
        can_link: staff.role.allows(Permission::LinkTenants),
        for_customer,
    })
}

/// The page's view of directory lines: unlinked ones get their suggestion.
async fn entries_with_suggestions(
    conn: &mut AnyConnection,
    lines: Vec<DirectoryLine>,
) -> Result<Vec<DirectoryEntry>, AppError> {
    let open: Vec<DirectoryRow> = lines
        .iter()
        .filter(|l| l.linked_to.is_none() && l.row.gone_since.is_none())
        .map(|l| l.row.clone())
        .collect();
    let (suggestions, names) = suggestions_for(conn, &open).await?;
    Ok(lines
        .into_iter()
        .map(|line| {
            let suggestion = suggestions
                .get(&line.row.tenant_id)
                .and_then(|s| suggestion_view(s, &names));
            DirectoryEntry {
                tenant_id: line.row.tenant_id,
                company_name: line.row.company_name,
                domain: line.row.domain,
                relationship: line.row.relationship,
                gone_since: line.row.gone_since,
                linked_to: line.linked_to.map(|(id, name)| CustomerRef { id, name }),
                suggestion,
            }
        })
        .collect())
}

/// Above this many tenants, suggestions index every customer once instead of looking up
/// the candidates of each tenant.
const LOOK_UP_AT_MOST: usize = 500;

/// The matcher's suggestion for each of `rows`, and the names of the customers suggested.
pub async fn suggestions_for(
    conn: &mut AnyConnection,
    rows: &[DirectoryRow],
) -> Result<(HashMap<String, Suggestion>, HashMap<i64, String>), AppError> {
    if rows.is_empty() {
        return Ok(Default::default());
    }
    let candidates: Vec<MatchCandidate> = if rows.len() > LOOK_UP_AT_MOST {
        store::provider::all_candidates(conn).await?
    } else {
        let ids: Vec<String> = rows.iter().map(|r| r.tenant_id.clone()).collect();
        let domains: Vec<String> = rows.iter().map(|r| r.domain.clone()).collect();
        let keys: Vec<String> = rows
            .iter()
            .map(|r| normalise_name(&r.company_name))
            .filter(|k| !k.is_empty())
            .collect();
        store::provider::match_candidates(conn, &ids, &domains, &keys).await?
    };
    let index = CustomerIndex::new(candidates.iter().map(|c| CustomerFacts {
        id: c.id,
        name: &c.name,
        primary_domain: &c.primary_domain,
        tenant_ids: &c.tenant_ids,
    }));
    let names: HashMap<i64, String> = candidates.iter().map(|c| (c.id, c.name.clone())).collect();
    let suggestions = rows
        .iter()
        .map(|row| {
            let domains = [row.domain.clone()];
            let suggestion = index.suggest(&TenantFacts {
                tenant_id: &row.tenant_id,
                company_name: &row.company_name,
                domains: &domains,
            });
            (row.tenant_id.clone(), suggestion)
        })
        .collect();
    Ok((suggestions, names))
}

fn suggestion_view(s: &Suggestion, names: &HashMap<i64, String>) -> Option<SuggestionView> {
    let named = |id: i64| CustomerRef {
        id,
        name: names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("customer {id}")),
    };
    match s {
        Suggestion::Customer {
            customer_id,
            reason,
        } => Some(SuggestionView::Customer {
            customer: named(*customer_id),
            confidence: reason.confidence().to_owned(),
            reason: reason.describe().to_owned(),
        }),
        Suggestion::Ambiguous {
            customer_ids,
            reason,
        } => Some(SuggestionView::Ambiguous {
            customers: customer_ids.iter().map(|id| named(*id)).collect(),
            reason: reason.describe().to_owned(),
        }),
        Suggestion::None => None,
    }
}

/// Which tenants a link or an acceptance acts on: the ones ticked, or every unlinked tenant
/// matching a search ("select all N matching").
#[derive(Clone, Debug)]
pub enum Selection {
    Tenants(Vec<String>),
    /// Every unlinked tenant matching `search`; with `expected`, the count the person was
    /// shown, and a different count now is refused (the directory changed meanwhile).
    AllUnlinkedMatching {
        search: String,
        expected: Option<usize>,
    },
}

/// The tenant ids a selection names, parsed (a bad one is refused with its position).
pub async fn resolve_selection(
    conn: &mut AnyConnection,
    selection: &Selection,
) -> Result<Vec<String>, AppError> {
    let ids = match selection {
        Selection::Tenants(items) => {
            let mut ids = Vec::with_capacity(items.len());
            let mut seen = std::collections::HashSet::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let id = parse_tenant_id(item)
                    .map_err(|m| AppError::field("items", format!("Row {}: {m}", i + 1)))?;
                if seen.insert(id.clone()) {
                    ids.push(id);
                }
            }
            ids
        }
        Selection::AllUnlinkedMatching { search, expected } => {
            let search_key: String = store::fold(search.trim())
                .chars()
                .take(SEARCH_MAX_CHARS)
                .collect();
            let ids = store::provider::matching_ids(
                conn,
                &DirectoryQuery {
                    search_key: &search_key,
                    filter: LinkFilter::Unlinked,
                    after: None,
                    limit: i64::MAX,
                },
            )
            .await?;
            if let Some(expected) = *expected {
                if ids.len() != expected {
                    return Err(AppError::Conflict {
                        message: format!(
                            "The directory changed since the selection was counted: {} now, not {expected}. Look at them again before going on.",
                            count_of(ids.len(), "unlinked tenant matches", "unlinked tenants match")
                        ),
                    });
                }
            }
            ids
        }
    };
    if ids.is_empty() {
        return Err(AppError::field("items", "Select at least one tenant."));
    }
    Ok(ids)
}

/// The selected tenants as the question before a link shows them: the first ones with their
/// state and suggestion, and counts over all of them.
pub async fn selection_summary(db: &Db, selection: &Selection) -> Result<LinkSelection, AppError> {
    let mut conn = db.pool().acquire().await?;
    let ids = resolve_selection(&mut conn, selection).await?;
    let rows = directory_rows(&mut conn, &ids).await?;
    let mut holders = store::provider::holders(&mut conn, &ids).await?;
    let lines: Vec<DirectoryLine> = rows
        .into_iter()
        .map(|row| DirectoryLine {
            linked_to: holders.remove(&row.tenant_id),
            row,
        })
        .collect();
    let total = lines.len();
    let entries = entries_with_suggestions(&mut conn, lines).await?;
    let blocked = entries
        .iter()
        .find(|e| !e.linkable())
        .map(|e| match &e.linked_to {
            Some(c) => format!("{} is linked to {} already.", e.company_name, c.name),
            None => format!("Partner Center no longer lists {}.", e.company_name),
        });
    let clear = entries
        .iter()
        .filter(|e| e.linkable() && matches!(e.suggestion, Some(SuggestionView::Customer { .. })))
        .count();
    let mut shown = entries;
    shown.truncate(SELECTION_SHOWN);
    Ok(LinkSelection {
        shown,
        total,
        blocked,
        clear,
    })
}

/// The directory rows of `ids`, in that order; refuses an id that is not in the directory.
async fn directory_rows(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<DirectoryRow>, AppError> {
    let mut found: HashMap<String, DirectoryRow> = store::provider::find_many(conn, ids)
        .await?
        .into_iter()
        .map(|r| (r.tenant_id.clone(), r))
        .collect();
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            found.remove(id).ok_or_else(|| {
                AppError::field(
                    "items",
                    format!(
                        "Row {}: tenant {id} is not in the provider directory; refresh it from Partner Center first.",
                        i + 1
                    ),
                )
            })
        })
        .collect()
}

/// Where linked tenants go.
#[derive(Clone, Debug)]
pub enum LinkTarget {
    /// All to one existing customer.
    Existing(i64),
    /// One new customer per tenant, named from its Partner Center company profile.
    NewEach,
    /// One tenant to a new customer with this name and primary domain (as edited).
    New { name: String, domain: String },
}

/// What a link did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkOutcome {
    /// (tenant id, customer id) of each link made.
    pub linked: Vec<(String, i64)>,
    /// Customers created: (id, name).
    pub created: Vec<(i64, String)>,
    /// The one customer every tenant went to, named (when there is one).
    pub customer: Option<CustomerRef>,
    /// Whether a sync of the linked customers was queued.
    pub sync_queued: bool,
}

/// Links the selected tenants, all or none: any refusal (a tenant gone from Partner Center or
/// linked meanwhile, a name or domain that cannot be used) rolls the whole batch back and
/// names the row. Audited per link and per customer created; with `sync`, a reload of each
/// customer linked is queued in the same transaction and the workers woken.
pub async fn link(
    db: &Db,
    actor: Actor<'_>,
    selection: &Selection,
    target: &LinkTarget,
    sync: Option<&Notify>,
) -> Result<LinkOutcome, AppError> {
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    if let LinkTarget::Existing(customer_id) = target {
        actor.ensure_visible(&mut tx, *customer_id).await?;
    }
    let ids = resolve_selection(&mut tx, selection).await?;
    let rows = directory_rows(&mut tx, &ids).await?;
    if let LinkTarget::New { .. } = target {
        if rows.len() != 1 {
            return Err(AppError::field(
                "items",
                "A customer with an edited name is created for one tenant at a time.",
            ));
        }
    }
    let mut outcome = LinkOutcome::default();
    for (i, row) in rows.iter().enumerate() {
        let position = i + 1;
        if row.gone_since.is_some() {
            return Err(AppError::field(
                "items",
                format!(
                    "Row {position}: Partner Center no longer lists {} ({}); it cannot be linked.",
                    row.company_name, row.tenant_id
                ),
            ));
        }
        let customer_id = match target {
            LinkTarget::Existing(id) => *id,
            LinkTarget::NewEach => {
                let name = parse_customer_name(&row.company_name)
                    .map_err(|m| AppError::field("items", format!("Row {position}: {m}")))?;
                let domain = parse_domain(&row.domain)
                    .map_err(|m| AppError::field("items", format!("Row {position}: {m}")))?;
                let id = create_customer(&mut tx, actor, now, &name, &domain, row, Some(position))
                    .await?;
                outcome.created.push((id, name));
                id
            }
            LinkTarget::New { name, domain } => {
                let mut errors = crate::error::FieldErrors::default();
                let name = errors.check("name", parse_customer_name(name));
                let domain = errors.check("domain", parse_domain(domain));
                errors.into_result()?;
                let (Some(name), Some(domain)) = (name, domain) else {
                    return Err(AppError::field("name", "Enter the customer's name."));
                };
                let id = create_customer(&mut tx, actor, now, &name, &domain, row, None).await?;
                outcome.created.push((id, name));
                id
            }
        };
        if !store::provider::link(
            &mut tx,
            customer_id,
            &row.tenant_id,
            &row.company_name,
            &row.domain,
            now,
        )
        .await?
        {
            let holder = store::provider::holder(&mut tx, &row.tenant_id).await?;
            let held_by = holder.map_or_else(|| "another customer".to_owned(), |(_, name)| name);
            return Err(AppError::Conflict {
                message: format!(
                    "Row {position}: {} ({}) is already linked to {held_by}. Nothing was linked.",
                    row.company_name, row.tenant_id
                ),
            });
        }
        actor
            .audit(
                &mut tx,
                now,
                Change {
                    action: "tenant.link",
                    customer_id: Some(customer_id),
                    subject: &format!("tenant {}", row.tenant_id),
                    before: None,
                    after: Some(json!({
                        "tenant_id": row.tenant_id,
                        "company_name": row.company_name,
                        "domain": row.domain,
                    })),
                },
            )
            .await?;
        outcome.linked.push((row.tenant_id.clone(), customer_id));
    }
    outcome.customer = match target {
        LinkTarget::Existing(id) => store::customers::find(&mut tx, *id)
            .await?
            .map(|(id, name, _, _)| CustomerRef { id, name }),
        _ if outcome.created.len() == 1 => outcome.created.first().map(|(id, name)| CustomerRef {
            id: *id,
            name: name.clone(),
        }),
        _ => None,
    };
    super::reports::refresh_summaries(&mut tx, outcome.linked.iter().map(|(_, id)| *id)).await?;
    queue_syncs(&mut tx, actor, now, &outcome.linked, sync.is_some()).await?;
    tx.commit().await?;
    outcome.sync_queued = sync.is_some();
    if let Some(wakeup) = sync {
        wakeup.notify_waiters();
    }
    tracing::info!(
        actor = actor.id_and_email().1,
        linked = outcome.linked.len(),
        created = outcome.created.len(),
        "tenants linked"
    );
    Ok(outcome)
}

/// A customer created from a tenant's company profile; refuses a primary domain another
/// customer has.
async fn create_customer(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    now: Millis,
    name: &str,
    domain: &str,
    row: &DirectoryRow,
    position: Option<usize>,
) -> Result<i64, AppError> {
    if let Some(other) = store::customers::find_by_domain(conn, domain).await? {
        let other_name = store::customers::find(conn, other)
            .await?
            .map_or_else(|| format!("customer {other}"), |c| c.1);
        let message = format!(
            "{domain} is already the primary domain of {other_name}: link the tenant to that customer instead, or use another domain."
        );
        return Err(match position {
            Some(p) => AppError::field("items", format!("Row {p}: {message}")),
            None => AppError::field("domain", message),
        });
    }
    let id = store::customers::insert(conn, name, domain, now).await?;
    actor
        .audit(
            conn,
            now,
            Change {
                action: "customer.create_from_tenant",
                customer_id: Some(id),
                subject: "customer",
                before: None,
                after: Some(
                    json!({ "name": name, "primary_domain": domain, "tenant_id": row.tenant_id }),
                ),
            },
        )
        .await?;
    Ok(id)
}

/// Queues a reload of each linked customer (once each), on the link's transaction: after the
/// link, even when a sync of the customer is under way.
async fn queue_syncs(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    now: Millis,
    linked: &[(String, i64)],
    queue: bool,
) -> Result<(), AppError> {
    if !queue {
        return Ok(());
    }
    let mut customers: Vec<i64> = linked.iter().map(|(_, c)| *c).collect();
    customers.sort_unstable();
    customers.dedup();
    for customer_id in customers {
        store::sync::start_customer_job_after_change(
            conn,
            customer_id,
            actor.id_and_email().1,
            now,
        )
        .await?;
    }
    Ok(())
}

/// What "Accept suggestions" did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcceptOutcome {
    /// (tenant id, customer id) of each link made.
    pub linked: Vec<(String, i64)>,
    /// Selected tenants left as they were: no unambiguous suggestion, linked already, or gone.
    pub left: usize,
    pub sync_queued: bool,
}

/// Links every selected tenant that is unlinked and has an unambiguous suggestion to the
/// suggested customer, in one transaction; the others are left. Running it again changes
/// nothing (the tenants it linked are no longer unlinked). With `dry_run`, says what it would
/// link and writes nothing (the transaction is rolled back).
pub async fn accept_suggestions(
    db: &Db,
    actor: Actor<'_>,
    selection: &Selection,
    sync: Option<&Notify>,
    dry_run: bool,
) -> Result<AcceptOutcome, AppError> {
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    let ids = resolve_selection(&mut tx, selection).await?;
    let rows = directory_rows(&mut tx, &ids).await?;
    let holders = store::provider::holders(&mut tx, &ids).await?;
    let open: Vec<DirectoryRow> = rows
        .into_iter()
        .filter(|row| row.gone_since.is_none() && !holders.contains_key(&row.tenant_id))
        .collect();
    let (suggestions, _) = suggestions_for(&mut tx, &open).await?;
    let mut outcome = AcceptOutcome {
        left: ids.len() - open.len(),
        ..Default::default()
    };
    for row in &open {
        let Some(Suggestion::Customer {
            customer_id,
            reason,
        }) = suggestions.get(&row.tenant_id)
        else {
            outcome.left += 1;
            continue;
        };
        if let Actor::Staff(staff) = actor {
            if ensure_visible(&mut tx, staff, *customer_id).await.is_err() {
                outcome.left += 1;
                continue;
            }
        }
        if !store::provider::link(
            &mut tx,
            *customer_id,
            &row.tenant_id,
            &row.company_name,
            &row.domain,
            now,
        )
        .await?
        {
            outcome.left += 1;
            continue;
        }
        actor
            .audit(
                &mut tx,
                now,
                Change {
                    action: "tenant.accept_suggestion",
                    customer_id: Some(*customer_id),
                    subject: &format!("tenant {}", row.tenant_id),
                    before: None,
                    after: Some(json!({
                        "tenant_id": row.tenant_id,
                        "company_name": row.company_name,
                        "domain": row.domain,
                        "reason": reason.describe(),
                        "confidence": reason.confidence(),
                    })),
                },
            )
            .await?;
        outcome.linked.push((row.tenant_id.clone(), *customer_id));
    }
    if dry_run {
        tx.rollback().await?;
        return Ok(outcome);
    }
    super::reports::refresh_summaries(&mut tx, outcome.linked.iter().map(|(_, id)| *id)).await?;
    queue_syncs(&mut tx, actor, now, &outcome.linked, sync.is_some()).await?;
    tx.commit().await?;
    outcome.sync_queued = sync.is_some() && !outcome.linked.is_empty();
    if let Some(wakeup) = sync {
        wakeup.notify_waiters();
    }
    tracing::info!(
        actor = actor.id_and_email().1,
        linked = outcome.linked.len(),
        left = outcome.left,
        "suggestions accepted"
    );
    Ok(outcome)
}

/// Ends a tenant's link to a customer: the tenant is unlinked in the directory again; its
/// snapshots stay (history) but no longer count for the customer. Returns the tenant's name.
pub async fn unlink(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    tenant_id: &str,
) -> Result<String, AppError> {
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let tenant_id = parse_tenant_id(tenant_id).map_err(|m| AppError::field("tenant_id", m))?;
    let name = store::customers::tenants(&mut tx, customer_id)
        .await?
        .into_iter()
        .find(|t| t.tenant_id == tenant_id)
        .map(|t| t.name);
    let Some(name) = name else {
        return Err(AppError::Conflict {
            message: "That tenant is not linked to this customer (any more): someone may have unlinked it already.".into(),
        });
    };
    store::provider::unlink(&mut tx, customer_id, &tenant_id, now).await?;
    Actor::Staff(staff)
        .audit(
            &mut tx,
            now,
            Change {
                action: "tenant.unlink",
                customer_id: Some(customer_id),
                subject: &format!("tenant {tenant_id}"),
                before: Some(json!({ "tenant_id": tenant_id, "name": name })),
                after: None,
            },
        )
        .await?;
    super::reports::refresh_summary(&mut tx, customer_id).await?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, customer_id, tenant_id, "tenant unlinked");
    Ok(name)
}
