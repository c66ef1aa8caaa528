//! Configuration settings: what kind of value each setting takes, and the one parser per kind
//! that turns what a person typed into the value's canonical text (or a message saying why not).
//!
//! The browser runs the same parser for immediate feedback; the server runs it again as the
//! authority. Values are stored as their canonical text, so a stored value always parses.

use serde::{Deserialize, Serialize};

/// One option of a choice setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

/// The type of a setting's value and its constraints. Stored in the catalog as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SettingKind {
    /// Yes or no. An empty input is "no": an unticked checkbox sends nothing.
    Boolean,
    /// A whole number from `min` to `max`.
    Integer { min: i64, max: i64 },
    /// A decimal number from `min` to `max` with at most `scale` decimal places; `percent` adds
    /// a `%` when shown and accepts one when typed. Bounds are written as decimals ("0.00").
    Decimal {
        min: String,
        max: String,
        scale: u32,
        #[serde(default)]
        percent: bool,
    },
    /// One of a fixed list.
    Choice { options: Vec<ChoiceOption> },
    /// One e-mail address.
    Email,
    /// Up to `max_items` e-mail addresses; may be empty.
    EmailList { max_items: usize },
    /// An `http(s)://` address.
    Url,
    /// Free text of at most `max_chars` characters; may be empty.
    Text {
        max_chars: usize,
        #[serde(default)]
        multiline: bool,
    },
}

/// The longest e-mail address accepted (RFC 5321's path limit).
const EMAIL_MAX_CHARS: usize = 254;
const URL_MAX_CHARS: usize = 2000;

impl SettingKind {
    /// Parses typed input into the canonical text of a value of this kind.
    pub fn parse(&self, input: &str) -> Result<String, String> {
        match self {
            SettingKind::Boolean => parse_boolean(input),
            SettingKind::Integer { min, max } => parse_integer(input, *min, *max),
            SettingKind::Decimal {
                min,
                max,
                scale,
                percent,
            } => parse_decimal(input, min, max, *scale, *percent),
            SettingKind::Choice { options } => {
                let wanted = input.trim();
                options
                    .iter()
                    .find(|o| o.value.eq_ignore_ascii_case(wanted) || o.label == wanted)
                    .map(|o| o.value.clone())
                    .ok_or_else(|| {
                        if wanted.is_empty() {
                            "Choose one of the options.".to_owned()
                        } else {
                            let list: Vec<&str> =
                                options.iter().map(|o| o.label.as_str()).collect();
                            format!("Choose one of: {}.", list.join(", "))
                        }
                    })
            }
            SettingKind::Email => {
                let trimmed = input.trim();
                if trimmed.is_empty() {
                    return Err("Enter an e-mail address.".to_owned());
                }
                parse_email(trimmed)
            }
            SettingKind::EmailList { max_items } => parse_email_list(input, *max_items),
            SettingKind::Url => parse_url(input),
            SettingKind::Text {
                max_chars,
                multiline,
            } => parse_text(input, *max_chars, *multiline),
        }
    }

    /// A stored value as people read it: "Yes", "15.00 %", a choice's label, "(none)".
    pub fn display(&self, value: &str) -> String {
        match self {
            SettingKind::Boolean => if value == "true" { "Yes" } else { "No" }.to_owned(),
            SettingKind::Decimal { percent: true, .. } => format!("{value} %"),
            SettingKind::Choice { options } => options
                .iter()
                .find(|o| o.value == value)
                .map_or_else(|| value.to_owned(), |o| o.label.clone()),
            _ if value.is_empty() => "(none)".to_owned(),
            _ => value.to_owned(),
        }
    }

    /// What a valid value looks like, shown under the editor.
    pub fn hint(&self) -> String {
        match self {
            SettingKind::Boolean => "Tick for yes.".to_owned(),
            SettingKind::Integer { min, max } => format!("A whole number from {min} to {max}."),
            SettingKind::Decimal {
                min,
                max,
                scale,
                percent,
            } => {
                let unit = if *percent { " %" } else { "" };
                format!("A number from {min}{unit} to {max}{unit}, at most {scale} decimal places.")
            }
            SettingKind::Choice { .. } => "Choose one.".to_owned(),
            SettingKind::Email => "One e-mail address.".to_owned(),
            SettingKind::EmailList { max_items } => {
                format!("Up to {max_items} e-mail addresses, separated by commas; may be empty.")
            }
            SettingKind::Url => "A web address starting with https:// or http://.".to_owned(),
            SettingKind::Text { max_chars, .. } => {
                format!("Up to {max_chars} characters; may be empty.")
            }
        }
    }
}

fn parse_boolean(input: &str) -> Result<String, String> {
    match input.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok("true".to_owned()),
        "false" | "off" | "no" | "0" | "" => Ok("false".to_owned()),
        _ => Err("Choose yes or no.".to_owned()),
    }
}

fn parse_integer(input: &str, min: i64, max: i64) -> Result<String, String> {
    let range = format!("Enter a whole number from {min} to {max}.");
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(range);
    }
    let digits = trimmed.strip_prefix(['-', '+']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "“{}” is not a whole number. {range}",
            shorten(trimmed)
        ));
    }
    match trimmed.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
        _ => Err(format!("{} is out of range. {range}", shorten(trimmed))),
    }
}

/// A decimal as an integer count of 10^-scale units.
fn decimal_units(text: &str, scale: u32) -> Result<i128, DecimalError> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(DecimalError::NotANumber);
    }
    if fraction.len() > scale as usize {
        return Err(DecimalError::TooPrecise);
    }
    if whole.len() > 18 {
        return Err(DecimalError::OutOfRange);
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| DecimalError::NotANumber)?
    };
    let mut frac: i128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| DecimalError::NotANumber)?
    };
    for _ in fraction.len()..scale as usize {
        frac *= 10;
    }
    let units = whole * 10_i128.pow(scale) + frac;
    Ok(if negative { -units } else { units })
}

enum DecimalError {
    NotANumber,
    TooPrecise,
    OutOfRange,
}

fn format_units(units: i128, scale: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let pow = 10_u128.pow(scale);
    if scale == 0 {
        format!("{sign}{abs}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            abs / pow,
            abs % pow,
            width = scale as usize
        )
    }
}

fn parse_decimal(
    input: &str,
    min: &str,
    max: &str,
    scale: u32,
    percent: bool,
) -> Result<String, String> {
    let unit = if percent { " %" } else { "" };
    let range = format!("Enter a number from {min}{unit} to {max}{unit}.");
    let mut text = input.trim();
    if percent {
        text = text.strip_suffix('%').unwrap_or(text).trim_end();
    }
    if text.is_empty() {
        return Err(range);
    }
    let (Ok(lo), Ok(hi)) = (decimal_units(min, scale), decimal_units(max, scale)) else {
        return Err("This setting's bounds are misconfigured.".to_owned());
    };
    match decimal_units(text, scale) {
        Ok(n) if n >= lo && n <= hi => Ok(format_units(n, scale)),
        Ok(_) | Err(DecimalError::OutOfRange) => {
            Err(format!("{} is out of range. {range}", shorten(text)))
        }
        Err(DecimalError::TooPrecise) => Err(format!(
            "Use at most {scale} decimal place{}.",
            if scale == 1 { "" } else { "s" }
        )),
        Err(DecimalError::NotANumber) if text.contains(',') && !text.contains('.') => {
            Err("Use a point, not a comma, as the decimal separator (e.g. 12.5).".to_owned())
        }
        Err(DecimalError::NotANumber) => {
            Err(format!("“{}” is not a number. {range}", shorten(text)))
        }
    }
}

fn parse_email(address: &str) -> Result<String, String> {
    let bad = || {
        Err(format!(
            "“{}” is not an e-mail address (name@example.com).",
            shorten(address)
        ))
    };
    if address.chars().count() > EMAIL_MAX_CHARS {
        return Err(format!(
            "An e-mail address is at most {EMAIL_MAX_CHARS} characters."
        ));
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let address = &super::text::identifier(address, "e-mail address")?;
    let Some((local, domain)) = address.rsplit_once('@') else {
        return bad();
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
        && !domain.contains(['@', ',', ';', '(', ')', '<', '>', '[', ']', '"', '\\']);
    if local.is_empty() || local.contains(['@', ',', ';', '<', '>', '"', '\\']) || !domain_ok {
        return bad();
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// Linear in the input: duplicates are found through a set of folded addresses.
fn parse_email_list(input: &str, max_items: usize) -> Result<String, String> {
    let mut addresses: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for part in input
        .split([',', ';', '\n', '\r', ' ', '\t'])
        .filter(|p| !p.is_empty())
    {
        let address = parse_email(part)?;
        if seen.insert(address.to_ascii_lowercase()) {
            addresses.push(address);
        }
    }
    if addresses.len() > max_items {
        return Err(format!(
            "{} addresses given; the most allowed is {max_items}.",
            addresses.len()
        ));
    }
    Ok(addresses.join(", "))
}

fn parse_url(input: &str) -> Result<String, String> {
    let url = input.trim();
    if url.is_empty() {
        return Err("Enter a web address (https://…).".to_owned());
    }
    if url.chars().count() > URL_MAX_CHARS {
        return Err(format!(
            "A web address is at most {URL_MAX_CHARS} characters."
        ));
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Err("A web address starts with https:// or http://.".to_owned());
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A web address cannot contain spaces.".to_owned());
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next().unwrap_or_default();
    if host.is_empty()
        || (!host.contains('.') && host != "localhost")
        || host.starts_with('.')
        || host.ends_with('.')
    {
        return Err(format!("“{}” has no valid host name.", shorten(url)));
    }
    Ok(url.to_owned())
}

fn parse_text(input: &str, max_chars: usize, multiline: bool) -> Result<String, String> {
    let text = input.trim();
    let allowed = |c: char| !c.is_control() || (multiline && (c == '\n' || c == '\r' || c == '\t'));
    if !text.chars().all(allowed) {
        return Err(if multiline {
            "The text contains a control character; remove it.".to_owned()
        } else {
            "The text contains a control character (such as a tab or line break); remove it."
                .to_owned()
        });
    }
    let count = text.chars().count();
    if count > max_chars {
        return Err(format!(
            "The text is {count} characters long; the most allowed is {max_chars}."
        ));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// Input quoted back in a message, cut so a huge paste does not make a huge message.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// Where the value in force comes from.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    GlobalDefault,
    Overridden,
}

/// The resolution rule: an override wins; without one the global default is in force.
pub fn resolve<'a>(default: &'a str, override_value: Option<&'a str>) -> (&'a str, ValueSource) {
    match override_value {
        Some(value) => (value, ValueSource::Overridden),
        None => (default, ValueSource::GlobalDefault),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(min: &str, max: &str, scale: u32, percent: bool) -> SettingKind {
        SettingKind::Decimal {
            min: min.into(),
            max: max.into(),
            scale,
            percent,
        }
    }

    #[test]
    fn boolean_accepts_checkbox_and_word_forms() {
        let k = SettingKind::Boolean;
        assert_eq!(k.parse("on").unwrap(), "true");
        assert_eq!(k.parse(" TRUE ").unwrap(), "true");
        assert_eq!(k.parse("").unwrap(), "false");
        assert_eq!(k.parse("no").unwrap(), "false");
        assert!(k.parse("maybe").is_err());
        assert!(k.parse("ja").is_err());
    }

    #[test]
    fn integer_is_accepted_at_its_bounds_and_refused_past_them() {
        let k = SettingKind::Integer {
            min: -1,
            max: 10000,
        };
        assert_eq!(k.parse("-1").unwrap(), "-1");
        assert_eq!(k.parse(" 10000 ").unwrap(), "10000");
        assert_eq!(k.parse("+5").unwrap(), "5");
        assert_eq!(k.parse("007").unwrap(), "7");
        let err = k.parse("-2").unwrap_err();
        assert!(
            err.contains("out of range") && err.contains("-1 to 10000"),
            "{err}"
        );
        assert!(k.parse("10001").unwrap_err().contains("out of range"));
    }

    #[test]
    fn integer_is_refused_when_empty_fractional_or_not_a_number() {
        let k = SettingKind::Integer { min: 0, max: 10 };
        for bad in [
            "",
            "   ",
            "1.0",
            "1e3",
            "five",
            "٣",
            "-",
            "1 000",
            "99999999999999999999999",
        ] {
            assert!(k.parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(k.parse("five").unwrap_err().contains("not a whole number"));
    }

    #[test]
    fn decimal_is_canonicalised_to_its_scale() {
        let k = decimal("0", "100", 2, true);
        assert_eq!(k.parse("15").unwrap(), "15.00");
        assert_eq!(k.parse("12.5").unwrap(), "12.50");
        assert_eq!(k.parse("12.5 %").unwrap(), "12.50");
        assert_eq!(k.parse(".5").unwrap(), "0.50");
        assert_eq!(k.parse("100").unwrap(), "100.00");
        assert_eq!(k.parse("0").unwrap(), "0.00");
        assert_eq!(
            decimal("-10", "10", 1, false).parse("-2.5").unwrap(),
            "-2.5"
        );
        assert_eq!(decimal("0", "500", 0, true).parse("120").unwrap(), "120");
    }

    #[test]
    fn decimal_is_refused_out_of_range_too_precise_or_with_a_comma() {
        let k = decimal("0", "100", 2, true);
        assert!(k.parse("100.01").unwrap_err().contains("out of range"));
        assert!(k.parse("-0.01").unwrap_err().contains("out of range"));
        assert!(k.parse("1.234").unwrap_err().contains("2 decimal places"));
        assert!(k.parse("12,5").unwrap_err().contains("comma"));
        assert!(k.parse("").is_err());
        assert!(k.parse("%").is_err());
        assert!(k.parse("abc").unwrap_err().contains("not a number"));
        assert!(k
            .parse(&"9".repeat(40))
            .unwrap_err()
            .contains("out of range"));
    }

    #[test]
    fn choice_accepts_a_listed_value_in_any_case_and_nothing_else() {
        let k = SettingKind::Choice {
            options: vec![
                ChoiceOption {
                    value: "monthly".into(),
                    label: "Monthly".into(),
                },
                ChoiceOption {
                    value: "annual".into(),
                    label: "Annual".into(),
                },
            ],
        };
        assert_eq!(k.parse("Annual").unwrap(), "annual");
        assert_eq!(k.parse(" MONTHLY ").unwrap(), "monthly");
        assert_eq!(
            k.parse("weekly").unwrap_err(),
            "Choose one of: Monthly, Annual."
        );
        assert_eq!(k.parse("").unwrap_err(), "Choose one of the options.");
        assert_eq!(k.display("annual"), "Annual");
    }

    #[test]
    fn email_is_checked_and_its_domain_lowercased() {
        let k = SettingKind::Email;
        assert_eq!(
            k.parse(" Billing@Contoso.COM ").unwrap(),
            "Billing@contoso.com"
        );
        assert_eq!(k.parse("zoë@bücher.de").unwrap(), "zoë@bücher.de");
        for bad in [
            "",
            "plain",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "@c.com",
            "a@.com",
            "a@c.com.",
            "a@c..com",
            "a,b@c.com",
        ] {
            assert!(k.parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(k.parse(&long).unwrap_err().contains("254"));
    }

    #[test]
    fn email_list_splits_dedupes_and_limits() {
        let k = SettingKind::EmailList { max_items: 3 };
        assert_eq!(k.parse("").unwrap(), "");
        assert_eq!(
            k.parse("a@x.com; B@x.com,\nb@X.com").unwrap(),
            "a@x.com, B@x.com"
        );
        assert!(k.parse("a@x.com, nope").unwrap_err().contains("“nope”"));
        assert!(k
            .parse("a@x.com b@x.com c@x.com d@x.com")
            .unwrap_err()
            .contains("most allowed is 3"));
    }

    #[test]
    fn url_needs_a_web_scheme_and_a_host() {
        let k = SettingKind::Url;
        assert_eq!(
            k.parse(" https://support.contoso.com/help?q=1 ").unwrap(),
            "https://support.contoso.com/help?q=1"
        );
        assert!(k.parse("http://localhost:8080/").is_ok());
        for bad in [
            "",
            "support.contoso.com",
            "ftp://x.com",
            "https://",
            "https://nohost",
            "https://a b.com",
            "javascript:alert(1)",
        ] {
            assert!(k.parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(k
            .parse(&format!("https://x.com/{}", "a".repeat(2000)))
            .is_err());
    }

    #[test]
    fn text_is_trimmed_limited_and_free_of_control_characters() {
        let k = SettingKind::Text {
            max_chars: 10,
            multiline: false,
        };
        assert_eq!(k.parse("  Hallo Welt ").unwrap(), "Hallo Welt");
        assert_eq!(k.parse("").unwrap(), "");
        assert_eq!(k.parse("日本語のテキスト").unwrap(), "日本語のテキスト");
        assert!(k
            .parse("0123456789A")
            .unwrap_err()
            .contains("11 characters"));
        assert!(k.parse("a\nb").unwrap_err().contains("control character"));
        let multi = SettingKind::Text {
            max_chars: 10,
            multiline: true,
        };
        assert_eq!(multi.parse("a\r\nb").unwrap(), "a\nb");
        assert!(multi.parse("a\u{7}b").is_err());
    }

    #[test]
    fn every_kind_refuses_a_value_of_the_wrong_type() {
        assert!(SettingKind::Integer { min: 0, max: 5 }
            .parse("true")
            .is_err());
        assert!(decimal("0", "1", 2, false).parse("yes").is_err());
        assert!(SettingKind::Boolean.parse("42").is_err());
        assert!(SettingKind::Email.parse("https://x.com").is_err());
        assert!(SettingKind::Url.parse("a@b.com").is_err());
    }

    #[test]
    fn messages_quote_long_input_shortened() {
        let err = SettingKind::Integer { min: 0, max: 5 }
            .parse(&"x".repeat(5000))
            .unwrap_err();
        assert!(err.chars().count() < 120, "{err}");
    }

    #[test]
    fn parsing_a_canonical_value_gives_it_back() {
        // Stored values are canonical, so parsing one again must not change it.
        let cases: Vec<(SettingKind, &str)> = vec![
            (SettingKind::Boolean, "true"),
            (SettingKind::Integer { min: -1, max: 9 }, "-1"),
            (decimal("0", "100", 2, true), "15.00"),
            (SettingKind::EmailList { max_items: 5 }, "a@x.com, b@y.org"),
            (SettingKind::Url, "https://x.com/a"),
            (
                SettingKind::Text {
                    max_chars: 50,
                    multiline: true,
                },
                "line 1\nline 2",
            ),
        ];
        for (kind, value) in cases {
            assert_eq!(kind.parse(value).unwrap(), value, "{kind:?}");
        }
    }

    #[test]
    fn decimal_parse_is_idempotent_for_every_value_in_a_range() {
        let k = decimal("-5", "5", 2, false);
        for units in -500..=500 {
            let text = format_units(units, 2);
            let parsed = k.parse(&text).unwrap();
            assert_eq!(parsed, text);
            assert_eq!(k.parse(&parsed).unwrap(), parsed);
        }
    }

    #[test]
    fn an_override_wins_and_otherwise_the_default_is_in_force() {
        assert_eq!(resolve("30", Some("45")), ("45", ValueSource::Overridden));
        assert_eq!(resolve("30", None), ("30", ValueSource::GlobalDefault));
        // An override equal to the default is still an override: it stays when the default moves.
        assert_eq!(resolve("30", Some("30")), ("30", ValueSource::Overridden));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn kinds() -> Vec<SettingKind> {
            vec![
                SettingKind::Boolean,
                SettingKind::Integer {
                    min: -1,
                    max: 100_000,
                },
                decimal("0", "100", 2, true),
                decimal("-50", "50", 3, false),
                SettingKind::Choice {
                    options: vec![
                        ChoiceOption {
                            value: "P1M".into(),
                            label: "1 month".into(),
                        },
                        ChoiceOption {
                            value: "P1Y".into(),
                            label: "1 year".into(),
                        },
                    ],
                },
                SettingKind::Email,
                SettingKind::EmailList { max_items: 4 },
                SettingKind::Url,
                SettingKind::Text {
                    max_chars: 40,
                    multiline: false,
                },
                SettingKind::Text {
                    max_chars: 40,
                    multiline: true,
                },
            ]
        }

        proptest! {
            #[test]
            fn any_input_is_parsed_or_refused_and_an_accepted_value_is_canonical(input in "\\PC{0,60}|[0-9 .,%+-]{0,12}|[a-z@. ,]{0,30}") {
                for kind in kinds() {
                    if let Ok(value) = kind.parse(&input) {
                        prop_assert_eq!(kind.parse(&value), Ok(value.clone()), "{:?} {:?}", kind, input);
                    }
                }
            }

            #[test]
            fn every_integer_in_range_is_accepted_and_every_other_refused(n in any::<i64>()) {
                let kind = SettingKind::Integer { min: -1, max: 100_000 };
                let parsed = kind.parse(&n.to_string());
                prop_assert_eq!(parsed.is_ok(), (-1..=100_000).contains(&n));
                if let Ok(value) = parsed {
                    prop_assert_eq!(value, n.to_string());
                }
            }

            #[test]
            fn a_decimal_is_accepted_exactly_when_it_lies_within_the_bounds(units in -20_000i128..20_000, places in 0usize..3) {
                let kind = decimal("0", "100", 2, true);
                let text = format_units(units, 2);
                // Drop trailing decimals to write the same number with fewer places.
                let written = if places < 2 && units % 10_i128.pow(2 - places as u32) == 0 {
                    text[..text.len() - (2 - places) - usize::from(places == 0)].to_owned()
                } else {
                    text.clone()
                };
                let parsed = kind.parse(&written);
                prop_assert_eq!(parsed.is_ok(), (0..=10_000).contains(&units), "{}", written);
                if let Ok(value) = parsed {
                    prop_assert_eq!(value, text);
                }
            }
        }
    }
}
