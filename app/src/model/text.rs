//! Rules for identifier-like text (tag names and values, e-mail addresses): no characters a
//! reader cannot see, and one normal form, so that two values that look the same are the same.

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
/// the message ("tag name"). Only the server normalises (see [`normal_form_c`]).
pub fn identifier(text: &str, what: &str) -> Result<String, String> {
    if text.chars().any(is_invisible) {
        return Err(format!(
            "The {what} contains an invisible or direction-changing character (such as a zero-width space); remove it."
        ));
    }
    Ok(normal_form_c(text))
}

/// The server stores and compares text in normal form C.
#[cfg(feature = "ssr")]
fn normal_form_c(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfc().collect()
}

/// The browser uses these rules only for the e-mail settings' live check, a message while the
/// person types that never stops a submit; the server checks again and normalises what it
/// saves. So the browser leaves the text as typed and does without Unicode's composition
/// tables (54 KB of the client's 595 KB, brotli). The live check can then miss one thing the
/// server refuses: a character whose normal form is ASCII punctuation (the Greek question mark
/// U+037E is `;` in normal form C); the server's message says so after the submit.
#[cfg(not(feature = "ssr"))]
fn normal_form_c(text: &str) -> String {
    text.to_owned()
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
