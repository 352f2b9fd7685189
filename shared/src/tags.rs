//! SES message tags: names and values may hold at most 256 characters of
//! `[A-Za-z0-9_-]`.

/// Most characters SES accepts in a tag name or value.
pub const MAX_TAG_CHARS: usize = 256;

/// What an empty tag value becomes, since SES refuses empty values.
pub const EMPTY_TAG_VALUE: &str = "none";

/// Sanitises a tag value: drops every character outside `[A-Za-z0-9_-]`, then
/// truncates to 256 characters. A value left empty becomes [`EMPTY_TAG_VALUE`].
pub fn sanitize_tag_value(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(MAX_TAG_CHARS)
        .collect();
    if cleaned.is_empty() {
        EMPTY_TAG_VALUE.to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prohibited_characters_are_removed_then_truncated() {
        assert_eq!(sanitize_tag_value("msg_01.JD/7 Ü-x"), "msg_01JD7-x");
        assert_eq!(sanitize_tag_value(&"a.".repeat(300)).len(), 256);
        assert_eq!(sanitize_tag_value("é€"), EMPTY_TAG_VALUE);
    }

    proptest::proptest! {
        #[test]
        fn any_unicode_becomes_a_valid_tag_value(input in "\\PC*") {
            let value = sanitize_tag_value(&input);
            proptest::prop_assert!(!value.is_empty() && value.len() <= MAX_TAG_CHARS);
            proptest::prop_assert!(value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            proptest::prop_assert_eq!(sanitize_tag_value(&value), value.clone(), "sanitising is idempotent");
        }

        #[test]
        fn allowed_characters_are_kept_in_order(input in "[A-Za-z0-9_\\-é .€]{0,400}") {
            let kept: String = input.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            let value = sanitize_tag_value(&input);
            if kept.is_empty() {
                proptest::prop_assert_eq!(value, EMPTY_TAG_VALUE);
            } else {
                proptest::prop_assert_eq!(value, kept.chars().take(MAX_TAG_CHARS).collect::<String>());
            }
        }
    }
}
