//! The committed audit trees under `testdata/audit/` are what the generator writes.

mod common;

use common::tree;
use std::fs;
use std::path::{Path, PathBuf};

use testgen::audit_scenarios;

#[test]
fn committed_audit_trees_match_the_generator() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/audit");
    let fresh: PathBuf = std::env::temp_dir().join(format!("testgen-audit-{}", std::process::id()));
    let _ = fs::remove_dir_all(&fresh);
    let written = audit_scenarios::write_all(&fresh, &[]).unwrap();
    assert_eq!(written.len(), audit_scenarios::NAMES.len());
    for name in audit_scenarios::NAMES {
        let (want, got) = (tree(&committed.join(name)), tree(&fresh.join(name)));
        assert!(want.len() > 10, "{name}: committed tree missing");
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>(),
            "{name}: files differ; run `cargo run -p testgen -- audit-scenarios`"
        );
        for (path, bytes) in &want {
            assert!(got[path] == *bytes, "{name}/{path} differs from the generator's");
        }
    }
    fs::remove_dir_all(&fresh).unwrap();
}
