//! Files uploaded in the browser to import into the billed record, kept between their dry run
//! and their import.

use crate::model::Millis;
use sqlx::{AnyConnection, Row};

/// An uploaded file as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportFile {
    pub id: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: Millis,
    /// The text, when it could be read as the import's CSV.
    pub content: Option<String>,
    /// Why it could not be.
    pub error: Option<String>,
    /// (when, by whom, what was done) once imported.
    pub applied: Option<(Millis, String, String)>,
}

/// Keeps an uploaded file (its text, or why it cannot be read); returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    staff_id: i64,
    file_name: &str,
    content: Option<&str>,
    error: Option<&str>,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO billed_import_files (staff_id, file_name, content, error, uploaded_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(staff_id)
    .bind(file_name)
    .bind(content)
    .bind(error)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<ImportFile>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT f.id, f.file_name, s.email, f.uploaded_at, f.content, f.error, f.applied_at,
                f.applied_by, f.applied_summary
         FROM billed_import_files f JOIN staff s ON s.id = f.staff_id WHERE f.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let applied_at: Option<Millis> = row.try_get("applied_at")?;
        let applied = match applied_at {
            Some(at) => Some((
                at,
                row.try_get::<Option<String>, _>("applied_by")?
                    .unwrap_or_default(),
                row.try_get::<Option<String>, _>("applied_summary")?
                    .unwrap_or_default(),
            )),
            None => None,
        };
        Ok(ImportFile {
            id: row.try_get("id")?,
            file_name: row.try_get("file_name")?,
            uploaded_by: row.try_get("email")?,
            uploaded_at: row.try_get("uploaded_at")?,
            content: row.try_get("content")?,
            error: row.try_get("error")?,
            applied,
        })
    })
    .transpose()
}

/// Records that the file was imported; `false` when it was already.
pub async fn mark_applied(
    conn: &mut AnyConnection,
    id: i64,
    by: &str,
    summary: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE billed_import_files SET applied_at = $2, applied_by = $3, applied_summary = $4
         WHERE id = $1 AND applied_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .bind(summary)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
