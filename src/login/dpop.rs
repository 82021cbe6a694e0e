//! The DPoP key and proofs of a console sign-in (RFC 9449, as AWS Sign-In takes them): one
//! P-256 key per sign-in, kept in the cache file as SEC1 PEM (`EC PRIVATE KEY`, what the AWS
//! CLI writes and the only form the Rust and JavaScript SDKs read); a fresh ES256 proof per
//! token request, binding it to the key.
//!
//! Ours, not the SDK's: aws-config builds the same proof, but its types are private to it,
//! and aws-sdk-signin leaves the header to the caller. The JWT is four fields, signed with
//! the p256 crate.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, LineEnding};
use p256::{EncodedPoint, SecretKey};

use crate::credentials::Secret;
use crate::error::{Error, Result};

/// A sign-in's key.
pub struct DpopKey(SecretKey);

impl DpopKey {
    /// A new key from the OS's random source.
    pub fn generate() -> Result<DpopKey> {
        for _ in 0..8 {
            let mut bytes = [0u8; 32];
            if !crate::platform::random_bytes(&mut bytes) {
                return Err(Error::unexpected("cannot read random bytes from the OS for the sign-in key"));
            }
            // A scalar of zero or above the group order is no key: take another (chance 2^-32).
            if let Ok(key) = SecretKey::from_slice(&bytes) {
                return Ok(DpopKey(key));
            }
        }
        Err(Error::unexpected("cannot make a P-256 key from the OS's random bytes"))
    }

    /// Reads the key of a cache file: SEC1 (`EC PRIVATE KEY`, what the AWS CLI writes), or
    /// PKCS#8 (`PRIVATE KEY`, which botocore also reads).
    pub fn from_pem(pem: &str) -> Result<DpopKey> {
        // aws-config tolerates a key written with literal `\n`s; so do we.
        let pem = pem.replace("\\n", "\n");
        SecretKey::from_sec1_pem(&pem)
            .or_else(|_| SecretKey::from_pkcs8_pem(&pem))
            .map(DpopKey)
            .map_err(|_| Error::config("the sign-in's DPoP key (dpopKey) is not a P-256 private key in PEM"))
    }

    /// The key as the AWS CLI writes it: SEC1 PEM with the curve's OID and the public key
    /// (OpenSSL's form), 64 columns, a final newline. Not p256's `to_sec1_pem`, which leaves
    /// the curve out: OpenSSL and awscrt (botocore's reader of the file) refuse that.
    pub fn to_pem(&self) -> Result<Secret> {
        use p256::pkcs8::AssociatedOid;
        use sec1::der::EncodePem;
        let private = self.0.to_bytes();
        let public = EncodedPoint::from(self.0.public_key());
        sec1::EcPrivateKey {
            private_key: &private,
            parameters: Some(sec1::EcParameters::NamedCurve(p256::NistP256::OID)),
            public_key: Some(public.as_bytes()),
        }
        .to_pem(LineEnding::LF)
        .map(Secret::new)
        .map_err(|e| Error::unexpected(format!("cannot write the sign-in key as PEM: {e}")))
    }

    /// A proof for one POST to `url` (the token endpoint, as the request goes out), at `iat`
    /// (Unix seconds), with `jti` (unique per proof).
    pub fn proof(&self, url: &str, iat: i64, jti: &str) -> String {
        let point = EncodedPoint::from(self.0.public_key());
        let coordinate = |c: Option<&p256::FieldBytes>| c.map(|b| URL_SAFE_NO_PAD.encode(b)).unwrap_or_default();
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": { "kty": "EC", "x": coordinate(point.x()), "y": coordinate(point.y()), "crv": "P-256" },
        });
        let claims = serde_json::json!({ "htm": "POST", "htu": url, "iat": iat, "jti": jti });
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        // ES256: ECDSA P-256 over SHA-256, the signature as the raw r||s JWS wants.
        let signature: Signature = SigningKey::from(&self.0).sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// A random UUID (version 4) in its usual form: `state` and `jti` values, as the AWS CLI
/// makes them (sixteen random bytes with the version and variant bits set need no crate).
pub fn uuid_v4() -> Result<String> {
    let mut b = [0u8; 16];
    if !crate::platform::random_bytes(&mut b) {
        return Err(Error::unexpected("cannot read random bytes from the OS"));
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    /// aws-config's test key, with the coordinates its tests expect.
    const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBMB/RwQERsVoqWRQG4zK8CnaAa5dfrpbm+9tFdBh3z4oAoGCCqGSM49\nAwEHoUQDQgAEWb1VLi1EA2hJaTz4yYuxSELvY+1GAfL+8rUTCAdiFid87Bf6GY+s\n2+1RpqDv0RpZiDIMCrZrsAh+RK9S3QCaGA==\n-----END EC PRIVATE KEY-----\n";

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(i).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn a_proof_carries_the_key_and_the_claims_and_verifies_with_that_key() {
        let key = DpopKey::from_pem(KEY).unwrap();
        let jwt = key.proof("https://us-east-1.signin.aws.amazon.com/v1/token", 1_700_000_000, "id-1");
        let header = part(&jwt, 0);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["x"], "Wb1VLi1EA2hJaTz4yYuxSELvY-1GAfL-8rUTCAdiFic");
        assert_eq!(header["jwk"]["y"], "fOwX-hmPrNvtUaag79EaWYgyDAq2a7AIfkSvUt0Amhg");
        let claims = part(&jwt, 1);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://us-east-1.signin.aws.amazon.com/v1/token");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["jti"], "id-1");
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        let public = VerifyingKey::from(&SigningKey::from(&key.0));
        assert!(public.verify(input.as_bytes(), &sig).is_ok());
    }

    #[test]
    fn a_key_round_trips_through_the_pem_the_aws_cli_writes() {
        let key = DpopKey::generate().unwrap();
        let pem = key.to_pem().unwrap();
        assert!(pem.expose().starts_with("-----BEGIN EC PRIVATE KEY-----\n") && pem.expose().ends_with("-----\n"));
        let again = DpopKey::from_pem(pem.expose()).unwrap();
        assert_eq!(again.0.to_bytes(), key.0.to_bytes());
        assert!(DpopKey::from_pem("not a key").is_err());
    }

    #[test]
    fn the_pem_is_openssls_with_the_curve_named_byte_for_byte() {
        // KEY is what OpenSSL (and so the AWS CLI) writes; p256's own SEC1 drops the curve's
        // OID, and botocore (awscrt) then cannot read the file.
        assert_eq!(DpopKey::from_pem(KEY).unwrap().to_pem().unwrap().expose(), KEY);
    }

    #[test]
    fn uuids_have_the_version_4_shape() {
        let id = uuid_v4().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!("89ab".contains(&id[19..20]));
        assert_ne!(id, uuid_v4().unwrap());
    }
}
