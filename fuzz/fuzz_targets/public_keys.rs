//! Key files (`list-public-keys` output) and the DER keys inside them.
#![no_main]
use cloudtrail_digest::internals::RsaPublicKey;
use cloudtrail_digest::{PublicKeyProvider, PublicKeySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut set = PublicKeySet::new();
    if set.add_json("fuzz", data).is_ok() {
        for k in set.keys() {
            if let Ok(key) = RsaPublicKey::from_der(&k.der) {
                let _ = key.verify(b"message", &[0u8; 256]);
            }
        }
        let (a, b) = (
            chrono::DateTime::UNIX_EPOCH,
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
        );
        let _ = set.keys_between(a, b);
    }
    if let Ok(key) = RsaPublicKey::from_der(data) {
        let _ = key.verify(data, data);
    }
});
