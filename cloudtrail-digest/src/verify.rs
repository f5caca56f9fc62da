//! Digest signatures: the string CloudTrail signs, RSA key loading and PKCS#1 v1.5
//! SHA-256 verification.

use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY};

/// An RSA public key, from PKCS#1 `RSAPublicKey` DER or SPKI DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

/// The DER bytes are not an RSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLoadError;

impl RsaPublicKey {
    /// Reads a PKCS#1 `RSAPublicKey` (what CloudTrail serves) or an SPKI
    /// `SubjectPublicKeyInfo` wrapping one. Bytes after the outer structure are ignored,
    /// as the reference's ASN.1 decoder ignores them.
    pub fn from_der(der: &[u8]) -> Result<RsaPublicKey, KeyLoadError> {
        let (outer, _trailing) = read_tlv(der, 0x30)?;
        // PKCS#1: SEQUENCE { INTEGER n, INTEGER e }
        if let Ok((n, rest)) = read_tlv(outer, 0x02) {
            let (e, _) = read_tlv(rest, 0x02)?;
            return RsaPublicKey::from_integers(n, e);
        }
        // SPKI: SEQUENCE { SEQUENCE { OID rsaEncryption, params }, BIT STRING { RSAPublicKey } }
        let (algorithm, rest) = read_tlv(outer, 0x30)?;
        let (oid, _) = read_tlv(algorithm, 0x06)?;
        const RSA_ENCRYPTION: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        if oid != RSA_ENCRYPTION {
            return Err(KeyLoadError);
        }
        let (bits, _) = read_tlv(rest, 0x03)?;
        match bits.split_first() {
            Some((0, inner)) => {
                let (seq, _) = read_tlv(inner, 0x30)?;
                let (n, rest) = read_tlv(seq, 0x02)?;
                let (e, _) = read_tlv(rest, 0x02)?;
                RsaPublicKey::from_integers(n, e)
            }
            _ => Err(KeyLoadError),
        }
    }

    fn from_integers(n: &[u8], e: &[u8]) -> Result<RsaPublicKey, KeyLoadError> {
        let unsigned = |v: &[u8]| -> Result<Vec<u8>, KeyLoadError> {
            if v.is_empty() || v[0] & 0x80 != 0 {
                return Err(KeyLoadError); // empty or negative
            }
            let first = v.iter().position(|&b| b != 0).ok_or(KeyLoadError)?;
            Ok(v[first..].to_vec())
        };
        Ok(RsaPublicKey {
            n: unsigned(n)?,
            e: unsigned(e)?,
        })
    }

    /// Modulus, big-endian, no leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// Public exponent, big-endian, no leading zeros.
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(
            &RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            message,
            signature,
        )
        .is_ok()
    }
}

/// One DER element with the expected tag: its contents and what follows it.
fn read_tlv(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), KeyLoadError> {
    let (&t, rest) = input.split_first().ok_or(KeyLoadError)?;
    if t != tag {
        return Err(KeyLoadError);
    }
    let (&first, rest) = rest.split_first().ok_or(KeyLoadError)?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return Err(KeyLoadError);
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[count..])
    };
    if rest.len() < len {
        return Err(KeyLoadError);
    }
    Ok(rest.split_at(len))
}

/// The string CloudTrail signs: end time, `bucket/object`, hex SHA-256 of the inflated
/// digest, and the previous signature (or `null`), joined by newlines.
pub fn string_to_sign(
    digest_end_time: &str,
    bucket: &str,
    object: &str,
    digest_sha256_hex: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{digest_end_time}\n{bucket}/{object}\n{digest_sha256_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// Every reason [`decode_signature_hex`] gives, in the reference's words (Python
/// `binascii.unhexlify`).
pub(crate) const HEX_ERRORS: [&str; 3] = [
    "string argument should contain only ASCII characters",
    "Odd-length string",
    "Non-hexadecimal digit found",
];

/// Decodes a hex signature, failing with the reference's words
/// (Python `binascii.unhexlify`) so that verdicts match it.
pub fn decode_signature_hex(text: &str) -> Result<Vec<u8>, &'static str> {
    if !text.is_ascii() {
        return Err(HEX_ERRORS[0]);
    }
    if !text.len().is_multiple_of(2) {
        return Err(HEX_ERRORS[1]);
    }
    hex::decode(text).map_err(|_| HEX_ERRORS[2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use rsa::{BigUint, Pkcs1v15Sign};
    use sha2::{Digest, Sha256};

    fn realdata_json(rel: &str) -> serde_json::Value {
        serde_json::from_slice(&crate::realdata::read(rel)).unwrap()
    }

    fn real_key(file: &str, list: &str, fingerprint: &str) -> RsaPublicKey {
        let doc = realdata_json(file);
        let entry = doc[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["Fingerprint"] == fingerprint)
            .unwrap()
            .clone();
        let der = base64::engine::general_purpose::STANDARD
            .decode(entry["Value"].as_str().unwrap())
            .unwrap();
        RsaPublicKey::from_der(&der).unwrap()
    }

    /// Checks a real signature over a known SHA-256 with our parse of the real key
    /// (ring verifies messages, not hashes, so the rsa crate does the arithmetic here).
    fn verifies_prehashed(key: &RsaPublicKey, hash_hex: &str, sig_hex: &str) -> bool {
        let public = rsa::RsaPublicKey::new(
            BigUint::from_bytes_be(key.modulus()),
            BigUint::from_bytes_be(key.exponent()),
        )
        .unwrap();
        public
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &hex::decode(hash_hex).unwrap(),
                &hex::decode(sig_hex).unwrap(),
            )
            .is_ok()
    }

    #[test]
    fn real_spki_key_verifies_real_user_guide_signatures() {
        let key = real_key(
            "aws-docs-sample-keys/list-public-keys_userguide-sample.json",
            "publicKeyList",
            "31e8b5433410dfb61a9dc45cc65b22ff",
        );
        assert_eq!(key.modulus().len(), 256);
        let sigs = realdata_json("aws-docs-sample-keys/userguide-sample-signatures.json");
        for s in sigs["signatures"].as_array().unwrap() {
            let hash = s["recovered_sha256_of_string_to_sign"].as_str().unwrap();
            let sig = s["signature_hex"].as_str().unwrap();
            assert!(verifies_prehashed(&key, hash, sig));
            let mut wrong = hex::decode(hash).unwrap();
            wrong[0] ^= 1;
            assert!(!verifies_prehashed(&key, &hex::encode(wrong), sig));
        }
    }

    #[test]
    fn real_pkcs1_key_verifies_a_real_digest_signature() {
        let doc = realdata_json("stackd-us-east-1-2026-09-22/digest_public_keys.json");
        let der = base64::engine::general_purpose::STANDARD
            .decode(doc["response"]["PublicKeyList"][0]["Value"].as_str().unwrap())
            .unwrap();
        let key = RsaPublicKey::from_der(&der).unwrap();
        let digest = realdata_json("stackd-us-east-1-2026-09-22/digest_starting.json");
        let sig = digest["metadata"]["Metadata"]["signature"].as_str().unwrap();
        assert!(verifies_prehashed(
            &key,
            "646c1de22673b2a9ee3249a43df66289e83296e2cc9f992aea9c4331ac69862a",
            sig
        ));
    }

    #[test]
    fn every_real_key_loads_in_either_encoding() {
        for (file, list) in [
            (
                "aws-docs-sample-keys/list-public-keys_userguide-sample.json",
                "publicKeyList",
            ),
            (
                "aws-docs-sample-keys/list-public-keys_aws-cli-example.json",
                "PublicKeyList",
            ),
        ] {
            for k in realdata_json(file)[list].as_array().unwrap() {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(k["Value"].as_str().unwrap())
                    .unwrap();
                let key = RsaPublicKey::from_der(&der).unwrap();
                assert_eq!(key.exponent(), [1, 0, 1]);
            }
        }
    }

    #[test]
    fn ring_verifies_what_the_test_key_signs_and_nothing_else() {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/keys/test-signing-key-1.pem"
        ))
        .unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&pem).unwrap();
        let public = private.to_public_key();
        let key = RsaPublicKey::from_integers(
            &[&[0u8][..], &public.n().to_bytes_be()].concat(),
            &public.e().to_bytes_be(),
        )
        .unwrap();
        let message = string_to_sign("2026-03-01T01:17:42Z", "b", "k.json.gz", &"ab".repeat(32), None);
        assert!(message.ends_with("\nnull") && !message.ends_with('\n'));
        let sig = private
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message.as_bytes()))
            .unwrap();
        assert!(key.verify(message.as_bytes(), &sig));
        assert!(!key.verify(b"other", &sig));
        assert!(!key.verify(message.as_bytes(), &sig[1..]));
    }

    #[test]
    fn garbage_keys_do_not_load() {
        for der in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x80",
            b"\x02\x01\x01",
            b"\x30\x84\xff\xff\xff\xff",
        ] {
            assert_eq!(RsaPublicKey::from_der(der), Err(KeyLoadError), "{der:?}");
        }
    }

    #[test]
    fn hex_errors_use_the_reference_words() {
        assert_eq!(decode_signature_hex("abc"), Err("Odd-length string"));
        assert_eq!(decode_signature_hex("zz12"), Err("Non-hexadecimal digit found"));
        assert_eq!(
            decode_signature_hex("é1"),
            Err("string argument should contain only ASCII characters")
        );
        assert_eq!(decode_signature_hex("0aFF"), Ok(vec![10, 255]));
    }
}
