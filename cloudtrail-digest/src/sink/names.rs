//! Names from evidence on a terminal: every character a terminal would act on, or that
//! hides or reorders what is shown, written as an escape; everything else unchanged.
//!
//! A key is whatever the uploader chose. Printed raw, `\x1b[1A\x1b[2K` erases the line
//! above (an `INVALID` line turned into nothing), a carriage return lets the rest of a
//! name overwrite its start, and U+202E shows the rest of the line reversed. The text
//! sinks pass every name (and every reason that quotes one) through [`escape_name`].
//! A name of printable characters only is returned as it is, byte for byte, backslashes
//! included, so such output stays the reference's.

use std::borrow::Cow;
use std::fmt::Write;

/// Said once when any name was shown escaped (after `validate-logs`' report on stderr,
/// as a line of the audit's text report).
pub const ESCAPE_NOTE: &str = "Note: names above hold control, format or bidirectional characters; \
     they are shown escaped, as \\xHH (below 0x80) or \\u{HHHH}. `audit --output json` gives them exactly.";

/// Whether `c` must not reach a terminal as it is: C0 controls (tab and line feed
/// included), DEL, C1 controls, bidirectional controls, invisible format characters
/// (zero-width spaces and joiners, word joiner, soft hyphen, byte order mark, tags),
/// line and paragraph separators, and U+FFFD (so that a replacement character on the
/// screen never stands for bytes that were lost in decoding).
pub fn is_unprintable(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{fffd}'
        | '\u{e0001}'
        | '\u{e0020}'..='\u{e007f}')
}

/// `name` with every [`is_unprintable`] character escaped: `\x1b` below 0x80,
/// `\u{202e}` above. Borrowed (unchanged) when there was nothing to escape, so
/// `matches!(escape_name(n), Cow::Owned(_))` says whether the name was escaped.
pub fn escape_name(name: &str) -> Cow<'_, str> {
    escape_where(name, is_unprintable)
}

/// Like [`escape_name`], but line feeds are kept: for messages whose own lines cannot be
/// told from those of a name inside them (a fatal error naming an object).
pub fn escape_text(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c != '\n' && is_unprintable(c))
}

fn escape_where(s: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = s.find(&escape) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if !escape(c) {
            out.push(c);
        } else if c.is_ascii() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_are_unchanged_byte_for_byte() {
        for name in [
            "",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/a.json.gz",
            r"a\b",
            r"literal \x1b and \u{202e} text",
            "café/é/日本/Ωμέγα/😀",
            "spaces and ~!@#$%^&*()[]{}<>?'\"`|;:,.",
            "\u{a0}non-breaking\u{a0}space",
        ] {
            let escaped = escape_name(name);
            assert!(matches!(escaped, Cow::Borrowed(_)), "{name:?}");
            assert_eq!(escaped.as_bytes(), name.as_bytes());
            assert!(matches!(escape_text(name), Cow::Borrowed(_)), "{name:?}");
        }
    }

    #[test]
    fn each_class_is_escaped() {
        for (name, shown) in [
            // C0 controls: ANSI sequences, OSC title, bell, carriage return, tab, newline, NUL.
            ("a\u{1b}[2Kb", r"a\x1b[2Kb"),
            ("\u{1b}[1A\u{1b}[2K", r"\x1b[1A\x1b[2K"),
            ("\u{1b}]0;title\u{7}", r"\x1b]0;title\x07"),
            ("fake\rreal", r"fake\x0dreal"),
            ("a\tb\nc\0", r"a\x09b\x0ac\x00"),
            ("\u{1f}", r"\x1f"),
            // DEL and C1 controls (U+009B is a one-character CSI).
            ("x\u{7f}", r"x\x7f"),
            ("\u{80}\u{9b}2K\u{9f}", r"\u{80}\u{9b}2K\u{9f}"),
            // Bidirectional controls.
            ("log\u{202e}zg.nosj", r"log\u{202e}zg.nosj"),
            (
                "\u{61c}\u{200e}\u{200f}\u{202a}\u{202b}\u{202c}\u{202d}",
                r"\u{61c}\u{200e}\u{200f}\u{202a}\u{202b}\u{202c}\u{202d}",
            ),
            (
                "\u{2066}\u{2067}\u{2068}\u{2069}",
                r"\u{2066}\u{2067}\u{2068}\u{2069}",
            ),
            // Zero-width and other invisible format characters.
            (
                "a\u{200b}b\u{200c}c\u{200d}d\u{2060}e\u{feff}f\u{ad}g",
                r"a\u{200b}b\u{200c}c\u{200d}d\u{2060}e\u{feff}f\u{ad}g",
            ),
            ("\u{e0041}\u{e007f}", r"\u{e0041}\u{e007f}"),
            // Line and paragraph separators, the replacement character.
            ("a\u{2028}b\u{2029}", r"a\u{2028}b\u{2029}"),
            ("\u{fffd}", r"\u{fffd}"),
            // Printable neighbours stay as they are.
            ("é\u{1b}日本", r"é\x1b日本"),
        ] {
            assert_eq!(escape_name(name), shown, "{name:?}");
            assert!(escape_name(name).chars().all(|c| !is_unprintable(c)));
        }
    }

    #[test]
    fn escaped_text_keeps_its_lines_only() {
        assert_eq!(escape_text("one\ntwo\r\u{1b}[2K"), "one\ntwo\\x0d\\x1b[2K");
        assert_eq!(escape_name("one\ntwo"), r"one\x0atwo");
    }

    #[test]
    fn escaping_is_idempotent() {
        let once = escape_name("\u{1b}[2K\u{202e}\r").into_owned();
        assert_eq!(escape_name(&once), once.as_str());
    }
}
