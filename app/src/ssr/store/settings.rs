//! The settings catalog, global defaults and per-customer overrides.

use crate::model::{Millis, SettingKind};
use sqlx::{any::AnyRow, AnyConnection, Row};

/// A catalog entry with its global default.
#[derive(Clone, Debug)]
pub struct SettingRow {
    pub key: String,
    pub category: String,
    pub label: String,
    pub help: String,
    pub kind: SettingKind,
    pub default_value: String,
    pub default_version: i64,
    pub default_updated_at: Millis,
    pub default_updated_by: String,
}

/// A customer's override row. `value` is `None` while the customer follows the default again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideRow {
    pub value: Option<String>,
    pub version: i64,
    pub updated_at: Millis,
    pub updated_by: String,
}

/// The catalog columns every query here reads (a macro so `concat!` can build on it).
macro_rules! setting_columns {
    () => {
        "s.key, s.category, s.label, s.help, s.kind_json, s.default_value,
         s.default_version, s.default_updated_at, s.default_updated_by"
    };
}
const SETTING_COLUMNS: &str = setting_columns!();

/// Every setting with customer `$1`'s override row, if any.
const EFFECTIVE_SELECT: &str = concat!(
    "SELECT ",
    setting_columns!(),
    ", o.value AS o_value, o.version AS o_version, o.updated_at AS o_updated_at,
        o.updated_by AS o_updated_by
     FROM settings s
     LEFT JOIN setting_overrides o ON o.setting_key = s.key AND o.customer_id = $1"
);

fn setting_from_row(row: &AnyRow) -> Result<SettingRow, sqlx::Error> {
    let kind_json: String = row.try_get("kind_json")?;
    let key: String = row.try_get("key")?;
    let kind = serde_json::from_str(&kind_json).map_err(|e| {
        sqlx::Error::Decode(format!("setting {key} has an unreadable kind: {e}").into())
    })?;
    Ok(SettingRow {
        key,
        category: row.try_get("category")?,
        label: row.try_get("label")?,
        help: row.try_get("help")?,
        kind,
        default_value: row.try_get("default_value")?,
        default_version: row.try_get("default_version")?,
        default_updated_at: row.try_get("default_updated_at")?,
        default_updated_by: row.try_get("default_updated_by")?,
    })
}

fn override_from_row(row: &AnyRow) -> Result<Option<OverrideRow>, sqlx::Error> {
    let version: Option<i64> = row.try_get("o_version")?;
    version
        .map(|version| {
            Ok(OverrideRow {
                value: row.try_get("o_value")?,
                version,
                updated_at: row.try_get::<Option<i64>, _>("o_updated_at")?.unwrap_or(0),
                updated_by: row
                    .try_get::<Option<String>, _>("o_updated_by")?
                    .unwrap_or_default(),
            })
        })
        .transpose()
}

/// The whole catalog in display order.
pub async fn catalog(conn: &mut AnyConnection) -> Result<Vec<SettingRow>, sqlx::Error> {
    let sql = format!("SELECT {SETTING_COLUMNS} FROM settings s ORDER BY s.position, s.key");
    let rows = sqlx::query(&sql).fetch_all(conn).await?;
    rows.iter().map(setting_from_row).collect()
}

/// Every setting with the customer's override row, if any: one query whatever the catalog size.
pub async fn effective(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<(SettingRow, Option<OverrideRow>)>, sqlx::Error> {
    let sql = format!("{EFFECTIVE_SELECT} ORDER BY s.position, s.key");
    let rows = sqlx::query(&sql).bind(customer_id).fetch_all(conn).await?;
    rows.iter()
        .map(|row| Ok((setting_from_row(row)?, override_from_row(row)?)))
        .collect()
}

/// One setting with the customer's override row, if any; `None` for an unknown key.
pub async fn effective_one(
    conn: &mut AnyConnection,
    customer_id: i64,
    key: &str,
) -> Result<Option<(SettingRow, Option<OverrideRow>)>, sqlx::Error> {
    let sql = format!("{EFFECTIVE_SELECT} WHERE s.key = $2");
    let row = sqlx::query(&sql)
        .bind(customer_id)
        .bind(key)
        .fetch_optional(conn)
        .await?;
    row.map(|row| Ok((setting_from_row(&row)?, override_from_row(&row)?)))
        .transpose()
}

/// Every customer's override of one setting that is in force: (customer id, value).
pub async fn overrides_of(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT customer_id, value FROM setting_overrides
         WHERE setting_key = $1 AND value IS NOT NULL",
    )
    .bind(key)
    .fetch_all(conn)
    .await
}

/// A catalog entry by key.
pub async fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<SettingRow>, sqlx::Error> {
    let sql = format!("SELECT {SETTING_COLUMNS} FROM settings s WHERE s.key = $1");
    let row = sqlx::query(&sql).bind(key).fetch_optional(conn).await?;
    row.as_ref().map(setting_from_row).transpose()
}

/// Writes a customer's override (`Some`) or returns the customer to the default (`None`), if
/// the row is still at `expected_version` (0: the setting was never overridden). Returns whether
/// it was written; `false` means another write came first.
pub async fn write_override(
    conn: &mut AnyConnection,
    customer_id: i64,
    key: &str,
    value: Option<&str>,
    expected_version: i64,
    now: Millis,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let result = if expected_version == 0 {
        sqlx::query(
            "INSERT INTO setting_overrides (customer_id, setting_key, value, version, updated_at, updated_by)
             VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(customer_id)
        .bind(key)
        .bind(value)
        .bind(now)
        .bind(by)
        .execute(conn)
        .await?
    } else {
        sqlx::query(
            "UPDATE setting_overrides SET value = $3, version = version + 1, updated_at = $5, updated_by = $6
             WHERE customer_id = $1 AND setting_key = $2 AND version = $4",
        )
        .bind(customer_id)
        .bind(key)
        .bind(value)
        .bind(expected_version)
        .bind(now)
        .bind(by)
        .execute(conn)
        .await?
    };
    Ok(result.rows_affected() == 1)
}

/// Changes a global default if it is still at `expected_version`; `false` when another change
/// came first.
pub async fn write_default(
    conn: &mut AnyConnection,
    key: &str,
    value: &str,
    expected_version: i64,
    now: Millis,
    by: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE settings SET default_value = $2, default_version = default_version + 1,
                default_updated_at = $4, default_updated_by = $5
         WHERE key = $1 AND default_version = $3",
    )
    .bind(key)
    .bind(value)
    .bind(expected_version)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Which overrides the matrix lists; an empty text switches a filter off.
pub struct MatrixFilter<'a> {
    pub setting_key: &'a str,
    pub category: &'a str,
    pub tag_name_key: &'a str,
    pub tag_value: &'a str,
    /// When set, only customers with a tag matching one of this staff member's tag scopes.
    pub scoped_to_staff: Option<i64>,
    pub limit: i64,
}

/// One override in force: (customer id, customer name, setting key, value, version).
pub type MatrixEntry = (i64, String, String, String, i64);

/// The overrides in force (value not NULL) of customers that are not deleted, by setting order
/// then customer name.
pub async fn matrix(
    conn: &mut AnyConnection,
    filter: &MatrixFilter<'_>,
) -> Result<Vec<MatrixEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.name, s.key, o.value, o.version
         FROM setting_overrides o
         JOIN settings s ON s.key = o.setting_key
         JOIN customers c ON c.id = o.customer_id
         WHERE o.value IS NOT NULL AND c.deleted_at IS NULL
           AND ($1 = '' OR s.key = $1)
           AND ($2 = '' OR s.category = $2)
           AND ($3 = '' OR EXISTS (SELECT 1 FROM customer_tags t
                                   WHERE t.customer_id = c.id AND t.name_key = $3 AND t.value = $4))
           AND ($6 = 0 OR EXISTS (
                SELECT 1 FROM customer_tags ct
                JOIN staff_tag_scopes sc ON sc.tag_name_key = ct.name_key AND sc.tag_value = ct.value
                WHERE ct.customer_id = c.id AND sc.staff_id = $6))
         ORDER BY s.position, c.name_key, c.id
         LIMIT $5",
    )
    .bind(filter.setting_key)
    .bind(filter.category)
    .bind(filter.tag_name_key)
    .bind(filter.tag_value)
    .bind(filter.limit)
    .bind(filter.scoped_to_staff.unwrap_or(0))
    .fetch_all(conn)
    .await
}
