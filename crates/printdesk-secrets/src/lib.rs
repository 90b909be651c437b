//! # printdesk-secrets
//!
//! Also [`Argon2Crypto`], the domain's `AccessCrypto`: passwords hashed with Argon2id, random
//! session ids and tokens, their SHA-256 digests (see the `passwords` module).
//!
//! The [`SecretSealer`] adapter: printer connection secrets (access codes, API keys,
//! passwords) sealed with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) under a 32-byte
//! key kept in a file outside the database, so that a copy of the database alone reveals no
//! secret.
//!
//! - The key file holds the key as 64 hex digits. [`KeyFileSealer::open_or_create`] creates it
//!   with fresh random bytes (mode 0600) when it does not exist yet.
//! - Where it is: the file named by `PRINTDESK_SECRET_KEY_FILE` / `--secret-key-file`, else
//!   [`default_key_path`]: beside an SQLite database (`printdesk.db` → `printdesk.key`), or
//!   `printdesk.key` in the working directory for PostgreSQL. Several instances on one
//!   PostgreSQL database must be given the same key file.
//! - Each seal uses a fresh random 24-byte nonce; the sealed bytes are
//!   `version (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`.
//!
//! ```
//! use printdesk_domain::{Secret, SecretSealer};
//! use printdesk_secrets::KeyFileSealer;
//!
//! let sealer = KeyFileSealer::from_key([7; 32]);
//! let sealed = sealer.seal(&Secret::parse("access_code", "AC-90417").unwrap()).unwrap();
//! assert!(!sealed.as_bytes().windows(8).any(|w| w == b"AC-90417"));
//! assert_eq!(sealer.open(&sealed).unwrap().expose(), "AC-90417");
//! ```

mod passwords;

pub use passwords::{Argon2Crypto, Argon2Params, MAX_CONCURRENT_HASHES};

use std::{
    fmt,
    fs::OpenOptions,
    io::{self, Write},
    path::{Path, PathBuf},
};

use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Generate, Payload},
};
use printdesk_domain::{SealError, SealedSecret, Secret, SecretSealer};

/// The environment variable naming the key file.
pub const KEY_FILE_VAR: &str = "PRINTDESK_SECRET_KEY_FILE";

/// The key file's name when none is given.
pub const DEFAULT_KEY_FILE: &str = "printdesk.key";

/// The first byte of every sealed secret: the format, so a later one can be told apart.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
/// Binds every ciphertext to its purpose: bytes sealed for something else do not open here.
const ASSOCIATED_DATA: &[u8] = b"printdesk printer secret v1";

/// Where the key lives when no file is named: beside the SQLite database file (same name,
/// extension `.key`), or [`DEFAULT_KEY_FILE`] in the working directory (PostgreSQL).
///
/// ```
/// use std::path::Path;
/// use printdesk_secrets::default_key_path;
/// assert_eq!(default_key_path(Some(Path::new("/var/lib/printdesk/printdesk.db"))),
///            Path::new("/var/lib/printdesk/printdesk.key"));
/// assert_eq!(default_key_path(None), Path::new("printdesk.key"));
/// ```
pub fn default_key_path(sqlite_database: Option<&Path>) -> PathBuf {
    match sqlite_database {
        Some(db) => db.with_extension("key"),
        None => PathBuf::from(DEFAULT_KEY_FILE),
    }
}

/// Why the key file could not be used. Never contains the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or creating the file failed.
    #[error("cannot use the secret key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The file does not hold a key.
    #[error("the secret key file {path} does not hold a key (64 hex digits expected)")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
}

/// Seals and opens secrets with XChaCha20-Poly1305 under one key.
pub struct KeyFileSealer {
    cipher: XChaCha20Poly1305,
    /// Where the key came from, for messages (`None`: given directly).
    path: Option<PathBuf>,
}

impl fmt::Debug for KeyFileSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFileSealer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KeyFileSealer {
    /// A sealer with this key (tests, or a key from elsewhere).
    pub fn from_key(key: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
            path: None,
        }
    }

    /// Reads the key from `path`, creating the file with a fresh random key (readable by its
    /// owner only) when it does not exist. Returns the sealer and whether the file was
    /// created.
    pub fn open_or_create(path: &Path) -> Result<(Self, bool), KeyFileError> {
        let io = |source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        };
        let created = match create_key_file(path) {
            Ok(()) => true,
            // Someone (an earlier run, or another process starting now) made it first.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io(e)),
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let key = parse_hex_key(text.trim()).ok_or_else(|| KeyFileError::Malformed {
            path: path.to_owned(),
        })?;
        Ok((
            Self {
                path: Some(path.to_owned()),
                ..Self::from_key(key)
            },
            created,
        ))
    }

    /// The key file this sealer read, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

fn create_key_file(path: &Path) -> io::Result<()> {
    let key: [u8; 32] = Generate::try_generate()
        .map_err(|e| io::Error::other(format!("no random bytes for a new key: {e}")))?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let mut hex = to_hex(&key);
    hex.push('\n');
    file.write_all(hex.as_bytes())?;
    file.sync_all()
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn parse_hex_key(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

impl SecretSealer for KeyFileSealer {
    fn seal(&self, secret: &Secret) -> Result<SealedSecret, SealError> {
        let nonce = XNonce::try_generate()
            .map_err(|e| SealError::Failed(format!("no random bytes for a nonce: {e}")))?;
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: ASSOCIATED_DATA,
                },
            )
            .map_err(|_| SealError::Failed("encryption failed".into()))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(nonce.as_slice());
        sealed.extend_from_slice(&ciphertext);
        Ok(SealedSecret::from_bytes(sealed))
    }

    fn open(&self, sealed: &SealedSecret) -> Result<Secret, SealError> {
        let bytes = sealed.as_bytes();
        let Some((&FORMAT_V1, rest)) = bytes.split_first() else {
            return Err(SealError::WrongKey);
        };
        if rest.len() < NONCE_LEN {
            return Err(SealError::WrongKey);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::WrongKey)?;
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: ASSOCIATED_DATA,
                },
            )
            .map_err(|_| SealError::WrongKey)?;
        let plain = String::from_utf8(plain).map_err(|_| SealError::WrongKey)?;
        Ok(Secret::from_opened(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::parse("api_key", s).unwrap()
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "printdesk-secrets-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_shows_nothing_of_itself() {
        let sealer = KeyFileSealer::from_key([1; 32]);
        let a = sealer.seal(&secret("OCTO-KEY-1")).unwrap();
        let b = sealer.seal(&secret("OCTO-KEY-1")).unwrap();
        assert_ne!(a, b, "a fresh nonce for every seal");
        for sealed in [&a, &b] {
            assert!(!sealed.as_bytes().windows(10).any(|w| w == b"OCTO-KEY-1"));
            assert_eq!(sealer.open(sealed).unwrap().expose(), "OCTO-KEY-1");
        }
    }

    #[test]
    fn another_key_or_damaged_bytes_do_not_open() {
        let sealed = KeyFileSealer::from_key([1; 32])
            .seal(&secret("pw"))
            .unwrap();
        let other = KeyFileSealer::from_key([2; 32]);
        assert_eq!(other.open(&sealed), Err(SealError::WrongKey));

        let sealer = KeyFileSealer::from_key([1; 32]);
        let mut damaged = sealed.as_bytes().to_vec();
        *damaged.last_mut().unwrap() ^= 1;
        for bytes in [damaged, vec![], vec![FORMAT_V1; 10], b"pw".to_vec()] {
            assert_eq!(
                sealer.open(&SealedSecret::from_bytes(bytes)),
                Err(SealError::WrongKey)
            );
        }
    }

    #[test]
    fn the_key_file_is_created_once_owner_only_and_read_back() {
        let dir = temp_dir();
        let path = dir.join("printdesk.key");
        let (first, created) = KeyFileSealer::open_or_create(&path).unwrap();
        assert!(created);
        let sealed = first.seal(&secret("AC-90417")).unwrap();
        let (second, created) = KeyFileSealer::open_or_create(&path).unwrap();
        assert!(!created, "an existing key is kept");
        assert_eq!(second.open(&sealed).unwrap().expose(), "AC-90417");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{second:?}").contains(text.trim()));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_without_a_key_or_in_a_missing_directory_is_refused() {
        let dir = temp_dir();
        let path = dir.join("bad.key");
        std::fs::write(&path, "not a key\n").unwrap();
        assert!(matches!(
            KeyFileSealer::open_or_create(&path),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            KeyFileSealer::open_or_create(&dir.join("missing/printdesk.key")),
            Err(KeyFileError::Io { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
