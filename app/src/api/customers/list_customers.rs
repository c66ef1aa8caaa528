use crate::{error::AppError, model::CustomerPage};
use leptos::prelude::*;

/// One page of the customers the caller may see, searched by name, domain or tenant id.
#[server(endpoint = "list_customers")]
pub async fn list_customers(search: String, after: Option<i64>) -> Result<CustomerPage, AppError> {
    use crate::{
        model::Permission,
        ssr::{auth, service, state},
    };
    let staff = auth::authorize(Permission::ViewCustomers)?;
    service::customers::list(&state()?.db, &staff, &search, after).await
}
