//! `keys`: CloudTrail's public keys of a region, printed as `aws cloudtrail
//! list-public-keys` (CLI v1) prints them, for `validate-logs --public-keys`.

use crate::cli::KeysArgs;
use crate::exit::Exit;
use crate::output::{self, Stop};

pub fn run(args: &KeysArgs, region: Option<&str>) -> Exit {
    let outcome = keys(args, region).map_err(Stop::Fatal).and_then(|text| {
        output::print(format_args!("{text}"))?;
        Ok(Exit::Success)
    });
    output::finish(outcome, |m| output::eprint(format_args!("\n{m}\n")))
}

#[cfg(feature = "s3")]
fn keys(args: &KeysArgs, region: Option<&str>) -> Result<String, String> {
    use serde::Serialize;

    use crate::cli::AwsArgs;
    use crate::online::Online;

    let (start, end) = crate::window::window(
        &args.window,
        chrono::Utc::now(),
        crate::window::Wording::Reference,
    )?;
    let aws = AwsArgs {
        profile: args.profile.clone(),
        timeouts: args.timeouts.clone(),
        ..AwsArgs::default()
    };
    let mut online = Online::new(&aws).with_cloudtrail_endpoint(args.endpoint_url.clone());
    let region = match region.filter(|r| !r.is_empty()) {
        Some(r) => r.to_string(),
        None => online.default_region()?,
    };
    let client = online.cloudtrail_keys(&region)?;
    let entries = client.list_public_keys(start, end).map_err(|e| e.to_string())?;
    let doc = serde_json::json!({ "PublicKeyList": entries });
    // What CloudTrail sent must load as a key file (fingerprints checked) before it is kept.
    cloudtrail_digest::PublicKeySet::new()
        .add_json(
            &format!("CloudTrail ListPublicKeys answer ({region})"),
            doc.to_string().as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    doc.serialize(&mut ser).map_err(|e| e.to_string())?;
    out.push(b'\n');
    String::from_utf8(out).map_err(|e| e.to_string())
}

#[cfg(not(feature = "s3"))]
fn keys(_args: &KeysArgs, _region: Option<&str>) -> Result<String, String> {
    Err("this cloudtrail-digest was built without the `s3` feature: it cannot ask CloudTrail".to_string())
}
