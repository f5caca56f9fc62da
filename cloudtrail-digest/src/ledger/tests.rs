//! A ledger reads back as written, and anything else is refused with the reason.

use super::*;

fn scope() -> LedgerScope {
    LedgerScope::new("audit")
        .with("buckets", "b")
        .with("source", "local")
}

fn sample() -> Ledger {
    let mut ledger = Ledger::empty(scope());
    let object = Object {
        body: b"\x1f\x8bdigest".to_vec(),
        metadata: Metadata {
            entries: BTreeMap::from([("signature".to_string(), "ab".to_string())]),
            origin: Some(MetadataOrigin::Sidecar),
        },
    };
    let identity = Identity::of_content(&object.body[..], &object.metadata).unwrap();
    ledger
        .digests
        .insert("b", "d".into(), DigestEntry::new("b", "d", identity, &object));
    ledger.logs.insert(
        "b",
        "l".into(),
        LogEntry {
            bucket: "b".into(),
            key: "l".into(),
            chain: "c".into(),
            identity: Identity::stored(5, Some("e"), None, None),
            verdict: "valid".into(),
            read: LogRead::Inflated {
                sha256_hex: "00".repeat(32),
            },
        },
    );
    ledger
}

#[test]
fn reads_back_as_written_with_the_stored_bytes() {
    let ledger = sample();
    let bytes = ledger.to_bytes();
    let back = Ledger::parse("l", &bytes, &scope()).unwrap();
    assert_eq!(back, ledger);
    assert_eq!(
        back.digest("b", "d").unwrap().object().unwrap().body,
        b"\x1f\x8bdigest"
    );
    assert_eq!((back.digests(), back.logs()), (1, 1));
    assert_eq!(back.to_bytes(), bytes);
}

fn refusal(bytes: &[u8], scope: &LedgerScope) -> String {
    Ledger::parse("L", bytes, scope).unwrap_err().to_string()
}

#[test]
fn anything_but_a_whole_ledger_of_this_scope_is_refused() {
    let bytes = sample().to_bytes();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();

    let cut = lines[..lines.len() - 1].concat();
    assert!(
        refusal(cut.as_bytes(), &scope()).contains("no end line"),
        "{}",
        refusal(cut.as_bytes(), &scope())
    );
    let half = &bytes[..bytes.len() / 2];
    assert!(refusal(half, &scope()).starts_with("ledger L: "));

    let edited = text.replace("\"valid\"", "\"VALID\"");
    assert!(refusal(edited.as_bytes(), &scope()).contains("checksum does not match"));

    let dropped = [lines[0], lines[1], lines[3]].concat();
    assert!(refusal(dropped.as_bytes(), &scope()).contains("checksum does not match"));

    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"{}\n");
    assert!(refusal(&trailing, &scope()).contains("follows its end"));

    let other = LedgerScope::new("audit")
        .with("buckets", "other")
        .with("source", "local");
    assert_eq!(
        refusal(&bytes, &other),
        "ledger L: made for another scope: buckets b (this run: other); use a ledger per scope"
    );
    let s3 = LedgerScope::new("audit")
        .with("buckets", "b")
        .with("source", "s3");
    assert!(refusal(&bytes, &s3).contains("source local (this run: s3)"));

    assert!(refusal(b"{\"not\":\"a ledger\"}\n", &scope()).contains("not a cloudtrail-digest ledger"));
    assert!(refusal(b"\xff\xfe", &scope()).contains("not UTF-8"));
    assert!(refusal(b"", &scope()).contains("not a cloudtrail-digest ledger"));

    let future = text.replacen("\"format\":1", "\"format\":2", 1);
    assert!(refusal(future.as_bytes(), &scope()).contains("ledger format 2"));

    let garbled = text.replacen("\"digest\":{", "\"digest\":[", 1);
    assert!(refusal(garbled.as_bytes(), &scope()).contains("line 2 does not parse"));
}
