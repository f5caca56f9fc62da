use super::super::tests::on_every_tree;
use super::*;

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
