//! How investigators reach an organisation's log archive, against servers on loopback,
//! with no exported keys: a role assumed through STS from a source profile (moto's server,
//! with IAM authorisation switched on, so S3 accepts only credentials whose policies allow
//! the read), chained roles, IAM Identity Center (SSO) profiles whose token cache and
//! portal (`GetRoleCredentials`) this test serves itself, container, web identity and
//! IMDSv2 instance credentials from endpoints served here, and credentials that expire
//! during a run and are fetched again.
//!
//! This binary has its own moto server (tests/support starts one per test binary): IAM
//! users and roles are made first, the trail uploaded, then every request is checked.

#![cfg(feature = "s3")]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha1::{Digest, Sha1};
use support::scenarios::{case_args, golden, scenarios};
use support::*;

const ACCOUNT: &str = "123456789012";
const SCENARIO: &str = "clean-chain";

/// Keys of an IAM user, or a role session's (with its token).
#[derive(Clone)]
struct Keys {
    id: String,
    secret: String,
    token: Option<String>,
}

/// The moto server once IAM is set up and enforced: `base` may only assume roles,
/// `reader` may read S3 (it stands behind the SSO portal), roles `investigator` (S3 read,
/// assumable by `base`, may assume `deep`) and `deep` (S3 read, a chained role), and a
/// session of `deep` (what a container's agent hands out).
struct Estate {
    moto: &'static Moto,
    base: Keys,
    reader: Keys,
    task: Keys,
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One IAM call (query protocol).
fn iam(m: &Moto, params: &[(&str, &str)]) -> String {
    query(m, "iam", "2010-05-08", params)
}

/// One call of a query-protocol service; moto takes the service from the credential
/// scope, and checks nothing until authorisation is switched on.
fn query(m: &Moto, service: &str, version: &str, params: &[(&str, &str)]) -> String {
    let mut body = format!("Version={version}");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", percent(v)));
    }
    let headers = [
        (
            "Authorization".to_string(),
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIASETUP/20260301/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host, Signature=0"
            ),
        ),
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
    ];
    let (status, answer) = request(m, "POST", "/", &headers, body.as_bytes());
    let answer = text(&answer);
    assert_eq!(status, 200, "{params:?}: {answer}");
    answer
}

fn between<'a>(doc: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = doc.find(&open).unwrap_or_else(|| panic!("no <{tag}> in {doc}")) + open.len();
    let end = doc[start..].find(&format!("</{tag}>")).unwrap() + start;
    &doc[start..end]
}

fn user_with_keys(m: &Moto, name: &str, policy: &str) -> Keys {
    iam(m, &[("Action", "CreateUser"), ("UserName", name)]);
    iam(
        m,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", name),
            ("PolicyName", "p"),
            ("PolicyDocument", policy),
        ],
    );
    let answer = iam(m, &[("Action", "CreateAccessKey"), ("UserName", name)]);
    Keys {
        id: between(&answer, "AccessKeyId").to_string(),
        secret: between(&answer, "SecretAccessKey").to_string(),
        token: None,
    }
}

fn role(m: &Moto, name: &str, trusted: &str, policy: &str) {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{trusted}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    iam(
        m,
        &[
            ("Action", "CreateRole"),
            ("RoleName", name),
            ("AssumeRolePolicyDocument", &trust),
        ],
    );
    iam(
        m,
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", name),
            ("PolicyName", "p"),
            ("PolicyDocument", policy),
        ],
    );
}

const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],"Resource":"*"}]}"#;
const S3_READ_AND_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],"Resource":"*"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
const ASSUME: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;

fn estate() -> Option<&'static Estate> {
    static ESTATE: OnceLock<Option<Estate>> = OnceLock::new();
    ESTATE
        .get_or_init(|| {
            let m = moto()?;
            let base = user_with_keys(m, "base", ASSUME);
            let reader = user_with_keys(m, "reader", S3_READ);
            role(
                m,
                "investigator",
                &format!("arn:aws:iam::{ACCOUNT}:user/base"),
                S3_READ_AND_ASSUME,
            );
            role(m, "deep", "*", S3_READ);
            let session = query(
                m,
                "sts",
                "2011-06-15",
                &[
                    ("Action", "AssumeRole"),
                    ("RoleArn", &format!("arn:aws:iam::{ACCOUNT}:role/deep")),
                    ("RoleSessionName", "task"),
                ],
            );
            let task = Keys {
                id: between(&session, "AccessKeyId").to_string(),
                secret: between(&session, "SecretAccessKey").to_string(),
                token: Some(between(&session, "SessionToken").to_string()),
            };
            upload_mirror(m, &scenarios().join(SCENARIO).join("mirror"));
            // From here on moto checks every request's signature and IAM policies.
            let (status, answer) = request(
                m,
                "POST",
                "/moto-api/reset-auth",
                &[("Content-Type".to_string(), "text/plain".to_string())],
                b"0",
            );
            assert_eq!(status, 200, "{}", text(&answer));
            Some(Estate {
                moto: m,
                base,
                reader,
                task,
            })
        })
        .as_ref()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ctd-org-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A home with `~/.aws/config` and `~/.aws/credentials` as given, and the environment
/// that points the binary at them with no keys of its own.
fn home(name: &str, config: &str, credentials: &str) -> (PathBuf, Vec<(&'static str, String)>) {
    let home = temp_dir(name);
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(home.join(".aws/config"), config).unwrap();
    std::fs::write(home.join(".aws/credentials"), credentials).unwrap();
    let env = vec![
        ("HOME", home.display().to_string()),
        // No keys in the environment, and the default shared files of HOME.
        ("AWS_ACCESS_KEY_ID", String::new()),
        ("AWS_SECRET_ACCESS_KEY", String::new()),
        ("AWS_CONFIG_FILE", home.join(".aws/config").display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join(".aws/credentials").display().to_string(),
        ),
    ];
    (home, env)
}

fn validate_args(m: &Moto, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["validate-logs".to_string()];
    args.extend(case_args(SCENARIO, "default"));
    args.extend([
        "--endpoint-url".into(),
        m.endpoint(),
        "--public-keys".into(),
        scenarios()
            .join(SCENARIO)
            .join("public-keys.json")
            .display()
            .to_string(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn role_config() -> String {
    format!(
        "[profile base]\nregion = us-east-1\n\
         [profile investigator]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/investigator\nsource_profile = base\nregion = us-east-1\n\
         [profile deep]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/deep\nsource_profile = investigator\nregion = us-east-1\n"
    )
}

#[test]
fn a_role_assumed_from_a_source_profile_reads_the_trail() {
    let Some(e) = estate() else { return };
    let m = e.moto;
    let (dir, mut env) = home(
        "role",
        &role_config(),
        &format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            e.base.id, e.base.secret
        ),
    );
    env.push(("AWS_ENDPOINT_URL_STS", m.endpoint()));
    let expected = golden(SCENARIO, "default");
    // --profile, AWS_PROFILE, and a role assumed with the credentials of another role.
    for (extra, profile) in [
        (&["--profile", "investigator"][..], None),
        (&[][..], Some("investigator")),
        (&["--profile", "deep"][..], None),
    ] {
        let mut env = env.clone();
        if let Some(p) = profile {
            env.push(("AWS_PROFILE", p.to_string()));
        }
        let out = run_cli(&validate_args(m, extra), &env);
        assert_eq!(outcome(&out), expected, "{extra:?} {profile:?}");
    }
    // The source profile's own keys may assume roles but not read S3: the reads above
    // were made with the role's credentials.
    let out = run_cli(&validate_args(m, &["--profile", "base"]), &env);
    let (_, stderr, exit) = outcome(&out);
    assert_eq!(exit, "255\n", "{stderr}");
    assert!(
        stderr.contains("access denied for s3://ctd-clean-chain-bucket/AWSLogs/")
            && stderr.contains("(AccessDenied: Access Denied)")
            && !stderr.contains("<Error>"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_role_that_cannot_be_assumed_is_named_before_any_read() {
    let Some(e) = estate() else { return };
    let m = e.moto;
    // `reader` may read S3 but not assume roles.
    let (dir, mut env) = home(
        "refused-role",
        &format!(
            "[profile reader]\nregion = us-east-1\n\
             [profile investigator]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/investigator\nsource_profile = reader\n"
        ),
        &format!(
            "[reader]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            e.reader.id, e.reader.secret
        ),
    );
    env.push(("AWS_ENDPOINT_URL_STS", m.endpoint()));
    let out = run_cli(&validate_args(m, &["--profile", "investigator"]), &env);
    let (stdout, stderr, exit) = outcome(&out);
    assert_eq!(exit, "255\n", "{stderr}");
    assert_eq!(stdout, "", "nothing is validated without credentials");
    // moto words its refusal in a form the SDK does not read (`<Errors><Error>`), so only
    // the profile and the failure are certain here, not STS's own words.
    assert!(
        stderr.trim_start().starts_with(
            "cannot get AWS credentials (profile investigator): an error occurred while loading credentials"
        ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An HTTP endpoint on loopback for one test: `answer` gets each request's target
/// (`PATH?QUERY`, parameters sorted), headers and body, and returns the [`Reply`]; `seen`
/// keeps
/// the targets with the header named by `recorded`.
struct Endpoint {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

/// A status line, header lines beyond the usual (each ending `\r\n`) and a body.
struct Reply(&'static str, &'static str, String);

impl From<(&'static str, String)> for Reply {
    fn from((status, body): (&'static str, String)) -> Self {
        Reply(status, "", body)
    }
}

fn serve<R: Into<Reply>>(
    recorded: &'static str,
    answer: impl Fn(&str, &BTreeMap<String, String>, &str) -> R + Send + 'static,
) -> Endpoint {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        // Bounded: each run asks a few times.
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            // The query's parameters in name order, whatever order the client sent.
            let raw = first.split_whitespace().nth(1).unwrap_or_default();
            let target = match raw.split_once('?') {
                Some((path, query)) => {
                    let mut params: Vec<&str> = query.split('&').collect();
                    params.sort();
                    format!("{path}?{}", params.join("&"))
                }
                None => raw.to_string(),
            };
            let length = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let header = headers.get(recorded).cloned().unwrap_or_default();
            record.lock().unwrap().push(format!("{target} {header}"));
            let Reply(status, extra, body) = answer(&target, &headers, &text(&body)).into();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Endpoint { port, seen }
}

/// An hour from now, in epoch milliseconds.
fn in_an_hour_ms() -> i64 {
    (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_millis()
}

const SSO_TOKEN: &str = "sso-access-token-from-the-cache";
const SSO_ROLE: &str = "ForensicsReadOnly";
const SSO_ACCOUNT: &str = "111122223333";

/// An IAM Identity Center portal: `GetRoleCredentials` for one account, role and bearer
/// token, answering with `keys`.
fn portal(keys: Keys) -> Endpoint {
    let wanted = format!("/federation/credentials?account_id={SSO_ACCOUNT}&role_name={SSO_ROLE}");
    serve("x-amz-sso_bearer_token", move |target, headers, _| {
        let token = headers.get("x-amz-sso_bearer_token").map(String::as_str);
        if target == wanted && token == Some(SSO_TOKEN) {
            let body = format!(
                r#"{{"roleCredentials":{{"accessKeyId":"{}","secretAccessKey":"{}","expiration":{}}}}}"#,
                keys.id,
                keys.secret,
                in_an_hour_ms()
            );
            ("200 OK", body)
        } else {
            (
                "401 Unauthorized",
                r#"{"message":"Session token not found or invalid"}"#.to_string(),
            )
        }
    })
}

/// Writes the SDK's token cache entry for `identifier` (the session name, or the start
/// URL for legacy SSO profiles) under `home`.
fn cache_token(home: &Path, identifier: &str, expires_at: &str) {
    let name = hex::encode(Sha1::digest(identifier.as_bytes()));
    let dir = home.join(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.json")),
        format!(
            r#"{{"accessToken":"{SSO_TOKEN}","expiresAt":"{expires_at}","region":"us-east-1","startUrl":"https://corp.example/start"}}"#
        ),
    )
    .unwrap();
}

fn sso_config() -> String {
    format!(
        "[profile forensics]\nsso_session = corp\nsso_account_id = {SSO_ACCOUNT}\nsso_role_name = {SSO_ROLE}\nregion = us-east-1\n\
         [sso-session corp]\nsso_start_url = https://corp.example/start\nsso_region = us-east-1\n\
         [profile legacy]\nsso_start_url = https://legacy.example/start\nsso_region = us-east-1\n\
         sso_account_id = {SSO_ACCOUNT}\nsso_role_name = {SSO_ROLE}\nregion = us-east-1\n"
    )
}

#[test]
fn iam_identity_center_profiles_read_the_trail() {
    let Some(e) = estate() else { return };
    let m = e.moto;
    let p = portal(e.reader.clone());
    let (dir, mut env) = home("sso", &sso_config(), "");
    env.push(("AWS_ENDPOINT_URL_SSO", format!("http://127.0.0.1:{}", p.port)));
    let later = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    cache_token(&dir, "corp", &later);
    cache_token(&dir, "https://legacy.example/start", &later);
    let expected = golden(SCENARIO, "default");
    for profile in ["forensics", "legacy"] {
        let out = run_cli(&validate_args(m, &["--profile", profile]), &env);
        assert_eq!(outcome(&out), expected, "{profile}");
    }
    let seen = p.seen.lock().unwrap().clone();
    let asked = format!("/federation/credentials?account_id={SSO_ACCOUNT}&role_name={SSO_ROLE} {SSO_TOKEN}");
    assert_eq!(seen, vec![asked.clone(), asked], "one portal call per run");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_expired_sso_login_says_to_sign_in_again() {
    let Some(e) = estate() else { return };
    let m = e.moto;
    let p = portal(e.reader.clone());
    let (dir, mut env) = home("sso-expired", &sso_config(), "");
    env.push(("AWS_ENDPOINT_URL_SSO", format!("http://127.0.0.1:{}", p.port)));
    cache_token(&dir, "corp", "2026-01-01T00:00:00Z");
    let out = run_cli(&validate_args(m, &["--profile", "forensics"]), &env);
    let (stdout, stderr, exit) = outcome(&out);
    assert_eq!((stdout.as_str(), exit.as_str()), ("", "255\n"), "{stderr}");
    assert!(
        stderr
            .trim_start()
            .starts_with("cannot get AWS credentials (profile forensics): ")
            && stderr.contains("the SSO token has expired")
            && stderr.contains("aws sso login --profile forensics"),
        "{stderr}"
    );
    assert!(
        p.seen.lock().unwrap().is_empty(),
        "the portal is not asked with a stale token"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn credentials_that_expire_during_a_run_are_fetched_again() {
    let Some(e) = estate() else { return };
    let m = e.moto;
    let dir = temp_dir("refresh");
    let calls = dir.join("calls");
    // Valid for two more minutes: inside the margin, so every use fetches them anew.
    let expiration = (chrono::Utc::now() + chrono::Duration::minutes(2)).format("%Y-%m-%dT%H:%M:%SZ");
    let script = dir.join("credentials.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho call >> '{}'\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \
             \"SecretAccessKey\": \"{}\", \"Expiration\": \"{expiration}\"}}'\n",
            calls.display(),
            e.reader.id,
            e.reader.secret
        ),
    )
    .unwrap();
    let (home_dir, env) = home(
        "refresh-home",
        &format!(
            "[profile short]\ncredential_process = sh {}\nregion = us-east-1\n",
            script.display()
        ),
        "",
    );
    let out = run_cli(&validate_args(m, &["--profile", "short"]), &env);
    assert_eq!(outcome(&out), golden(SCENARIO, "default"));
    let fetched = std::fs::read_to_string(&calls).unwrap().lines().count();
    assert!(fetched > 2, "fetched {fetched} times");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&home_dir).unwrap();
}

#[test]
fn container_and_web_identity_credentials_read_the_trail() {
    let Some(e) = estate() else { return };
    let m = e.moto;
    let (dir, env) = home("roles", "", "");
    let expected = golden(SCENARIO, "default");
    // ECS task role (and EKS Pod Identity): the agent's endpoint, with its token.
    let keys = e.task.clone();
    let agent = serve("authorization", move |target, headers, _| {
        if target == "/v2/credentials/task"
            && headers.get("authorization").map(String::as_str) == Some("agent-token")
        {
            let expiration = (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
            let body = format!(
                r#"{{"AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","Expiration":"{expiration}"}}"#,
                keys.id,
                keys.secret,
                keys.token.as_deref().unwrap_or_default()
            );
            ("200 OK", body)
        } else {
            ("403 Forbidden", r#"{"message":"no"}"#.to_string())
        }
    });
    let mut container = env.clone();
    container.push((
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("http://127.0.0.1:{}/v2/credentials/task", agent.port),
    ));
    container.push(("AWS_CONTAINER_AUTHORIZATION_TOKEN", "agent-token".to_string()));
    let out = run_cli(&validate_args(m, &[]), &container);
    assert_eq!(outcome(&out), expected, "container credentials");
    assert_eq!(agent.seen.lock().unwrap().len(), 1, "asked once");
    // Web identity (EKS IRSA, CI systems): the token file and role go to STS's
    // AssumeRoleWithWebIdentity (served here: moto cannot answer it unsigned while it
    // checks authorisation), whose session then reads S3.
    let token_file = dir.join("token");
    std::fs::write(&token_file, "eyJ.web-identity.token").unwrap();
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/deep");
    let keys = e.task.clone();
    let wanted_role = role_arn.clone();
    let sts = serve("content-type", move |_, _, body| {
        let fields: Vec<&str> = body.split('&').collect();
        let asked = fields.contains(&"Action=AssumeRoleWithWebIdentity")
            && fields.contains(&"WebIdentityToken=eyJ.web-identity.token")
            && fields.contains(&format!("RoleArn={}", percent(&wanted_role)).as_str());
        if !asked {
            return ("400 Bad Request", format!("<unexpected>{body}</unexpected>"));
        }
        let expiration = (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
        let answer = format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{}</AccessKeyId>\
                 <SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken>\
                 <Expiration>{expiration}</Expiration></Credentials></AssumeRoleWithWebIdentityResult>\
                 </AssumeRoleWithWebIdentityResponse>",
            keys.id,
            keys.secret,
            keys.token.as_deref().unwrap_or_default()
        );
        ("200 OK", answer)
    });
    let mut web = env.clone();
    web.extend([
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.display().to_string()),
        ("AWS_ROLE_ARN", role_arn),
        ("AWS_ENDPOINT_URL_STS", format!("http://127.0.0.1:{}", sts.port)),
        ("AWS_REGION", "us-east-1".to_string()),
    ]);
    let out = run_cli(&validate_args(m, &[]), &web);
    assert_eq!(outcome(&out), expected, "web identity");
    assert_eq!(sts.seen.lock().unwrap().len(), 1, "one AssumeRoleWithWebIdentity");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_instance_role_comes_from_imdsv2() {
    let Some(e) = estate() else { return };
    let m = e.moto;
    let (dir, mut env) = home("imds", "", "");
    let keys = e.task.clone();
    // IMDSv2: a session token first (PUT), then every read carries it.
    let imds = serve("x-aws-ec2-metadata-token", move |target, headers, _| {
        let token = headers.get("x-aws-ec2-metadata-token").map(String::as_str);
        match (target, token) {
            ("/latest/api/token", None) if headers.contains_key("x-aws-ec2-metadata-token-ttl-seconds") => {
                Reply(
                    "200 OK",
                    "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n",
                    "imds-session-token".to_string(),
                )
            }
            ("/latest/meta-data/iam/security-credentials/", Some("imds-session-token")) => {
                ("200 OK", "ForensicsInstance".to_string()).into()
            }
            ("/latest/meta-data/iam/security-credentials/ForensicsInstance", Some("imds-session-token")) => {
                let expiration =
                    (chrono::Utc::now() + chrono::Duration::hours(6)).format("%Y-%m-%dT%H:%M:%SZ");
                let body = format!(
                    r#"{{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","Expiration":"{expiration}"}}"#,
                    keys.id,
                    keys.secret,
                    keys.token.as_deref().unwrap_or_default()
                );
                ("200 OK", body).into()
            }
            _ => ("401 Unauthorized", String::new()).into(),
        }
    });
    env.extend([
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{}", imds.port),
        ),
        ("AWS_EC2_METADATA_DISABLED", "false".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ]);
    let out = run_cli(&validate_args(m, &[]), &env);
    assert_eq!(outcome(&out), golden(SCENARIO, "default"));
    let seen = imds.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "/latest/api/token ",
            "/latest/meta-data/iam/security-credentials/ imds-session-token",
            "/latest/meta-data/iam/security-credentials/ForensicsInstance imds-session-token",
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
