//! Signing: Ed25519 keys in standard files, and the DSSE envelope that signs the
//! attestation.
//!
//! - Keys: the private key is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the public key
//!   SPKI PEM (`-----BEGIN PUBLIC KEY-----`); openssl, cosign and most tools read both.
//!   A key is named by its **key id**: the lower-case hex sha256 of the public key's
//!   SPKI DER, which anyone can compute
//!   (`openssl pkey -pubin -in KEY.pub -outform DER | sha256sum`).
//! - The envelope ([DSSE](https://github.com/secure-systems-lab/dsse/blob/master/envelope.md)):
//!   `{"payloadType": "application/vnd.in-toto+json", "payload": <base64 of the
//!   statement's bytes>, "signatures": [{"keyid": <key id>, "sig": <base64>}]}`, where
//!   each signature is Ed25519 over the DSSE pre-authentication encoding
//!   `PAE(payloadType, payload)`. The payload is attestation.json byte for byte.
//!
//! The private key never leaves [`SigningKey`]: it has no `Debug`, `Display` or
//! `Serialize`, its bytes are zeroed on drop, and errors about it never quote it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding as _};
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use serde::{Deserialize, Serialize};

use crate::{ReviewError, sha256_bytes};

/// The DSSE payload type of an in-toto Statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The signature algorithm, as report.json's `certification.signer.algorithm` names it.
pub const ALGORITHM: &str = "ed25519";
/// A key file is a few hundred bytes; anything much larger is not one.
const MAX_KEY_FILE: u64 = 16 * 1024;
/// An envelope holds one statement (a few KiB per hundred checks and evidence files).
pub const MAX_ENVELOPE: u64 = 64 * 1024 * 1024;

/// Why a key could not be read, made or used. Never quotes key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read`, `write`, …
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key is not what it should be; `what` names where it came from and what to do.
    #[error("{0}")]
    Invalid(String),
}

/// An Ed25519 private key. Deliberately neither printable nor serializable.
pub struct SigningKey(ed25519_dalek::SigningKey);

/// An Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl SigningKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut_slice())
            .map_err(|e| KeyError::Invalid(format!("the system's random source failed: {e}")))?;
        Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// A key from PKCS#8 PEM text; `origin` says where the text came from, for errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<SigningKey, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map(SigningKey)
            .map_err(|e| {
                KeyError::Invalid(format!(
                    "{origin} does not hold an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----): {e}; make one with `certify key generate NAME`"
                ))
            })
    }

    /// A key from a PKCS#8 PEM file. Refused when others than its owner may read it
    /// (as ssh does): a signing key others can read vouches for nothing.
    pub fn read(path: &Path) -> Result<SigningKey, KeyError> {
        let meta = std::fs::metadata(path).map_err(|source| KeyError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Invalid(format!(
                    "{} is readable by others than its owner (mode {:o}); a signing key must be private: `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                )));
            }
        }
        let text = read_small(path, meta.len())?;
        SigningKey::from_pem(&text, &path.display().to_string())
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Sign `payload` as a DSSE envelope of type [`PAYLOAD_TYPE`].
    pub fn sign_envelope(&self, payload: &[u8]) -> Envelope {
        let signature = self.0.sign(&pae(PAYLOAD_TYPE, payload));
        Envelope {
            payload_type: PAYLOAD_TYPE.into(),
            payload: Base64::encode_string(payload),
            signatures: vec![EnvelopeSignature {
                keyid: self.public().keyid(),
                sig: Base64::encode_string(&signature.to_bytes()),
            }],
        }
    }

    /// PKCS#8 v1 (the private key alone), as `openssl genpkey -algorithm ed25519`
    /// writes it: OpenSSL 3.0 does not read the v2 form with the public key inside.
    fn to_pem(&self) -> Result<zeroize::Zeroizing<String>, KeyError> {
        ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Invalid(format!("encoding the private key: {e}")))
    }
}

impl PublicKey {
    /// A key from SPKI PEM text; `origin` says where it came from, for errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<PublicKey, KeyError> {
        ed25519_dalek::VerifyingKey::from_public_key_pem(pem.trim())
            .map(PublicKey)
            .map_err(|e| {
                let hint = if pem.contains("PRIVATE KEY") {
                    " (this is a private key: give the .pub file, and keep the private key to yourself)"
                } else {
                    ""
                };
                KeyError::Invalid(format!(
                    "{origin} does not hold an Ed25519 public key in SPKI PEM (-----BEGIN PUBLIC KEY-----): {e}{hint}"
                ))
            })
    }

    /// A key from an SPKI PEM file.
    pub fn read(path: &Path) -> Result<PublicKey, KeyError> {
        let len = std::fs::metadata(path)
            .map_err(|source| KeyError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })?
            .len();
        let text = read_small(path, len)?;
        PublicKey::from_pem(&text, &path.display().to_string())
    }

    /// SPKI PEM text.
    pub fn to_pem(&self) -> String {
        // Encoding a valid key cannot fail.
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// The key id: lower-case hex sha256 of the SPKI DER encoding.
    pub fn keyid(&self) -> String {
        let der = self
            .0
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        sha256_bytes(&der)
    }

    /// Whether `signature` (raw 64 bytes) is this key's signature of `message`.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|sig| self.0.verify_strict(message, &sig).is_ok())
    }
}

fn read_small(path: &Path, len: u64) -> Result<String, KeyError> {
    if len > MAX_KEY_FILE {
        return Err(KeyError::Invalid(format!(
            "{} is {len} bytes: too large for a key file",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

/// The files `certify key generate NAME` writes.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// `NAME.key`: the private key, PKCS#8 PEM, mode 0600.
    pub private: PathBuf,
    /// `NAME.pub`: the public key, SPKI PEM.
    pub public: PathBuf,
    /// The key id.
    pub keyid: String,
}

/// Generate a key pair into `NAME.key` (private, 0600) and `NAME.pub`. Refuses to
/// overwrite either file.
pub fn generate_files(name: &Path) -> Result<KeyFiles, KeyError> {
    let with_ext = |ext: &str| {
        let mut s = name.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    let (private, public) = (with_ext(".key"), with_ext(".pub"));
    for path in [&private, &public] {
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::Invalid(format!(
                "{} already exists; choose another name (a key is never overwritten)",
                path.display()
            )));
        }
    }
    let key = SigningKey::generate()?;
    let pem = key.to_pem()?;
    write_new(&private, pem.as_bytes(), 0o600)?;
    write_new(&public, key.public().to_pem().as_bytes(), 0o644)?;
    Ok(KeyFiles {
        private,
        public,
        keyid: key.public().keyid(),
    })
}

/// Create `path` (never replacing a file) with `mode` from the start, so that the
/// private key is never readable by others, not even for a moment.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let io = |source| KeyError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// The DSSE pre-authentication encoding: what is actually signed.
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Always [`PAYLOAD_TYPE`] here.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The statement's bytes, base64 (standard alphabet, padded).
    pub payload: String,
    /// One signature per signer.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// The signer's key id (a hint: the signature is checked against the given keys).
    #[serde(default)]
    pub keyid: String,
    /// The Ed25519 signature over PAE(payloadType, payload), base64.
    pub sig: String,
}

/// What an envelope proved: the signed payload and the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The statement's bytes, as signed.
    pub payload: Vec<u8>,
    /// The key id of the given key whose signature verified.
    pub keyid: String,
}

impl Envelope {
    /// Parse an envelope file's bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("it is not a DSSE envelope ({e})"))
    }

    /// The envelope as written: one line of compact JSON and a newline, so the file is
    /// also a valid one-line `.intoto.jsonl` bundle.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The payload's bytes, whoever signed them.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, String> {
        Base64::decode_vec(&self.payload).map_err(|e| format!("its payload is not base64 ({e})"))
    }

    /// Check that one of `keys` signed this envelope; the error says why none did.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<Verified, String> {
        if self.payload_type != PAYLOAD_TYPE {
            return Err(format!(
                "its payloadType is {:?}, not {PAYLOAD_TYPE:?}",
                self.payload_type
            ));
        }
        let payload = self.payload_bytes()?;
        let message = pae(&self.payload_type, &payload);
        for s in &self.signatures {
            let Ok(sig) = Base64::decode_vec(&s.sig) else {
                continue;
            };
            if let Some(key) = keys.iter().find(|k| k.verifies(&message, &sig)) {
                return Ok(Verified {
                    payload,
                    keyid: key.keyid(),
                });
            }
        }
        let given: Vec<String> = keys.iter().map(PublicKey::keyid).collect();
        let claimed: Vec<&str> = self.signatures.iter().map(|s| s.keyid.as_str()).collect();
        Err(if self.signatures.is_empty() {
            "it carries no signature".into()
        } else if claimed.iter().any(|c| given.iter().any(|g| g == c)) {
            format!(
                "the signature by key {} does not verify: the statement was changed after it was signed, or the signature was forged",
                claimed.join(", ")
            )
        } else {
            format!(
                "it is signed by key {}, which is none of the keys given ({})",
                claimed.join(", "),
                given.join(", ")
            )
        })
    }
}

/// Sign `attestation.json` in `out_dir` and write the envelope beside it.
pub fn sign_out_dir(out_dir: &Path, key: &SigningKey) -> Result<Envelope, ReviewError> {
    let path = out_dir.join(crate::ATTESTATION_JSON);
    let statement = std::fs::read(&path).map_err(|e| ReviewError::io("read", &path, e))?;
    let envelope = key.sign_envelope(&statement);
    let path = out_dir.join(crate::ENVELOPE_JSON);
    crate::attest::write_atomically(&path, envelope.to_json().as_bytes())?;
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_dsse_encoding() {
        // The DSSE spec's own example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn a_signed_envelope_verifies_with_its_key_only() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let env = key.sign_envelope(b"{\"_type\":\"x\"}");
        assert_eq!(env.signatures[0].keyid, key.public().keyid());
        let ok = env.verify(&[other.public(), key.public()]).unwrap();
        assert_eq!(ok.payload, b"{\"_type\":\"x\"}");
        assert_eq!(ok.keyid, key.public().keyid());
        let err = env.verify(&[other.public()]).unwrap_err();
        assert!(err.contains("none of the keys given"), "{err}");
    }

    #[test]
    fn a_changed_payload_or_type_does_not_verify() {
        let key = SigningKey::generate().unwrap();
        let mut env = key.sign_envelope(b"{\"verdict\":\"not-certified\"}");
        env.payload = Base64::encode_string(b"{\"verdict\":\"certified\"}");
        let err = env.verify(&[key.public()]).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");

        let mut env = key.sign_envelope(b"{}");
        env.payload_type = "text/plain".into();
        assert!(env.verify(&[key.public()]).is_err());
    }

    #[test]
    fn a_claimed_keyid_does_not_make_a_signature() {
        let key = SigningKey::generate().unwrap();
        let forger = SigningKey::generate().unwrap();
        let mut env = forger.sign_envelope(b"{}");
        env.signatures[0].keyid = key.public().keyid();
        let err = env.verify(&[key.public()]).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");
    }

    /// The example keys of RFC 8410 (section 10.3), as openssl reads and writes them.
    const RFC8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    const RFC8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

    #[test]
    fn keys_are_the_standard_encodings_openssl_uses() {
        let key = SigningKey::from_pem(RFC8410_PRIVATE, "rfc").unwrap();
        let public = PublicKey::from_pem(RFC8410_PUBLIC, "rfc").unwrap();
        assert_eq!(key.public(), public);
        assert_eq!(public.to_pem(), RFC8410_PUBLIC);
        assert_eq!(key.to_pem().unwrap().as_str(), RFC8410_PRIVATE);
        // The key id is the sha256 of the SPKI DER (the PEM's base64 body).
        let der =
            Base64::decode_vec("MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=")
                .unwrap();
        assert_eq!(public.keyid(), sha256_bytes(&der));
    }

    #[test]
    fn key_files_are_standard_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate_files(&dir.path().join("ci")).unwrap();
        let private = std::fs::read_to_string(&files.private).unwrap();
        let public = std::fs::read_to_string(&files.public).unwrap();
        assert!(
            private.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAw"),
            "{private}"
        );
        assert!(
            public.starts_with("-----BEGIN PUBLIC KEY-----\n"),
            "{public}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&files.private)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let key = SigningKey::read(&files.private).unwrap();
        let public_key = PublicKey::read(&files.public).unwrap();
        assert_eq!(key.public(), public_key);
        assert_eq!(public_key.keyid(), files.keyid);

        let err = generate_files(&dir.path().join("ci"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&files.private).unwrap(), private);
    }

    #[cfg(unix)]
    #[test]
    fn a_private_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let files = generate_files(&dir.path().join("k")).unwrap();
        std::fs::set_permissions(&files.private, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SigningKey::read(&files.private).err().unwrap().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn errors_never_quote_the_key() {
        let key = SigningKey::generate().unwrap();
        let pem = key.to_pem().unwrap();
        // A damaged private key: the error must not repeat what it was given.
        let body_start = pem.find('\n').unwrap() + 1;
        let damaged = format!("{}MIIB{}", &pem[..body_start], &pem[body_start + 4..]);
        let err = SigningKey::from_pem(&damaged, "CERTIFY_SIGN_KEY")
            .err()
            .unwrap()
            .to_string();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!err.contains(&body), "{err}");
        assert!(err.contains("CERTIFY_SIGN_KEY"), "{err}");
        // A private key where a public one belongs.
        let err = PublicKey::from_pem(&pem, "k.key").unwrap_err().to_string();
        assert!(err.contains("this is a private key"), "{err}");
        assert!(!err.contains(&body), "{err}");
    }
}
