use super::super::tests::on_every_tree;
use super::*;
use crate::audit::{Finding, Form};

/// Every unit read apart, written out and read back, then merged in any grouping
/// and order, gives exactly the whole run's report, on every tree, whole chains and
/// chains in slices (of an hour: every edge between two digests is a slice edge).
#[test]
fn parts_merge_to_the_whole_run_on_every_tree() {
    let (mut split_somewhere, mut sliced) = (false, false);
    on_every_tree(|dir, mirror, keys, audit, whole| {
        let mut scopes: Vec<&str> = whole
            .chains
            .iter()
            .map(|c| c.chain.trim_end_matches("/backfill"))
            .collect();
        scopes.dedup();
        for hours in [DEFAULT_UNIT_HOURS, 1, 2, 7] {
            let plan = audit.plan(hours).unwrap();
            if hours == DEFAULT_UNIT_HOURS {
                assert_eq!(
                    plan.len(),
                    scopes.len(),
                    "{}: a unit for each scope",
                    dir.display()
                );
                split_somewhere |= plan.len() > 1;
            } else {
                sliced |= plan.len() > scopes.len();
            }
            let mut written = Vec::new();
            for line in &plan {
                let unit = Unit::parse(&line.to_line()).unwrap();
                assert_eq!(&unit, line);
                read_unit(mirror, keys, &unit, 2, None)
                    .unwrap()
                    .write_to(&mut written)
                    .unwrap();
            }
            let parts = Part::read_all(&mut &written[..], "parts").unwrap();
            assert_eq!(parts.len(), plan.len());
            let at = format!("{} in units of {hours} hours", dir.display());
            assert_eq!(merge(parts).unwrap(), whole, "{at}");
            // In reverse order too.
            let mut parts = Part::read_all(&mut &written[..], "parts").unwrap();
            parts.reverse();
            assert_eq!(merge(parts).unwrap(), whole, "{at}, reversed");
        }
    });
    assert!(split_somewhere, "some tree has several units");
    assert!(sliced, "some chain is sliced");
}

/// A merge searches other families only for chains whose first pass says a gap or a
/// truncation may be found: on every tree, in whole chains and in slices, every chain
/// the whole run finds one in is said to.
#[test]
fn every_gap_and_truncation_is_in_a_chain_said_to_need_explaining() {
    let (mut seen, mut heads, mut quiet) = (0, 0, 0);
    on_every_tree(|dir, mirror, keys, audit, whole| {
        let (s, h, q) = said_to_need_explaining(&dir.display().to_string(), mirror, keys, audit, &whole);
        (seen, heads, quiet) = (seen + s, heads + h, quiet + q);
    });
    assert!(
        seen > 4 && heads > 4,
        "trees have gaps and truncations of both ends"
    );
    assert!(
        quiet > 10,
        "and many chains have neither, which a merge need not search for"
    );
}

/// Checks, in whole chains and in 1-hour slices, over the audit's window and one
/// opening three hours earlier (where every chain starts late: a head truncation), that
/// every chain with a gap or truncation is said to need explaining. Returns how many
/// gaps and truncations, how many head truncations, and how many chains said not to.
fn said_to_need_explaining(
    tree: &str,
    mirror: &crate::LocalDir,
    keys: &crate::PublicKeySet,
    audit: &Audit<'_>,
    whole: &crate::audit::AuditReport,
) -> (usize, usize, usize) {
    let (mut seen, mut heads, mut quiet) = (0, 0, 0);
    let early = Audit::new(
        mirror,
        keys,
        mirror.buckets(),
        (whole.window.0 - chrono::Duration::hours(3), whole.window.1),
        whole.now,
    )
    .unwrap();
    for (audit, whole) in [(audit, whole.clone()), (&early, early.run().unwrap())] {
        for hours in [DEFAULT_UNIT_HOURS, 1] {
            let mut ends: std::collections::HashMap<String, Ends> = Default::default();
            for unit in audit.plan(hours).unwrap() {
                for g in &read_unit(mirror, keys, &unit, 2, None).unwrap().reads.groups {
                    ends.entry(g.label.clone()).or_default().note(g);
                }
            }
            let may = |e: &Ends| e.may_explain(whole.window, whole.now, whole.allowance);
            let mut explained = std::collections::HashSet::new();
            for f in &whole.findings {
                if matches!(f, Finding::Gap { .. } | Finding::Truncation { .. }) {
                    explained.insert(f.chain());
                    seen += 1;
                    heads += usize::from(matches!(
                        f,
                        Finding::Truncation {
                            side: crate::audit::Side::Head,
                            ..
                        }
                    ));
                    assert!(
                        may(&ends[f.chain()]),
                        "{tree}, from {}, units of {hours} hours: {f:?}",
                        whole.window.0
                    );
                }
            }
            quiet += ends
                .iter()
                .filter(|(label, e)| !explained.contains(label.as_str()) && !may(e))
                .count();
        }
    }
    (seen, heads, quiet)
}

/// A trail in two regions, both stopped for two hours: the StopLogging that explains
/// eu-west-1's gap is only in a us-east-1 log (the trail's home region), a us-east-1
/// digest lists a log filed in eu-west-1's folder, and a us-east-1 digest that fails
/// verification lists another one there. A merge judges each region's folder apart, so
/// it must find all three across families to give the whole run's report.
#[test]
fn references_across_log_folders_merge_to_the_whole_run() {
    use testgen::records::TrailCall;
    use testgen::rng::hash_str;
    use testgen::times::utc;
    use testgen::{Count, KeyRing, TrailSpec};

    let keys = KeyRing::test_keys();
    let bucket = "ctd-cross-family-bucket";
    let spec = |start, hours, seed: &str| {
        let mut s = TrailSpec::new("111122223333", "test-trail", bucket, start);
        s.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        s.hours = hours;
        s.logs_per_hour = Count::Pattern(vec![1, 2, 1, 1]);
        s.records_per_log = Count::Range(2, 3);
        s.seed = hash_str(seed);
        s
    };
    let first = spec(utc(2026, 3, 1, 0, 17, 42), 4, "cross/first");
    let layout = first.layout();
    let mut plan = first.plan();
    let home = plan.chain("us-east-1");
    let other = plan.chain("eu-west-1");
    // eu-west-1's last two digests before the gap list no logs: the logs nearest its
    // gap are us-east-1's, the last of which records StopLogging.
    for &i in &other[other.len() - 2..] {
        plan.digests[i].logs.clear();
    }
    let last = *home.last().unwrap();
    let log = plan.digests[last]
        .logs
        .iter_mut()
        .max_by_key(|l| l.delivered)
        .unwrap();
    log.content.trail_call = Some(TrailCall {
        event_name: "StopLogging".into(),
        trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/test-trail".into(),
        time: log.content.to,
    });
    // A us-east-1 log filed under eu-west-1.
    let misplaced = &mut plan.digests[home[1]].logs[0];
    misplaced.key = layout.log_key("eu-west-1", misplaced.delivered, "MiSpLaCeDlOg0001");
    let unverified = &mut plan.digests[home[0]].logs[0];
    unverified.key = layout.log_key("eu-west-1", unverified.delivered, "UnVeRiFiEdLoG001");
    plan.append(spec(utc(2026, 3, 1, 6, 5, 29), 3, "cross/restart").plan());
    let mut trail = plan.seal(&keys);
    // The first us-east-1 digest no longer verifies: its logs are listed only by a
    // digest failing verification.
    let wrong = trail.digests[home[1]].signature.clone();
    trail.set_signature(home[0], &wrong);

    let dir = std::env::temp_dir().join(format!("ctd-cross-family-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    trail.write_to(&dir.join("mirror")).unwrap();
    let (first_end, last_end) = plan.time_span().unwrap();
    std::fs::write(
        dir.join("public-keys.json"),
        testgen::scenarios::key1_covering(&keys, first_end, last_end),
    )
    .unwrap();
    let (mirror, public_keys) = super::super::tests::tree_source(&dir);
    let window = (
        crate::parse_utc("2026-03-01T00:00:00Z").unwrap(),
        crate::parse_utc("2026-03-01T10:00:00Z").unwrap(),
    );
    let now = crate::parse_utc("2026-03-02T00:00:00Z").unwrap();
    let audit = Audit::new(&mirror, &public_keys, mirror.buckets(), window, now).unwrap();
    let whole = audit.run().unwrap();

    // What makes the tree worth merging: each of the three crosses from us-east-1 to
    // eu-west-1 in the whole run.
    let eu_gap = whole.findings.iter().find_map(|f| match f {
        Finding::Gap {
            chain, explanation, ..
        } if chain.contains("/eu-west-1/") => Some(explanation),
        _ => None,
    });
    assert!(
        eu_gap.is_some_and(|e| e.iter().any(|ev| ev.name == "StopLogging")),
        "eu-west-1's gap is explained by the home region's StopLogging: {eu_gap:?}"
    );
    let unreferenced: Vec<&Finding> = whole
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::UnreferencedLog { .. }))
        .collect();
    assert!(
        !unreferenced
            .iter()
            .any(|f| f.object().unwrap().1.contains("MiSpLaCeD")),
        "the misplaced log is listed: {unreferenced:?}"
    );
    assert!(
        unreferenced
            .iter()
            .any(|f| f.object().unwrap().1.contains("UnVeRiFiEd")
                && f.reason().contains("failed verification")
                && f.chain().contains("/eu-west-1/")),
        "the log filed under eu-west-1 is listed only by a failing us-east-1 digest: {unreferenced:?}"
    );

    // Its us-east-1 chain starts with a digest that fails verification: in a window
    // that ends before the restart and opens earlier, that is a late start without a
    // gap, which a merge must still look into.
    let before_restart = (window.0, crate::parse_utc("2026-03-01T04:00:00Z").unwrap());
    let short = Audit::new(&mirror, &public_keys, mirror.buckets(), before_restart, now).unwrap();
    let (_, heads, _) = said_to_need_explaining(
        "cross-family before the restart",
        &mirror,
        &public_keys,
        &short,
        &short.run().unwrap(),
    );
    assert!(heads >= 2, "both chains start late in the earlier window");

    for hours in [DEFAULT_UNIT_HOURS, 1, 3] {
        let mut written = Vec::new();
        for unit in audit.plan(hours).unwrap() {
            read_unit(&mirror, &public_keys, &unit, 2, None)
                .unwrap()
                .write_to(&mut written)
                .unwrap();
        }
        let parts = Part::read_all(&mut &written[..], "parts").unwrap();
        assert_eq!(merge(parts).unwrap(), whole, "in units of {hours} hours");
        // Written as it is made, in every form, from a file read again by ranges.
        let file = dir.join(format!("parts-{hours}.jsonl"));
        std::fs::write(&file, &written).unwrap();
        for form in [Form::Text { verbose: true }, Form::Json, Form::Ndjson] {
            let mut want = Vec::new();
            match form {
                Form::Text { verbose } => whole.write_text(&mut want, verbose),
                Form::Json => whole.write_json(&mut want),
                _ => whole.write_ndjson(&mut want),
            }
            .unwrap();
            let mut got = Vec::new();
            let outcome = Merge::new(vec![PartInput::File(file.clone())])
                .unwrap()
                .write(&mut got, form)
                .unwrap();
            assert_eq!(outcome, whole.outcome());
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap(),
                "{form:?} in units of {hours} hours"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
