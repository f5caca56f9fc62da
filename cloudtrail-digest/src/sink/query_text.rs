//! What `aws cloudtrail verify-query-results` (AWS CLI v2) says of a check: its one
//! line on success, else the message of the first failure in its order (the result
//! files in the sign file's order, then the signature) and its exit code.

use crate::query_results::{
    QueryResultsReport, ResultFileVerdict, SignFileProblem, SignatureVerdict, SIGN_FILE_NAME,
};

/// The AWS CLI's line on success (stdout).
pub const VERIFIED: &str = "Successfully validated sign and query result files";

/// Exit code of a failed check (the AWS CLI's for everything but S3 errors).
pub const FAILED: u8 = 255;
/// Exit code when S3 answers an error (a missing object in S3).
pub const S3_ERROR: u8 = 254;

/// What the AWS CLI says of an object missing in S3 (botocore's words for `NoSuchKey`).
const NO_SUCH_KEY: &str =
    "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.";

/// The reference's words for `report`: `Ok(line)` when everything is intact, else the
/// message and exit code. `local_dir` is the `--local-export-path` as given (its files
/// are named by it); `None` when the results were read in S3.
pub fn reference_outcome(
    report: &QueryResultsReport,
    local_dir: Option<&str>,
) -> Result<&'static str, (String, u8)> {
    let path = |name: &str| match local_dir {
        Some(dir) if dir.ends_with('/') => format!("{dir}{name}"),
        Some(dir) => format!("{dir}/{name}"),
        None => name.to_string(),
    };
    let missing = |name: &str| match local_dir {
        Some(_) => (
            format!("[Errno 2] No such file or directory: '{}'", path(name)),
            FAILED,
        ),
        None => (NO_SUCH_KEY.to_string(), S3_ERROR),
    };
    let sign = match &report.sign_file {
        Ok(s) => s,
        Err(problem) => {
            return Err(match problem {
                SignFileProblem::Missing => missing(SIGN_FILE_NAME),
                SignFileProblem::Refused(why) => {
                    (format!("{}: not read: {why}", path(SIGN_FILE_NAME)), FAILED)
                }
                SignFileProblem::NotJson(why) => (
                    format!("InformationCollectionError: Unable to load {SIGN_FILE_NAME} file, due to {why}"),
                    FAILED,
                ),
                SignFileProblem::Invalid => {
                    ("ValidationError: Invalid sign file provided.".to_string(), FAILED)
                }
                SignFileProblem::NoFiles => (
                    "ValidationError: No export file was found in sign file.".to_string(),
                    FAILED,
                ),
                SignFileProblem::MissingField(name) => (format!("'{name}'"), FAILED),
                SignFileProblem::TooLarge => (
                    format!(
                        "{}: not loaded: decoding its JSON would take more than {} bytes of memory",
                        path(SIGN_FILE_NAME),
                        crate::MAX_DECODED_DIGEST
                    ),
                    FAILED,
                ),
            })
        }
    };
    for (file, (_, verdict)) in sign.files.iter().zip(&report.files) {
        let name = file.file_name.as_str();
        match verdict {
            ResultFileVerdict::Valid => {}
            ResultFileVerdict::HashMismatch { recorded, actual } => {
                return Err((
                    format!(
                        "ValidationError: File {name} has inconsistent hash value with hash value recorded in sign \
                         file, hash value in sign file is {recorded} , but get {actual}"
                    ),
                    FAILED,
                ))
            }
            ResultFileVerdict::Missing => return Err(missing(name)),
            ResultFileVerdict::Refused(why) => return Err((format!("{name}: not read: {why}"), FAILED)),
        }
    }
    match &report.signature {
        Some(SignatureVerdict::Valid) => Ok(VERIFIED),
        Some(SignatureVerdict::Invalid) | None => Err((
            "ValidationError: Invalid signature in sign file".to_string(),
            FAILED,
        )),
        Some(SignatureVerdict::NoKey { fingerprint }) => Err((
            format!("No public keys found for key with fingerprint: {fingerprint}"),
            FAILED,
        )),
        Some(SignatureVerdict::UnparseableTime(text)) => {
            Err((format!("Unable to parse date value: {text}"), FAILED))
        }
        Some(SignatureVerdict::NotHex(words)) => Err((words.to_string(), FAILED)),
        Some(SignatureVerdict::MissingField(name)) => Err((format!("'{name}'"), FAILED)),
        Some(SignatureVerdict::BadKey(fingerprint)) => Err((
            format!("ValidationError: Sign file invalid, unable to load PKCS #1 key: {fingerprint}"),
            FAILED,
        )),
    }
}
