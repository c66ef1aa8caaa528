//! Staff administration (System Admin) and one's own account: add a member, change their role,
//! tag scopes, disable or enable them, reset their password, end a session; change one's own
//! password and end one's own sessions. Every change is audited; the portal always keeps one
//! enabled admin.

use super::audit::{record, Change};
use crate::{
    error::{AppError, FieldErrors},
    model::{
        check_new_password, parse_display_name, parse_email, parse_tag_scopes, AccountView, Millis,
        Role, SessionView, StaffMember, StaffPage, StaffView, TagScope,
    },
    ssr::{
        auth,
        db::{now_millis, Db},
        store, AppState,
    },
};
use serde_json::json;
use sqlx::AnyConnection;

/// The message when a change would leave the portal without an enabled System Admin.
pub const LAST_ADMIN: &str =
    "This is the last enabled System Admin: make someone else a System Admin first, or the portal could not be administered.";

/// Live sessions of one staff member (or everyone), marking the one of this request.
async fn sessions(
    conn: &mut AnyConnection,
    state: &AppState,
    staff_id: Option<i64>,
) -> Result<Vec<(i64, SessionView)>, AppError> {
    let now = now_millis();
    let current = auth::current_session_handle();
    let mut live =
        store::sessions::live(conn, staff_id, now, now - state.session_idle_timeout_ms).await?;
    for (_, s) in &mut live {
        s.current = current.as_deref() == Some(s.handle.as_str());
    }
    Ok(live)
}

/// Every staff member with role, scopes, status, last sign-in and live sessions.
pub async fn page(state: &AppState, admin: &StaffView) -> Result<StaffPage, AppError> {
    let mut conn = state.db.pool().acquire().await?;
    let rows = store::staff::list(&mut conn).await?;
    let scopes = store::staff::all_tag_scopes(&mut conn).await?;
    let live = sessions(&mut conn, state, None).await?;
    let members = rows
        .into_iter()
        .map(|row| {
            let id = row.staff.id;
            StaffMember {
                id,
                email: row.staff.email,
                display_name: row.staff.display_name,
                role: row.staff.role,
                scopes: scopes
                    .iter()
                    .filter(|(staff_id, ..)| *staff_id == id)
                    .map(|(_, name, value)| TagScope {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                disabled_at: row.disabled_at,
                last_sign_in_at: row.last_sign_in_at,
                password_change_required: row.password_change_required,
                sessions: live
                    .iter()
                    .filter(|(staff_id, _)| *staff_id == id)
                    .map(|(_, s)| s.clone())
                    .collect(),
            }
        })
        .collect();
    Ok(StaffPage {
        members,
        me: admin.id,
    })
}

/// What an admin typed to add a member.
pub struct NewMember {
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub scopes: String,
    pub password: String,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse().map_err(|_| {
        "Choose a role: System Admin, System Reader, Finance Admin or Help Desk.".into()
    })
}

/// Parsed scopes as stored: (folded name, value).
fn stored_scopes(text: &str, role: Role) -> Result<Vec<(String, String)>, String> {
    let scopes = parse_tag_scopes(text)?;
    if !scopes.is_empty() && !role.is_scoped_by_tags() {
        return Err(format!(
            "Tag scopes limit Help Desk members only; a {} sees every customer. Leave the scopes empty.",
            role.label()
        ));
    }
    Ok(scopes
        .into_iter()
        .map(|(name, value)| (store::fold(name.as_str()), value.as_str().to_owned()))
        .collect())
}

fn scopes_json(scopes: &[(String, String)]) -> serde_json::Value {
    json!(scopes
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>())
}

/// Adds a staff member with a password they must change at their first sign-in.
pub async fn add(db: &Db, admin: &StaffView, input: NewMember) -> Result<i64, AppError> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", parse_email(&input.email));
    let name = errors.check("display_name", parse_display_name(&input.display_name));
    let role = errors.check("role", parse_role(&input.role));
    let scopes = role.and_then(|role| errors.check("scopes", stored_scopes(&input.scopes, role)));
    if let Some(email) = &email {
        errors.check("password", check_new_password(&input.password, email));
    }
    errors.into_result()?;
    let (Some(email), Some(name), Some(role), Some(scopes)) = (email, name, role, scopes) else {
        return Err(AppError::field("email", "Fill in every field."));
    };
    let hash = auth::hash_password(input.password).await?;
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    if store::staff::find_by_email(&mut tx, &email)
        .await?
        .is_some()
    {
        return Err(AppError::field(
            "email",
            format!("{email} already has an account; find them in the list below."),
        ));
    }
    let id = store::staff::insert(&mut tx, &email, &name, role, &hash, now).await?;
    store::staff::set_password(&mut tx, id, &hash, true).await?;
    store::staff::replace_tag_scopes(&mut tx, id, &scopes).await?;
    record(
        &mut tx,
        admin,
        now,
        Change {
            action: "staff.add",
            customer_id: None,
            subject: &email,
            before: None,
            after: Some(json!({
                "email": email,
                "display_name": name,
                "role": role.as_str(),
                "scopes": scopes_json(&scopes),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %admin.email, member = id, role = role.as_str(), "staff member added");
    Ok(id)
}

async fn member(conn: &mut AnyConnection, id: i64) -> Result<store::staff::StaffRow, AppError> {
    store::staff::find(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("That staff member"))
}

/// Refuses when taking `row` out of the enabled admins would leave none. Locks the enabled
/// admins first, so two such changes at once run one after the other and the second sees
/// the first.
async fn keep_an_admin(
    conn: &mut AnyConnection,
    row: &store::staff::StaffRow,
) -> Result<(), AppError> {
    if row.staff.role != Role::Admin || row.disabled_at.is_some() {
        return Ok(());
    }
    store::staff::lock_active_admins(conn).await?;
    if store::staff::count_active_admins(conn).await? <= 1 {
        return Err(AppError::Conflict {
            message: LAST_ADMIN.into(),
        });
    }
    Ok(())
}

/// Changes a member's role (the last enabled admin keeps theirs).
pub async fn change_role(db: &Db, admin: &StaffView, id: i64, role: &str) -> Result<(), AppError> {
    let role = parse_role(role).map_err(|e| AppError::field("role", e))?;
    let mut tx = db.begin_write().await?;
    let row = member(&mut tx, id).await?;
    if row.staff.role == role {
        return Ok(());
    }
    if role != Role::Admin {
        keep_an_admin(&mut tx, &row).await?;
        // Re-read: a concurrent change may have committed while we waited for the locks.
        let again = member(&mut tx, id).await?;
        if again.staff.role != row.staff.role {
            return Err(AppError::Conflict {
                message: format!(
                    "{} was changed by someone else meanwhile; look again.",
                    row.staff.email
                ),
            });
        }
    }
    store::staff::set_role(&mut tx, id, role).await?;
    record(
        &mut tx,
        admin,
        now_millis(),
        Change {
            action: "staff.role",
            customer_id: None,
            subject: &row.staff.email,
            before: Some(json!({ "role": row.staff.role.as_str() })),
            after: Some(json!({ "role": role.as_str() })),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %admin.email, member = id, role = role.as_str(), "role changed");
    Ok(())
}

/// Replaces a Help Desk member's tag scopes.
pub async fn set_scopes(db: &Db, admin: &StaffView, id: i64, scopes: &str) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let row = member(&mut tx, id).await?;
    let scopes = stored_scopes(scopes, row.staff.role).map_err(|e| AppError::field("scopes", e))?;
    let before: Vec<(String, String)> = store::staff::all_tag_scopes(&mut tx)
        .await?
        .into_iter()
        .filter(|(staff_id, ..)| *staff_id == id)
        .map(|(_, n, v)| (n, v))
        .collect();
    if before == scopes {
        return Ok(());
    }
    store::staff::replace_tag_scopes(&mut tx, id, &scopes).await?;
    record(
        &mut tx,
        admin,
        now_millis(),
        Change {
            action: "staff.scopes",
            customer_id: None,
            subject: &row.staff.email,
            before: Some(json!({ "scopes": scopes_json(&before) })),
            after: Some(json!({ "scopes": scopes_json(&scopes) })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables a member (their sessions end at once) or enables them again.
pub async fn set_enabled(
    db: &Db,
    admin: &StaffView,
    id: i64,
    enabled: bool,
) -> Result<(), AppError> {
    if id == admin.id && !enabled {
        return Err(AppError::Conflict {
            message: "You cannot disable your own account; another System Admin can.".into(),
        });
    }
    let mut tx = db.begin_write().await?;
    let row = member(&mut tx, id).await?;
    if row.disabled_at.is_none() == enabled {
        return Ok(());
    }
    let now = now_millis();
    let mut ended = 0;
    if enabled {
        store::staff::set_disabled_by_id(&mut tx, id, None).await?;
    } else {
        keep_an_admin(&mut tx, &row).await?;
        store::staff::set_disabled_by_id(&mut tx, id, Some(now)).await?;
        ended = store::sessions::delete_for_staff(&mut tx, id).await?;
    }
    let status = |enabled: bool| if enabled { "enabled" } else { "disabled" };
    record(
        &mut tx,
        admin,
        now,
        Change {
            action: if enabled {
                "staff.enable"
            } else {
                "staff.disable"
            },
            customer_id: None,
            subject: &row.staff.email,
            before: Some(json!({ "status": status(!enabled) })),
            after: Some(json!({ "status": status(enabled) })),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff = %admin.email, member = id, enabled, sessions_ended = ended, "staff status changed");
    Ok(())
}

/// Sets a member's password to one the admin chose, which the member must change at their next
/// sign-in; their sessions end.
pub async fn reset_password(
    db: &Db,
    admin: &StaffView,
    id: i64,
    password: String,
) -> Result<(), AppError> {
    let email = {
        let mut conn = db.pool().acquire().await?;
        member(&mut conn, id).await?.staff.email
    };
    check_new_password(&password, &email).map_err(|e| AppError::field("password", e))?;
    let hash = auth::hash_password(password).await?;
    let mut tx = db.begin_write().await?;
    member(&mut tx, id).await?;
    store::staff::set_password(&mut tx, id, &hash, true).await?;
    store::sessions::delete_for_staff(&mut tx, id).await?;
    record(
        &mut tx,
        admin,
        now_millis(),
        Change {
            action: "staff.password_reset",
            customer_id: None,
            subject: &email,
            before: None,
            after: Some(json!({ "password": "reset; must be changed at next sign-in" })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends one session of a member.
pub async fn end_session(
    db: &Db,
    admin: &StaffView,
    id: i64,
    handle: &str,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let row = member(&mut tx, id).await?;
    if !store::sessions::delete_one(&mut tx, id, handle).await? {
        return Err(AppError::not_found("That session"));
    }
    record(
        &mut tx,
        admin,
        now_millis(),
        Change {
            action: "staff.session_end",
            customer_id: None,
            subject: &row.staff.email,
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in member's own account.
pub async fn account(state: &AppState, staff: &StaffView) -> Result<AccountView, AppError> {
    let mut conn = state.db.pool().acquire().await?;
    let row = member(&mut conn, staff.id).await?;
    let sessions = sessions(&mut conn, state, Some(staff.id))
        .await?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    Ok(AccountView {
        email: row.staff.email,
        display_name: row.staff.display_name,
        role: row.staff.role,
        password_change_required: row.password_change_required,
        sessions,
    })
}

/// Changes the signed-in member's password: the current one must be right. Their other
/// sessions end; this one stays.
pub async fn change_own_password(
    state: &AppState,
    staff: &StaffView,
    current: String,
    new: String,
    repeated: String,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::default();
    if current.is_empty() {
        errors.check::<()>("current", Err("Enter your current password.".into()));
    }
    errors.check("new", check_new_password(&new, &staff.email));
    if errors.is_empty() && new != repeated {
        errors.check::<()>(
            "repeated",
            Err("The two new passwords differ; type the same one twice.".into()),
        );
    }
    if errors.is_empty() && new == current {
        errors.check::<()>(
            "new",
            Err("The new password is the one you have now; choose another.".into()),
        );
    }
    errors.into_result()?;
    let hash = {
        let mut conn = state.db.pool().acquire().await?;
        store::staff::password_hash(&mut conn, staff.id).await?
    };
    if !auth::check_password(state, current, hash).await? {
        return Err(AppError::field(
            "current",
            "That is not your current password.",
        ));
    }
    let new_hash = auth::hash_password(new).await?;
    let keep = auth::current_session_handle().unwrap_or_default();
    let now: Millis = now_millis();
    let mut tx = state.db.begin_write().await?;
    store::staff::set_password(&mut tx, staff.id, &new_hash, false).await?;
    let ended = store::sessions::delete_others(&mut tx, staff.id, &keep).await?;
    record(
        &mut tx,
        staff,
        now,
        Change {
            action: "account.password",
            customer_id: None,
            subject: &staff.email,
            before: None,
            after: Some(json!({ "password": "changed", "other_sessions_ended": ended })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends one of the signed-in member's own sessions.
pub async fn end_own_session(db: &Db, staff: &StaffView, handle: &str) -> Result<(), AppError> {
    let mut conn = db.pool().acquire().await?;
    if !store::sessions::delete_one(&mut conn, staff.id, handle).await? {
        return Err(AppError::not_found("That session"));
    }
    Ok(())
}
