//! Rules for identifier-like text (tag names and values, e-mail addresses): no characters a
//! reader cannot see, and one normal form, so that two values that look the same are the same.

use unicode_normalization::UnicodeNormalization;

/// Characters that change how text is shown without being seen: zero-width characters, the
/// soft hyphen, and the bidirectional controls that can reorder what is displayed.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `text` in Unicode normal form C, or why it cannot be an identifier: `what` names the field in
/// the message ("tag name").
pub fn identifier(text: &str, what: &str) -> Result<String, String> {
    if text.chars().any(is_invisible) {
        return Err(format!(
            "The {what} contains an invisible or direction-changing character (such as a zero-width space); remove it."
        ));
    }
    Ok(text.nfc().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_bidi_characters_are_refused() {
        for bad in [
            "Re\u{200B}gion",
            "\u{202E}noigeR",
            "Region\u{FEFF}",
            "Re\u{2066}gion",
            "Re\u{00AD}gion",
        ] {
            assert!(identifier(bad, "tag name").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_is_put_in_normal_form_c() {
        // "é" as e + combining acute becomes the one precomposed character.
        assert_eq!(identifier("Re\u{0301}gion", "x").unwrap(), "R\u{00E9}gion");
        assert_eq!(identifier("Région", "x").unwrap(), "Région");
    }
}
