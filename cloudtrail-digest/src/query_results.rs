//! CloudTrail Lake query results saved to S3: the sign file (`result_sign.json`) lists
//! the SHA-256 of each result file's stored bytes and signs the list (the hashes in the
//! file's order, joined by single spaces) with SHA256withRSA; the key is the one whose
//! fingerprint the sign file names, among the keys from `queryCompleteTime` to 20 days
//! after (as `aws cloudtrail verify-query-results` asks). Every result file gets a
//! verdict, and the signature one of its own: a bad file never hides the others.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::error::Error;
use crate::fetch::log::read_error;
use crate::fetch::source_verdict;
use crate::gzip::sha256_hex_of;
use crate::keys::{PublicKey, PublicKeyProvider};
use crate::source::ObjectSource;
use crate::time::parse_recorded;
use crate::verify::{decode_signature_hex, RsaPublicKey};

/// The sign file's name, beside the result files.
pub const SIGN_FILE_NAME: &str = "result_sign.json";

/// How far after `queryCompleteTime` keys are looked up (the AWS CLI's window).
const KEY_WINDOW_DAYS: i64 = 20;

/// One result file as the sign file lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedFile {
    /// `fileName`: the file's name beside the sign file.
    pub file_name: String,
    /// `fileHashValue`: lowercase hex SHA-256 of its stored bytes.
    pub file_hash_value: String,
}

/// The fields of a sign file that its check uses (`version`, `region`, `hashAlgorithm`
/// and `signatureAlgorithm` are not read, as by the AWS CLI). The signature's fields
/// are needed only once the files are checked, so a missing one is the signature's
/// verdict ([`SignatureVerdict::MissingField`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignFile {
    /// `files`, in the order they are signed.
    pub files: Vec<SignedFile>,
    /// `queryCompleteTime`, as written.
    pub query_complete_time: Option<String>,
    /// `publicKeyFingerprint`.
    pub public_key_fingerprint: Option<String>,
    /// `hashSignature`, hex.
    pub hash_signature: Option<String>,
}

/// Why a sign file cannot be checked.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignFileProblem {
    /// No sign file where the results are.
    Missing,
    /// The sign file is not read: its name leaves the directory, it is not a file, or it
    /// is larger than [`crate::MAX_WHOLE_OBJECT`]. The detail says which.
    Refused(String),
    /// Not JSON; the parser's words.
    NotJson(String),
    /// JSON, but not an object with a list of files.
    Invalid,
    /// The list of files is empty.
    NoFiles,
    /// A field of a listed file is missing or not a string.
    MissingField(&'static str),
    /// Decoding the JSON would take more than [`crate::MAX_DECODED_DIGEST`] bytes of
    /// memory (a sign file lists a few files; this one is a bomb).
    TooLarge,
}

/// A result file's verdict.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultFileVerdict {
    /// Its stored bytes hash to the recorded value.
    Valid,
    /// They hash to something else.
    HashMismatch {
        /// What the sign file records.
        recorded: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// No such file.
    Missing,
    /// Not read (a name leaving the directory, not a regular file); the detail says why.
    Refused(String),
}

/// The signature's verdict.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureVerdict {
    /// The signature over the listed hashes verifies with the named key.
    Valid,
    /// It does not.
    Invalid,
    /// No key with the sign file's fingerprint between `queryCompleteTime` and 20 days later.
    NoKey {
        /// The sign file's `publicKeyFingerprint`.
        fingerprint: String,
    },
    /// `queryCompleteTime` is not a date.
    UnparseableTime(String),
    /// `hashSignature` is not hex (Python's words for it).
    NotHex(&'static str),
    /// The key found cannot be loaded as an RSA key.
    BadKey(String),
    /// A field the signature needs is missing or not a string.
    MissingField(&'static str),
}

/// What checking a set of saved query results found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResultsReport {
    /// The sign file's bucket and key (for a local folder: the folder's name and the file).
    pub sign_file_at: (String, String),
    /// The sign file, or why it cannot be checked (then nothing else is).
    pub sign_file: Result<SignFile, SignFileProblem>,
    /// Each listed result file, in the sign file's order: its key and verdict.
    pub files: Vec<(String, ResultFileVerdict)>,
    /// The signature's verdict (none without a sign file).
    pub signature: Option<SignatureVerdict>,
    /// Files beside the sign file named as result files (`result...`) that it does not
    /// list (keys, sorted): CloudTrail puts only the result files it signs there, so
    /// these were added later. The AWS CLI does not look for them.
    pub unlisted: Vec<String>,
}

impl QueryResultsReport {
    /// Everything checked is intact.
    pub fn is_valid(&self) -> bool {
        self.sign_file.is_ok()
            && self.files.iter().all(|(_, v)| *v == ResultFileVerdict::Valid)
            && self.signature == Some(SignatureVerdict::Valid)
            && self.unlisted.is_empty()
    }
}

/// One check of the query results under `prefix` in `bucket`.
pub struct QueryResults<'a> {
    source: &'a dyn ObjectSource,
    keys: &'a dyn PublicKeyProvider,
    bucket: String,
    prefix: String,
    now: DateTime<Utc>,
}

impl<'a> QueryResults<'a> {
    /// The results whose sign file is `PREFIX` + `result_sign.json` in `bucket` (a
    /// non-empty prefix without a trailing `/` gets one, as the AWS CLI adds it). `now`
    /// fills the fields a partial `queryCompleteTime` lacks, as the reference's date
    /// parser does with today's date.
    pub fn new(
        source: &'a dyn ObjectSource,
        keys: &'a dyn PublicKeyProvider,
        bucket: &str,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let prefix = match prefix {
            "" => String::new(),
            p if p.ends_with('/') => p.to_string(),
            p => format!("{p}/"),
        };
        QueryResults {
            source,
            keys,
            bucket: bucket.to_string(),
            prefix,
            now,
        }
    }

    /// Reads the sign file and every result file it lists, and checks the signature.
    /// Only a failure to read that is not a verdict (access denied, a broken
    /// connection) or a failing key lookup is an error.
    pub fn verify(&self) -> Result<QueryResultsReport, Error> {
        let sign_key = format!("{}{SIGN_FILE_NAME}", self.prefix);
        let mut report = QueryResultsReport {
            sign_file_at: (self.bucket.clone(), sign_key.clone()),
            sign_file: Err(SignFileProblem::Missing),
            files: Vec::new(),
            signature: None,
            unlisted: Vec::new(),
        };
        let body = match self.source.get(&self.bucket, &sign_key) {
            Ok(object) => object.body,
            Err(e) => {
                report.sign_file = Err(source_verdict(
                    e,
                    SignFileProblem::Missing,
                    SignFileProblem::Refused,
                )?);
                return Ok(report);
            }
        };
        let sign = match parse_sign_file(&body) {
            Ok(s) => s,
            Err(problem) => {
                report.sign_file = Err(problem);
                return Ok(report);
            }
        };
        for file in &sign.files {
            let key = format!("{}{}", self.prefix, file.file_name);
            let verdict = self.check_file(&key, &file.file_hash_value)?;
            report.files.push((key, verdict));
        }
        report.signature = Some(self.check_signature(&sign)?);
        report.unlisted = self.unlisted(&report.files, &sign_key)?;
        report.sign_file = Ok(sign);
        Ok(report)
    }

    /// Keys directly under the prefix named `result...` that are neither the sign file
    /// nor listed in it. Only those names are listed: results saved at a bucket's root
    /// must not make this list the whole bucket.
    fn unlisted(&self, files: &[(String, ResultFileVerdict)], sign_key: &str) -> Result<Vec<String>, Error> {
        let listed: std::collections::HashSet<&String> = files.iter().map(|(key, _)| key).collect();
        let mut keys: Vec<String> = self
            .source
            .list(&self.bucket, &format!("{}result", self.prefix), "")?
            .into_iter()
            .filter(|k| !k[self.prefix.len()..].contains('/') && k != sign_key && !listed.contains(k))
            .collect();
        keys.sort();
        Ok(keys)
    }

    fn check_file(&self, key: &str, recorded: &str) -> Result<ResultFileVerdict, Error> {
        let reader = match self.source.open(&self.bucket, key) {
            Ok(r) => r,
            Err(e) => return source_verdict(e, ResultFileVerdict::Missing, ResultFileVerdict::Refused),
        };
        let actual = sha256_hex_of(reader).map_err(|e| read_error(&self.bucket, key, e))?;
        Ok(match actual == recorded {
            true => ResultFileVerdict::Valid,
            false => ResultFileVerdict::HashMismatch {
                recorded: recorded.to_string(),
                actual,
            },
        })
    }

    /// The signature's verdict, its fields taken in the AWS CLI's order.
    fn check_signature(&self, sign: &SignFile) -> Result<SignatureVerdict, Error> {
        let Some(time) = &sign.query_complete_time else {
            return Ok(SignatureVerdict::MissingField("queryCompleteTime"));
        };
        let Ok(at) = parse_recorded(time, self.now.date_naive()) else {
            return Ok(SignatureVerdict::UnparseableTime(time.clone()));
        };
        let Some(fingerprint) = &sign.public_key_fingerprint else {
            return Ok(SignatureVerdict::MissingField("publicKeyFingerprint"));
        };
        let keys = self.keys.keys_between(at, at + Duration::days(KEY_WINDOW_DAYS))?;
        let Some(key) = keys.get(fingerprint) else {
            return Ok(SignatureVerdict::NoKey {
                fingerprint: fingerprint.clone(),
            });
        };
        Ok(signature_verdict(sign, key))
    }
}

/// The signature's verdict with `key`: pure.
fn signature_verdict(sign: &SignFile, key: &PublicKey) -> SignatureVerdict {
    let Some(hex) = &sign.hash_signature else {
        return SignatureVerdict::MissingField("hashSignature");
    };
    let signature = match decode_signature_hex(hex) {
        Ok(s) => s,
        Err(words) => return SignatureVerdict::NotHex(words),
    };
    let Ok(rsa) = RsaPublicKey::from_der(&key.der) else {
        return SignatureVerdict::BadKey(key.fingerprint.clone());
    };
    match rsa.verify(string_to_sign(&sign.files).as_bytes(), &signature) {
        true => SignatureVerdict::Valid,
        false => SignatureVerdict::Invalid,
    }
}

/// The hashes in the sign file's order, joined by single spaces.
pub fn string_to_sign(files: &[SignedFile]) -> String {
    files
        .iter()
        .map(|f| f.file_hash_value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a sign file's bytes.
pub fn parse_sign_file(body: &[u8]) -> Result<SignFile, SignFileProblem> {
    if crate::digest::decoded_size_estimate(body) > crate::MAX_DECODED_DIGEST {
        return Err(SignFileProblem::TooLarge);
    }
    let doc: Value = serde_json::from_slice(body).map_err(|e| SignFileProblem::NotJson(e.to_string()))?;
    let Some(fields) = doc.as_object() else {
        return Err(SignFileProblem::Invalid);
    };
    let Some(listed) = fields.get("files") else {
        return Err(SignFileProblem::MissingField("files"));
    };
    let Some(listed) = listed.as_array() else {
        return Err(SignFileProblem::Invalid);
    };
    if listed.is_empty() {
        return Err(SignFileProblem::NoFiles);
    }
    let text = |map: &serde_json::Map<String, Value>, name: &'static str| {
        map.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(SignFileProblem::MissingField(name))
    };
    let mut files = Vec::with_capacity(listed.len());
    for entry in listed {
        let entry = entry.as_object().ok_or(SignFileProblem::Invalid)?;
        files.push(SignedFile {
            file_name: text(entry, "fileName")?,
            file_hash_value: text(entry, "fileHashValue")?,
        });
    }
    Ok(SignFile {
        files,
        query_complete_time: text(fields, "queryCompleteTime").ok(),
        public_key_fingerprint: text(fields, "publicKeyFingerprint").ok(),
        hash_signature: text(fields, "hashSignature").ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PublicKeySet;
    use crate::source::MemorySource;

    const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/query-results");

    /// The export of `case` in memory, under `prefix/` of bucket `b`, and its keys.
    fn case(name: &str) -> (MemorySource, PublicKeySet) {
        let dir = std::path::Path::new(CASES).join(name);
        let source = MemorySource::new();
        source.create_bucket("b");
        for entry in std::fs::read_dir(dir.join("export")).unwrap() {
            let path = entry.unwrap().path();
            let key = format!("q/{}", path.file_name().unwrap().to_str().unwrap());
            source.put("b", &key, std::fs::read(&path).unwrap()).unwrap();
        }
        let mut keys = PublicKeySet::new();
        keys.add_file(&dir.join("public-keys.json")).unwrap();
        (source, keys)
    }

    fn verify(source: &MemorySource, keys: &PublicKeySet) -> QueryResultsReport {
        let now = crate::parse_utc("2026-12-06T00:00:00Z").unwrap();
        QueryResults::new(source, keys, "b", "q", now).verify().unwrap()
    }

    #[test]
    fn a_valid_export_is_valid_and_each_fault_has_its_verdict() {
        let (source, keys) = case("valid");
        let report = verify(&source, &keys);
        assert!(report.is_valid(), "{report:?}");
        assert_eq!(
            report.sign_file_at,
            ("b".to_string(), "q/result_sign.json".to_string())
        );
        // A result file added beside them is named; one in a folder below is not beside
        // them, and other names are not result files.
        source.put("b", "q/result_3.csv.gz", b"added".to_vec()).unwrap();
        source.put("b", "q/result_4/x", b"below".to_vec()).unwrap();
        source.put("b", "q/notes.txt", b"mine".to_vec()).unwrap();
        let report = verify(&source, &keys);
        assert_eq!(report.unlisted, ["q/result_3.csv.gz"]);
        assert!(!report.is_valid());

        let (source, keys) = case("bad-signature");
        let report = verify(&source, &keys);
        assert!(report.files.iter().all(|(_, v)| *v == ResultFileVerdict::Valid));
        assert_eq!(report.signature, Some(SignatureVerdict::Invalid));

        let (source, keys) = case("unknown-key");
        assert!(matches!(
            verify(&source, &keys).signature,
            Some(SignatureVerdict::NoKey { .. })
        ));
    }

    #[test]
    fn a_bad_file_never_hides_the_verdicts_of_the_others_or_of_the_signature() {
        let (source, keys) = case("valid");
        source.put("b", "q/result_1.csv.gz", b"changed".to_vec()).unwrap();
        assert!(source.remove("b", "q/result_2.csv.gz"));
        let report = verify(&source, &keys);
        assert!(matches!(
            report.files[0].1,
            ResultFileVerdict::HashMismatch { .. }
        ));
        assert_eq!(
            report.files[1],
            ("q/result_2.csv.gz".to_string(), ResultFileVerdict::Missing)
        );
        // The signature is over the recorded hashes, which are intact.
        assert_eq!(report.signature, Some(SignatureVerdict::Valid));
        assert!(!report.is_valid());
    }

    #[test]
    fn sign_files_that_cannot_be_checked_say_why() {
        assert!(matches!(parse_sign_file(b"{"), Err(SignFileProblem::NotJson(_))));
        let bomb = format!("[{}0]", "0,".repeat(20 << 20));
        assert_eq!(parse_sign_file(bomb.as_bytes()), Err(SignFileProblem::TooLarge));
        assert_eq!(parse_sign_file(b"[1]"), Err(SignFileProblem::Invalid));
        assert_eq!(
            parse_sign_file(b"{}"),
            Err(SignFileProblem::MissingField("files"))
        );
        assert_eq!(
            parse_sign_file(br#"{"files": "x"}"#),
            Err(SignFileProblem::Invalid)
        );
        assert_eq!(
            parse_sign_file(br#"{"files": []}"#),
            Err(SignFileProblem::NoFiles)
        );
        assert_eq!(
            parse_sign_file(br#"{"files": [{"fileHashValue": "00"}]}"#),
            Err(SignFileProblem::MissingField("fileName"))
        );
        let (source, keys) = case("valid");
        // Larger than any whole read: refused, not loaded.
        let huge = vec![b' '; crate::MAX_WHOLE_OBJECT as usize + 1];
        source.put("b", "q/result_sign.json", huge).unwrap();
        assert!(matches!(
            verify(&source, &keys).sign_file,
            Err(SignFileProblem::Refused(_))
        ));
        assert!(source.remove("b", "q/result_sign.json"));
        assert_eq!(verify(&source, &keys).sign_file, Err(SignFileProblem::Missing));
    }

    #[test]
    fn the_signed_string_is_the_hashes_in_order_joined_by_spaces() {
        let files = ["aa", "bb", "cc"].map(|h| SignedFile {
            file_name: format!("{h}.csv.gz"),
            file_hash_value: h.to_string(),
        });
        assert_eq!(string_to_sign(&files), "aa bb cc");
        assert_eq!(string_to_sign(&files[..1]), "aa");
    }
}
