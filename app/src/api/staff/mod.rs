//! Staff administration (System Admin): the staff page and its changes. Forms post without
//! JavaScript; each change leaves a status message and returns to the page.

use crate::{error::AppError, model::StaffPage};
use leptos::prelude::*;

/// Every staff member with role, scopes, status, last sign-in and sessions.
#[server(endpoint = "get_staff_page")]
pub async fn get_staff_page() -> Result<StaffPage, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let admin = auth::authorize(Permission::ManageStaff)?;
    service::staff::page(&state()?, &admin).await
}

/// Adds a staff member with a password they must change at their first sign-in.
#[server(endpoint = "add_staff_member")]
pub async fn add_staff_member(
    email: String,
    display_name: String,
    role: String,
    #[server(default)] scopes: String,
    password: String,
) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state, status},
    };
    let admin = auth::authorize(Permission::ManageStaff)?;
    service::staff::add(
        &state()?.db,
        &admin,
        service::staff::NewMember {
            email: email.clone(),
            display_name,
            role,
            scopes,
            password,
        },
    )
    .await?;
    status::say(&format!(
        "Added {}. Give them the password by another channel than e-mail; they choose their own when they first sign in.",
        email.trim().to_lowercase()
    ));
    Ok(())
}

/// Changes a member's role.
#[server(endpoint = "change_staff_role")]
pub async fn change_staff_role(staff_id: i64, role: String) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state, status},
    };
    let admin = auth::authorize(Permission::ManageStaff)?;
    service::staff::change_role(&state()?.db, &admin, staff_id, &role).await?;
    status::say("Role changed.");
    Ok(())
}

/// Replaces a Help Desk member's tag scopes (`Name=Value` pairs).
#[server(endpoint = "set_staff_scopes")]
pub async fn set_staff_scopes(staff_id: i64, scopes: String) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state, status},
    };
    let admin = auth::authorize(Permission::ManageStaff)?;
    service::staff::set_scopes(&state()?.db, &admin, staff_id, &scopes).await?;
    status::say("Tag scopes saved.");
    Ok(())
}

/// Disables a member (their sessions end at once) or, with `enabled`, enables them.
#[server(endpoint = "set_staff_enabled")]
pub async fn set_staff_enabled(staff_id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state, status},
    };
    let admin = auth::authorize(Permission::ManageStaff)?;
    service::staff::set_enabled(&state()?.db, &admin, staff_id, enabled).await?;
    status::say(if enabled {
        "Enabled; they can sign in again."
    } else {
        "Disabled; their sessions have ended."
    });
    Ok(())
}

/// Sets a member's password (they must change it at their next sign-in).
#[server(endpoint = "reset_staff_password")]
pub async fn reset_staff_password(staff_id: i64, password: String) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state, status},
    };
    let admin = auth::authorize(Permission::ManageStaff)?;
    service::staff::reset_password(&state()?.db, &admin, staff_id, password).await?;
    status::say("Password reset; their sessions have ended and they choose a new one at their next sign-in.");
    Ok(())
}

/// Ends one session of a member.
#[server(endpoint = "end_staff_session")]
pub async fn end_staff_session(staff_id: i64, handle: String) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state, status},
    };
    let admin = auth::authorize(Permission::ManageStaff)?;
    service::staff::end_session(&state()?.db, &admin, staff_id, &handle).await?;
    status::say("Session ended.");
    Ok(())
}

pub mod tokens;
