//! In-memory adapters for the access ports, keeping the same promises as the real store.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
};

use async_trait::async_trait;

use super::{
    credential::{
        ApiToken, BearerSecret, FailureCount, PasswordHash, SecretDigest, Session, ThrottleKey,
        TokenId,
    },
    edit::UserChanges,
    errors::{CreateTokenError, CreateUserError, CryptoError, DeleteUserError, UpdateUserError},
    ports::{AccessCrypto, AccessStore, FailureUpdate, Purge, UserDeletion, UserUpdate},
    role::Role,
    user::{Password, User, UserId, Username},
};
use crate::{clock::Timestamp, errors::StoreError};

#[derive(Debug, Default)]
struct State {
    users: BTreeMap<Username, (User, PasswordHash)>,
    sessions: BTreeMap<[u8; 32], Session>,
    tokens: BTreeMap<[u8; 32], ApiToken>,
    failures: BTreeMap<ThrottleKey, FailureCount>,
}

impl State {
    fn user(&self, id: &UserId) -> Option<&User> {
        self.users.values().map(|(u, _)| u).find(|u| u.id == *id)
    }
}

/// [`AccessStore`] in memory.
#[derive(Debug, Default)]
pub struct InMemoryAccessStore {
    state: Mutex<State>,
}

impl InMemoryAccessStore {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AccessStore for InMemoryAccessStore {
    async fn insert_user(
        &self,
        user: &User,
        password: &PasswordHash,
        only_if_first: bool,
    ) -> Result<(), CreateUserError> {
        let mut state = self.state();
        if only_if_first && !state.users.is_empty() {
            return Err(CreateUserError::NotFirst);
        }
        if state.users.contains_key(&user.username) {
            return Err(CreateUserError::Duplicate(user.username.clone()));
        }
        state
            .users
            .insert(user.username.clone(), (user.clone(), password.clone()));
        Ok(())
    }

    async fn user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<(User, PasswordHash)>, StoreError> {
        Ok(self.state().users.get(username).cloned())
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self
            .state()
            .users
            .values()
            .map(|(u, _)| u.clone())
            .collect())
    }

    async fn any_user(&self) -> Result<bool, StoreError> {
        Ok(!self.state().users.is_empty())
    }

    async fn delete_user(
        &self,
        username: &Username,
        decide: UserDeletion,
    ) -> Result<User, DeleteUserError> {
        let mut state = self.state();
        let (user, _) = state
            .users
            .get(username)
            .cloned()
            .ok_or(DeleteUserError::NotFound)?;
        let admins = state
            .users
            .values()
            .filter(|(u, _)| u.role == Role::Admin)
            .count();
        decide(&user, admins)?;
        state.users.remove(username);
        state.sessions.retain(|_, s| s.user_id != user.id);
        state.tokens.retain(|_, t| t.user_id != user.id);
        Ok(user)
    }

    async fn update_user(
        &self,
        username: &Username,
        changes: &UserChanges,
        keep: Option<SecretDigest>,
        decide: UserUpdate,
    ) -> Result<User, UpdateUserError> {
        let mut state = self.state();
        let (user, hash) = state
            .users
            .get(username)
            .cloned()
            .ok_or(UpdateUserError::NotFound)?;
        let admins = state
            .users
            .values()
            .filter(|(u, _)| u.role == Role::Admin)
            .count();
        let ends_sessions = decide(&user, admins)?;
        let changed = changes.apply(&user);
        let hash = changes.password.clone().unwrap_or(hash);
        state
            .users
            .insert(username.clone(), (changed.clone(), hash));
        if ends_sessions {
            let keep = keep.map(|d| *d.as_bytes());
            state
                .sessions
                .retain(|digest, s| s.user_id != user.id || Some(*digest) == keep);
        }
        Ok(changed)
    }

    async fn insert_session(
        &self,
        digest: &SecretDigest,
        session: &Session,
    ) -> Result<(), StoreError> {
        self.state()
            .sessions
            .insert(*digest.as_bytes(), session.clone());
        Ok(())
    }

    async fn session(&self, digest: &SecretDigest) -> Result<Option<(Session, User)>, StoreError> {
        let state = self.state();
        Ok(state.sessions.get(digest.as_bytes()).and_then(|session| {
            let user = state.user(&session.user_id)?;
            Some((session.clone(), user.clone()))
        }))
    }

    async fn touch_session(&self, digest: &SecretDigest, at: Timestamp) -> Result<(), StoreError> {
        if let Some(session) = self.state().sessions.get_mut(digest.as_bytes()) {
            session.last_seen_at = at;
        }
        Ok(())
    }

    async fn delete_session(&self, digest: &SecretDigest) -> Result<(), StoreError> {
        self.state().sessions.remove(digest.as_bytes());
        Ok(())
    }

    async fn delete_sessions_of(&self, user: &UserId) -> Result<usize, StoreError> {
        let mut state = self.state();
        let before = state.sessions.len();
        state.sessions.retain(|_, s| s.user_id != *user);
        Ok(before - state.sessions.len())
    }

    async fn insert_token(
        &self,
        digest: &SecretDigest,
        token: &ApiToken,
    ) -> Result<(), CreateTokenError> {
        let mut state = self.state();
        if state.tokens.values().any(|t| t.name == token.name) {
            return Err(CreateTokenError::Duplicate(token.name.to_string()));
        }
        state.tokens.insert(*digest.as_bytes(), token.clone());
        Ok(())
    }

    async fn token(&self, digest: &SecretDigest) -> Result<Option<(ApiToken, User)>, StoreError> {
        let state = self.state();
        Ok(state.tokens.get(digest.as_bytes()).and_then(|token| {
            let user = state.user(&token.user_id)?;
            Some((token.clone(), user.clone()))
        }))
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let mut tokens: Vec<ApiToken> = self.state().tokens.values().cloned().collect();
        tokens.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tokens)
    }

    async fn delete_token(&self, id: &TokenId) -> Result<bool, StoreError> {
        let mut state = self.state();
        let before = state.tokens.len();
        state.tokens.retain(|_, t| t.id != *id);
        Ok(state.tokens.len() < before)
    }

    async fn sign_in_failures(
        &self,
        keys: &[ThrottleKey],
    ) -> Result<Vec<Option<FailureCount>>, StoreError> {
        let state = self.state();
        Ok(keys
            .iter()
            .map(|k| state.failures.get(k).copied())
            .collect())
    }

    async fn record_sign_in_failure(
        &self,
        keys: &[ThrottleKey],
        update: FailureUpdate,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        for key in keys {
            let count = update(state.failures.get(key).copied());
            state.failures.insert(key.clone(), count);
        }
        Ok(())
    }

    async fn clear_sign_in_failures(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.state().failures.remove(key);
        Ok(())
    }

    async fn purge(&self, cutoffs: Purge) -> Result<usize, StoreError> {
        let mut state = self.state();
        let before = state.sessions.len();
        state.sessions.retain(|_, s| {
            s.last_seen_at >= cutoffs.idle_before && s.created_at >= cutoffs.created_before
        });
        state
            .failures
            .retain(|_, c| c.last_failure >= cutoffs.failures_before);
        Ok(before - state.sessions.len())
    }
}

/// [`AccessCrypto`] without cryptography, for tests of the use cases: a "hash" is the
/// password with a marker, secrets are numbered, digests are a simple mix of the bytes. It
/// counts the password checks it makes, so a test can see that an unknown user costs one too.
#[derive(Debug, Default)]
pub struct TestCrypto {
    next: AtomicU64,
    checks: AtomicU64,
}

impl TestCrypto {
    /// How many password checks were made (with or without a stored hash).
    pub fn password_checks(&self) -> u64 {
        self.checks.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl AccessCrypto for TestCrypto {
    async fn hash_password(&self, password: &Password) -> Result<PasswordHash, CryptoError> {
        Ok(PasswordHash::new(format!("test:{}", password.expose())))
    }

    async fn verify_password(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, CryptoError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(stored.is_some_and(|h| h.as_str() == format!("test:{}", password.expose())))
    }

    fn new_secret(&self, prefix: &str) -> Result<BearerSecret, CryptoError> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        Ok(BearerSecret::new(format!("{prefix}test-secret-{n:040}")))
    }

    fn digest(&self, secret: &str) -> SecretDigest {
        // FNV-1a, spread over 32 bytes: distinct for the tests' distinct secrets.
        let mut bytes = [0u8; 32];
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (i as u64);
            for b in secret.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            chunk.copy_from_slice(&h.to_le_bytes());
        }
        SecretDigest::from_bytes(bytes)
    }
}
