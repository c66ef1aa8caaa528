use crate::{error::AppError, model::PartnerConsumption};
use leptos::prelude::*;

/// License Consumption over every customer the caller may see: each product's licences summed.
/// `tag` (`Name=Value`) narrows it; an empty text switches it off.
#[server(endpoint = "get_partner_consumption")]
pub async fn get_partner_consumption(tag: String) -> Result<PartnerConsumption, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewReports)?;
    service::reports::partner_consumption(&state()?.db, &staff, &tag).await
}
