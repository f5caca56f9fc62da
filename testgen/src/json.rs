//! Hand-written JSON output.
//!
//! CloudTrail digests are compact JSON in a fixed field order with every `/` escaped as
//! `\/` (Java style); re-serialising through a generic library would lose both, so the
//! digest writer uses [`push_java_str`]. The other files (`public-keys.json`,
//! `scenario.json`, sidecars) are pretty-printed by [`Json::pretty`], which follows
//! Python's `json.dumps(indent=N)` layout so they look like what the AWS CLI prints.

use std::fmt::Write as _;

/// Appends `s` as a JSON string literal, escaping `/` as `\/` like CloudTrail's Java
/// writer does.
pub fn push_java_str(out: &mut String, s: &str) {
    push_str_impl(out, s, true);
}

/// Appends `s` as a JSON string literal with the usual minimal escaping (`/` kept).
pub fn push_plain_str(out: &mut String, s: &str) {
    push_str_impl(out, s, false);
}

fn push_str_impl(out: &mut String, s: &str, escape_slash: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if escape_slash => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON value whose objects keep their insertion order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, written verbatim (e.g. `1772323200.0`).
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, fields in order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// A string value, or `null` for `None`.
    pub fn opt_str(s: Option<impl Into<String>>) -> Json {
        s.map_or(Json::Null, |s| Json::Str(s.into()))
    }

    /// An object from `(name, value)` pairs.
    pub fn obj<K: Into<String>>(fields: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Obj(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An array of strings.
    pub fn str_arr<S: AsRef<str>>(items: &[S]) -> Json {
        Json::Arr(items.iter().map(|s| Json::str(s.as_ref())).collect())
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Json::Arr(_) | Json::Obj(_))
    }

    /// Pretty-prints like Python's `json.dumps(value, indent=indent)`: one member per
    /// line, `", "`-free item separators, `": "` after keys, empty containers as `[]` /
    /// `{}`. With `inline_scalar_arrays`, arrays holding only scalars stay on one line
    /// (`["a", "b"]`), which keeps argument lists readable. No trailing newline.
    pub fn pretty(&self, indent: usize, inline_scalar_arrays: bool) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, indent, 0, inline_scalar_arrays);
        out
    }

    fn write_pretty(&self, out: &mut String, indent: usize, level: usize, inline: bool) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => push_plain_str(out, s),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Arr(items) if inline && items.iter().all(Json::is_scalar) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_pretty(out, indent, level + 1, inline);
                }
                out.push(']');
            }
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, level + 1);
                    item.write_pretty(out, indent, level + 1, inline);
                }
                newline(out, indent, level);
                out.push(']');
            }
            Json::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, level + 1);
                    push_plain_str(out, k);
                    out.push_str(": ");
                    v.write_pretty(out, indent, level + 1, inline);
                }
                newline(out, indent, level);
                out.push('}');
            }
        }
    }
}

fn newline(out: &mut String, indent: usize, level: usize) {
    out.push('\n');
    for _ in 0..indent * level {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_escaping_escapes_slashes() {
        let mut s = String::new();
        push_java_str(&mut s, "AWSLogs/1/a\"b\\c\n");
        assert_eq!(s, r#""AWSLogs\/1\/a\"b\\c\n""#);
        let mut p = String::new();
        push_plain_str(&mut p, "a/b");
        assert_eq!(p, r#""a/b""#);
    }

    #[test]
    fn pretty_matches_python_layout() {
        let v = Json::obj([
            (
                "PublicKeyList",
                Json::Arr(vec![Json::obj([
                    ("Value", Json::str("x")),
                    ("ValidityStartTime", Json::Num("1.0".into())),
                ])]),
            ),
            ("Empty", Json::Arr(vec![])),
        ]);
        let expected = "{\n    \"PublicKeyList\": [\n        {\n            \"Value\": \"x\",\n            \"ValidityStartTime\": 1.0\n        }\n    ],\n    \"Empty\": []\n}";
        assert_eq!(v.pretty(4, false), expected);
        let args = Json::obj([("args", Json::str_arr(&["--a", "b"]))]);
        assert_eq!(args.pretty(2, true), "{\n  \"args\": [\"--a\", \"b\"]\n}");
    }
}
