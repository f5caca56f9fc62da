//! The engine definitions under `deploy/` run against the S3 server: the commands each
//! definition gives its container, read from the definition itself and in the engine's
//! order (the plan, every unit or shard, the merge), with the values the definition
//! takes from its input, parameters or an edit (buckets, window). The merged report the
//! last command writes to S3 must be what one `audit` in S3 prints, with its exit code.
//!
//! Step Functions' part is evaluated here: the JSONPath parameters (`"Key.$"`), the
//! intrinsic functions the state machine uses (`States.Array`, `States.Format`,
//! `States.JsonToString`) and the Distributed Map's ItemReader (JSONL from S3) and
//! ItemSelector.

use std::process::Output;

use super::*;

const TRAIL_BUCKET: &str = "ctd-multi-region-bucket";
const WORK_BUCKET: &str = "ctd-deploy-work";
const WINDOW: [&str; 3] = [
    "2026-03-01T00:00:00Z",
    "2026-03-01T08:00:00Z",
    "2026-03-02T00:00:00Z",
];

fn deploy(path: &str) -> Value {
    let file = repo().join("deploy").join(path);
    serde_json::from_slice(&std::fs::read(&file).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Where the key files are put, as a security team puts them once per region.
const KEYS: &str = "s3://ctd-deploy-work/keys/";

/// What the container of each definition is run with here: the S3 server, and the
/// definition's own environment.
struct Run<'a> {
    m: &'a Moto,
}

impl Run<'_> {
    fn run(&self, args: &[String], env: &[(&str, String)]) -> Output {
        let mut all = vec![("AWS_ENDPOINT_URL_S3", self.m.endpoint())];
        all.extend(env.iter().cloned());
        let out = run_cli(args, &all);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1 | 3)),
            "{args:?}: exit {code:?}\n{}",
            text(&out.stderr)
        );
        out
    }

    /// The object at `s3://WORK_BUCKET/key`.
    fn object(&self, key: &str) -> Vec<u8> {
        source(self.m).get(WORK_BUCKET, key).unwrap().body
    }
}

/// The value of a JSONPath (`$`, `$.a.b`, `$$.Map.Item.Value`) against `input` and the
/// context object.
fn path(expr: &str, input: &Value, context: &Value) -> Value {
    let (root, rest) = match expr.strip_prefix("$$") {
        Some(rest) => (context, rest),
        None => (input, expr.strip_prefix('$').expect("a path starts with $")),
    };
    rest.split('.')
        .filter(|s| !s.is_empty())
        .fold(root.clone(), |v, field| v[field].clone())
}

/// Evaluates one argument or expression: a quoted string, a path, or an intrinsic call.
fn evaluate(expr: &str, input: &Value, context: &Value) -> Value {
    let expr = expr.trim();
    if let Some(s) = expr.strip_prefix('\'') {
        return Value::String(s.strip_suffix('\'').expect("closed quote").to_string());
    }
    if expr.starts_with('$') {
        return path(expr, input, context);
    }
    let open = expr
        .find('(')
        .unwrap_or_else(|| panic!("not an expression: {expr}"));
    let name = &expr[..open];
    let inner = expr[open + 1..].strip_suffix(')').expect("closed call");
    let args: Vec<Value> = split_args(inner)
        .iter()
        .map(|a| evaluate(a, input, context))
        .collect();
    match name {
        "States.Array" => Value::Array(args),
        "States.JsonToString" => Value::String(serde_json::to_string(&args[0]).unwrap()),
        "States.Format" => {
            let template = args[0].as_str().unwrap();
            let mut values = args[1..].iter();
            let mut out = String::new();
            let mut pieces = template.split("{}");
            out.push_str(pieces.next().unwrap());
            for piece in pieces {
                out.push_str(values.next().unwrap().as_str().unwrap());
                out.push_str(piece);
            }
            Value::String(out)
        }
        other => panic!("intrinsic function not evaluated here: {other}"),
    }
}

/// The top-level arguments of a call, split at commas outside quotes and parentheses.
fn split_args(text: &str) -> Vec<String> {
    let (mut out, mut current, mut depth, mut quoted) = (Vec::new(), String::new(), 0, false);
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// A `Parameters`-style object with its `".$"` fields evaluated.
fn parameters(template: &Value, input: &Value, context: &Value) -> Value {
    match template {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| match (k.strip_suffix(".$"), v) {
                    (Some(name), Value::String(expr)) => (name.to_string(), evaluate(expr, input, context)),
                    _ => (k.clone(), parameters(v, input, context)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| parameters(v, input, context)).collect()),
        other => other.clone(),
    }
}

/// The container command an ECS task state runs.
fn ecs_command(state: &Value, input: &Value, context: &Value) -> Vec<String> {
    assert_eq!(state["Resource"], "arn:aws:states:::ecs:runTask.sync");
    let p = parameters(&state["Parameters"], input, context);
    let c = &p["Overrides"]["ContainerOverrides"][0];
    assert_eq!(c["Name"], "cloudtrail-digest");
    c["Command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// The environment a container definition sets (`[{"name", "value"}]`).
fn environment(list: &Value) -> Vec<(&str, String)> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(|e| Some((e["name"].as_str()?, e["value"].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// One `audit` over the whole scope in S3: what every engine's merge must equal.
fn whole(run: &Run<'_>) -> (Vec<u8>, Option<i32>) {
    let args: Vec<String> = [
        "audit",
        "--s3-bucket",
        TRAIL_BUCKET,
        "--public-keys",
        KEYS,
        "--start-time",
        WINDOW[0],
        "--end-time",
        WINDOW[1],
        "--now",
        WINDOW[2],
        "--output",
        "ndjson",
    ]
    .map(String::from)
    .to_vec();
    let out = run.run(&args, &[("AWS_REGION", "us-east-1".into())]);
    (out.stdout, out.status.code())
}

#[test]
fn the_engine_definitions_run_a_split_audit_that_merges_to_the_single_run() {
    let Some(m) = moto() else { return };
    ensure_uploaded(m, "multi-region");
    create_bucket(m, WORK_BUCKET);
    let keys = std::fs::read(scenarios().join("multi-region").join("public-keys.json")).unwrap();
    put_object(
        m,
        WORK_BUCKET,
        "keys/keys-us-east-1.json",
        &keys,
        &BTreeMap::new(),
    );
    let run = Run { m };
    let (want, code) = whole(&run);
    assert!(!want.is_empty());

    // Step Functions: Plan, the Distributed Map over the plan in S3, Merge.
    let machine = deploy("step-functions/state-machine.asl.json");
    let task = deploy("step-functions/task-definition.json");
    let env = environment(&task["containerDefinitions"][0]["environment"]);
    let input = serde_json::json!({
        "trail_bucket": TRAIL_BUCKET, "public_keys": KEYS, "start_time": WINDOW[0], "end_time": WINDOW[1],
        "now": WINDOW[2], "unit_hours": "2", "work_bucket": WORK_BUCKET, "run": "sfn",
        "cluster": "audit", "task_definition": "cloudtrail-digest",
        "subnets": ["subnet-1"], "security_groups": ["sg-1"],
    });
    let none = Value::Null;
    let states = &machine["States"];
    let mut at = machine["StartAt"].as_str().unwrap().to_string();
    let mut units = 0;
    let merged = loop {
        let state = &states[&at];
        let out = if state["Type"] == "Map" {
            let reader = parameters(&state["ItemReader"]["Parameters"], &input, &none);
            assert_eq!(state["ItemReader"]["ReaderConfig"]["InputType"], "JSONL");
            assert_eq!(reader["Bucket"], WORK_BUCKET);
            let plan = run.object(reader["Key"].as_str().unwrap());
            let processor = &state["ItemProcessor"];
            let inner = &processor["States"][processor["StartAt"].as_str().unwrap()];
            for line in text(&plan).lines() {
                let item: Value = serde_json::from_str(line).unwrap();
                let context = serde_json::json!({ "Map": { "Item": { "Value": item } } });
                let selected = parameters(&state["ItemSelector"], &input, &context);
                run.run(&ecs_command(inner, &selected, &none), &env);
                units += 1;
            }
            None
        } else {
            Some(run.run(&ecs_command(state, &input, &none), &env))
        };
        match state["Next"].as_str() {
            Some(next) => at = next.to_string(),
            None => break out.expect("the last state runs a task"),
        }
    };
    assert!(units > 2, "regions in slices of two hours: {units} units");
    assert_eq!(merged.status.code(), code, "{}", text(&merged.stderr));
    assert_eq!(
        text(&run.object("sfn/report.ndjson")),
        text(&want),
        "Step Functions"
    );

    // AWS Batch: the plan job, the array job (AWS_BATCH_JOB_ARRAY_INDEX), the merge job,
    // with the parameters run.sh submits.
    let shards = 3;
    let work = format!("s3://{WORK_BUCKET}/batch");
    let submitted: BTreeMap<&str, String> = [
        ("public_keys", KEYS.to_string()),
        ("trail_bucket", TRAIL_BUCKET.to_string()),
        ("start_time", WINDOW[0].into()),
        ("end_time", WINDOW[1].into()),
        ("now", WINDOW[2].into()),
        ("unit_hours", "3".into()),
        ("plan", format!("{work}/plan.jsonl")),
        ("shards", format!("/{shards}")),
        ("parts", format!("{work}/parts/")),
        ("report", format!("{work}/report.ndjson")),
    ]
    .into_iter()
    .collect();
    let definitions = deploy("aws-batch/job-definitions.json");
    let mut last = None;
    for (d, copies) in definitions.as_array().unwrap().iter().zip([1, shards, 1]) {
        let c = &d["containerProperties"];
        let args: Vec<String> = c["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let a = a.as_str().unwrap();
                match a.strip_prefix("Ref::") {
                    Some(name) => submitted[name].clone(),
                    None => a.to_string(),
                }
            })
            .collect();
        for i in 0..copies {
            let mut env = environment(&c["environment"]);
            if copies > 1 {
                env.push(("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string()));
            }
            last = Some(run.run(&args, &env));
        }
    }
    assert_eq!(last.unwrap().status.code(), code);
    assert_eq!(text(&run.object("batch/report.ndjson")), text(&want), "AWS Batch");

    // Kubernetes: the three Jobs in order, the Indexed one once per completion index
    // (JOB_COMPLETION_INDEX), with the edits jobs.json asks for.
    let jobs = deploy("kubernetes/jobs.json");
    let edits = [
        ("TRAIL-BUCKET", TRAIL_BUCKET.to_string()),
        ("s3://WORK-BUCKET/keys/", KEYS.to_string()),
        ("WORK-BUCKET/RUN", format!("{WORK_BUCKET}/k8s")),
        ("2026-01-01T00:00:00Z", WINDOW[0].into()),
        ("2026-04-01T00:00:00Z", WINDOW[1].into()),
        ("2026-04-02T00:00:00Z", WINDOW[2].into()),
    ];
    let mut last = None;
    for job in jobs["items"].as_array().unwrap() {
        let spec = &job["spec"];
        let c = &spec["template"]["spec"]["containers"][0];
        let args: Vec<String> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                edits
                    .iter()
                    .fold(a.as_str().unwrap().to_string(), |a, (from, to)| {
                        a.replace(from, to)
                    })
            })
            .collect();
        let indexed = spec["completionMode"] == "Indexed";
        let completions = spec["completions"].as_u64().unwrap_or(1);
        if indexed {
            let shard = args.iter().position(|a| a == "--shard").unwrap();
            assert_eq!(
                args[shard + 1],
                format!("/{completions}"),
                "--shard /N is the completions"
            );
            assert_eq!(spec["parallelism"], spec["completions"]);
        }
        for i in 0..completions {
            let mut env = environment(&c["env"]);
            if indexed {
                env.push(("JOB_COMPLETION_INDEX", i.to_string()));
            }
            last = Some(run.run(&args, &env));
        }
    }
    assert_eq!(last.unwrap().status.code(), code);
    assert_eq!(text(&run.object("k8s/report.ndjson")), text(&want), "Kubernetes");
}
