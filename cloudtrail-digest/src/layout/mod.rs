//! The bucket layout, in one place: where CloudTrail puts digests and logs
//! (`[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/...`), the names
//! of digest and log files, and finding trails in buckets through
//! [`crate::ObjectSource::list_folders`], the same way for every backend.

mod digest_name;
mod discover;
mod log_name;

pub use digest_name::{chain_label, ChainScope, DigestKeyName};
pub use digest_name::{is_backfill_key, key_stamp};
pub(crate) use discover::{
    account_folders, awslogs_folder, awslogs_roots, file_name, folder_names, region_folder, AccountFolder,
    LISTINGS_AT_ONCE,
};
pub use discover::{find_trail_locations, organization_folder, TrailLocation};
pub use log_name::LogKeyName;
