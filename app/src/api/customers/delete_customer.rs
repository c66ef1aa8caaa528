use crate::error::AppError;
use leptos::prelude::*;

/// Deletes the customer from the portal (nothing is sent to Partner Center) once its name is
/// typed back in `confirm_name`; it can be restored within the retention period.
#[server(endpoint = "delete_customer")]
pub async fn delete_customer(customer_id: i64, confirm_name: String) -> Result<(), AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::DeleteCustomers)?;
    let state = state()?;
    let name = service::deletion::delete(&state.db, &staff, customer_id, &confirm_name).await?;
    crate::ssr::status::say(&format!(
        "Deleted {name} from the portal (not from Partner Center). It can be restored here for {} days.",
        state.delete_retention_days
    ));
    leptos_axum::redirect("/deleted-customers");
    Ok(())
}
