//! CloudTrail-like log file contents.
//!
//! A log file is `{"Records":[...]}` in compact JSON, each record shaped like a
//! management event (`eventVersion`, `userIdentity`, `eventTime`, `eventSource`, ...,
//! `eventCategory`, `tlsDetails`). Principals, user agents and request shapes repeat the
//! way they do in a real account, while request ids, event ids, temporary credentials
//! and times vary, so real-sized files compress about as well as real ones (~8x).
//! Generation only depends on the [`LogRequest`], never on other files, so logs can be
//! produced in any order or in parallel.

use chrono::{DateTime, Duration, Utc};

use crate::json::push_plain_str;
use crate::rng::{hash_str, Rng};
use crate::times::iso;

/// What to generate for one log file.
#[derive(Clone, Debug)]
pub struct LogRequest {
    /// Seed of this file's content.
    pub seed: u64,
    /// Account the events belong to (`recipientAccountId`).
    pub account: String,
    /// Region of the events (`awsRegion`).
    pub region: String,
    /// Earliest possible event time.
    pub from: DateTime<Utc>,
    /// Latest possible event time (inclusive, `>= from`).
    pub to: DateTime<Utc>,
    /// Number of records (at least 1 is written).
    pub records: u32,
    /// A call to CloudTrail itself (`StopLogging`, ...) written after the other records.
    pub trail_call: Option<TrailCall>,
}

/// A CloudTrail API call on a trail, made by the IAM user `alice` from 203.0.113.24.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrailCall {
    /// `eventName`: `StopLogging`, `StartLogging`, `DeleteTrail`, `UpdateTrail`, ...
    pub event_name: String,
    /// The trail's ARN (`requestParameters.name`).
    pub trail_arn: String,
    /// `eventTime` (should lie within the log's time range).
    pub time: DateTime<Utc>,
}

/// A generated log file before compression.
#[derive(Clone, Debug)]
pub struct LogContent {
    /// The inflated JSON bytes.
    pub json: Vec<u8>,
    /// Earliest `eventTime` in the file.
    pub oldest: DateTime<Utc>,
    /// Latest `eventTime` in the file.
    pub newest: DateTime<Utc>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Alice,
    DeployBot,
    Auditor,
    AppRole,
    Service,
}

const WHO: &[Who] = &[
    Who::Alice,
    Who::Alice,
    Who::DeployBot,
    Who::DeployBot,
    Who::DeployBot,
    Who::Auditor,
    Who::Auditor,
    Who::AppRole,
    Who::AppRole,
    Who::AppRole,
    Who::Service,
];

#[derive(Clone, Copy)]
enum Ev {
    DescribeInstances,
    DescribeSecurityGroups,
    DescribeVolumes,
    CreateTags,
    ListBuckets,
    GetBucketAcl,
    AssumeRole,
    ListRoles,
    Decrypt,
    ListFunctions,
    GetParameter,
    CreateLogStream,
    LookupEvents,
}

const EVENTS: &[Ev] = &[
    Ev::DescribeInstances,
    Ev::DescribeInstances,
    Ev::DescribeInstances,
    Ev::DescribeSecurityGroups,
    Ev::DescribeVolumes,
    Ev::CreateTags,
    Ev::ListBuckets,
    Ev::GetBucketAcl,
    Ev::AssumeRole,
    Ev::ListRoles,
    Ev::Decrypt,
    Ev::Decrypt,
    Ev::ListFunctions,
    Ev::GetParameter,
    Ev::GetParameter,
    Ev::CreateLogStream,
    Ev::LookupEvents,
];

/// `(eventSource prefix, eventName, readOnly, eventVersion)`
fn event_meta(ev: Ev) -> (&'static str, &'static str, bool, &'static str) {
    match ev {
        Ev::DescribeInstances => ("ec2", "DescribeInstances", true, "1.08"),
        Ev::DescribeSecurityGroups => ("ec2", "DescribeSecurityGroups", true, "1.08"),
        Ev::DescribeVolumes => ("ec2", "DescribeVolumes", true, "1.08"),
        Ev::CreateTags => ("ec2", "CreateTags", false, "1.08"),
        Ev::ListBuckets => ("s3", "ListBuckets", true, "1.09"),
        Ev::GetBucketAcl => ("s3", "GetBucketAcl", true, "1.09"),
        Ev::AssumeRole => ("sts", "AssumeRole", true, "1.08"),
        Ev::ListRoles => ("iam", "ListRoles", true, "1.08"),
        Ev::Decrypt => ("kms", "Decrypt", true, "1.08"),
        Ev::ListFunctions => ("lambda", "ListFunctions20150331", true, "1.08"),
        Ev::GetParameter => ("ssm", "GetParameter", true, "1.08"),
        Ev::CreateLogStream => ("logs", "CreateLogStream", false, "1.08"),
        Ev::LookupEvents => ("cloudtrail", "LookupEvents", true, "1.08"),
    }
}

/// Stable identifiers of one account's principals.
struct Principals {
    alice_id: String,
    alice_key: String,
    bot_id: String,
    bot_key: String,
    auditor_role_id: String,
    app_role_id: String,
    kms_key: String,
    instance: String,
}

impl Principals {
    fn new(account: &str) -> Self {
        let mut r = Rng::new(hash_str(account) ^ 0x7072_696e_6369_7061);
        Principals {
            alice_id: format!("AIDA{}", r.upper_alnum(17)),
            alice_key: format!("AKIA{}", r.upper_alnum(16)),
            bot_id: format!("AIDA{}", r.upper_alnum(17)),
            bot_key: format!("AKIA{}", r.upper_alnum(16)),
            auditor_role_id: format!("AROA{}", r.upper_alnum(17)),
            app_role_id: format!("AROA{}", r.upper_alnum(17)),
            kms_key: r.uuid(),
            instance: format!("i-0{}", r.hex(16)),
        }
    }
}

struct Ctx<'a> {
    account: &'a str,
    region: &'a str,
    p: &'a Principals,
}

/// Generates the content of one log file.
pub fn generate_log(req: &LogRequest) -> LogContent {
    let mut rng = Rng::new(req.seed);
    let n = req.records.max(1) as usize;
    let span = (req.to - req.from).num_seconds().max(0) as u64;
    let mut offsets: Vec<u64> = (0..n).map(|_| rng.range(0, span)).collect();
    offsets.sort_unstable();
    let p = Principals::new(&req.account);
    let ctx = Ctx {
        account: &req.account,
        region: &req.region,
        p: &p,
    };
    let mut out = String::with_capacity(n * 1300 + 16);
    out.push_str("{\"Records\":[");
    for (i, off) in offsets.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let t = req.from + Duration::seconds(*off as i64);
        write_record(&mut out, &mut rng, &ctx, t);
    }
    let mut oldest = req.from + Duration::seconds(offsets[0] as i64);
    let mut newest = req.from + Duration::seconds(offsets[n - 1] as i64);
    if let Some(call) = &req.trail_call {
        out.push(',');
        write_trail_call(&mut out, &mut rng, &ctx, call);
        oldest = oldest.min(call.time);
        newest = newest.max(call.time);
    }
    out.push_str("]}");
    LogContent {
        json: out.into_bytes(),
        oldest,
        newest,
    }
}

fn field(out: &mut String, name: &str, value: &str) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    push_plain_str(out, value);
}

fn raw(out: &mut String, name: &str, value: &str) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    out.push_str(value);
}

fn write_record(out: &mut String, rng: &mut Rng, ctx: &Ctx<'_>, t: DateTime<Utc>) {
    let who = *rng.pick(WHO);
    let ev = if who == Who::Service {
        *rng.pick(&[
            Ev::Decrypt,
            Ev::AssumeRole,
            Ev::DescribeInstances,
            Ev::CreateLogStream,
        ])
    } else {
        *rng.pick(EVENTS)
    };
    let (service, name, read_only, version) = event_meta(ev);
    let acct = ctx.account;
    let region = ctx.region;
    let session = format!(
        "{}-{}",
        if who == Who::Auditor { "audit" } else { "app" },
        rng.range(1000, 9999)
    );

    out.push('{');
    field(out, "eventVersion", version);
    out.push(',');
    // userIdentity
    out.push_str("\"userIdentity\":{");
    match who {
        Who::Alice | Who::DeployBot => {
            let (id, key, user) = if who == Who::Alice {
                (&ctx.p.alice_id, &ctx.p.alice_key, "alice")
            } else {
                (&ctx.p.bot_id, &ctx.p.bot_key, "deploy-bot")
            };
            field(out, "type", "IAMUser");
            out.push(',');
            field(out, "principalId", id);
            out.push(',');
            field(out, "arn", &format!("arn:aws:iam::{acct}:user/{user}"));
            out.push(',');
            field(out, "accountId", acct);
            out.push(',');
            field(out, "accessKeyId", key);
            out.push(',');
            field(out, "userName", user);
        }
        Who::Auditor | Who::AppRole => {
            let (role_id, role) = if who == Who::Auditor {
                (&ctx.p.auditor_role_id, "ReadOnlyAuditor")
            } else {
                (&ctx.p.app_role_id, "orders-api-lambda-role")
            };
            let created = t - Duration::seconds(rng.range(60, 3000) as i64);
            field(out, "type", "AssumedRole");
            out.push(',');
            field(out, "principalId", &format!("{role_id}:{session}"));
            out.push(',');
            field(
                out,
                "arn",
                &format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}"),
            );
            out.push(',');
            field(out, "accountId", acct);
            out.push(',');
            field(out, "accessKeyId", &format!("ASIA{}", rng.upper_alnum(16)));
            out.push_str(",\"sessionContext\":{\"sessionIssuer\":{");
            field(out, "type", "Role");
            out.push(',');
            field(out, "principalId", role_id);
            out.push(',');
            field(out, "arn", &format!("arn:aws:iam::{acct}:role/{role}"));
            out.push(',');
            field(out, "accountId", acct);
            out.push(',');
            field(out, "userName", role);
            out.push_str("},\"attributes\":{");
            field(out, "creationDate", &iso(created));
            out.push(',');
            field(out, "mfaAuthenticated", "false");
            out.push_str("}}");
        }
        Who::Service => {
            field(out, "type", "AWSService");
            out.push(',');
            field(out, "invokedBy", "lambda.amazonaws.com");
        }
    }
    out.push_str("},");
    field(out, "eventTime", &iso(t));
    out.push(',');
    let source = format!("{service}.amazonaws.com");
    field(out, "eventSource", &source);
    out.push(',');
    field(out, "eventName", name);
    out.push(',');
    field(out, "awsRegion", region);
    out.push(',');
    let (ip, agent) = caller(rng, who, service, name);
    field(out, "sourceIPAddress", &ip);
    out.push(',');
    field(out, "userAgent", &agent);
    out.push(',');
    write_request_response(out, rng, ctx, ev, &session, t);
    out.push(',');
    field(out, "requestID", &request_id(rng, service));
    out.push(',');
    field(out, "eventID", &rng.uuid());
    out.push(',');
    raw(out, "readOnly", if read_only { "true" } else { "false" });
    out.push(',');
    if let Ev::Decrypt = ev {
        out.push_str("\"resources\":[{");
        field(out, "accountId", acct);
        out.push(',');
        field(out, "type", "AWS::KMS::Key");
        out.push(',');
        field(
            out,
            "ARN",
            &format!("arn:aws:kms:{region}:{acct}:key/{}", ctx.p.kms_key),
        );
        out.push_str("}],");
    }
    field(out, "eventType", "AwsApiCall");
    out.push(',');
    raw(out, "managementEvent", "true");
    out.push(',');
    field(out, "recipientAccountId", acct);
    out.push(',');
    if who == Who::Service {
        field(out, "sharedEventID", &rng.uuid());
        out.push(',');
    }
    field(out, "eventCategory", "Management");
    if who != Who::Service {
        out.push_str(",\"tlsDetails\":{");
        let tls13 = rng.chance(3, 4);
        field(out, "tlsVersion", if tls13 { "TLSv1.3" } else { "TLSv1.2" });
        out.push(',');
        field(
            out,
            "cipherSuite",
            if tls13 {
                "TLS_AES_128_GCM_SHA256"
            } else {
                "ECDHE-RSA-AES128-GCM-SHA256"
            },
        );
        out.push(',');
        let host = match service {
            "s3" | "iam" => format!("{service}.amazonaws.com"),
            _ => format!("{service}.{region}.amazonaws.com"),
        };
        field(out, "clientProvidedHostHeader", &host);
        out.push('}');
    }
    out.push('}');
}

/// A CloudTrail management call on the trail itself, by `alice` with the AWS CLI.
fn write_trail_call(out: &mut String, rng: &mut Rng, ctx: &Ctx<'_>, call: &TrailCall) {
    let acct = ctx.account;
    out.push('{');
    field(out, "eventVersion", "1.09");
    out.push_str(",\"userIdentity\":{");
    field(out, "type", "IAMUser");
    out.push(',');
    field(out, "principalId", &ctx.p.alice_id);
    out.push(',');
    field(out, "arn", &format!("arn:aws:iam::{acct}:user/alice"));
    out.push(',');
    field(out, "accountId", acct);
    out.push(',');
    field(out, "accessKeyId", &ctx.p.alice_key);
    out.push(',');
    field(out, "userName", "alice");
    out.push_str("},");
    field(out, "eventTime", &iso(call.time));
    out.push(',');
    field(out, "eventSource", "cloudtrail.amazonaws.com");
    out.push(',');
    field(out, "eventName", &call.event_name);
    out.push(',');
    field(out, "awsRegion", ctx.region);
    out.push(',');
    field(out, "sourceIPAddress", "203.0.113.24");
    out.push(',');
    field(
        out,
        "userAgent",
        &format!(
            "aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off command/cloudtrail.{}",
            kebab(&call.event_name)
        ),
    );
    out.push_str(",\"requestParameters\":{");
    field(out, "name", &call.trail_arn);
    out.push_str("},\"responseElements\":null,");
    field(out, "requestID", &rng.uuid());
    out.push(',');
    field(out, "eventID", &rng.uuid());
    out.push(',');
    raw(out, "readOnly", "false");
    out.push(',');
    field(out, "eventType", "AwsApiCall");
    out.push(',');
    raw(out, "managementEvent", "true");
    out.push(',');
    field(out, "recipientAccountId", acct);
    out.push(',');
    field(out, "eventCategory", "Management");
    out.push('}');
}

fn caller(rng: &mut Rng, who: Who, service: &str, name: &str) -> (String, String) {
    match who {
        Who::Alice => {
            if rng.chance(1, 2) {
                ("203.0.113.24".into(), "AWS Internal".into())
            } else {
                let cmd = format!("{service}.{}", kebab(name));
                (
                    "203.0.113.24".into(),
                    format!("aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off command/{cmd}"),
                )
            }
        }
        Who::DeployBot => (
            format!("198.51.100.{}", rng.range(10, 14)),
            "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.210-201.852.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69".into(),
        ),
        Who::Auditor => (
            format!("192.0.2.{}", rng.range(1, 254)),
            "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/cloudtrail#1.39.1".into(),
        ),
        Who::AppRole => (
            format!("54.{}.{}.{}", rng.range(144, 250), rng.range(0, 255), rng.range(1, 254)),
            "aws-sdk-java/2.25.16 Linux/5.10.213-222.830.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_Lambda_java17 io/sync http/UrlConnection cfg/retry-mode/legacy".into(),
        ),
        Who::Service => ("lambda.amazonaws.com".into(), "lambda.amazonaws.com".into()),
    }
}

fn kebab(name: &str) -> String {
    let mut s = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                s.push('-');
            }
            s.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphabetic() {
            s.push(c);
        }
    }
    s
}

fn request_id(rng: &mut Rng, service: &str) -> String {
    if service == "s3" {
        rng.upper_alnum(16)
    } else {
        rng.uuid()
    }
}

fn write_request_response(
    out: &mut String,
    rng: &mut Rng,
    ctx: &Ctx<'_>,
    ev: Ev,
    session: &str,
    t: DateTime<Utc>,
) {
    let acct = ctx.account;
    let region = ctx.region;
    let (req, resp): (String, String) = match ev {
        Ev::DescribeInstances => {
            let req = match rng.below(3) {
                0 => "{\"instancesSet\":{},\"filterSet\":{}}".to_string(),
                1 => format!(
                    "{{\"instancesSet\":{{\"items\":[{{\"instanceId\":\"{}\"}}]}},\"filterSet\":{{}}}}",
                    ctx.p.instance
                ),
                _ => {
                    let ids: Vec<String> = (0..rng.range(1, 3))
                        .map(|_| format!("{{\"instanceId\":\"i-0{}\"}}", rng.hex(16)))
                        .collect();
                    format!(
                        "{{\"instancesSet\":{{\"items\":[{}]}},\"filterSet\":{{}},\"includeAllInstances\":false}}",
                        ids.join(",")
                    )
                }
            };
            (req, "null".into())
        }
        Ev::DescribeSecurityGroups => (
            "{\"securityGroupSet\":{},\"securityGroupIdSet\":{},\"filterSet\":{\"items\":[{\"name\":\"vpc-id\",\"valueSet\":{\"items\":[{\"value\":\"vpc-0c2a5e7f19d3b8a41\"}]}}]}}".into(),
            "null".into(),
        ),
        Ev::DescribeVolumes => (
            "{\"volumeSet\":{},\"filterSet\":{},\"maxResults\":500}".into(),
            "null".into(),
        ),
        Ev::CreateTags => (
            format!(
                "{{\"resourcesSet\":{{\"items\":[{{\"resourceId\":\"i-0{}\"}}]}},\"tagSet\":{{\"items\":[{{\"key\":\"Name\",\"value\":\"web-{}\"}},{{\"key\":\"team\",\"value\":\"orders\"}}]}}}}",
                rng.hex(16),
                rng.range(1, 40)
            ),
            format!("{{\"requestId\":\"{}\",\"_return\":true}}", rng.uuid()),
        ),
        Ev::ListBuckets => (
            "{\"Host\":\"s3.amazonaws.com\"}".into(),
            "null".into(),
        ),
        Ev::GetBucketAcl => {
            let b = *rng.pick(&["orders-assets", "orders-exports", "build-artifacts"]);
            (
                format!("{{\"bucketName\":\"{b}-{acct}\",\"Host\":\"{b}-{acct}.s3.{region}.amazonaws.com\",\"acl\":\"\"}}"),
                "null".into(),
            )
        }
        Ev::AssumeRole => {
            let expires = t + Duration::hours(1);
            (
                format!("{{\"roleArn\":\"arn:aws:iam::{acct}:role/ReadOnlyAuditor\",\"roleSessionName\":\"{session}\",\"durationSeconds\":3600}}"),
                format!(
                    "{{\"credentials\":{{\"accessKeyId\":\"ASIA{}\",\"sessionToken\":\"IQoJb3JpZ2luX2VjE{}\",\"expiration\":\"{}\"}},\"assumedRoleUser\":{{\"assumedRoleId\":\"{}:{session}\",\"arn\":\"arn:aws:sts::{acct}:assumed-role/ReadOnlyAuditor/{session}\"}}}}",
                    rng.upper_alnum(16),
                    rng.alnum(340),
                    expires.format("%b %-d, %Y, %-I:%M:%S %p"),
                    ctx.p.auditor_role_id
                ),
            )
        }
        Ev::ListRoles => ("{\"maxItems\":100}".into(), "null".into()),
        Ev::Decrypt => (
            format!("{{\"encryptionContext\":{{\"aws:lambda:FunctionArn\":\"arn:aws:lambda:{region}:{acct}:function:orders-api\"}},\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}}"),
            "null".into(),
        ),
        Ev::ListFunctions => ("{\"functionVersion\":\"ALL\"}".into(), "null".into()),
        Ev::GetParameter => {
            let name = *rng.pick(&["/orders/prod/db-host", "/orders/prod/db-password", "/orders/prod/feature-flags"]);
            (format!("{{\"name\":\"{name}\",\"withDecryption\":true}}"), "null".into())
        }
        Ev::CreateLogStream => (
            format!(
                "{{\"logGroupName\":\"/aws/lambda/orders-api\",\"logStreamName\":\"{}/[$LATEST]{}\"}}",
                t.format("%Y/%m/%d"),
                rng.hex(32)
            ),
            "null".into(),
        ),
        Ev::LookupEvents => (
            "{\"maxResults\":50,\"lookupAttributes\":[{\"attributeKey\":\"ReadOnly\",\"attributeValue\":\"false\"}]}".into(),
            "null".into(),
        ),
    };
    raw(out, "requestParameters", &req);
    out.push(',');
    raw(out, "responseElements", &resp);
    if matches!(ev, Ev::ListBuckets | Ev::GetBucketAcl) {
        out.push_str(",\"additionalEventData\":{");
        field(out, "SignatureVersion", "SigV4");
        out.push(',');
        field(out, "CipherSuite", "TLS_AES_128_GCM_SHA256");
        out.push(',');
        raw(out, "bytesTransferredIn", "0");
        out.push(',');
        field(out, "AuthenticationMethod", "AuthHeader");
        out.push(',');
        field(out, "x-amz-id-2", &format!("{}=", rng.alnum(75)));
        out.push(',');
        raw(out, "bytesTransferredOut", &rng.range(180, 4200).to_string());
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::times::utc;

    fn request(seed: u64, records: u32) -> LogRequest {
        LogRequest {
            seed,
            account: "111122223333".into(),
            region: "us-east-1".into(),
            from: utc(2026, 3, 1, 0, 10, 0),
            to: utc(2026, 3, 1, 0, 19, 30),
            records,
            trail_call: None,
        }
    }

    #[test]
    fn records_are_valid_json_with_cloudtrail_fields() {
        let c = generate_log(&request(1, 50));
        let v: serde_json::Value = serde_json::from_slice(&c.json).unwrap();
        let recs = v["Records"].as_array().unwrap();
        assert_eq!(recs.len(), 50);
        for r in recs {
            let obj = r.as_object().unwrap();
            let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            for k in [
                "eventVersion",
                "userIdentity",
                "eventTime",
                "eventSource",
                "eventName",
                "awsRegion",
                "sourceIPAddress",
                "userAgent",
                "requestParameters",
                "responseElements",
                "requestID",
                "eventID",
                "readOnly",
                "eventType",
                "managementEvent",
                "recipientAccountId",
                "eventCategory",
            ] {
                assert!(keys.contains(&k), "missing {k}");
            }
            let t = r["eventTime"].as_str().unwrap();
            assert!(("2026-03-01T00:10:00Z"..="2026-03-01T00:19:30Z").contains(&t));
        }
        assert_eq!(iso(c.oldest), recs[0]["eventTime"].as_str().unwrap());
        assert_eq!(iso(c.newest), recs[49]["eventTime"].as_str().unwrap());
    }

    #[test]
    fn a_trail_call_comes_last_and_widens_the_time_range() {
        let mut req = request(3, 4);
        req.trail_call = Some(TrailCall {
            event_name: "StopLogging".into(),
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t".into(),
            time: utc(2026, 3, 1, 0, 20, 0),
        });
        let c = generate_log(&req);
        let v: serde_json::Value = serde_json::from_slice(&c.json).unwrap();
        let recs = v["Records"].as_array().unwrap();
        assert_eq!(recs.len(), 5);
        let last = &recs[4];
        assert_eq!(last["eventName"], "StopLogging");
        assert_eq!(last["eventSource"], "cloudtrail.amazonaws.com");
        assert_eq!(
            last["requestParameters"]["name"],
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"
        );
        assert_eq!(
            last["userIdentity"]["arn"],
            "arn:aws:iam::111122223333:user/alice"
        );
        assert_eq!(iso(c.newest), "2026-03-01T00:20:00Z");
        // Without it, the same seed gives the same first records.
        let plain = generate_log(&request(3, 4));
        assert!(c.json.starts_with(&plain.json[..plain.json.len() - 2]));
    }

    #[test]
    fn deterministic_and_compresses_like_cloudtrail() {
        let a = generate_log(&request(9, 400));
        let b = generate_log(&request(9, 400));
        assert_eq!(a.json, b.json);
        let gz = crate::gzip::gzip(&a.json);
        let ratio = a.json.len() as f64 / gz.len() as f64;
        assert!((5.0..14.0).contains(&ratio), "ratio {ratio}");
    }
}
