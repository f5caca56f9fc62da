//! How Python sees a decoded JSON value: the reference's verdict texts are Python's words
//! about the values it met, so reproducing them needs Python's view of types and truth.

use serde_json::Value;

/// Python's truthiness of a JSON value.
pub(crate) fn falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Every name [`type_name`] gives.
pub(crate) const TYPE_NAMES: [&str; 7] = ["NoneType", "bool", "float", "int", "str", "list", "dict"];

/// Python's type name of a decoded JSON value.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => TYPE_NAMES[0],
        Value::Bool(_) => TYPE_NAMES[1],
        Value::Number(n) if n.is_f64() => TYPE_NAMES[2],
        Value::Number(_) => TYPE_NAMES[3],
        Value::String(_) => TYPE_NAMES[4],
        Value::Array(_) => TYPE_NAMES[5],
        Value::Object(_) => TYPE_NAMES[6],
    }
}

/// `str()` of a decoded JSON value, for the scalars digests hold.
pub(crate) fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_views_of_json() {
        assert!(falsy(&Value::Null));
        assert!(falsy(&serde_json::json!([])));
        assert!(!falsy(&serde_json::json!([1])));
        assert!(falsy(&serde_json::json!(0.0)));
        assert_eq!(type_name(&serde_json::json!(1.5)), "float");
        assert_eq!(type_name(&serde_json::json!(1)), "int");
        assert_eq!(str_of(&Value::Null), "None");
        assert_eq!(str_of(&serde_json::json!(true)), "True");
        assert_eq!(str_of(&serde_json::json!("x")), "x");
    }
}
