//! The customer list and the customer header, seen through the staff member's scope.

use crate::{
    error::AppError,
    model::{CustomerHeader, CustomerPage, CustomerSummary, StaffView, CUSTOMER_PAGE_SIZE},
    ssr::{
        db::Db,
        store::{self, customers::CustomerQuery},
    },
};
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

/// The longest search text accepted; longer input is cut, not refused.
const SEARCH_MAX_CHARS: usize = 200;

/// The staff id whose tag scopes limit what `staff` sees, for store queries; `None` for roles
/// that see every customer.
pub fn scope_of(staff: &StaffView) -> Option<i64> {
    staff.role.is_scoped_by_tags().then_some(staff.id)
}

/// A customer tag filter written `Name=Value` (as the matrix and the reports take it): the
/// folded name key and the value; `None` for an empty text.
pub fn parse_tag_filter(text: &str) -> Result<Option<(String, String)>, AppError> {
    match text.trim() {
        "" => Ok(None),
        tag => {
            let (name, value) = tag.split_once('=').ok_or_else(|| {
                AppError::field("tag", "Write the tag as Name=Value, e.g. Region=North.")
            })?;
            Ok(Some((store::fold(name.trim()), value.trim().to_owned())))
        }
    }
}

/// One page of the customers `staff` may see, matching `search` in the name or domain (or a
/// tenant id, exactly or by prefix). At most six queries whatever the page size: the cursor, the
/// page, the count of the whole list ("of 1,204": counted up to 1,000, then "more than 1,000";
/// not for a search), its tags, its account managers, its syncs.
/// The list counts matching customers up to this many, then says "more than".
pub const COUNT_CAP: i64 = 1000;

pub async fn list(
    db: &Db,
    staff: &StaffView,
    search: &str,
    after: Option<i64>,
) -> Result<CustomerPage, AppError> {
    let search_key: String = store::fold(search.trim())
        .chars()
        .take(SEARCH_MAX_CHARS)
        .collect();
    let mut conn = db.pool().acquire().await?;
    let cursor = match after {
        Some(id) => store::customers::cursor(&mut conn, id).await?,
        None => None,
    };
    let query = CustomerQuery {
        search_key: &search_key,
        after: cursor.as_ref().map(|(key, id)| (key.as_str(), *id)),
        scoped_to_staff: scope_of(staff),
        limit: CUSTOMER_PAGE_SIZE + 1,
    };
    let mut rows = store::customers::page(&mut conn, db.backend(), &query).await?;
    // Counted only for the whole list: a search's matches are not counted (a common word
    // matches thousands, and counting them costs more than the page), its pages say "26–50".
    let counted = if search_key.is_empty() {
        Some(store::customers::count_up_to(&mut conn, db.backend(), &query, COUNT_CAP + 1).await?)
    } else {
        None
    };
    let has_more = rows.len() as i64 > CUSTOMER_PAGE_SIZE;
    rows.truncate(CUSTOMER_PAGE_SIZE as usize);
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();

    let mut tags: HashMap<i64, Vec<_>> = HashMap::new();
    for (customer_id, tag) in store::tags::for_customers(&mut conn, &ids).await? {
        tags.entry(customer_id).or_default().push(tag);
    }
    let mut managers: HashMap<i64, Vec<String>> = HashMap::new();
    for (customer_id, name) in store::account_managers::names_for_customers(&mut conn, &ids).await?
    {
        managers.entry(customer_id).or_default().push(name);
    }
    let now = crate::ssr::db::now_millis();
    let statuses: HashMap<i64, _> = store::sync::statuses(&mut conn, &ids)
        .await?
        .into_iter()
        .map(|s| (s.customer_id, s))
        .collect();
    let next_after = if has_more { ids.last().copied() } else { None };
    let customers = rows
        .into_iter()
        .map(|(id, name, primary_domain)| CustomerSummary {
            id,
            name,
            primary_domain,
            tags: tags.remove(&id).unwrap_or_default(),
            account_managers: managers.remove(&id).unwrap_or_default(),
            sync: super::sync::badge(statuses.get(&id), now),
        })
        .collect();
    Ok(CustomerPage {
        customers,
        next_after,
        total: counted.map(|n| n.min(COUNT_CAP)),
        total_is_at_least: counted.is_some_and(|n| n > COUNT_CAP),
        can_link: staff.role.allows(crate::model::Permission::LinkTenants),
        can_restore: staff.role.allows(crate::model::Permission::DeleteCustomers),
    })
}

/// The customers found visible so far while one page is rendered: a customer's page shows its
/// header and a section, each loaded by a server function that checks visibility, and the
/// second check of the same customer by the same staff member need not ask the database again.
/// Provided for page renders only (GET requests outside `/api/`), which write nothing; a server
/// function called on its own (which may change tags, and so scopes) checks every time.
#[derive(Clone, Default)]
pub struct VisibleInThisPage(std::sync::Arc<std::sync::Mutex<HashSet<(i64, i64)>>>);

/// Called for every request Leptos handles: gives page renders their [`VisibleInThisPage`].
pub fn provide_visible_in_this_page() {
    use leptos::prelude::{provide_context, with_context};
    // Read in place: `use_context` would clone the request's headers on every request.
    let page_render = with_context::<http::request::Parts, _>(|parts| {
        crate::ssr::is_page_render(&parts.method, parts.uri.path())
    })
    .unwrap_or(false);
    if page_render {
        provide_context(VisibleInThisPage::default());
    }
}

fn seen_visible(staff: &StaffView, customer_id: i64) -> bool {
    leptos::prelude::use_context::<VisibleInThisPage>().is_some_and(|seen| {
        seen.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&(staff.id, customer_id))
    })
}

fn note_visible(staff: &StaffView, customer_id: i64) {
    if let Some(seen) = leptos::prelude::use_context::<VisibleInThisPage>() {
        seen.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert((staff.id, customer_id));
    }
}

/// The refusal of a customer that does not exist or that `staff` may not see (logged when it
/// exists).
fn not_visible(staff: &StaffView, customer_id: i64, exists: bool) -> AppError {
    if exists {
        tracing::info!(staff = %staff.email, customer_id, "refused: customer outside scope");
    }
    AppError::not_found("The customer")
}

/// Refuses unless the customer exists and `staff` may see it. A customer outside a Help Desk
/// user's tag scope is answered exactly like one that does not exist (404), so that customer
/// ids cannot be enumerated. Every service that takes a customer calls this before it reads,
/// parses or writes anything else.
pub async fn ensure_visible(
    conn: &mut AnyConnection,
    staff: &StaffView,
    customer_id: i64,
) -> Result<(), AppError> {
    if seen_visible(staff, customer_id) {
        return Ok(());
    }
    match store::customers::visibility(conn, customer_id, scope_of(staff)).await? {
        (true, true) => {
            note_visible(staff, customer_id);
            Ok(())
        }
        (exists, _) => Err(not_visible(staff, customer_id, exists)),
    }
}

pub async fn header(
    db: &Db,
    staff: &StaffView,
    customer_id: i64,
) -> Result<CustomerHeader, AppError> {
    let mut conn = db.pool().acquire().await?;
    let (id, name, primary_domain, updated_at) =
        match store::customers::find_with_visibility(&mut conn, customer_id, scope_of(staff))
            .await?
        {
            Some((row, true)) => {
                note_visible(staff, customer_id);
                row
            }
            Some((_, false)) => return Err(not_visible(staff, customer_id, true)),
            None => return Err(not_visible(staff, customer_id, false)),
        };
    Ok(CustomerHeader {
        id,
        name,
        primary_domain,
        updated_at,
        billing_gateway: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::prelude::{provide_context, use_context, Owner};

    fn request(method: &str, path: &str) -> bool {
        let owner = Owner::new();
        owner.with(|| {
            let (parts, ()) = http::Request::builder()
                .method(method)
                .uri(path)
                .body(())
                .unwrap()
                .into_parts();
            provide_context(parts);
            provide_visible_in_this_page();
            use_context::<VisibleInThisPage>().is_some()
        })
    }

    fn staff(id: i64) -> StaffView {
        StaffView {
            id,
            email: format!("staff{id}@partner.example"),
            display_name: format!("Staff {id}"),
            role: crate::model::Role::Helpdesk,
        }
    }

    #[test]
    fn a_page_remembers_a_customer_as_visible_only_to_whoever_saw_it() {
        let (ana, ben) = (staff(1), staff(2));
        Owner::new().with(|| {
            // Without the page's memory (a server function called on its own) nothing is kept.
            note_visible(&ana, 7);
            assert!(!seen_visible(&ana, 7));
            provide_context(VisibleInThisPage::default());
            assert!(!seen_visible(&ana, 7));
            note_visible(&ana, 7);
            assert!(seen_visible(&ana, 7));
            assert!(
                !seen_visible(&ben, 7),
                "another staff member's check is not reused"
            );
            assert!(!seen_visible(&ana, 8), "nor another customer's");
        });
    }

    #[test]
    fn only_page_renders_remember_what_was_visible() {
        assert!(request("GET", "/customers/7/configuration"));
        assert!(request("GET", "/customers?q=contoso"));
        // Server functions, with or without a body, check every time.
        assert!(!request("POST", "/api/remove_tag"));
        assert!(!request("GET", "/api/get_customer"));
        assert!(!request("POST", "/customers/7/configuration"));
    }
}
