//! [`AccessCrypto`] for real: passwords hashed with Argon2id (RustCrypto's `argon2`), random
//! secrets from the operating system, SHA-256 digests of bearer secrets.
//!
//! Password hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`): each
//! carries its own parameters and 16-byte random salt, so a change of parameters applies to
//! new passwords and every stored one still verifies. Hashing runs on tokio's blocking pool,
//! at most [`MAX_CONCURRENT_HASHES`] at a time, so a burst of sign-ins neither stalls the
//! async threads nor takes more than that many times the memory cost.
//!
//! Sessions and tokens are 256-bit random secrets, so a fast digest is enough to store them
//! (nobody can guess one to check against it); passwords are not, hence Argon2id.

use std::{fmt, sync::Arc};

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use async_trait::async_trait;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use printdesk_domain::access::{
    AccessCrypto, BearerSecret, CryptoError, Password, PasswordHash, SecretDigest,
};
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};

/// How many passwords are hashed at once at most.
pub const MAX_CONCURRENT_HASHES: usize = 4;

/// Random bytes in a session id or token: 256 bits.
const SECRET_BYTES: usize = 32;

/// Argon2id's cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's first recommendation for Argon2id: 19 MiB, 2 passes, 1 lane (about 25 ms on
    /// one core of a small server).
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl Argon2Params {
    fn params(self) -> Result<Params, argon2::Error> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
    }

    /// Whether Argon2 accepts these (memory at least 8 KiB per lane, at least one pass and
    /// one lane); the error says what is wrong.
    pub fn check(self) -> Result<Self, String> {
        self.params().map(|_| self).map_err(|e| e.to_string())
    }
}

impl fmt::Display for Argon2Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "m={},t={},p={}",
            self.memory_kib, self.iterations, self.parallelism
        )
    }
}

/// The [`AccessCrypto`] adapter. Cheap to clone.
#[derive(Clone)]
pub struct Argon2Crypto {
    params: Argon2Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password with the current parameters: what an unknown user's
    /// password is checked against, so that it costs the same. Made on the first password
    /// check of any kind (so that the first check is slower whether or not the user exists,
    /// and a server that never sees a sign-in never pays for it).
    dummy: Arc<OnceCell<String>>,
}

impl fmt::Debug for Argon2Crypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2Crypto")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Argon2Crypto {
    /// Hashes with `params` (see [`Argon2Params::check`]).
    pub fn new(params: Argon2Params) -> Result<Self, String> {
        params.check()?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_HASHES)),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    /// The parameters new hashes get.
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    fn hasher(params: Argon2Params) -> Result<Argon2<'static>, CryptoError> {
        let params = params
            .params()
            .map_err(|e| CryptoError(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Runs hashing work on the blocking pool, within the concurrency limit.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, CryptoError> + Send + 'static,
    ) -> Result<T, CryptoError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| CryptoError(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| CryptoError(format!("hashing task failed: {e}")))?
    }

    fn hash_now(params: Argon2Params, password: &str) -> Result<String, CryptoError> {
        Self::hasher(params)?
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| CryptoError(format!("cannot hash a password: {e}")))
    }

    async fn dummy_hash(&self) -> Result<String, CryptoError> {
        let params = self.params;
        self.dummy
            .get_or_try_init(|| async move {
                let random = URL_SAFE_NO_PAD.encode(random_bytes()?);
                tokio::task::spawn_blocking(move || Self::hash_now(params, &random))
                    .await
                    .map_err(|e| CryptoError(format!("hashing task failed: {e}")))?
            })
            .await
            .cloned()
    }
}

fn random_bytes() -> Result<[u8; SECRET_BYTES], CryptoError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| CryptoError(format!("no randomness: {e}")))?;
    Ok(bytes)
}

#[async_trait]
impl AccessCrypto for Argon2Crypto {
    async fn hash_password(&self, password: &Password) -> Result<PasswordHash, CryptoError> {
        let params = self.params;
        let password = password.expose().to_owned();
        let hash = self
            .blocking(move || Self::hash_now(params, &password))
            .await?;
        Ok(PasswordHash::new(hash))
    }

    async fn verify_password(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, CryptoError> {
        let dummy = self.dummy_hash().await?;
        let (hash, known) = match stored {
            Some(hash) => (hash.as_str().to_owned(), true),
            None => (dummy, false),
        };
        let params = self.params;
        let password = password.expose().to_owned();
        self.blocking(move || {
            // The stored hash's own parameters apply; those given here only build the hasher.
            let matches = Self::hasher(params)?
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok();
            Ok(matches && known)
        })
        .await
    }

    fn new_secret(&self, prefix: &str) -> Result<BearerSecret, CryptoError> {
        Ok(BearerSecret::new(format!(
            "{prefix}{}",
            URL_SAFE_NO_PAD.encode(random_bytes()?)
        )))
    }

    fn digest(&self, secret: &str) -> SecretDigest {
        SecretDigest::from_bytes(Sha256::digest(secret.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: these tests check behaviour, not cost.
    fn crypto() -> Argon2Crypto {
        Argon2Crypto::new(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let crypto = crypto();
        let password = Password::new("correct horse battery").unwrap();
        let hash = crypto.hash_password(&password).await.unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
            "{}",
            hash.as_str()
        );
        assert!(!hash.as_str().contains("correct horse"));
        let again = crypto.hash_password(&password).await.unwrap();
        assert_ne!(hash, again, "a fresh salt each time");

        assert!(
            crypto
                .verify_password(&password, Some(&hash))
                .await
                .unwrap()
        );
        let wrong = Password::presented("correct horse battery!");
        assert!(!crypto.verify_password(&wrong, Some(&hash)).await.unwrap());
        // An unknown user: never a match, even with the dummy's own (unknown) password.
        assert!(!crypto.verify_password(&password, None).await.unwrap());
        let garbage = PasswordHash::new("not a hash".into());
        assert!(
            !crypto
                .verify_password(&password, Some(&garbage))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn stored_hashes_keep_their_parameters() {
        let old = crypto()
            .hash_password(&Password::new("p4ssw0rd!").unwrap())
            .await
            .unwrap();
        let stronger = Argon2Crypto::new(Argon2Params {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        let password = Password::presented("p4ssw0rd!");
        assert!(
            stronger
                .verify_password(&password, Some(&old))
                .await
                .unwrap()
        );
    }

    #[test]
    fn secrets_are_long_random_and_url_safe_and_digests_are_sha256() {
        let crypto = crypto();
        let a = crypto.new_secret("pd_").unwrap();
        let b = crypto.new_secret("pd_").unwrap();
        assert_ne!(a, b);
        let body = a.expose().strip_prefix("pd_").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
        assert!(
            body.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(
            crypto.digest("").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(format!("{a:?}"), "BearerSecret(..)");
    }

    #[test]
    fn parameters_are_checked_and_the_default_is_owasps() {
        assert_eq!(
            Argon2Params::default(),
            Argon2Params {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1
            }
        );
        assert!(
            Argon2Params {
                memory_kib: 4,
                iterations: 1,
                parallelism: 1
            }
            .check()
            .is_err()
        );
        assert!(
            Argon2Params {
                memory_kib: 64,
                iterations: 0,
                parallelism: 1
            }
            .check()
            .is_err()
        );
    }
}
