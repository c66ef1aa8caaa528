//! Customer Configuration: the settings catalog, global defaults, per-customer overrides with
//! version checks, their history, and the override matrix.
//!
//! The rule of resolution (an override wins, otherwise the global default) is
//! [`crate::model::resolve`]; this module answers "what is in force for customer C" with one
//! query whatever the catalog size.

use crate::{
    error::AppError,
    model::{
        format_time, resolve, ConfigurationSection, GlobalDefaults, MatrixRow, OverrideMatrix,
        Permission, SettingChoice, SettingHistory, SettingHistoryEntry, SettingView, StaffView,
        ValueSource, MATRIX_MAX_ROWS,
    },
    ssr::{
        db::{now_millis, Db},
        service::{
            audit,
            customers::{ensure_visible, scope_of},
        },
        store::{
            self,
            settings::{MatrixFilter, OverrideRow, SettingRow},
        },
    },
};
use serde_json::{json, Value};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// How many history entries a setting shows.
const HISTORY_LIMIT: i64 = 50;

fn view(setting: SettingRow, row: Option<OverrideRow>) -> SettingView {
    let override_version = row.as_ref().map_or(0, |r| r.version);
    let in_force = row.as_ref().and_then(|r| r.value.as_deref());
    let (value, source) = resolve(&setting.default_value, in_force);
    let (changed_by, changed_at) = match (&row, source) {
        (Some(r), ValueSource::Overridden) => (r.updated_by.clone(), r.updated_at),
        _ => (
            setting.default_updated_by.clone(),
            setting.default_updated_at,
        ),
    };
    SettingView {
        value_display: setting.kind.display(value),
        value: value.to_owned(),
        source,
        default_display: setting.kind.display(&setting.default_value),
        default_value: setting.default_value,
        default_version: setting.default_version,
        override_version,
        changed_by,
        changed_at,
        key: setting.key,
        category: setting.category,
        label: setting.label,
        help: setting.help,
        kind: setting.kind,
    }
}

/// Every setting as in force for the customer: one query for the lot.
pub async fn effective_all(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<SettingView>, sqlx::Error> {
    Ok(store::settings::effective(conn, customer_id)
        .await?
        .into_iter()
        .map(|(setting, row)| view(setting, row))
        .collect())
}

/// One setting as in force for the customer; `None` for an unknown key.
pub async fn effective_one(
    conn: &mut AnyConnection,
    customer_id: i64,
    key: &str,
) -> Result<Option<SettingView>, sqlx::Error> {
    Ok(store::settings::effective_one(conn, customer_id, key)
        .await?
        .map(|(setting, row)| view(setting, row)))
}

fn unknown_setting() -> AppError {
    AppError::not_found("The setting")
}

fn subject(key: &str) -> String {
    format!("setting {key}")
}

/// The Customer Configuration section (2 queries: visibility, then the effective values).
pub async fn section(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
) -> Result<ConfigurationSection, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    Ok(ConfigurationSection {
        settings: effective_all(&mut conn, customer_id).await?,
        can_edit: staff.role.allows(Permission::EditConfiguration),
    })
}

/// Why a write based on a stale version is refused: what the value is now and who set it.
fn conflict_message(current: &SettingView) -> String {
    let source = match current.source {
        ValueSource::Overridden => "an override",
        ValueSource::GlobalDefault => "the global default",
    };
    format!(
        "{} changed “{}” since you opened it: it is now {} ({source}), as of {}. Review the current value and save again if you still want to change it.",
        current.changed_by,
        current.label,
        current.value_display,
        format_time(current.changed_at),
    )
}

fn conflict(current: &SettingView) -> AppError {
    AppError::Conflict {
        message: conflict_message(current),
    }
}

/// The refusal of a bulk revert that one stale item stopped.
async fn bulk_conflict(
    db: &Db,
    current: &SettingView,
    customer_id: i64,
) -> Result<usize, AppError> {
    let customer = store::customers::find(&mut *db.pool().acquire().await?, customer_id)
        .await?
        .map_or_else(|| format!("customer {customer_id}"), |c| c.1);
    Err(AppError::Conflict {
        message: format!(
            "Nothing was reverted. For {customer}: {}",
            conflict_message(current)
        ),
    })
}

/// What a change did, for the audit log and the history.
fn override_action(before: Option<&str>, after: Option<&str>, restore: bool) -> &'static str {
    match (before, after, restore) {
        (_, _, true) => "setting.restore",
        (None, Some(_), _) => "setting.override",
        (Some(_), Some(_), _) => "setting.change",
        (_, None, _) => "setting.revert",
    }
}

/// The change asked for, as it came in: parsed only once the customer is known to be visible.
enum Change<'a> {
    /// A value typed by the user, to be parsed by the setting's kind.
    Set(&'a str),
    /// Back to the global default.
    Revert,
    /// The value a past history entry (an audit line of this customer and setting) set.
    Restore(i64),
}

/// Writes the customer's override of `key` if its version is still `expected_version`, in one
/// write transaction: visibility first, then the setting and its current value, then the input
/// is parsed, then the version-checked write and its audit line.
async fn write(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    key: &str,
    change: Change<'_>,
    expected_version: i64,
) -> Result<SettingView, AppError> {
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let current = effective_one(&mut tx, customer_id, key)
        .await?
        .ok_or_else(unknown_setting)?;
    let restore = matches!(change, Change::Restore(_));
    let value = match change {
        Change::Set(input) => Some(
            current
                .kind
                .parse(input)
                .map_err(|message| AppError::field("value", message))?,
        ),
        Change::Revert => None,
        Change::Restore(history_id) => {
            let entry = store::audit::find(&mut tx, history_id)
                .await?
                .filter(|row| row.customer_id == Some(customer_id) && row.subject == subject(key))
                .ok_or_else(|| AppError::not_found("That history entry"))?;
            let past = recorded_value(entry.after_json.as_deref()).ok_or_else(|| AppError::BadRequest {
                message: "That history entry set no value to restore; use Revert to return to the global default.".into(),
            })?;
            Some(current.kind.parse(&past).map_err(|message| {
                AppError::field(
                    "value",
                    format!("The past value is no longer valid: {message}"),
                )
            })?)
        }
    };
    if current.override_version != expected_version {
        tracing::info!(staff = %staff.email, customer_id, key, expected_version, "refused: stale version");
        return Err(conflict(&current));
    }
    let before = (current.source == ValueSource::Overridden).then(|| current.value.clone());
    if value.is_none() && before.is_none() {
        return Err(AppError::Conflict {
            message: format!("“{}” already follows the global default.", current.label),
        });
    }

    let now = now_millis();
    let written = store::settings::write_override(
        &mut tx,
        customer_id,
        key,
        value.as_deref(),
        expected_version,
        now,
        &staff.email,
    )
    .await?;
    if !written {
        // Another write landed since the read (PostgreSQL; SQLite's write lock excludes it).
        drop(tx);
        let mut conn = db.pool().acquire().await?;
        let current = effective_one(&mut conn, customer_id, key)
            .await?
            .ok_or_else(unknown_setting)?;
        tracing::info!(staff = %staff.email, customer_id, key, expected_version, "refused: stale version");
        return Err(conflict(&current));
    }
    let action = override_action(before.as_deref(), value.as_deref(), restore);
    store::customers::touch(&mut tx, customer_id, now).await?;
    audit::record(
        &mut tx,
        staff,
        now,
        audit::Change {
            action,
            customer_id: Some(customer_id),
            subject: &subject(key),
            before: Some(json!({ "value": before })),
            after: Some(json!({ "value": value })),
        },
    )
    .await?;
    let updated = effective_one(&mut tx, customer_id, key)
        .await?
        .ok_or_else(unknown_setting)?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, customer_id, key, action, "setting written");
    Ok(updated)
}

/// Overrides (or changes the override of) `key` for a customer with the typed `input`.
pub async fn save_override(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    key: &str,
    input: &str,
    expected_version: i64,
) -> Result<SettingView, AppError> {
    write(
        db,
        staff,
        customer_id,
        key,
        Change::Set(input),
        expected_version,
    )
    .await
}

/// Returns a customer to the global default of `key`.
pub async fn revert(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    key: &str,
    expected_version: i64,
) -> Result<SettingView, AppError> {
    write(
        db,
        staff,
        customer_id,
        key,
        Change::Revert,
        expected_version,
    )
    .await
}

/// The value an audit line's JSON (`{"value": …}`) records; `None` for the global default.
fn recorded_value(json: Option<&str>) -> Option<String> {
    json.and_then(|j| serde_json::from_str::<Value>(j).ok())
        .and_then(|v| v.get("value").and_then(Value::as_str).map(str::to_owned))
}

fn history_value(setting: &SettingView, json: Option<&str>) -> Option<String> {
    recorded_value(json).map(|value| setting.kind.display(&value))
}

fn action_words(action: &str) -> String {
    match action {
        "setting.override" => "Overridden",
        "setting.change" => "Changed",
        "setting.revert" => "Reverted to the global default",
        "setting.restore" => "Restored a past value",
        "setting.bulk_revert" => "Reverted from the override matrix",
        other => other,
    }
    .to_owned()
}

/// A setting's history for a customer, newest first.
pub async fn history(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    key: &str,
) -> Result<SettingHistory, AppError> {
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let setting = effective_one(&mut conn, customer_id, key)
        .await?
        .ok_or_else(unknown_setting)?;
    let rows =
        store::audit::for_customer_subject(&mut conn, customer_id, &subject(key), HISTORY_LIMIT)
            .await?;
    let default_words = "global default".to_owned();
    let entries = rows
        .into_iter()
        .map(|row| {
            let after_raw = recorded_value(row.after_json.as_deref());
            let restorable = after_raw.as_ref().is_some_and(|after| {
                !(setting.source == ValueSource::Overridden && &setting.value == after)
            });
            SettingHistoryEntry {
                id: row.id,
                at: row.at,
                actor_email: row.actor_email,
                action: action_words(&row.action),
                before: history_value(&setting, row.before_json.as_deref())
                    .unwrap_or_else(|| default_words.clone()),
                after: history_value(&setting, row.after_json.as_deref())
                    .unwrap_or_else(|| default_words.clone()),
                restorable,
            }
        })
        .collect();
    Ok(SettingHistory {
        setting,
        entries,
        can_edit: staff.role.allows(Permission::EditConfiguration),
    })
}

/// Sets a customer's override of `key` back to the value a past history entry set. The value is
/// validated again against the setting's kind as it is now.
pub async fn restore(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
    key: &str,
    history_id: i64,
    expected_version: i64,
) -> Result<SettingView, AppError> {
    write(
        db,
        staff,
        customer_id,
        key,
        Change::Restore(history_id),
        expected_version,
    )
    .await
}

/// The global defaults page.
pub async fn defaults(db: &Db, staff: &StaffView) -> Result<GlobalDefaults, AppError> {
    let mut conn = db.pool().acquire().await?;
    let settings = store::settings::catalog(&mut conn)
        .await?
        .into_iter()
        .map(|s| view(s, None))
        .collect();
    Ok(GlobalDefaults {
        settings,
        can_edit: staff.role.allows(Permission::ManageGlobalDefaults),
    })
}

/// Changes the global default of `key`; customers without an override follow it at once.
pub async fn save_default(
    db: &Db,
    staff: &StaffView,
    key: &str,
    input: &str,
    expected_version: i64,
) -> Result<SettingView, AppError> {
    let mut tx = db.begin_write().await?;
    let setting = store::settings::find(&mut tx, key)
        .await?
        .ok_or_else(unknown_setting)?;
    let value = setting
        .kind
        .parse(input)
        .map_err(|message| AppError::field("value", message))?;
    let now = now_millis();
    let written =
        store::settings::write_default(&mut tx, key, &value, expected_version, now, &staff.email)
            .await?;
    if !written {
        let current = store::settings::find(&mut tx, key)
            .await?
            .ok_or_else(unknown_setting)?;
        return Err(conflict(&view(current, None)));
    }
    audit::record(
        &mut tx,
        staff,
        now,
        audit::Change {
            action: "default.change",
            customer_id: None,
            subject: &subject(key),
            before: Some(json!({ "value": setting.default_value })),
            after: Some(json!({ "value": value })),
        },
    )
    .await?;
    let updated = store::settings::find(&mut tx, key)
        .await?
        .ok_or_else(unknown_setting)?;
    tx.commit().await?;
    tracing::info!(staff = %staff.email, key, "global default changed");
    Ok(view(updated, None))
}

/// What the override matrix is filtered by; empty texts switch a filter off. `tag` is
/// `Name=Value`.
#[derive(Clone, Debug, Default)]
pub struct MatrixQuery {
    pub setting_key: String,
    pub category: String,
    pub tag: String,
}

/// Which customers override which setting, among the customers `staff` may see.
pub async fn matrix(
    db: &Db,
    staff: &StaffView,
    query: &MatrixQuery,
) -> Result<OverrideMatrix, AppError> {
    let (tag_name_key, tag_value) =
        super::customers::parse_tag_filter(&query.tag)?.unwrap_or_default();
    let mut conn = db.pool().acquire().await?;
    let catalog: BTreeMap<String, SettingRow> = store::settings::catalog(&mut conn)
        .await?
        .into_iter()
        .map(|s| (s.key.clone(), s))
        .collect();
    let mut entries = store::settings::matrix(
        &mut conn,
        &MatrixFilter {
            setting_key: query.setting_key.trim(),
            category: query.category.trim(),
            tag_name_key: &tag_name_key,
            tag_value: &tag_value,
            scoped_to_staff: scope_of(staff),
            limit: MATRIX_MAX_ROWS + 1,
        },
    )
    .await?;
    let truncated = entries.len() as i64 > MATRIX_MAX_ROWS;
    entries.truncate(MATRIX_MAX_ROWS as usize);
    let rows = entries
        .into_iter()
        .filter_map(|(customer_id, customer_name, key, value, version)| {
            let setting = catalog.get(&key)?;
            Some(MatrixRow {
                customer_id,
                customer_name,
                setting_label: setting.label.clone(),
                category: setting.category.clone(),
                value_display: setting.kind.display(&value),
                default_display: setting.kind.display(&setting.default_value),
                setting_key: key,
                version,
            })
        })
        .collect();
    let mut ordered: Vec<&SettingRow> = catalog.values().collect();
    ordered.sort_by_key(|s| (s.category.clone(), s.label.clone()));
    let mut categories: Vec<String> = catalog.values().map(|s| s.category.clone()).collect();
    categories.sort();
    categories.dedup();
    Ok(OverrideMatrix {
        rows,
        truncated,
        settings: ordered
            .into_iter()
            .map(|s| SettingChoice {
                key: s.key.clone(),
                label: s.label.clone(),
                category: s.category.clone(),
            })
            .collect(),
        categories,
        can_revert: staff.role.allows(Permission::BulkRevertOverrides),
    })
}

/// One override to revert from the matrix, named by what the page showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevertItem {
    pub customer_id: i64,
    pub setting_key: String,
    pub version: i64,
}

impl RevertItem {
    /// Parses `customer_id:setting_key:version`, the value of a matrix checkbox.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.trim().splitn(3, ':');
        let (Some(c), Some(k), Some(v)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("“{text}” does not name an override."));
        };
        Ok(RevertItem {
            customer_id: c
                .parse()
                .map_err(|_| format!("“{text}” does not name an override."))?,
            setting_key: k.to_owned(),
            version: v
                .parse()
                .map_err(|_| format!("“{text}” does not name an override."))?,
        })
    }
}

/// Reverts every listed override in one transaction: all of them, or none when any one was
/// changed since the page was loaded. Each is audited on its customer.
pub async fn bulk_revert(
    db: &Db,
    staff: &StaffView,
    items: &[RevertItem],
) -> Result<usize, AppError> {
    if items.is_empty() {
        return Err(AppError::field(
            "items",
            "Select at least one override to revert.",
        ));
    }
    let mut tx = db.begin_write().await?;
    let mut current = Vec::with_capacity(items.len());
    for item in items {
        ensure_visible(&mut tx, staff, item.customer_id).await?;
        let setting = effective_one(&mut tx, item.customer_id, &item.setting_key)
            .await?
            .ok_or_else(unknown_setting)?;
        if setting.source != ValueSource::Overridden || setting.override_version != item.version {
            drop(tx);
            return bulk_conflict(db, &setting, item.customer_id).await;
        }
        current.push(setting);
    }
    let now = now_millis();
    for (item, setting) in items.iter().zip(current) {
        let written = store::settings::write_override(
            &mut tx,
            item.customer_id,
            &item.setting_key,
            None,
            item.version,
            now,
            &staff.email,
        )
        .await?;
        if !written {
            // Changed since the read (PostgreSQL; SQLite's write lock excludes it): nothing is kept.
            drop(tx);
            let latest = effective_one(
                &mut *db.pool().acquire().await?,
                item.customer_id,
                &item.setting_key,
            )
            .await?
            .ok_or_else(unknown_setting)?;
            return bulk_conflict(db, &latest, item.customer_id).await;
        }
        store::customers::touch(&mut tx, item.customer_id, now).await?;
        audit::record(
            &mut tx,
            staff,
            now,
            audit::Change {
                action: "setting.bulk_revert",
                customer_id: Some(item.customer_id),
                subject: &subject(&item.setting_key),
                before: Some(json!({ "value": setting.value })),
                after: Some(json!({ "value": null })),
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(staff = %staff.email, count = items.len(), "overrides reverted in bulk");
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_item_parses_from_its_checkbox_value() {
        assert_eq!(
            RevertItem::parse("12:billing.cycle:3"),
            Ok(RevertItem {
                customer_id: 12,
                setting_key: "billing.cycle".into(),
                version: 3
            })
        );
        assert!(RevertItem::parse("12:billing.cycle").is_err());
        assert!(RevertItem::parse("x:billing.cycle:3").is_err());
    }

    #[test]
    fn the_audit_action_names_what_happened() {
        assert_eq!(override_action(None, Some("1"), false), "setting.override");
        assert_eq!(
            override_action(Some("1"), Some("2"), false),
            "setting.change"
        );
        assert_eq!(override_action(Some("1"), None, false), "setting.revert");
        assert_eq!(override_action(None, Some("1"), true), "setting.restore");
    }
}
