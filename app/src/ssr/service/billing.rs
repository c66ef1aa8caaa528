//! Link to Billing Profile: the customer's id in the partner's payment gateway. Only there when
//! a gateway is configured (otherwise every function answers 404). Admin and finance link,
//! verify and unlink; whoever may see the customer sees the link. A link is made in two steps:
//! the id is checked for its form next to the field and looked up in the gateway, its name and
//! e-mail shown; then, confirmed, it is looked up again and saved with what the gateway said.

use super::{
    audit::{self, Change},
    customers::ensure_visible,
};
use crate::{
    error::AppError,
    model::{BillingLinkView, BillingProfileView, BillingSection, Permission, StaffView},
    ssr::{
        db::{now_millis, Db},
        gateway::{Gateway, GatewayError, Lookup, PaymentGateway},
        store::{self, billing::BillingLink},
    },
};
use serde_json::json;

/// The gateway, or 404 when none is configured (the section does not exist then).
fn configured(gateway: Option<&Gateway>) -> Result<&Gateway, AppError> {
    gateway.ok_or_else(|| AppError::not_found("Link to Billing Profile"))
}

fn ensure_may_edit(staff: &StaffView) -> Result<(), AppError> {
    if staff.role.allows(Permission::ManageBilled) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn upstream(error: GatewayError) -> AppError {
    tracing::warn!(%error, "payment gateway look-up failed");
    AppError::Upstream {
        message: format!("{error}. Nothing was saved."),
    }
}

fn view_of(link: BillingLink) -> BillingLinkView {
    BillingLinkView {
        profile: BillingProfileView {
            id: link.billing_id,
            name: link.name,
            email: link.email,
            test_mode: link.test_mode,
        },
        checked_at: link.checked_at,
        gone_at: link.gone_at,
        linked_by: link.linked_by,
        linked_at: link.linked_at,
    }
}

/// The section: the gateway and the customer's link, if any.
pub async fn section(
    db: &Db,
    gateway: Option<&Gateway>,
    staff: &StaffView,
    customer_id: i64,
) -> Result<BillingSection, AppError> {
    let gateway = configured(gateway)?;
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let link = store::billing::find(&mut conn, customer_id)
        .await?
        .filter(|l| l.gateway == gateway.key())
        .map(view_of);
    Ok(BillingSection {
        customer_id,
        gateway: gateway.name().to_owned(),
        gateway_test_mode: gateway.test_mode(),
        link,
        can_edit: staff.role.allows(Permission::ManageBilled),
    })
}

/// Looks an id up: its form checked (next to the field), then the gateway asked. A deleted or
/// missing customer is said next to the field too.
async fn look_up(gateway: &Gateway, text: &str) -> Result<BillingProfileView, AppError> {
    let id = gateway
        .parse_id(text)
        .map_err(|m| AppError::field("billing_id", m))?;
    match gateway.look_up(&id).await.map_err(upstream)? {
        Lookup::Found(p) => Ok(BillingProfileView {
            id: p.id,
            name: p.name,
            email: p.email,
            test_mode: p.test_mode,
        }),
        Lookup::Deleted => Err(AppError::field(
            "billing_id",
            format!("{id} is a deleted customer in {}.", gateway.name()),
        )),
        Lookup::Missing => Err(AppError::field(
            "billing_id",
            format!("{} has no customer {id}.", gateway.name()),
        )),
    }
}

/// The gateway, once the caller may keep the billing link of this customer.
async fn editable<'g>(
    db: &Db,
    gateway: Option<&'g Gateway>,
    staff: &StaffView,
    customer_id: i64,
) -> Result<&'g Gateway, AppError> {
    let gateway = configured(gateway)?;
    ensure_may_edit(staff)?;
    ensure_visible(&mut *db.pool().acquire().await?, staff, customer_id).await?;
    Ok(gateway)
}

/// The first step of a link: what the gateway says about the id, nothing saved.
pub async fn check(
    db: &Db,
    gateway: Option<&Gateway>,
    staff: &StaffView,
    customer_id: i64,
    billing_id: &str,
) -> Result<BillingProfileView, AppError> {
    let gateway = editable(db, gateway, staff, customer_id).await?;
    look_up(gateway, billing_id).await
}

/// Links the customer to the billing id (confirmed after [`check`]): looked up again, and
/// refused with 409 when another customer has it.
pub async fn link(
    db: &Db,
    gateway: Option<&Gateway>,
    staff: &StaffView,
    customer_id: i64,
    billing_id: &str,
) -> Result<BillingProfileView, AppError> {
    let gateway = editable(db, gateway, staff, customer_id).await?;
    // The gateway is asked before the write transaction, which is not held across the call.
    let profile = look_up(gateway, billing_id).await?;
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    if let Some((other, name, deleted)) =
        store::billing::holder(&mut tx, gateway.key(), &profile.id).await?
    {
        if other != customer_id {
            return Err(AppError::Conflict {
                message: format!(
                    "{} is linked to {name}{} already: one billing customer belongs to one portal customer.",
                    profile.id,
                    if deleted { " (deleted)" } else { "" }
                ),
            });
        }
    }
    let before = store::billing::find(&mut tx, customer_id).await?;
    store::billing::save(
        &mut tx,
        customer_id,
        &BillingLink {
            gateway: gateway.key().to_owned(),
            billing_id: profile.id.clone(),
            name: profile.name.clone(),
            email: profile.email.clone(),
            test_mode: profile.test_mode,
            checked_at: now,
            gone_at: None,
            linked_by: staff.email.clone(),
            linked_at: now,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        staff,
        now,
        Change {
            action: "billing.link",
            customer_id: Some(customer_id),
            subject: &format!("{} customer {}", gateway.name(), profile.id),
            before: before.map(|b| json!({ "billing_id": b.billing_id, "gateway": b.gateway })),
            after: Some(json!({
                "gateway": gateway.key(),
                "billing_id": profile.id,
                "name": profile.name,
                "email": profile.email,
                "test_mode": profile.test_mode,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(profile)
}

/// Asks the gateway again about the linked id; records what it says, and since when it no
/// longer has the customer. Returns the link as it is now.
pub async fn verify(
    db: &Db,
    gateway: Option<&Gateway>,
    staff: &StaffView,
    customer_id: i64,
) -> Result<BillingLinkView, AppError> {
    let gateway = configured(gateway)?;
    ensure_may_edit(staff)?;
    let mut conn = db.pool().acquire().await?;
    ensure_visible(&mut conn, staff, customer_id).await?;
    let link = store::billing::find(&mut conn, customer_id)
        .await?
        .filter(|l| l.gateway == gateway.key())
        .ok_or_else(|| AppError::Conflict {
            message: "This customer has no billing profile linked (any more).".into(),
        })?;
    drop(conn);
    let answer = gateway.look_up(&link.billing_id).await.map_err(upstream)?;
    let now = now_millis();
    let mut conn = db.pool().acquire().await?;
    match &answer {
        Lookup::Found(p) => {
            store::billing::verified(&mut conn, customer_id, Some((&p.name, &p.email)), None, now)
                .await?
        }
        Lookup::Deleted | Lookup::Missing => {
            store::billing::verified(&mut conn, customer_id, None, Some(now), now).await?
        }
    }
    let link = store::billing::find(&mut conn, customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("The billing link"))?;
    Ok(view_of(link))
}

/// Ends the customer's link. Returns the billing id it had.
pub async fn unlink(
    db: &Db,
    gateway: Option<&Gateway>,
    staff: &StaffView,
    customer_id: i64,
) -> Result<String, AppError> {
    configured(gateway)?;
    ensure_may_edit(staff)?;
    let now = now_millis();
    let mut tx = db.begin_write().await?;
    ensure_visible(&mut tx, staff, customer_id).await?;
    let Some(link) = store::billing::find(&mut tx, customer_id).await? else {
        return Err(AppError::Conflict {
            message: "This customer has no billing profile linked (any more).".into(),
        });
    };
    store::billing::remove(&mut tx, customer_id).await?;
    audit::record(
        &mut tx,
        staff,
        now,
        Change {
            action: "billing.unlink",
            customer_id: Some(customer_id),
            subject: &format!("billing customer {}", link.billing_id),
            before: Some(json!({ "gateway": link.gateway, "billing_id": link.billing_id, "name": link.name })),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(link.billing_id)
}
