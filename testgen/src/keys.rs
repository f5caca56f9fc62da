//! The committed test-only signing keys and `list-public-keys` output.
//!
//! The two keys live in `testdata/keys/` (PKCS#1 PEM, 2048-bit) and are compiled in, so
//! the generator works from any directory. A public key's `Value` is the base64 of its
//! PKCS#1 `RSAPublicKey` DER and its fingerprint is the lowercase hex MD5 of that DER,
//! as in CloudTrail's `ListPublicKeys`.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use md5::{Digest as _, Md5};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use crate::json::Json;
use crate::times;

const KEY_1_PEM: &str = include_str!("../../testdata/keys/test-signing-key-1.pem");
const KEY_2_PEM: &str = include_str!("../../testdata/keys/test-signing-key-2.pem");

/// Which committed test key signs a digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyId {
    /// `testdata/keys/test-signing-key-1.pem`
    One,
    /// `testdata/keys/test-signing-key-2.pem`
    Two,
}

/// An RSA key pair with its CloudTrail public-key identity.
#[derive(Clone, Debug)]
pub struct SigningKey {
    /// Which committed key this is.
    pub id: KeyId,
    private: RsaPrivateKey,
    public: RsaPublicKey,
    /// PKCS#1 `RSAPublicKey` DER of the public half.
    pub public_der: Vec<u8>,
    /// Lowercase hex MD5 of [`SigningKey::public_der`].
    pub fingerprint: String,
}

impl SigningKey {
    /// Loads a key from PKCS#1 PEM text.
    pub fn from_pkcs1_pem(id: KeyId, pem: &str) -> Result<Self, String> {
        let private = RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| format!("bad key: {e}"))?;
        let public = RsaPublicKey::from(&private);
        let public_der = public
            .to_pkcs1_der()
            .map_err(|e| format!("cannot encode public key: {e}"))?
            .as_bytes()
            .to_vec();
        let fingerprint = hex::encode(Md5::digest(&public_der));
        Ok(SigningKey {
            id,
            private,
            public,
            public_der,
            fingerprint,
        })
    }

    /// The public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// RSASSA-PKCS1-v1_5 / SHA-256 signature of `message` (deterministic).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let hashed = Sha256::digest(message);
        self.private
            .sign(Pkcs1v15Sign::new::<Sha256>(), &hashed)
            .expect("signing with a 2048-bit key cannot fail")
    }

    /// Lowercase hex signature of `message`.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.sign(message))
    }

    /// Whether `signature` is a valid RSASSA-PKCS1-v1_5 / SHA-256 signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let hashed = Sha256::digest(message);
        self.public
            .verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, signature)
            .is_ok()
    }

    /// Base64 of the public DER: the `Value` field of `ListPublicKeys`.
    pub fn public_value(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.public_der)
    }
}

/// Both committed test keys.
#[derive(Clone, Debug)]
pub struct KeyRing {
    one: SigningKey,
    two: SigningKey,
}

impl KeyRing {
    /// Loads `testdata/keys/test-signing-key-{1,2}.pem` (compiled in).
    pub fn test_keys() -> Self {
        KeyRing {
            one: SigningKey::from_pkcs1_pem(KeyId::One, KEY_1_PEM).expect("committed key 1"),
            two: SigningKey::from_pkcs1_pem(KeyId::Two, KEY_2_PEM).expect("committed key 2"),
        }
    }

    /// The key with this id.
    pub fn get(&self, id: KeyId) -> &SigningKey {
        match id {
            KeyId::One => &self.one,
            KeyId::Two => &self.two,
        }
    }
}

/// How `aws cloudtrail list-public-keys` prints validity times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKeysShape {
    /// CLI v1: epoch seconds as floats (`1772323200.0`).
    V1,
    /// CLI v2: ISO 8601 with offset (`"2026-03-01T00:00:00+00:00"`).
    V2,
}

/// One entry of a `list-public-keys` answer.
#[derive(Clone, Debug)]
pub struct PublicKeyEntry {
    /// The key.
    pub key: KeyId,
    /// `ValidityStartTime`
    pub valid_from: DateTime<Utc>,
    /// `ValidityEndTime`
    pub valid_to: DateTime<Utc>,
}

impl PublicKeyEntry {
    /// An entry valid for the usual 30 days from `valid_from`.
    pub fn thirty_days(key: KeyId, valid_from: DateTime<Utc>) -> Self {
        PublicKeyEntry {
            key,
            valid_from,
            valid_to: valid_from + chrono::Duration::days(30),
        }
    }
}

/// Renders `public-keys.json` exactly as the AWS CLI prints `list-public-keys`
/// (4-space indentation, fields Value, ValidityStartTime, ValidityEndTime, Fingerprint,
/// trailing newline).
pub fn render_public_keys(ring: &KeyRing, entries: &[PublicKeyEntry], shape: PublicKeysShape) -> String {
    let time = |t: DateTime<Utc>| match shape {
        PublicKeysShape::V1 => Json::Num(format!("{}.0", t.timestamp())),
        PublicKeysShape::V2 => Json::Str(times::iso_offset(t)),
    };
    let list = entries
        .iter()
        .map(|e| {
            let k = ring.get(e.key);
            Json::obj([
                ("Value", Json::str(k.public_value())),
                ("ValidityStartTime", time(e.valid_from)),
                ("ValidityEndTime", time(e.valid_to)),
                ("Fingerprint", Json::str(k.fingerprint.clone())),
            ])
        })
        .collect();
    let mut s = Json::obj([("PublicKeyList", Json::Arr(list))]).pretty(4, false);
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_md5_of_pkcs1_der() {
        let ring = KeyRing::test_keys();
        for id in [KeyId::One, KeyId::Two] {
            let k = ring.get(id);
            // PKCS#1 RSAPublicKey DER of a 2048-bit key: SEQUENCE of 270 bytes.
            assert_eq!(&k.public_der[..4], &[0x30, 0x82, 0x01, 0x0a]);
            assert_eq!(k.fingerprint, hex::encode(Md5::digest(&k.public_der)));
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(k.public_value())
                .unwrap();
            assert_eq!(decoded, k.public_der);
        }
        assert_ne!(ring.get(KeyId::One).fingerprint, ring.get(KeyId::Two).fingerprint);
    }

    #[test]
    fn sign_and_verify() {
        let ring = KeyRing::test_keys();
        let k = ring.get(KeyId::One);
        let sig = k.sign(b"message");
        assert_eq!(sig.len(), 256);
        assert!(k.verify(b"message", &sig));
        assert!(!k.verify(b"messagf", &sig));
        assert!(!ring.get(KeyId::Two).verify(b"message", &sig));
        assert_eq!(sig, k.sign(b"message"), "PKCS#1 v1.5 signing is deterministic");
    }

    #[test]
    fn public_keys_v1_and_v2() {
        let ring = KeyRing::test_keys();
        let e = PublicKeyEntry::thirty_days(KeyId::One, times::utc(2026, 3, 1, 0, 0, 0));
        let v1 = render_public_keys(&ring, std::slice::from_ref(&e), PublicKeysShape::V1);
        assert!(v1.contains("\"ValidityStartTime\": 1772323200.0,\n"));
        assert!(v1.contains("\"ValidityEndTime\": 1774915200.0,\n"));
        assert!(v1.starts_with("{\n    \"PublicKeyList\": [\n        {\n            \"Value\": \""));
        let v2 = render_public_keys(&ring, &[e], PublicKeysShape::V2);
        assert!(v2.contains("\"ValidityStartTime\": \"2026-03-01T00:00:00+00:00\""));
        let parsed: serde_json::Value = serde_json::from_str(&v2).unwrap();
        assert_eq!(
            parsed["PublicKeyList"][0]["Fingerprint"],
            ring.get(KeyId::One).fingerprint
        );
    }
}
