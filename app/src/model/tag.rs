//! Tag names and values, parsed once at the edge so nothing downstream sees an invalid one.

use serde::{Deserialize, Serialize};

pub const TAG_NAME_MAX_CHARS: usize = 64;
pub const TAG_VALUE_MAX_CHARS: usize = 256;

/// A tag's name: 1 to 64 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagName(String);

/// A tag's value: 1 to 256 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagValue(String);

fn parse_text(input: &str, what: &str, max: usize) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(format!("Enter a {what}."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!(
            "The {what} contains a control character (such as a tab or line break); remove it."
        ));
    }
    let normal = super::text::identifier(trimmed, what)?;
    let count = normal.chars().count();
    if count > max {
        return Err(format!(
            "The {what} is {count} characters long; the most allowed is {max}."
        ));
    }
    Ok(normal)
}

impl TagName {
    pub fn parse(input: &str) -> Result<Self, String> {
        parse_text(input, "tag name", TAG_NAME_MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TagValue {
    pub fn parse(input: &str) -> Result<Self, String> {
        parse_text(input, "tag value", TAG_VALUE_MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_name_is_trimmed() {
        assert_eq!(TagName::parse("  Region ").unwrap().as_str(), "Region");
    }

    #[test]
    fn tag_name_is_rejected_when_empty_or_blank() {
        assert_eq!(TagName::parse(""), Err("Enter a tag name.".into()));
        assert_eq!(
            TagName::parse(" \u{2003} "),
            Err("Enter a tag name.".into())
        );
    }

    #[test]
    fn tag_name_of_64_characters_is_accepted_and_65_rejected() {
        let ok = "é".repeat(64);
        assert_eq!(TagName::parse(&ok).unwrap().as_str(), ok);
        let err = TagName::parse(&"a".repeat(65)).unwrap_err();
        assert!(err.contains("65 characters"), "{err}");
    }

    #[test]
    fn tag_name_is_rejected_when_it_contains_control_characters() {
        for bad in ["Re\tgion", "Re\ngion", "Re\u{7}gion", "Re\u{85}gion"] {
            let err = TagName::parse(bad).unwrap_err();
            assert!(err.contains("control character"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn two_tags_that_look_alike_are_one_tag_or_refused() {
        assert_eq!(
            TagName::parse("Re\u{0301}gion").unwrap(),
            TagName::parse("R\u{00E9}gion").unwrap()
        );
        let err = TagValue::parse("North\u{200B}").unwrap_err();
        assert!(err.contains("invisible"), "{err}");
    }

    #[test]
    fn tag_name_accepts_non_ascii_letters() {
        assert_eq!(TagName::parse("Größe 区域").unwrap().as_str(), "Größe 区域");
    }

    #[test]
    fn tag_value_has_its_own_limit() {
        assert!(TagValue::parse(&"v".repeat(256)).is_ok());
        assert!(TagValue::parse(&"v".repeat(257)).is_err());
        assert_eq!(TagValue::parse("   "), Err("Enter a tag value.".into()));
    }
}
