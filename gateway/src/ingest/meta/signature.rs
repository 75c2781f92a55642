//! `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body keyed
//! with the Meta app secret, checked over the exact bytes received before any
//! JSON is parsed. Every configured secret is tried (rotation), in constant
//! time and without stopping at the first match. A [`SignedBody`] exists only
//! when a signature matched.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::error::MetaError;

pub struct AppSecretVerifier {
    secrets: Vec<SecretString>,
}

/// A body whose `X-Hub-Signature-256` matched an app secret.
pub struct SignedBody(Bytes);

impl SignedBody {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl AppSecretVerifier {
    pub fn new(secrets: Vec<SecretString>) -> Self {
        Self { secrets }
    }

    pub fn verify(&self, body: Bytes, header: Option<&str>) -> Result<SignedBody, MetaError> {
        let presented = header.and_then(decode).ok_or(MetaError::InvalidSignature)?;
        let matched = self.secrets.iter().fold(false, |matched, secret| {
            matched | matches(secret.expose_secret().as_bytes(), &body, &presented)
        });
        if matched { Ok(SignedBody(body)) } else { Err(MetaError::InvalidSignature) }
    }
}

fn matches(secret: &[u8], body: &[u8], presented: &[u8]) -> bool {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else { return false };
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(presented).is_ok()
}

/// `sha256=` and 64 hex digits, either case.
fn decode(header: &str) -> Option<Vec<u8>> {
    let digits = header.trim().strip_prefix("sha256=")?;
    if digits.len() != 64 {
        return None;
    }
    hex::decode(digits).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "6f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    /// `python3 -c "import hmac,hashlib; print(hmac.new(SECRET, BODY, hashlib.sha256).hexdigest())"`
    const EXPECTED: &str = "45266309596fdbb3fd968da60a8613f24f9bef9db764b4f2b60db6f9bde44ad7";

    fn verifier(secrets: &[&str]) -> AppSecretVerifier {
        AppSecretVerifier::new(secrets.iter().map(|s| SecretString::from((*s).to_owned())).collect())
    }

    fn check(verifier: &AppSecretVerifier, body: &[u8], header: Option<&str>) -> bool {
        verifier.verify(Bytes::copy_from_slice(body), header).is_ok()
    }

    #[test]
    fn a_signature_computed_elsewhere_is_accepted() {
        let verifier = verifier(&[SECRET]);
        assert!(check(&verifier, BODY, Some(&format!("sha256={EXPECTED}"))));
        assert!(check(&verifier, BODY, Some(&format!("sha256={}", EXPECTED.to_uppercase()))));
    }

    #[test]
    fn any_listed_secret_is_accepted_during_rotation() {
        assert!(check(&verifier(&["old-secret-0000000000", SECRET]), BODY, Some(&format!("sha256={EXPECTED}"))));
        assert!(!check(&verifier(&["old-secret-0000000000"]), BODY, Some(&format!("sha256={EXPECTED}"))));
    }

    #[test]
    fn a_missing_prefix_a_changed_body_or_a_missing_header_is_refused() {
        let verifier = verifier(&[SECRET]);
        assert!(!check(&verifier, BODY, Some(EXPECTED)), "Meta always sends the sha256= prefix");
        assert!(!check(&verifier, b"{\"object\":\"whatsapp_business_account\",\"entry\":[] }", Some(&format!("sha256={EXPECTED}"))));
        assert!(!check(&verifier, BODY, Some("sha1=0123")));
        assert!(!check(&verifier, BODY, Some("sha256=zz")));
        assert!(!check(&verifier, BODY, None));
    }

    proptest! {
        #[test]
        fn only_the_exact_body_verifies(body in proptest::collection::vec(any::<u8>(), 0..200), flip in 0usize..200) {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("any key length");
            mac.update(&body);
            let header = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            let verifier = verifier(&[SECRET]);
            prop_assert!(check(&verifier, &body, Some(&header)));
            if !body.is_empty() {
                let mut tampered = body.clone();
                tampered[flip % body.len()] ^= 1;
                prop_assert!(!check(&verifier, &tampered, Some(&header)));
            }
        }
    }
}
