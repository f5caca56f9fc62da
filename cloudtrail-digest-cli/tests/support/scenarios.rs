//! The committed scenarios (`testdata/scenarios/NAME`): their specs, case arguments and
//! golden outputs.

use std::path::PathBuf;

use serde_json::Value;

use super::repo;

/// The folder of every scenario.
pub fn scenarios() -> PathBuf {
    repo().join("testdata/scenarios")
}

/// A scenario's `scenario.json`.
pub fn spec(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(scenarios().join(name).join("scenario.json")).unwrap()).unwrap()
}

/// The arguments of one case of a scenario.
pub fn case_args(name: &str, case: &str) -> Vec<String> {
    let spec = spec(name);
    let c = spec["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == case)
        .unwrap_or_else(|| panic!("{name}/{case}"));
    c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// (stdout, stderr, exit code line) a case must print.
pub fn golden(name: &str, case: &str) -> (String, String, String) {
    let read = |ext: &str| {
        std::fs::read_to_string(
            scenarios()
                .join(name)
                .join("expected")
                .join(format!("{case}.{ext}")),
        )
        .unwrap()
    };
    (read("stdout"), read("stderr"), read("exit"))
}
