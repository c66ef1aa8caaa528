//! The partner-wide reports as CSV, streamed. License Consumption: the database cursor is read
//! line by line, each line written by the `csv` crate with the per-customer file's rules (see
//! [`crate::csv_export`]) and sent in chunks of about 64 KB as they fill, so memory stays flat
//! however many licence lines there are. License Reconciliation: the stored per-customer
//! summaries, read a batch of customers at a time. A download the client abandons stops the
//! read.

use crate::csv_export::{
    neutralise, partner_reconciliation_lines, product_cells, PARTNER_CONSUMPTION_COLUMNS,
    PARTNER_RECONCILIATION_COLUMNS,
};
use app::{
    model::{CustomerDifferences, StaffView},
    ssr::{
        consumption::{product_usage, SkuCounts, UsageRules},
        db::Db,
        service::{self, reports::PartnerQuery},
        store,
    },
};
use futures_util::StreamExt;
use std::collections::HashMap;
use tokio::sync::mpsc;

/// The setting that flags a product under-used.
const UNDER_USED_KEY: &str = "reports.under_used_percent";
/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Which licence lines to write, and how.
#[derive(Clone, Debug)]
pub struct PartnerExport {
    /// The staff member whose tag scopes limit the customers (`None`: every customer).
    pub scoped_to_staff: Option<i64>,
    /// Only customers with this tag (name key, value).
    pub tag: Option<(String, String)>,
    /// A byte order mark first, for Excel.
    pub excel: bool,
}

/// Each customer's under-used threshold: the global default and the customers' overrides.
#[derive(Clone, Debug, Default)]
pub struct Thresholds {
    default: i64,
    overrides: HashMap<i64, i64>,
}

fn whole_number(value: &str) -> Option<i64> {
    value.split('.').next()?.trim().parse().ok()
}

impl Thresholds {
    /// Reads the default and every override of `reports.under_used_percent` (one small query
    /// each, before the lines are streamed).
    pub async fn load(db: &Db) -> Result<Thresholds, sqlx::Error> {
        let mut conn = db.pool().acquire().await?;
        let default = store::settings::find(&mut conn, UNDER_USED_KEY)
            .await?
            .and_then(|s| whole_number(&s.default_value))
            .unwrap_or(50);
        let overrides = store::settings::overrides_of(&mut conn, UNDER_USED_KEY)
            .await?
            .into_iter()
            .filter_map(|(customer, value)| Some((customer, whole_number(&value)?)))
            .collect();
        Ok(Thresholds { default, overrides })
    }

    fn of(&self, customer_id: i64) -> i64 {
        self.overrides
            .get(&customer_id)
            .copied()
            .unwrap_or(self.default)
    }
}

/// The consumption CSV being written: its writer and the rules a line is flagged by.
struct ConsumptionLines<'a> {
    writer: csv::Writer<Vec<u8>>,
    rules: UsageRules,
    thresholds: &'a Thresholds,
}

impl<'a> ConsumptionLines<'a> {
    fn new(excel: bool, thresholds: &'a Thresholds) -> Result<Self, Error> {
        let mut first = Vec::with_capacity(CHUNK + 8 * 1024);
        if excel {
            first.extend_from_slice("\u{feff}".as_bytes());
        }
        let mut writer = chunk_writer(first);
        writer.write_record(PARTNER_CONSUMPTION_COLUMNS)?;
        Ok(ConsumptionLines {
            writer,
            // Renewals are not part of this file: the rules only flag under-use.
            rules: UsageRules {
                under_used_percent: thresholds.default,
                renewal_reminder_days: 0,
                today: time::Date::MIN,
            },
            thresholds,
        })
    }

    /// Writes one licence line; gives back a chunk once about [`CHUNK`] bytes have gathered.
    fn line(
        &mut self,
        customer_id: i64,
        customer: &str,
        sku: &SkuCounts,
    ) -> Result<Option<Vec<u8>>, Error> {
        self.rules.under_used_percent = self.thresholds.of(customer_id);
        let usage = product_usage(sku, Vec::new(), &self.rules);
        for cell in product_cells(customer_id, customer, &usage) {
            self.writer.write_field(neutralise(&cell).as_bytes())?;
        }
        self.writer.write_record(None::<&[u8]>)?;
        take_full(&mut self.writer)
    }

    /// What is left to send.
    fn rest(self) -> Result<Vec<u8>, Error> {
        finish(self.writer)
    }
}

/// Writes the CSV into `out` chunk by chunk; returns how many licence lines were written.
/// Stops early (without an error) when the receiver is gone. On SQLite the lines are read on a
/// blocking thread through rusqlite (see `app::ssr::db`); on PostgreSQL from sqlx's stream.
pub async fn write(
    db: &Db,
    export: &PartnerExport,
    thresholds: &Thresholds,
    out: &mpsc::Sender<Vec<u8>>,
) -> Result<u64, Error> {
    if let Some(file) = db.sqlite_file() {
        let (file, export, thresholds, out) = (
            file.to_owned(),
            export.clone(),
            thresholds.clone(),
            out.clone(),
        );
        return tokio::task::spawn_blocking(move || {
            write_from_sqlite(&file, &export, &thresholds, &out)
        })
        .await?;
    }
    let mut conn = db.pool().acquire().await?;
    let mut lines_out = ConsumptionLines::new(export.excel, thresholds)?;
    let tag = export
        .tag
        .as_ref()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let lines = store::billed::partner_licences(&mut conn, export.scoped_to_staff, tag);
    futures_util::pin_mut!(lines);
    let mut written = 0u64;
    while let Some(line) = lines.next().await {
        let (customer_id, customer, sku) = line?;
        written += 1;
        if let Some(chunk) = lines_out.line(customer_id, &customer, &sku)? {
            if out.send(chunk).await.is_err() {
                return Ok(written);
            }
        }
    }
    let rest = lines_out.rest()?;
    if !rest.is_empty() {
        let _ = out.send(rest).await;
    }
    Ok(written)
}

/// [`write`] on SQLite, on a blocking thread.
fn write_from_sqlite(
    file: &std::path::Path,
    export: &PartnerExport,
    thresholds: &Thresholds,
    out: &mpsc::Sender<Vec<u8>>,
) -> Result<u64, Error> {
    let mut lines_out = ConsumptionLines::new(export.excel, thresholds)?;
    let tag = export
        .tag
        .as_ref()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let mut failed: Option<Error> = None;
    let mut gone = false;
    let written = store::billed::partner_licences_sqlite(
        file,
        export.scoped_to_staff,
        tag,
        |customer_id, customer, sku| match lines_out.line(customer_id, customer, &sku) {
            Ok(None) => true,
            Ok(Some(chunk)) => {
                gone = out.blocking_send(chunk).is_err();
                !gone
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        },
    )?;
    if let Some(e) = failed {
        return Err(e);
    }
    if !gone {
        let rest = lines_out.rest()?;
        if !rest.is_empty() {
            let _ = out.blocking_send(rest);
        }
    }
    Ok(written)
}

/// The writer's bytes once about [`CHUNK`] have gathered (the writer starts a new chunk).
fn take_full(writer: &mut csv::Writer<Vec<u8>>) -> Result<Option<Vec<u8>>, Error> {
    if writer.get_ref().len() < CHUNK {
        return Ok(None);
    }
    let full = std::mem::replace(writer, chunk_writer(Vec::with_capacity(CHUNK + 8 * 1024)));
    finish(full).map(Some)
}

/// Sends what the writer still holds (a receiver gone by now is not an error).
async fn send_rest(writer: csv::Writer<Vec<u8>>, out: &mpsc::Sender<Vec<u8>>) -> Result<(), Error> {
    let rest = finish(writer)?;
    if !rest.is_empty() {
        let _ = out.send(rest).await;
    }
    Ok(())
}

/// A CSV writer (RFC 4180, CRLF lines) that appends to `buffer`.
fn chunk_writer(buffer: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(buffer)
}

/// The bytes a writer holds, its own buffer flushed into them.
fn finish(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, Error> {
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// Customers read per call while the partner-wide reconciliation CSV is written.
pub const RECONCILIATION_BATCH: i64 = 500;

/// Writes the partner-wide reconciliation CSV into `out` chunk by chunk, `first` (the first
/// batch, read before the response began so a filter error is a 400) and then batch after
/// batch from the stored summaries; returns how many customers were written.
pub async fn write_reconciliation(
    db: &Db,
    staff: &StaffView,
    query: &PartnerQuery,
    first: Vec<CustomerDifferences>,
    excel: bool,
    out: &mpsc::Sender<Vec<u8>>,
) -> Result<u64, Error> {
    let mut buffer = Vec::with_capacity(CHUNK + 8 * 1024);
    if excel {
        buffer.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = chunk_writer(buffer);
    writer.write_record(PARTNER_RECONCILIATION_COLUMNS)?;
    let (mut batch, mut offset, mut written) = (first, 0i64, 0u64);
    while !batch.is_empty() {
        offset += batch.len() as i64;
        let more = batch.len() as i64 == RECONCILIATION_BATCH;
        for line in &batch {
            for cells in partner_reconciliation_lines(line) {
                for cell in cells {
                    writer.write_field(neutralise(&cell).as_bytes())?;
                }
                writer.write_record(None::<&[u8]>)?;
            }
            written += 1;
        }
        if let Some(chunk) = take_full(&mut writer)? {
            if out.send(chunk).await.is_err() {
                return Ok(written);
            }
        }
        if !more {
            break;
        }
        batch = service::reports::partner_reconciliation_lines(
            db,
            staff,
            query,
            offset,
            RECONCILIATION_BATCH,
        )
        .await?;
    }
    send_rest(writer, out).await?;
    Ok(written)
}

/// The partner-wide consumption CSV as a response body.
pub fn body(db: Db, export: PartnerExport, thresholds: Thresholds) -> axum::body::Body {
    streamed("partner-wide consumption CSV", move |tx| async move {
        write(&db, &export, &thresholds, &tx).await
    })
}

/// A CSV as a response body, written by `produce` on a task of its own while the client reads
/// it (`what` names it in the log).
pub fn streamed<F, Fut>(what: &'static str, produce: F) -> axum::body::Body
where
    F: FnOnce(mpsc::Sender<Vec<u8>>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<u64, Error>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Result<(), std::io::Error>>();
    tokio::spawn(async move {
        let result = produce(tx).await;
        let _ = done_tx.send(match result {
            Ok(lines) => {
                tracing::info!(lines, what, "CSV written");
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, what, "CSV stopped");
                Err(std::io::Error::other(
                    "the export stopped; download it again",
                ))
            }
        });
    });
    // The chunks, then the task's outcome: an error ends the response abnormally, so the client
    // sees a broken download rather than a short file that looks complete.
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let outcome = futures_util::stream::once(async move {
        match done_rx.await {
            Ok(Err(e)) => Err(e),
            _ => Ok(Vec::new()),
        }
    });
    axum::body::Body::from_stream(chunks.chain(outcome))
}

/// Entries read per batch while the audit log CSV is written.
const AUDIT_BATCH: i64 = 500;

/// Writes the audit log CSV (the page's filters) into `out`, `first` (read before the response
/// began, so a bad filter is a 400) and then batch after batch, each starting below the last.
pub async fn write_audit(
    db: &Db,
    staff: &StaffView,
    mut query: service::audit::LogQuery,
    first: app::model::AuditPage,
    excel: bool,
    out: &mpsc::Sender<Vec<u8>>,
) -> Result<u64, Error> {
    let mut buffer = Vec::with_capacity(CHUNK + 8 * 1024);
    if excel {
        buffer.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = chunk_writer(buffer);
    writer.write_record(crate::csv_export::AUDIT_COLUMNS)?;
    let (mut page, mut written) = (first, 0u64);
    loop {
        for entry in &page.entries {
            for cells in crate::csv_export::audit_lines(entry) {
                for cell in cells {
                    writer.write_field(neutralise(&cell).as_bytes())?;
                }
                writer.write_record(None::<&[u8]>)?;
            }
            written += 1;
        }
        if let Some(chunk) = take_full(&mut writer)? {
            if out.send(chunk).await.is_err() {
                return Ok(written);
            }
        }
        let Some(before) = page.next_before else {
            break;
        };
        query.before = Some(before);
        page = service::audit::log_batch(db, staff, &query, AUDIT_BATCH).await?;
    }
    send_rest(writer, out).await?;
    Ok(written)
}

/// The first batch of the audit log CSV.
pub async fn first_audit_batch(
    db: &Db,
    staff: &StaffView,
    query: &service::audit::LogQuery,
) -> Result<app::model::AuditPage, app::error::AppError> {
    service::audit::log_batch(db, staff, query, AUDIT_BATCH).await
}
