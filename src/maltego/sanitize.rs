//! The one sanitiser every string passes through before it is written into a Maltego document
//! (`shared/design/maltego.md` section 7.2).
//!
//! XML 1.0 allows only `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`
//! (<https://www.w3.org/TR/xml/#charsets>). Payloads, HTTP hosts, TLS SNI and file names carry
//! anything, and a single NUL makes maltego-trx lose the whole result set; here each forbidden
//! character is **replaced with U+FFFD** (so the reader sees that something was there) instead
//! of being dropped. Surrogates cannot occur in a `&str`; invalid UTF-8 goes through
//! [`sanitize_bytes`], which decodes it lossily to the same U+FFFD.
//!
//! Both functions borrow when nothing needs replacing, which is the common case.

use std::borrow::Cow;

/// What every forbidden character becomes.
pub const REPLACEMENT: char = '\u{FFFD}';

/// True if XML 1.0 allows `c` in a document (the `Char` production).
pub fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// True for a byte that can be part of a character XML forbids: in UTF-8 those are the C0
/// bytes other than TAB, LF and CR, and U+FFFE/U+FFFF, which start with 0xEF. A string with
/// none of these is clean.
pub const fn may_need_sanitizing(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF
}

/// Replaces every character XML 1.0 forbids (C0 controls other than TAB, LF and CR, U+FFFE and
/// U+FFFF) with U+FFFD. Borrows when the string is already clean.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    // Byte scan first (this runs on every string of every response).
    if !s.bytes().any(may_need_sanitizing) {
        return Cow::Borrowed(s);
    }
    match s.find(|c: char| !is_xml_char(c)) {
        None => Cow::Borrowed(s),
        Some(first) => {
            let mut out = String::with_capacity(s.len() + 2);
            let (clean, rest) = s.split_at(first);
            out.push_str(clean);
            out.extend(
                rest.chars()
                    .map(|c| if is_xml_char(c) { c } else { REPLACEMENT }),
            );
            Cow::Owned(out)
        }
    }
}

/// Decodes bytes as UTF-8, lossily (each invalid sequence becomes U+FFFD), then applies
/// [`sanitize`]. For raw bytes off the wire that are to be shown as text.
pub fn sanitize_bytes(b: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(b) {
        Cow::Borrowed(s) => sanitize(s),
        Cow::Owned(s) => match sanitize(&s) {
            Cow::Borrowed(_) => Cow::Owned(s),
            Cow::Owned(clean) => Cow::Owned(clean),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clean_strings_without_allocating() {
        for s in [
            "",
            "plain",
            "tab\tnl\ncr\r",
            "café 中文 😀",
            "\u{D7FF}\u{E000}\u{FFFD}\u{10FFFF}",
        ] {
            assert!(matches!(sanitize(s), Cow::Borrowed(b) if b == s), "{s:?}");
        }
    }

    #[test]
    fn writes_replacement_for_forbidden_characters() {
        assert_eq!(
            sanitize("nul\0 bel\x07 esc\x1b"),
            "nul\u{FFFD} bel\u{FFFD} esc\u{FFFD}"
        );
        assert_eq!(sanitize("\u{FFFE}\u{FFFF}x"), "\u{FFFD}\u{FFFD}x");
        assert_eq!(
            sanitize("\x7f\u{80}"),
            "\x7f\u{80}",
            "DEL and C1 are legal XML 1.0"
        );
        for c in (0u32..0x20).filter_map(char::from_u32) {
            let want = if matches!(c, '\t' | '\n' | '\r') {
                c
            } else {
                REPLACEMENT
            };
            assert_eq!(
                sanitize(&c.to_string()),
                want.to_string(),
                "{:#x}",
                c as u32
            );
        }
    }

    #[test]
    fn writes_replacement_for_invalid_utf8() {
        assert_eq!(sanitize_bytes(b"ok"), "ok");
        assert_eq!(sanitize_bytes(b"a\xffb\x00"), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(sanitize_bytes(b"\xc3"), "\u{FFFD}");
    }

    proptest::proptest! {
        #[test]
        fn round_trips_sanitised_strings(s in "\\PC*|[\\x00-\\x20\u{FFFE}\u{FFFF}a]*") {
            let once = sanitize(&s).into_owned();
            proptest::prop_assert!(once.chars().all(is_xml_char));
            proptest::prop_assert_eq!(once.chars().count(), s.chars().count());
            proptest::prop_assert_eq!(sanitize(&once), once.as_str());
        }
    }
}
