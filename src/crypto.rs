//! Encryption at rest for personal data (contact details): AES-256-GCM under a data key.
//!
//! Each sealed value records the id of the key that sealed it (a digest of the key, so a wrong
//! key is recognised as such rather than read as garbage), a fresh 96-bit nonce, and is bound to
//! where it belongs (the participant and the field, as associated data), so a ciphertext copied
//! into another row does not open. The current key seals; earlier keys, named in
//! `COPRODUCE_DATA_KEY_PREVIOUS`, still open what they sealed until `coproduce rotate-data-key`
//! has re-sealed it under the current key.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::error::AppError;

const KEY_FILE: &str = "data-key";
const PREVIOUS_KEYS_FILE: &str = "data-key.previous";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// One value as stored: which key sealed it, its nonce and the ciphertext (with its tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

struct DataKey {
    id: String,
    cipher: Aes256Gcm,
}

impl DataKey {
    fn parse(text: &str, what: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).ok()
        };
        let Some(bytes) = bytes.and_then(|b| <[u8; KEY_BYTES]>::try_from(b).ok()) else {
            bail!("{what} must be {KEY_BYTES} random bytes, written in base64 or hex (`openssl rand -base64 32` makes one)");
        };
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"coproduce data key\0")
            .chain_update(bytes)
            .finalize();
        Self {
            id: hex::encode(&digest[..8]),
            cipher: Aes256Gcm::new(&(*bytes).into()),
        }
    }
}

/// The data keys of this instance: the current one and any still being rotated away from.
pub struct DataKeys {
    current: DataKey,
    previous: Vec<DataKey>,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeys")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl DataKeys {
    /// The keys from the settings. `embedded` is true on SQLite: with no key configured, one is
    /// generated once into the data folder (like the token secret), and keys rotated away from
    /// are kept beside it. On PostgreSQL the key is required: instances must share it.
    pub fn from_settings(
        key: Option<&Secret>,
        previous: &[Secret],
        data_dir: &Path,
        embedded: bool,
    ) -> anyhow::Result<Self> {
        let mut previous_keys = previous
            .iter()
            .map(|k| DataKey::parse(k.expose(), "each of COPRODUCE_DATA_KEY_PREVIOUS"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let current = match key {
            Some(k) => DataKey::parse(k.expose(), "COPRODUCE_DATA_KEY")?,
            None if embedded => {
                let path = data_dir.join(PREVIOUS_KEYS_FILE);
                if path.exists() {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    for line in text.lines().filter(|l| !l.trim().is_empty()) {
                        previous_keys.push(DataKey::parse(line, "each line of the previous keys file")?);
                    }
                }
                load_or_create_key(data_dir)?
            }
            None => bail!(
                "COPRODUCE_DATA_KEY must be set when running on PostgreSQL: every instance seals personal data with it (`openssl rand -base64 32` makes one)"
            ),
        };
        previous_keys.retain(|k| k.id != current.id);
        Ok(Self {
            current,
            previous: previous_keys,
        })
    }

    /// Keys made from raw bytes, for tests.
    pub fn from_bytes(current: &[u8; KEY_BYTES]) -> Self {
        Self {
            current: DataKey::from_bytes(current),
            previous: Vec::new(),
        }
    }

    /// The id of the key that seals new values.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// True when a value sealed under this key id can be opened here.
    pub fn knows(&self, key_id: &str) -> bool {
        self.key(key_id).is_some()
    }

    fn key(&self, key_id: &str) -> Option<&DataKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
    }

    /// Seals a value under the current key, bound to `context` (where it belongs).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Sealed, AppError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| AppError::internal("a value could not be encrypted"))?;
        Ok(Sealed {
            key_id: self.current.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens a sealed value. A value sealed under a key this instance does not have, altered,
    /// or moved to another `context`, is an error, never garbage.
    pub fn open(&self, sealed: &Sealed, context: &[u8]) -> Result<Vec<u8>, AppError> {
        let key = self.key(&sealed.key_id).ok_or_else(|| {
            AppError::internal(format!(
                "a value is sealed under data key {}, which this instance does not have",
                sealed.key_id
            ))
        })?;
        let nonce = <[u8; NONCE_BYTES]>::try_from(sealed.nonce.as_slice())
            .map_err(|_| AppError::internal("a sealed value has a malformed nonce"))?;
        key.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| AppError::internal("a sealed value did not open: altered or misplaced"))
    }
}

fn load_or_create_key(data_dir: &Path) -> anyhow::Result<DataKey> {
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return DataKey::parse(&text, &format!("the data key in {}", path.display()));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let text = new_key_text();
    crate::auth::write_private(&path, text.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a data key for personal data at rest");
    DataKey::parse(&text, "the generated data key")
}

/// A new random key, in base64.
pub fn new_key_text() -> String {
    let mut bytes = [0u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Embedded mode's rotation: a new key file, the old key kept in the previous-keys file so the
/// values it sealed still open until they are re-sealed. Returns the new key's id.
pub fn rotate_key_file(data_dir: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    let path = data_dir.join(KEY_FILE);
    let old = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    DataKey::parse(&old, &format!("the data key in {}", path.display()))?;
    let previous = data_dir.join(PREVIOUS_KEYS_FILE);
    if !previous.exists() {
        crate::auth::write_private(&previous, b"")?;
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&previous)
        .with_context(|| format!("cannot write {}", previous.display()))?;
    writeln!(file, "{}", old.trim())?;
    let text = new_key_text();
    let fresh = data_dir.join(format!("{KEY_FILE}.new"));
    let _ = std::fs::remove_file(&fresh);
    crate::auth::write_private(&fresh, text.as_bytes())?;
    std::fs::rename(&fresh, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(DataKey::parse(&text, "the new data key")?.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_its_context() {
        let keys = DataKeys::from_bytes(&[7; 32]);
        let sealed = keys.seal(b"ada@example.org", b"p1/email").expect("seal");
        assert_eq!(sealed.key_id, keys.current_id());
        assert!(!sealed.ciphertext.windows(3).any(|w| w == b"ada"));
        assert_eq!(
            keys.open(&sealed, b"p1/email").expect("open"),
            b"ada@example.org"
        );
        assert!(
            keys.open(&sealed, b"p2/email").is_err(),
            "moved to another row"
        );
        let other = DataKeys::from_bytes(&[8; 32]);
        assert!(other.open(&sealed, b"p1/email").is_err(), "another key");
        let mut altered = sealed.clone();
        altered.ciphertext[0] ^= 1;
        assert!(keys.open(&altered, b"p1/email").is_err(), "altered");
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let keys = DataKeys::from_bytes(&[7; 32]);
        let a = keys.seal(b"same", b"c").expect("seal");
        let b = keys.seal(b"same", b"c").expect("seal");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn keys_are_read_from_base64_or_hex_and_a_short_one_is_refused() {
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        let hex = hex::encode([1u8; 32]);
        let a = DataKey::parse(&b64, "k").expect("base64");
        let b = DataKey::parse(&hex, "k").expect("hex");
        assert_eq!(a.id, b.id);
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert!(DataKey::parse(&short, "k").is_err());
        assert!(DataKey::parse("not a key", "k").is_err());
    }

    #[test]
    fn a_previous_key_still_opens_what_it_sealed() {
        let dir = tempfile::tempdir().expect("dir");
        let old = Secret::new(base64::engine::general_purpose::STANDARD.encode([1u8; 32]));
        let new = Secret::new(base64::engine::general_purpose::STANDARD.encode([2u8; 32]));
        let before = DataKeys::from_settings(Some(&old), &[], dir.path(), false).expect("keys");
        let sealed = before.seal(b"07700 900123", b"c").expect("seal");
        let after = DataKeys::from_settings(Some(&new), &[old], dir.path(), false).expect("keys");
        assert_ne!(after.current_id(), sealed.key_id);
        assert!(after.knows(&sealed.key_id));
        assert_eq!(after.open(&sealed, b"c").expect("open"), b"07700 900123");
    }

    #[test]
    fn postgres_needs_a_configured_key_and_embedded_mode_makes_one_once() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(DataKeys::from_settings(None, &[], dir.path(), false).is_err());
        let first = DataKeys::from_settings(None, &[], dir.path(), true).expect("made");
        let again = DataKeys::from_settings(None, &[], dir.path(), true).expect("read");
        assert_eq!(first.current_id(), again.current_id());
        let sealed = first.seal(b"x", b"c").expect("seal");
        let new_id = rotate_key_file(dir.path()).expect("rotated");
        let rotated = DataKeys::from_settings(None, &[], dir.path(), true).expect("read");
        assert_eq!(rotated.current_id(), new_id);
        assert_eq!(rotated.open(&sealed, b"c").expect("old key kept"), b"x");
    }
}
