//! Staff administration, one's own account, and API tokens: what the pages show, and the rules
//! on the input they take (passwords, tag scopes, token names).

use super::{Millis, Role, TagName, TagValue};
use serde::{Deserialize, Serialize};

/// The shortest password accepted when a password is set or changed.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// The longest: long enough for any passphrase, short enough that hashing it costs nothing more.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// The longest display name.
pub const DISPLAY_NAME_MAX_CHARS: usize = 100;
/// The longest API token name.
pub const TOKEN_NAME_MAX_CHARS: usize = 64;

/// A Help Desk member's tag scope: they see customers carrying this tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagScope {
    /// The tag name as compared (folded).
    pub name: String,
    pub value: String,
}

impl TagScope {
    /// `Name=Value`, as the scope field takes it.
    pub fn as_pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

/// A live session, as its staff member and the admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Names the session in a request to end it (the stored hash of its token, never the token).
    pub handle: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub user_agent: Option<String>,
    pub address: Option<String>,
    /// The session this page was asked for.
    pub current: bool,
}

/// A staff member on the staff page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub scopes: Vec<TagScope>,
    pub disabled_at: Option<Millis>,
    pub last_sign_in_at: Option<Millis>,
    pub password_change_required: bool,
    pub sessions: Vec<SessionView>,
}

/// The staff page: every member, enabled first, by e-mail; and who is looking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPage {
    pub members: Vec<StaffMember>,
    pub me: i64,
}

/// My account: who I am and my sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_change_required: bool,
    pub sessions: Vec<SessionView>,
}

/// What an API token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read the JSON API: customers' configuration, reports and CSVs, the audit CSV excepted.
    Read,
    /// Read, and import the billed record.
    BilledWrite,
}

impl TokenScope {
    pub const ALL: [TokenScope; 2] = [TokenScope::Read, TokenScope::BilledWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::BilledWrite => "billed_write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenScope::Read => "Read only",
            TokenScope::BilledWrite => "Read and billed-record imports",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        TokenScope::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
            .ok_or_else(|| {
                "Choose what the token may do: read only, or read and import the billed record."
                    .to_owned()
            })
    }

    /// Whether a token of this scope may use an endpoint that needs `permission`.
    pub fn allows(self, permission: super::Permission) -> bool {
        use super::Permission::*;
        match permission {
            ViewCustomers | ViewReports => true,
            ManageBilled => self == TokenScope::BilledWrite,
            _ => false,
        }
    }
}

/// An API token as listed (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: i64,
    pub name: String,
    pub scope: TokenScope,
    pub created_by: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

/// A token just created: its one showing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub name: String,
    pub token: String,
}

/// A new password: `PASSWORD_MIN_CHARS` to `PASSWORD_MAX_CHARS` characters, not one of the most
/// common passwords (the list shipped with the project), not the e-mail address.
pub fn check_new_password(password: &str, email: &str) -> Result<(), String> {
    let count = password.chars().count();
    if count < PASSWORD_MIN_CHARS {
        return Err(format!(
            "The password is {count} characters long; use at least {PASSWORD_MIN_CHARS}. A few unrelated words make a long one that is easy to remember."
        ));
    }
    if count > PASSWORD_MAX_CHARS {
        return Err(format!(
            "The password is {count} characters long; the most allowed is {PASSWORD_MAX_CHARS}."
        ));
    }
    let folded = password.trim().to_lowercase();
    if folded == email.trim().to_lowercase() {
        return Err("The password may not be your e-mail address.".into());
    }
    if is_common_password(&folded) {
        return Err(
            "That password is one of the most common ones, which are tried first by anyone guessing. Choose another."
                .into(),
        );
    }
    Ok(())
}

/// The 19,632 most common passwords, folded to lower case, one per line: the list Django ships
/// (`django/contrib/auth/common-passwords.txt.gz`, after Royce Williams' list). Only the server
/// checks passwords, so the browser's bundle does not carry it.
#[cfg(feature = "ssr")]
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

#[cfg(feature = "ssr")]
static COMMON: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| COMMON_PASSWORDS.lines().collect());

/// Whether a folded password is a common one, or a common one with digits or symbols put before
/// or after it (`password1234`, `!qwerty2026`): guessers try those right after the list.
#[cfg(feature = "ssr")]
fn is_common_password(folded: &str) -> bool {
    let core = folded.trim_matches(|c: char| !c.is_alphabetic());
    COMMON.contains(folded) || (core.chars().count() >= 4 && COMMON.contains(core))
}

#[cfg(not(feature = "ssr"))]
fn is_common_password(_folded: &str) -> bool {
    false
}

/// A display name: 1 to `DISPLAY_NAME_MAX_CHARS` characters, no control characters.
pub fn parse_display_name(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("Enter the name colleagues know them by.".into());
    }
    if trimmed.chars().any(char::is_control) {
        return Err("The name contains a control character; remove it.".into());
    }
    let count = trimmed.chars().count();
    if count > DISPLAY_NAME_MAX_CHARS {
        return Err(format!(
            "The name is {count} characters long; the most allowed is {DISPLAY_NAME_MAX_CHARS}."
        ));
    }
    Ok(trimmed.to_owned())
}

/// An e-mail address for sign-in: one `@` with text either side, no spaces, folded to lower case.
pub fn parse_email(text: &str) -> Result<String, String> {
    let folded = text.trim().to_lowercase();
    let valid = folded.len() <= 254
        && !folded.chars().any(|c| c.is_whitespace() || c.is_control())
        && folded.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(folded)
    } else if folded.is_empty() {
        Err("Enter their e-mail address.".into())
    } else {
        Err(format!(
            "{:?} is not an e-mail address, such as name@example.com.",
            text.trim()
        ))
    }
}

/// Tag scopes as typed: `Name=Value` pairs, one per line or separated by commas or semicolons.
/// Each side is parsed as a tag's name and value are; the first bad pair is named.
pub fn parse_tag_scopes(text: &str) -> Result<Vec<(TagName, TagValue)>, String> {
    let mut scopes: Vec<(TagName, TagValue)> = Vec::new();
    for (n, pair) in text
        .split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(format!(
                "Scope {} ({pair:?}) is not a tag pair: write it as Name=Value, such as Region=North.",
                n + 1
            ));
        };
        let name = TagName::parse(name).map_err(|e| format!("Scope {} ({pair:?}): {e}", n + 1))?;
        let value =
            TagValue::parse(value).map_err(|e| format!("Scope {} ({pair:?}): {e}", n + 1))?;
        if !scopes
            .iter()
            .any(|(a, b)| a.as_str().to_lowercase() == name.as_str().to_lowercase() && b == &value)
        {
            scopes.push((name, value));
        }
    }
    Ok(scopes)
}

/// An API token's name: 1 to `TOKEN_NAME_MAX_CHARS` characters, no control characters.
pub fn parse_token_name(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(
            "Name the token after the system that will use it, such as ConnectWise.".into(),
        );
    }
    if trimmed.chars().any(char::is_control) {
        return Err("The name contains a control character; remove it.".into());
    }
    let count = trimmed.chars().count();
    if count > TOKEN_NAME_MAX_CHARS {
        return Err(format!(
            "The name is {count} characters long; the most allowed is {TOKEN_NAME_MAX_CHARS}."
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn short_common_and_own_address_passwords_are_refused() {
        assert!(check_new_password("short", "a@x.test")
            .unwrap_err()
            .contains("at least 12"));
        assert!(check_new_password("Password1234", "a@x.test")
            .unwrap_err()
            .contains("most common"));
        assert!(check_new_password("someone@x.test", "Someone@x.test")
            .unwrap_err()
            .contains("e-mail"));
        assert!(check_new_password("violet kettle orbit", "a@x.test").is_ok());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_common_password_list_is_shipped_folded() {
        let lines: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(lines.len() >= 10_000, "{} passwords", lines.len());
        assert!(check_new_password("!Qwerty123456", "a@x.test").is_err());
        assert!(lines
            .iter()
            .all(|l| *l == l.to_lowercase() && !l.is_empty()));
    }

    #[test]
    fn scopes_are_pairs_separated_by_lines_or_commas() {
        let scopes = parse_tag_scopes("Region=North, Tier = Gold\nregion=North").unwrap();
        let pairs: Vec<(&str, &str)> = scopes
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("Region", "North"), ("Tier", "Gold")]);
        assert!(parse_tag_scopes("").unwrap().is_empty());
        let err = parse_tag_scopes("Region=North, Gold").unwrap_err();
        assert!(err.starts_with("Scope 2 (\"Gold\")"), "{err}");
        let err = parse_tag_scopes("=North").unwrap_err();
        assert!(err.contains("tag name"), "{err}");
    }

    #[test]
    fn e_mail_addresses_are_folded_and_checked() {
        assert_eq!(parse_email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        assert!(parse_email("ana").is_err());
        assert!(parse_email("ana@example").is_err());
        assert!(parse_email("a b@example.com").is_err());
        assert!(parse_email("").unwrap_err().contains("Enter"));
    }

    #[test]
    fn a_read_token_may_not_write() {
        use crate::model::Permission;
        assert!(TokenScope::Read.allows(Permission::ViewReports));
        assert!(!TokenScope::Read.allows(Permission::ManageBilled));
        assert!(TokenScope::BilledWrite.allows(Permission::ManageBilled));
        assert!(!TokenScope::BilledWrite.allows(Permission::EditConfiguration));
        assert!(!TokenScope::BilledWrite.allows(Permission::ViewAuditLog));
    }
}
