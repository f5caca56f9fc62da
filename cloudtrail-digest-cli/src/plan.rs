//! `plan`, and `audit --unit` / `audit --plan --shard`: an audit split into units that
//! run anywhere, each writing what it read as a part for `merge`.

use cloudtrail_digest::audit::{read_unit, Unit};

use crate::cli::{AuditArgs, AuditOutput, PlanArgs};
use crate::destination::{named, read_text, write_whole};
use crate::exit::Exit;
use crate::online::Online;
use crate::output::{self, Stop};
use crate::progress::AuditProgress;
use crate::scope::{open, prepare};

pub fn run(args: &PlanArgs, region: Option<&str>) -> Exit {
    output::finish(plan(args, region), |m| {
        output::eprint(format_args!("cloudtrail-digest plan: {m}\n"))
    })
}

fn plan(args: &PlanArgs, region: Option<&str>) -> Result<Exit, Stop> {
    // One AWS session for reading the scope and writing the plan.
    let mut online = Online::new(&args.scope.aws);
    let prepared = prepare(&args.scope, region, &mut online)?;
    let units = prepared.audit(None)?.plan(args.unit_hours).map_err(Stop::fatal)?;
    write_whole(&args.out, &mut online, |out| {
        Ok(units.iter().try_for_each(|u| writeln!(out, "{}", u.to_line()))?)
    })?;
    Ok(Exit::Success)
}

/// Runs the units `--unit` or `--plan` and `--shard` pick, writing their parts to `--out`.
pub fn run_units(args: &AuditArgs, region: Option<&str>) -> Result<Exit, Stop> {
    let usage = Stop::Usage;
    let scope = &args.scope;
    // A unit names its window and chains: options that would choose others are refused
    // rather than silently ignored.
    let chosen = [
        ("--region", region.is_some()),
        ("--start-time", scope.window.start_time.is_some()),
        ("--end-time", scope.window.end_time.is_some()),
        ("--now", scope.now.is_some()),
        ("--s3-bucket", !scope.s3_bucket.is_empty()),
        ("--s3-prefix", scope.s3_prefix.is_some()),
        ("--account-id", !scope.account_id.is_empty()),
        ("--trail-name", !scope.trail_name.is_empty()),
        ("--trail-arn", scope.trail_arn.is_some()),
        ("--organization-id", scope.organization_id.is_some()),
        ("--delivery-allowance", scope.delivery_allowance != "90m"),
    ];
    if let Some((option, _)) = chosen.iter().find(|(_, given)| *given) {
        return Err(usage(format!(
            "{option}: not with --unit or --plan (the plan names the window and the chains)"
        )));
    }
    // A unit writes a part, never a report: the report's form is merge's to choose.
    let formatting = [
        ("--output", args.output != AuditOutput::Text),
        ("--verbose", args.verbose),
    ];
    if let Some((option, _)) = formatting.iter().find(|(_, given)| *given) {
        return Err(usage(format!(
            "{option}: not with --unit or --plan (a unit writes its part; give {option} to merge)"
        )));
    }
    let out = args.out.as_deref().expect("clap requires --out");
    // One AWS session for the plan, the source, the keys and the part.
    let mut online = Online::new(&scope.aws);
    let (units, out) = match (&args.unit, &args.plan) {
        (Some(line), _) => {
            let unit = Unit::parse(line).map_err(|e| usage(format!("--unit: {e}")))?;
            let out = named(out, || format!("unit-{}.jsonl", unit.unit));
            (vec![unit], out)
        }
        (None, Some(file)) => {
            let shard = args.shard.as_deref().unwrap_or_default();
            let (index, count) = shard_of(shard, |name| std::env::var(name).ok())
                .map_err(|e| usage(format!("--shard {shard}: {e}")))?;
            let plan = read_plan(file, &mut online).map_err(usage)?;
            let out = named(out, || format!("shard-{index}-of-{count}.jsonl"));
            (plan.into_iter().skip(index).step_by(count).collect(), out)
        }
        (None, None) => unreachable!("only called with --unit or --plan"),
    };
    let (source, _, keys) = open(scope, false, &mut online)?;
    let jobs = scope.jobs().map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let progress = AuditProgress::new();
    // Each part is written as soon as its unit is read, so that a shard holds one
    // unit's reads at a time, however many units it runs.
    write_whole(&out, &mut online, |w| {
        for u in &units {
            let shown = progress
                .as_ref()
                .map(|p| p as &dyn cloudtrail_digest::audit::Progress);
            let part = read_unit(source.as_ref(), &keys, u, jobs, shown)
                .map_err(|e| Stop::fatal(format!("unit {}: {e}", u.title())))?;
            part.write_to(w)?;
        }
        Ok(())
    })?;
    if let Some(p) = &progress {
        p.finish();
    }
    Ok(Exit::Success)
}

/// `I/N`, or `/N` with I from AWS Batch's or Kubernetes' array index.
fn shard_of(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<(usize, usize), String> {
    let (index, count) = text
        .split_once('/')
        .ok_or("not I/N (unit I, I+N, ... of the plan) or /N")?;
    let count: usize = count
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or("N must be a whole number above 0")?;
    let index = if index.is_empty() {
        let from = ["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"]
            .iter()
            .find_map(|name| env(name).map(|v| (*name, v)))
            .ok_or("no shard index: give I/N, or set AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX")?;
        from.1
            .trim()
            .parse()
            .map_err(|_| format!("{} is not a whole number: {}", from.0, from.1))?
    } else {
        index
            .parse()
            .map_err(|_| "I must be a whole number".to_string())?
    };
    if index >= count {
        return Err(format!("shard {index} of {count}: I must be below N"));
    }
    Ok((index, count))
}

/// Every unit of a plan (a file or an S3 object), checked to be of one plan.
fn read_plan(given: &str, online: &mut Online) -> Result<Vec<Unit>, String> {
    let text = read_text(given, online).map_err(|e| format!("--plan {e}"))?;
    let mut units: Vec<Unit> = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let unit = Unit::parse(line).map_err(|e| format!("--plan {given}, line {}: {e}", n + 1))?;
        if let Some(first) = units.first() {
            if first.plan != unit.plan {
                return Err(format!(
                    "--plan {given}, line {}: a unit of another plan ({} and {})",
                    n + 1,
                    first.plan,
                    unit.plan
                ));
            }
        }
        units.push(unit);
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_name_their_index_or_take_it_from_the_array_job() {
        let none = |_: &str| None;
        assert_eq!(shard_of("2/7", none), Ok((2, 7)));
        assert!(shard_of("7/7", none).unwrap_err().contains("below N"));
        assert!(shard_of("1/0", none).is_err());
        assert!(shard_of("3", none).is_err());
        assert!(shard_of("/4", none)
            .unwrap_err()
            .contains("AWS_BATCH_JOB_ARRAY_INDEX"));
        let batch = |name: &str| (name == "AWS_BATCH_JOB_ARRAY_INDEX").then(|| "3".to_string());
        assert_eq!(shard_of("/4", batch), Ok((3, 4)));
        let k8s = |name: &str| (name == "JOB_COMPLETION_INDEX").then(|| "0".to_string());
        assert_eq!(shard_of("/2", k8s), Ok((0, 2)));
        let bad = |name: &str| (name == "JOB_COMPLETION_INDEX").then(|| "x".to_string());
        assert!(shard_of("/2", bad)
            .unwrap_err()
            .contains("JOB_COMPLETION_INDEX is not a whole number"));
    }
}
