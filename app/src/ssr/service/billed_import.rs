//! Importing a billing system's export into the billed record: a dry run that says, per line,
//! what will be created, changed or rejected and why; then the import, all or nothing.
//!
//! The file is CSV (RFC 4180, UTF-8, an optional byte order mark) with a header line naming its
//! columns in any case and order: `customer` (a portal customer id, or a tenant id linked to
//! the customer), `product`, `quantity`, and optional `tenant_id`, `pc_subscription_id`,
//! `offer_id`, `billing_cycle`, `term`, `status`, `auto_renew`, `unit_price`, `currency`,
//! `notes`. An import replaces the billed record of each customer it names: each line matches
//! an existing row by subscription id, else offer id, else product (normalised), which it
//! changes; a line that matches none creates a row; the customer's rows no line matched are
//! ended. Customers it does not name are untouched. A subscription Partner Center does not
//! know (yet, or any more) is stored as given: that is what the reconciliation reports.

use super::{
    audit::{Actor, Change},
    reports::{parse_billed, BilledInput},
};
use crate::{
    error::AppError,
    model::{
        parse_tenant_id, BilledImportView, CustomerRef, EndedRowView, ImportAction, ImportLineView,
        Permission, StaffView, IMPORT_LINES_SHOWN,
    },
    ssr::{
        db::{now_millis, Db},
        reconcile::{normalise_product, same_offer},
        store::{self, billed::BilledFields},
    },
};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// The columns a file may have.
pub const COLUMNS: [&str; 13] = [
    "customer",
    "product",
    "quantity",
    "tenant_id",
    "pc_subscription_id",
    "offer_id",
    "billing_cycle",
    "term",
    "status",
    "auto_renew",
    "unit_price",
    "currency",
    "notes",
];
const REQUIRED: [&str; 3] = ["customer", "product", "quantity"];

/// A file that cannot be read as the import's CSV: the line (1 is the header) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One data line of the file, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportLine {
    pub line: u64,
    pub customer: String,
    pub input: BilledInput,
}

/// Reads the file: every line's fields by column name. Refuses, naming the line, bad UTF-8, a
/// `;` separator (a European Excel export), a missing or unknown column, and a line with another
/// number of fields than the header.
pub fn read(bytes: &[u8]) -> Result<Vec<ImportLine>, FileError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let at = e.valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64;
        return Err(FileError {
            line,
            message: "this is not UTF-8 text: save the file as CSV UTF-8".into(),
        });
    }
    let header_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    if header_line.contains(&b';') && !header_line.contains(&b',') {
        return Err(FileError {
            line: 1,
            message: "the columns are separated by ';' (as a European Excel saves them): save the file as CSV with commas".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| file_error(bytes, &e, 1))?
        .clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        let wanted = name.trim().to_ascii_lowercase();
        let Some(column) = COLUMNS.iter().find(|c| **c == wanted) else {
            return Err(FileError {
                line: 1,
                message: format!(
                    "unknown column {:?}: the columns are {}",
                    name.trim(),
                    COLUMNS.join(", ")
                ),
            });
        };
        if index.insert(column, i).is_some() {
            return Err(FileError {
                line: 1,
                message: format!("the column {column:?} is there twice"),
            });
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|c| !index.contains_key(*c)) {
        return Err(FileError {
            line: 1,
            message: format!(
                "the column {missing:?} is missing (needed: {})",
                REQUIRED.join(", ")
            ),
        });
    }
    let mut lines = Vec::new();
    let mut counter = Lines::default();
    for record in reader.records() {
        let record = record.map_err(|e| file_error(bytes, &e, 0))?;
        let line = record.position().map_or(0, |p| counter.line_of(bytes, p));
        let field = |name: &str| {
            index
                .get(name)
                .and_then(|i| record.get(*i))
                .unwrap_or_default()
                .to_owned()
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        lines.push(ImportLine {
            line,
            customer: field("customer"),
            input: BilledInput {
                product: field("product"),
                offer_id: field("offer_id"),
                pc_subscription_id: field("pc_subscription_id"),
                tenant_id: field("tenant_id"),
                quantity: field("quantity"),
                billing_cycle: field("billing_cycle"),
                term: field("term"),
                status: field("status"),
                auto_renew: field("auto_renew"),
                unit_price: field("unit_price"),
                currency: field("currency"),
                notes: field("notes"),
            },
        });
    }
    Ok(lines)
}

/// Where records start, as line numbers: the lines before a record's first character, plus
/// one. Records come in order, so each count goes on from the last one (the reader's own line
/// count and byte offset can sit on the line ends before a record after CRLF lines or an empty
/// line, so those are stepped over first).
#[derive(Default)]
struct Lines {
    at: usize,
    newlines: u64,
}

impl Lines {
    fn line_of(&mut self, bytes: &[u8], position: &csv::Position) -> u64 {
        let mut start = (position.byte() as usize).min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.at {
            *self = Lines::default();
        }
        self.newlines += bytes[self.at..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.at = start;
        1 + self.newlines
    }
}

fn file_error(bytes: &[u8], e: &csv::Error, fallback_line: u64) -> FileError {
    let line = e
        .position()
        .map_or(fallback_line, |p| Lines::default().line_of(bytes, p));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len} (a quote not closed, or a separator too many?)"),
        csv::ErrorKind::Utf8 { .. } => "this is not UTF-8 text: save the file as CSV UTF-8".into(),
        _ => e.to_string(),
    };
    FileError { line, message }
}

/// What the import does with one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineAction {
    Create,
    /// Changes billed row `id` (`changes` says which fields, empty when none).
    Change {
        id: i64,
        changes: Vec<&'static str>,
    },
    Reject(String),
}

/// The plan of an import: per line, the customer and what happens; per customer, the rows no
/// line matched (ended by the import).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportPlan {
    pub lines: Vec<(u64, Option<i64>, LineAction)>,
    /// (customer id, billed row id, product) of each row the import ends.
    pub ended: Vec<(i64, i64, String)>,
}

impl ImportPlan {
    pub fn rejected(&self) -> usize {
        self.lines
            .iter()
            .filter(|(.., a)| matches!(a, LineAction::Reject(_)))
            .count()
    }

    pub fn created(&self) -> usize {
        self.lines
            .iter()
            .filter(|(.., a)| matches!(a, LineAction::Create))
            .count()
    }

    pub fn changed(&self) -> usize {
        self.lines
            .iter()
            .filter(
                |(.., a)| matches!(a, LineAction::Change { changes, .. } if !changes.is_empty()),
            )
            .count()
    }
}

/// Which fields differ between a row and what a line gives it.
fn changed_fields(before: &BilledFields, after: &BilledFields) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name: &'static str, same: bool| {
        if !same {
            out.push(name);
        }
    };
    check("product", before.product == after.product);
    check("offer_id", before.offer_id == after.offer_id);
    check(
        "pc_subscription_id",
        before.pc_subscription_id == after.pc_subscription_id,
    );
    check("tenant_id", before.tenant_id == after.tenant_id);
    check("quantity", before.quantity == after.quantity);
    check("billing_cycle", before.billing_cycle == after.billing_cycle);
    check("term", before.term == after.term);
    check("status", before.status == after.status);
    check("auto_renew", before.auto_renew == after.auto_renew);
    check("unit_price", before.unit_price == after.unit_price);
    check("currency", before.currency == after.currency);
    check("notes", before.notes == after.notes);
    out
}

/// The customer a line names: a portal id, or a tenant id linked to a customer.
async fn resolve_customer(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    text: &str,
) -> Result<i64, String> {
    let text = text.trim();
    let id = if let Ok(id) = text.parse::<i64>() {
        id
    } else if let Ok(tenant) = parse_tenant_id(text) {
        sqlx::query_scalar::<_, i64>(
            "SELECT customer_id FROM tenants WHERE tenant_id = $1 AND unlinked_at IS NULL",
        )
        .bind(&tenant)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no customer has the tenant {tenant} linked"))?
    } else if text.is_empty() {
        return Err("the customer is empty: give its portal id or a tenant id linked to it".into());
    } else {
        return Err(format!(
            "{text:?} is neither a portal customer id nor a tenant id"
        ));
    };
    actor
        .ensure_visible(conn, id)
        .await
        .map_err(|_| format!("there is no customer {id} (or it is not yours to see)"))?;
    Ok(id)
}

/// Works out what importing `lines` would do, writing nothing.
pub async fn plan(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    lines: &[ImportLine],
) -> Result<ImportPlan, AppError> {
    let mut plan = ImportPlan::default();
    // Each customer's rows, and which of them a line has matched.
    let mut existing: HashMap<i64, Vec<(crate::model::BilledRecord, bool)>> = HashMap::new();
    let mut customers: HashMap<String, Result<i64, String>> = HashMap::new();
    for line in lines {
        let key = line.customer.trim().to_ascii_lowercase();
        let customer = match customers.get(&key) {
            Some(known) => known.clone(),
            None => {
                let found = resolve_customer(conn, actor, &line.customer).await;
                customers.insert(key, found.clone());
                found
            }
        };
        let customer = match customer {
            Ok(id) => id,
            Err(why) => {
                plan.lines.push((line.line, None, LineAction::Reject(why)));
                continue;
            }
        };
        let fields = match parse_billed(&line.input) {
            Ok(fields) => fields,
            Err(AppError::Validation { fields }) => {
                let why = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                plan.lines
                    .push((line.line, Some(customer), LineAction::Reject(why)));
                continue;
            }
            Err(other) => return Err(other),
        };
        let rows = match existing.entry(customer) {
            std::collections::hash_map::Entry::Occupied(rows) => rows.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let rows = store::billed::list(conn, customer).await?;
                slot.insert(rows.into_iter().map(|r| (r, false)).collect())
            }
        };
        let wanted = normalise_product(&fields.product);
        let position = rows
            .iter()
            .position(|(r, used)| {
                !used
                    && match (&fields.pc_subscription_id, &r.pc_subscription_id) {
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        _ => false,
                    }
            })
            .or_else(|| {
                rows.iter().position(|(r, used)| {
                    !used
                        && fields.pc_subscription_id.is_none()
                        && matches!((&fields.offer_id, &r.offer_id), (Some(a), Some(b)) if same_offer(a, b))
                })
            })
            .or_else(|| {
                rows.iter().position(|(r, used)| {
                    !used
                        && fields.pc_subscription_id.is_none()
                        && fields.offer_id.is_none()
                        && normalise_product(&r.product) == wanted
                })
            });
        let action = match position {
            Some(i) => {
                rows[i].1 = true;
                LineAction::Change {
                    id: rows[i].0.id,
                    changes: changed_fields(&BilledFields::of(&rows[i].0), &fields),
                }
            }
            None => LineAction::Create,
        };
        plan.lines.push((line.line, Some(customer), action));
    }
    let mut named: Vec<i64> = existing.keys().copied().collect();
    named.sort_unstable();
    for customer in named {
        for (row, used) in &existing[&customer] {
            if !used && row.status != "ended" {
                plan.ended.push((customer, row.id, row.product.clone()));
            }
        }
    }
    Ok(plan)
}

/// Imports `lines`, all or nothing: with any line rejected nothing is written and the plan
/// (which names each rejected line and why) is returned as the error's detail. With `dry_run`
/// only the plan is made. Every row created, changed or ended is versioned and audited.
pub async fn import(
    db: &Db,
    actor: Actor<'_>,
    lines: &[ImportLine],
    dry_run: bool,
) -> Result<ImportPlan, AppError> {
    let by = actor.id_and_email().1.to_owned();
    let mut tx = db.begin_write().await?;
    let plan = plan(&mut tx, actor, lines).await?;
    if dry_run || plan.rejected() > 0 {
        tx.rollback().await?;
        return Ok(plan);
    }
    let now = now_millis();
    for (line, (number, customer, action)) in lines.iter().zip(&plan.lines) {
        debug_assert_eq!(line.line, *number);
        let Some(customer) = *customer else { continue };
        let fields = parse_billed(&line.input)?;
        let (id, before, name) = match action {
            LineAction::Create => (
                store::billed::insert(&mut tx, customer, &fields, &by, now).await?,
                None,
                "billed.import_add",
            ),
            LineAction::Change { id, changes } if !changes.is_empty() => {
                let (current, ..) = store::billed::find(&mut tx, customer, *id)
                    .await?
                    .ok_or_else(|| AppError::not_found("A billed row"))?;
                store::billed::update(&mut tx, customer, *id, current.version, &fields, &by, now)
                    .await?;
                (
                    *id,
                    Some(BilledFields::of(&current)),
                    "billed.import_change",
                )
            }
            _ => continue,
        };
        actor
            .audit(
            &mut tx,
            now,
            Change {
                action: name,
                customer_id: Some(customer),
                subject: &format!("billed row {id}"),
                before: before.map(|b| serde_json::json!({ "quantity": b.quantity, "product": b.product, "status": b.status })),
                after: Some(serde_json::json!({ "quantity": fields.quantity, "product": fields.product, "status": fields.status, "line": number })),
            },
        )
        .await?;
    }
    for (customer, id, product) in &plan.ended {
        let (current, ..) = store::billed::find(&mut tx, *customer, *id)
            .await?
            .ok_or_else(|| AppError::not_found("A billed row"))?;
        let mut fields = BilledFields::of(&current);
        fields.status = "ended".into();
        store::billed::update(&mut tx, *customer, *id, current.version, &fields, &by, now).await?;
        actor
            .audit(
                &mut tx,
                now,
                Change {
                    action: "billed.import_end",
                    customer_id: Some(*customer),
                    subject: &format!("billed row {id}"),
                    before: Some(
                        serde_json::json!({ "product": product, "status": current.status }),
                    ),
                    after: Some(serde_json::json!({ "status": "ended" })),
                },
            )
            .await?;
    }
    super::reports::refresh_summaries(
        &mut tx,
        plan.lines
            .iter()
            .filter_map(|(_, customer, _)| *customer)
            .chain(plan.ended.iter().map(|(customer, ..)| *customer)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        actor = %by,
        created = plan.created(),
        changed = plan.changed(),
        ended = plan.ended.len(),
        "billed record imported"
    );
    Ok(plan)
}

fn ensure_may_import(staff: &StaffView) -> Result<(), AppError> {
    if staff.role.allows(Permission::ManageBilled) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Keeps a file uploaded in the browser for its dry run and import; one that cannot be read as
/// the import's CSV is kept with why (shown on its page), not its content. Returns its id.
pub async fn upload(
    db: &Db,
    staff: &StaffView,
    file_name: &str,
    bytes: &[u8],
) -> Result<i64, AppError> {
    ensure_may_import(staff)?;
    let file_name: String = file_name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let file_name = if file_name.is_empty() {
        "billing export.csv".to_owned()
    } else {
        file_name
    };
    let (content, error) = if bytes.is_empty() {
        (None, Some("the file is empty".to_owned()))
    } else {
        match read(bytes) {
            Ok(_) => {
                let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
                (std::str::from_utf8(bytes).ok().map(str::to_owned), None)
            }
            Err(e) => (None, Some(e.to_string())),
        }
    };
    let mut conn = db.pool().acquire().await?;
    let id = store::billed_imports::insert(
        &mut conn,
        staff.id,
        &file_name,
        content.as_deref(),
        error.as_deref(),
        now_millis(),
    )
    .await?;
    tracing::info!(staff = %staff.email, id, bytes = bytes.len(), readable = error.is_none(), "billing export uploaded");
    Ok(id)
}

/// What an import by another system (an API token) did or would do.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiImportResult {
    pub applied: bool,
    pub lines: usize,
    pub created: usize,
    pub changed: usize,
    pub ended: usize,
    /// `[line, why]` of each rejected line; with any, nothing was imported.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub rejected: Vec<(u64, String)>,
}

/// Imports a billing export sent by another system (an API token), all or nothing, without
/// keeping the file: `apply` false is the dry run. An unreadable file is a 400 naming its line.
pub async fn import_from_api(
    db: &Db,
    staff: &StaffView,
    bytes: &[u8],
    apply: bool,
) -> Result<ApiImportResult, AppError> {
    ensure_may_import(staff)?;
    let lines = read(bytes).map_err(|e| AppError::field("file", e.to_string()))?;
    let plan = import(db, Actor::Staff(staff), &lines, !apply).await?;
    let rejected: Vec<(u64, String)> = plan
        .lines
        .iter()
        .filter_map(|(line, _, action)| match action {
            LineAction::Reject(why) => Some((*line, why.to_string())),
            _ => None,
        })
        .collect();
    tracing::info!(caller = %staff.email, lines = lines.len(), rejected = rejected.len(), apply, "billed record import by API");
    Ok(ApiImportResult {
        applied: apply && rejected.is_empty(),
        lines: lines.len(),
        created: plan.created(),
        changed: plan.changed(),
        ended: plan.ended.len(),
        rejected,
    })
}

/// The customers' names, for those the plan found.
async fn customer_refs(
    conn: &mut AnyConnection,
    ids: Vec<i64>,
) -> Result<HashMap<i64, CustomerRef>, AppError> {
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(id) {
            if let Some((id, name, ..)) = store::customers::find(conn, id).await? {
                slot.insert(CustomerRef { id, name });
            }
        }
    }
    Ok(out)
}

/// An uploaded file's page: the dry run of its import against the billed record as it is now
/// (or, once imported, what the import did).
pub async fn review(db: &Db, staff: &StaffView, id: i64) -> Result<BilledImportView, AppError> {
    ensure_may_import(staff)?;
    let mut conn = db.pool().acquire().await?;
    let file = store::billed_imports::find(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("That uploaded file"))?;
    let mut view = BilledImportView {
        id,
        file_name: file.file_name,
        uploaded_by: file.uploaded_by,
        uploaded_at: file.uploaded_at,
        file_error: file.error,
        lines_total: 0,
        created: 0,
        changed: 0,
        unchanged: 0,
        rejected: 0,
        lines: Vec::new(),
        ended: Vec::new(),
        applied: file.applied,
    };
    let (Some(content), None) = (file.content, &view.applied) else {
        return Ok(view);
    };
    let lines = match read(content.as_bytes()) {
        Ok(lines) => lines,
        Err(e) => {
            view.file_error = Some(e.to_string());
            return Ok(view);
        }
    };
    let plan = plan(&mut conn, Actor::Staff(staff), &lines).await?;
    let shown: Vec<usize> = {
        let rejected = plan
            .lines
            .iter()
            .enumerate()
            .filter(|(_, (.., a))| matches!(a, LineAction::Reject(_)));
        let others = plan
            .lines
            .iter()
            .enumerate()
            .filter(|(_, (.., a))| !matches!(a, LineAction::Reject(_)));
        rejected
            .chain(others)
            .map(|(i, _)| i)
            .take(IMPORT_LINES_SHOWN)
            .collect()
    };
    let mut wanted: Vec<i64> = Vec::new();
    for i in &shown {
        wanted.extend(plan.lines[*i].1);
    }
    for (customer, ..) in &plan.ended {
        wanted.push(*customer);
    }
    let names = customer_refs(&mut conn, wanted).await?;
    view.lines_total = plan.lines.len();
    view.created = plan.created();
    view.changed = plan.changed();
    view.rejected = plan.rejected();
    view.unchanged = view.lines_total - view.created - view.changed - view.rejected;
    view.lines = shown
        .into_iter()
        .map(|i| {
            let (line, customer, action) = &plan.lines[i];
            let given = &lines[i];
            let (action, detail) = match action {
                LineAction::Create => (ImportAction::Create, String::new()),
                LineAction::Change { changes, .. } if changes.is_empty() => {
                    (ImportAction::Unchanged, String::new())
                }
                LineAction::Change { id, changes } => (
                    ImportAction::Change,
                    format!("billed row {id}: {}", changes.join(", ")),
                ),
                LineAction::Reject(why) => (ImportAction::Reject, why.clone()),
            };
            ImportLineView {
                line: *line,
                customer_given: given.customer.clone(),
                customer: customer.and_then(|c| names.get(&c).cloned()),
                product: given.input.product.clone(),
                quantity: given.input.quantity.clone(),
                action,
                detail,
            }
        })
        .collect();
    view.ended = plan
        .ended
        .iter()
        .filter_map(|(customer, row, product)| {
            Some(EndedRowView {
                customer: names.get(customer)?.clone(),
                billed_row: *row,
                product: product.clone(),
            })
        })
        .collect();
    Ok(view)
}

/// Imports an uploaded file, all or nothing, as its dry run showed (worked out again now: the
/// billed record may have changed since). Refused while a line is rejected, and once imported.
/// Returns what was done.
pub async fn apply_upload(db: &Db, staff: &StaffView, id: i64) -> Result<String, AppError> {
    ensure_may_import(staff)?;
    let file = store::billed_imports::find(&mut *db.pool().acquire().await?, id)
        .await?
        .ok_or_else(|| AppError::not_found("That uploaded file"))?;
    if let Some((_, by, _)) = &file.applied {
        return Err(AppError::Conflict {
            message: format!("{} was imported already (by {by}).", file.file_name),
        });
    }
    let Some(content) = file.content else {
        return Err(AppError::Conflict {
            message: format!(
                "{} cannot be imported: {}",
                file.file_name,
                file.error.unwrap_or_default()
            ),
        });
    };
    let lines = read(content.as_bytes()).map_err(|e| AppError::Conflict {
        message: format!("{} cannot be imported: {e}", file.file_name),
    })?;
    let plan = import(db, Actor::Staff(staff), &lines, false).await?;
    if plan.rejected() > 0 {
        return Err(AppError::Conflict {
            message: format!(
                "{} of the lines are rejected now: nothing was imported. Correct them and upload the file again.",
                plan.rejected()
            ),
        });
    }
    let summary = format!(
        "{} new billed rows, {} changed, {} ended.",
        plan.created(),
        plan.changed(),
        plan.ended.len()
    );
    let mut conn = db.pool().acquire().await?;
    store::billed_imports::mark_applied(&mut conn, id, &staff.email, &summary, now_millis())
        .await?;
    Ok(format!("Imported {}: {summary}", file.file_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_read_in_any_case_and_order_with_a_bom_and_quoted_fields() {
        let file = "\u{feff}Quantity,CUSTOMER,product,notes\r\n25,7,Office 365 E3,\"one, two\nthree\"\r\n\r\n3,00000000-0000-4000-8000-000000000001,Visio,\r\n";
        let lines = read(file.as_bytes()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (
                lines[0].line,
                lines[0].customer.as_str(),
                lines[0].input.quantity.as_str()
            ),
            (2, "7", "25")
        );
        assert_eq!(lines[0].input.notes, "one, two\nthree");
        assert_eq!(lines[1].line, 5, "the quoted newline counts as a line");
    }

    #[test]
    fn each_malformed_file_is_refused_with_its_line() {
        let refused = |file: &[u8]| read(file).unwrap_err();
        let e = refused(b"customer;product;quantity\n7;E3;5\n");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("';'"), "{e}");
        let e = refused(b"customer,product,quantity\n7,E3,5\n8,E3\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("2 fields where the header has 3"), "{e}");
        let e = refused(b"customer,product,quantity\n7,\"E3,5\n8,E3,5\n");
        assert!(e.message.contains("fields where the header has 3"), "{e}");
        let mut bad = b"customer,product,quantity\n7,E3,5\n8,".to_vec();
        bad.extend([0xff, 0xfe]);
        bad.extend(b",5\n");
        let e = refused(&bad);
        assert_eq!(e.line, 3);
        assert!(e.message.contains("not UTF-8"), "{e}");
        let e = refused(b"customer,product,qty\n");
        assert!(e.message.contains("unknown column \"qty\""), "{e}");
        let e = refused(b"customer,product\n");
        assert!(e.message.contains("\"quantity\" is missing"), "{e}");
        let e = refused(b"customer,product,quantity,Product\n");
        assert!(e.message.contains("there twice"), "{e}");
    }
}
