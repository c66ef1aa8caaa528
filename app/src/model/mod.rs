//! Types shared by the browser and the server: what crosses the wire, and the validated
//! newtypes that input is parsed into before any rule or SQL sees it.

mod role;
mod tag;

pub use role::{Permission, Role};
pub use tag::{TagName, TagValue, TAG_NAME_MAX_CHARS, TAG_VALUE_MAX_CHARS};

use serde::{Deserialize, Serialize};

/// A point in time as milliseconds since the Unix epoch, UTC. Both database backends store it
/// as a 64-bit integer, which keeps one SQL set for both.
pub type Millis = i64;

/// Renders a timestamp for people: `2026-11-25 08:30 UTC`.
pub fn format_time(at: Millis) -> String {
    use time::{macros::format_description, OffsetDateTime};
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| at.to_string())
}

/// The signed-in staff member as the pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountManager {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// One row of the customer list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub id: i64,
    pub name: String,
    pub primary_domain: String,
    pub tags: Vec<Tag>,
    pub account_managers: Vec<String>,
}

/// One page of the customer list, with the cursor of the next page when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPage {
    pub customers: Vec<CustomerSummary>,
    pub next_after: Option<i64>,
}

/// How many customers one page of the list shows.
pub const CUSTOMER_PAGE_SIZE: i64 = 25;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: String,
    pub name: String,
    pub domain: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerHeader {
    pub id: i64,
    pub name: String,
    pub primary_domain: String,
    pub tenants: Vec<Tenant>,
    pub updated_at: Millis,
}

/// The Define Tags section: the tags, and whether this staff member may change them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsSection {
    pub tags: Vec<Tag>,
    pub can_edit: bool,
}

/// The Account Manager Details section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountManagersSection {
    pub assigned: Vec<AccountManager>,
    /// Managers that can still be assigned; empty for staff who may not assign.
    pub assignable: Vec<AccountManager>,
    pub can_assign: bool,
}
