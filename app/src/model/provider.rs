//! The provider directory as the `/provider` page shows it, and the input that linking parses.

use super::Millis;
use serde::{Deserialize, Serialize};

/// Directory rows per page.
pub const PROVIDER_PAGE_SIZE: i64 = 50;

/// The longest customer name accepted.
pub const CUSTOMER_NAME_MAX_CHARS: usize = 200;

/// Which directory tenants the page lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkFilter {
    /// Not linked and still listed by Partner Center: the ones to bring in.
    #[default]
    Unlinked,
    Linked,
    /// No longer listed by Partner Center.
    Gone,
    All,
}

impl LinkFilter {
    pub const ALL: [LinkFilter; 4] = [
        LinkFilter::Unlinked,
        LinkFilter::Linked,
        LinkFilter::Gone,
        LinkFilter::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkFilter::Unlinked => "unlinked",
            LinkFilter::Linked => "linked",
            LinkFilter::Gone => "gone",
            LinkFilter::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LinkFilter::Unlinked => "Unlinked",
            LinkFilter::Linked => "Linked",
            LinkFilter::Gone => "Gone from Partner Center",
            LinkFilter::All => "All",
        }
    }

    /// The filter a query parameter names; anything else is the default.
    pub fn parse(text: &str) -> Self {
        LinkFilter::ALL
            .into_iter()
            .find(|f| f.as_str() == text)
            .unwrap_or_default()
    }
}

/// A customer named on the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRef {
    pub id: i64,
    pub name: String,
}

/// The portal customer a tenant most likely belongs to, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SuggestionView {
    /// One customer: "high" confidence because "the tenant's domain is the customer's primary
    /// domain".
    Customer {
        customer: CustomerRef,
        confidence: String,
        reason: String,
    },
    /// Several customers by the same rule: a person decides.
    Ambiguous {
        customers: Vec<CustomerRef>,
        reason: String,
    },
}

/// A directory tenant on the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub tenant_id: String,
    pub company_name: String,
    pub domain: String,
    pub relationship: String,
    pub gone_since: Option<Millis>,
    pub linked_to: Option<CustomerRef>,
    /// For unlinked tenants only.
    pub suggestion: Option<SuggestionView>,
}

impl DirectoryEntry {
    /// Whether it can be linked: not linked, and still listed by Partner Center.
    pub fn linkable(&self) -> bool {
        self.linked_to.is_none() && self.gone_since.is_none()
    }
}

/// One page of the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderPage {
    pub entries: Vec<DirectoryEntry>,
    /// The tenant id the next page starts after.
    pub next_after: Option<String>,
    /// Tenants matching the search and filter, all pages.
    pub matching: i64,
    /// When the directory was last taken from Partner Center, if ever.
    pub last_refresh: Option<Millis>,
    /// Whether this server can read Partner Center (a refresh is possible).
    pub configured: bool,
    pub can_link: bool,
    /// The customer the page links to when opened from its Provider Tenants section.
    pub for_customer: Option<CustomerRef>,
}

/// The tenants a link is about to act on, as the question before it shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSelection {
    /// The first tenants, with their state and suggestion.
    pub shown: Vec<DirectoryEntry>,
    /// How many tenants the selection holds.
    pub total: usize,
    /// Why the selection cannot be linked as it is: the first tenant linked already or gone.
    pub blocked: Option<String>,
    /// Of the selection, the tenants unlinked with one clear suggested customer.
    pub clear: usize,
}

/// Tenants a selection question names; the rest are counted.
pub const SELECTION_SHOWN: usize = 20;

/// A Partner Center tenant id: a GUID, stored lower case.
pub fn parse_tenant_id(text: &str) -> Result<String, String> {
    let t = text.trim().to_ascii_lowercase();
    let groups: Vec<&str> = t.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let valid = groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if valid {
        Ok(t)
    } else {
        Err(format!(
            "{:?} is not a tenant id: a tenant id is a GUID such as 0f4b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d.",
            text.trim()
        ))
    }
}

/// A customer name: trimmed, 1 to 200 characters.
pub fn parse_customer_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("Enter the customer's name.".into());
    }
    let chars = name.chars().count();
    if chars > CUSTOMER_NAME_MAX_CHARS {
        return Err(format!(
            "The name is {chars} characters long; {CUSTOMER_NAME_MAX_CHARS} at most."
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || super::text::is_invisible(c))
    {
        return Err("The name contains a control or invisible character; remove it.".into());
    }
    Ok(name.to_owned())
}

/// A primary domain: trimmed, lower case, labels of letters, digits and hyphens separated by
/// dots, at least two labels ("contoso.onmicrosoft.com").
pub fn parse_domain(text: &str) -> Result<String, String> {
    let domain = text.trim().trim_end_matches('.').to_lowercase();
    if domain.is_empty() {
        return Err("Enter the customer's primary domain, such as contoso.com.".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || domain.len() > 253 || !labels.iter().all(label_ok) {
        return Err(format!(
            "{:?} is not a domain name: use letters, digits and hyphens between dots, such as contoso.com.",
            text.trim()
        ));
    }
    Ok(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_guids_folded_to_lower_case() {
        assert_eq!(
            parse_tenant_id(" 0F4B1C2D-3E4F-5A6B-7C8D-9E0F1A2B3C4D ").unwrap(),
            "0f4b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"
        );
        for bad in [
            "",
            "contoso",
            "0f4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
            "0f4b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4",
            "0f4b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4g",
            "../../v1/customers",
        ] {
            assert!(parse_tenant_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_customer_name("  Contoso ").unwrap(), "Contoso");
        assert!(parse_customer_name("   ").is_err());
        assert!(parse_customer_name(&"x".repeat(200)).is_ok());
        assert!(parse_customer_name(&"x".repeat(201))
            .unwrap_err()
            .contains("201 characters"));
        assert!(parse_customer_name("Con\u{200B}toso").is_err());
    }

    #[test]
    fn domains_are_folded_and_checked() {
        assert_eq!(parse_domain(" Contoso.COM. ").unwrap(), "contoso.com");
        assert_eq!(
            parse_domain("contoso.onmicrosoft.com").unwrap(),
            "contoso.onmicrosoft.com"
        );
        for bad in [
            "",
            "contoso",
            "contoso..com",
            "-contoso.com",
            "con toso.com",
            "a@b.com",
        ] {
            assert!(parse_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_unknown_filter_is_the_default() {
        assert_eq!(LinkFilter::parse("linked"), LinkFilter::Linked);
        assert_eq!(LinkFilter::parse("nonsense"), LinkFilter::Unlinked);
    }
}
