//! The access use cases: users, sign-in and sign-out, tokens, and who a request is.

use std::sync::Arc;

use super::{
    credential::{
        ApiToken, BearerSecret, Session, SessionPolicy, SessionState, ThrottleKey, ThrottlePolicy,
        TokenId, TokenName,
    },
    edit::{AccountEdit, CheckedEdit, UserChanges, UserEdit},
    errors::{CreateTokenError, CreateUserError, DeleteUserError, SignInError, UpdateUserError},
    ports::{AccessCrypto, AccessStore, Purge},
    role::{Forbidden, Operation, Role},
    user::{Password, User, UserDraft, UserId, Username},
};
use crate::{clock::Clock, errors::StoreError, service::Actor, validation::ValidationErrors};

/// Who is making a request, and with which role: what every permission check asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    actor: Actor,
    role: Role,
    via: Via,
}

/// How a [`Principal`] was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A signed-in user's session.
    Session(User),
    /// An API token of a user (the token's name is the actor).
    Token {
        /// The token.
        token: ApiToken,
        /// Its user, as stored now.
        user: User,
    },
    /// A token from the server's configuration (tokens file, environment): no user, admin.
    ConfiguredToken,
    /// Nobody: no user, stored token or configured token exists yet, so the server is open
    /// (to loopback only, unless told otherwise) and everyone is an anonymous admin.
    Open,
}

impl Principal {
    /// The anonymous caller of a server that has no users or tokens yet.
    pub fn open() -> Self {
        Self {
            actor: Actor::anonymous(),
            role: Role::Admin,
            via: Via::Open,
        }
    }

    /// A token from the configuration, named `name`: an admin, recorded under its name.
    pub fn configured_token(name: &str) -> Self {
        Self {
            actor: Actor::named(name),
            role: Role::Admin,
            via: Via::ConfiguredToken,
        }
    }

    /// A user signed in with a session: recorded under the display name.
    pub fn session(user: User) -> Self {
        Self {
            actor: Actor::named(user.display_name.as_str()),
            role: user.role,
            via: Via::Session(user),
        }
    }

    /// A user's token: recorded under the token's name, with the lower of the token's and
    /// the user's roles (a user demoted after creating the token takes it down too).
    pub fn token(token: ApiToken, user: User) -> Self {
        Self {
            actor: Actor::named(token.name.as_str()),
            role: token.role.min(user.role),
            via: Via::Token { token, user },
        }
    }

    /// Who the events record.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// What it may do.
    pub fn role(&self) -> Role {
        self.role
    }

    /// How it was recognised.
    pub fn via(&self) -> &Via {
        &self.via
    }

    /// The user behind it, if any.
    pub fn user(&self) -> Option<&User> {
        match &self.via {
            Via::Session(user) | Via::Token { user, .. } => Some(user),
            Via::ConfiguredToken | Via::Open => None,
        }
    }

    /// Whether it may do `operation` ([`crate::access::PERMISSIONS`]).
    pub fn may(&self, operation: Operation) -> Result<(), Forbidden> {
        operation.check(self.role)
    }
}

/// A successful sign-in: the user, and the session's secret for the cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who signed in.
    pub user: User,
    /// The session's secret: given to the browser once, stored only as its digest.
    pub secret: BearerSecret,
}

/// The access use cases. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AccessService {
    store: Arc<dyn AccessStore>,
    crypto: Arc<dyn AccessCrypto>,
    clock: Arc<dyn Clock>,
    sessions: SessionPolicy,
    throttle: ThrottlePolicy,
}

/// What every new API token's secret starts with, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "pd_";

impl AccessService {
    /// Wires the use cases to their ports, with the default session and throttle policies.
    pub fn new(
        store: Arc<dyn AccessStore>,
        crypto: Arc<dyn AccessCrypto>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            crypto,
            clock,
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
        }
    }

    /// With these policies instead of the defaults.
    pub fn with_policies(mut self, sessions: SessionPolicy, throttle: ThrottlePolicy) -> Self {
        self.sessions = sessions;
        self.throttle = throttle;
        self
    }

    /// How long sessions last (the cookie's lifetime follows it).
    pub fn session_policy(&self) -> SessionPolicy {
        self.sessions
    }

    /// Creates a user.
    pub async fn create_user(&self, draft: UserDraft) -> Result<User, CreateUserError> {
        self.insert_user(draft, false).await
    }

    /// Creates the first user, an admin, only while no user exists (the first-run set-up).
    pub async fn create_first_admin(&self, draft: UserDraft) -> Result<User, CreateUserError> {
        let draft = UserDraft {
            role: Role::Admin,
            ..draft
        };
        self.insert_user(draft, true).await
    }

    async fn insert_user(
        &self,
        draft: UserDraft,
        only_if_first: bool,
    ) -> Result<User, CreateUserError> {
        let (username, display_name, role, password) =
            draft.validate().map_err(CreateUserError::Invalid)?;
        if only_if_first && self.store.any_user().await? {
            return Err(CreateUserError::NotFirst);
        }
        let hash = self.crypto.hash_password(&password).await?;
        let user = User {
            id: UserId::new(),
            username,
            display_name,
            role,
            created_at: self.clock.now(),
        };
        self.store.insert_user(&user, &hash, only_if_first).await?;
        Ok(user)
    }

    /// Every user, by username.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.store.list_users().await
    }

    /// Whether any user exists (then every API request needs a session or a token).
    pub async fn any_user(&self) -> Result<bool, StoreError> {
        self.store.any_user().await
    }

    /// Deletes a user, its sessions and its tokens; never the last admin.
    pub async fn delete_user(&self, username: &str) -> Result<User, DeleteUserError> {
        let username = Username::parse(username).map_err(|_| DeleteUserError::NotFound)?;
        self.store
            .delete_user(
                &username,
                Box::new(|user, admins| {
                    if user.role == Role::Admin && admins <= 1 {
                        Err(DeleteUserError::LastAdmin)
                    } else {
                        Ok(())
                    }
                }),
            )
            .await
    }

    /// An admin changes a user's display name, role or password. A new password or role ends
    /// the user's other sessions ([`UserChanges::check`]); `editor_session`, the secret of the
    /// editor's own session, is kept (an admin who changes their own password stays signed in).
    /// Never takes the admin role from the last admin.
    pub async fn update_user(
        &self,
        username: &str,
        edit: UserEdit,
        editor_session: Option<&str>,
    ) -> Result<User, UpdateUserError> {
        let username = Username::parse(username).map_err(|_| UpdateUserError::NotFound)?;
        let edit = edit.validate().map_err(UpdateUserError::Invalid)?;
        self.apply_edit(&username, edit, editor_session).await
    }

    /// Signed-in users change their own display name or password (the password only with the
    /// current one, slowed down after failures like a sign-in). A new password ends their
    /// other sessions; `session` (the secret of the one making the change) stays.
    pub async fn update_account(
        &self,
        principal: &Principal,
        session: Option<&str>,
        edit: AccountEdit,
    ) -> Result<User, UpdateUserError> {
        let Via::Session(user) = principal.via() else {
            return Err(UpdateUserError::NotSignedIn);
        };
        let (edit, current) = edit.validate().map_err(UpdateUserError::Invalid)?;
        if let Some(current) = current {
            self.verify_current_password(&user.username, &current)
                .await?;
        }
        self.apply_edit(&user.username, edit, session).await
    }

    /// Checks a user's current password as a sign-in would: slowed down after failures, each
    /// failure counted against the username.
    async fn verify_current_password(
        &self,
        username: &Username,
        password: &Password,
    ) -> Result<(), UpdateUserError> {
        let key = ThrottleKey::user(username.as_str());
        let now = self.clock.now();
        let count = self
            .store
            .sign_in_failures(std::slice::from_ref(&key))
            .await?
            .pop()
            .flatten();
        if let Some(wait) = self.throttle.wait(&key, count, now) {
            return Err(UpdateUserError::Throttled(wait));
        }
        let found = self.store.user_by_username(username).await?;
        let verified = self
            .crypto
            .verify_password(password, found.as_ref().map(|(_, hash)| hash))
            .await?;
        if verified {
            return Ok(());
        }
        let throttle = self.throttle;
        self.store
            .record_sign_in_failure(
                std::slice::from_ref(&key),
                Box::new(move |count| throttle.after_failure(count, now)),
            )
            .await?;
        Err(UpdateUserError::WrongPassword)
    }

    async fn apply_edit(
        &self,
        username: &Username,
        edit: CheckedEdit,
        keep_session: Option<&str>,
    ) -> Result<User, UpdateUserError> {
        let password = match &edit.password {
            Some(password) => Some(self.crypto.hash_password(password).await?),
            None => None,
        };
        let changes = UserChanges {
            display_name: edit.display_name,
            role: edit.role,
            password,
        };
        let decide = {
            let changes = changes.clone();
            Box::new(move |user: &User, admins: usize| changes.check(user, admins))
        };
        let keep = keep_session.map(|secret| self.crypto.digest(secret));
        self.store
            .update_user(username, &changes, keep, decide)
            .await
    }

    /// Ends every session of a user (a lost phone): returns how many there were.
    pub async fn end_sessions_of(&self, username: &str) -> Result<usize, DeleteUserError> {
        let username = Username::parse(username).map_err(|_| DeleteUserError::NotFound)?;
        let (user, _) = self
            .store
            .user_by_username(&username)
            .await?
            .ok_or(DeleteUserError::NotFound)?;
        Ok(self.store.delete_sessions_of(&user.id).await?)
    }

    /// Signs a user in from `client` (its address, when known): checks the slow-down, the
    /// password (as long for an unknown user as for a wrong password), and makes a session.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: Option<&str>,
    ) -> Result<SignedIn, SignInError> {
        let mut keys = vec![ThrottleKey::user(username)];
        if let Some(client) = client {
            keys.push(ThrottleKey::Address(client.to_owned()));
        }
        let now = self.clock.now();
        let counts = self.store.sign_in_failures(&keys).await?;
        let wait = keys
            .iter()
            .zip(counts)
            .filter_map(|(key, count)| self.throttle.wait(key, count, now))
            .max();
        if let Some(wait) = wait {
            return Err(SignInError::Throttled(wait));
        }

        let found = match Username::parse(username) {
            Ok(username) => self.store.user_by_username(&username).await?,
            Err(_) => None,
        };
        let password = Password::presented(password);
        let verified = self
            .crypto
            .verify_password(&password, found.as_ref().map(|(_, hash)| hash))
            .await?;
        let user = match found {
            Some((user, _)) if verified => user,
            _ => {
                let throttle = self.throttle;
                let now = self.clock.now();
                self.store
                    .record_sign_in_failure(
                        &keys,
                        Box::new(move |count| throttle.after_failure(count, now)),
                    )
                    .await?;
                return Err(SignInError::WrongCredentials);
            }
        };
        // The user's own count starts afresh; the address's does not, or one valid account
        // would let its owner guess other users' passwords without a slow-down.
        self.store.clear_sign_in_failures(&keys[0]).await?;
        // Sessions never presented again and old failure counts would pile up: a sign-in
        // (rare, and paying for a password hash anyway) clears them out.
        self.store.purge(self.purge_cutoffs()).await?;
        let secret = self.crypto.new_secret("")?;
        let now = self.clock.now();
        let session = Session {
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
        };
        self.store
            .insert_session(&self.crypto.digest(secret.expose()), &session)
            .await?;
        Ok(SignedIn { user, secret })
    }

    /// Everything older than this no longer counts.
    fn purge_cutoffs(&self) -> Purge {
        let now = self.clock.now();
        Purge {
            idle_before: now - self.sessions.idle,
            created_before: now - self.sessions.absolute,
            failures_before: now - self.throttle.window,
        }
    }

    /// Ends the session with this secret (nothing when there is none).
    pub async fn sign_out(&self, secret: &str) -> Result<(), StoreError> {
        self.store.delete_session(&self.crypto.digest(secret)).await
    }

    /// Who a session secret (a cookie) belongs to, if it is a live session. An expired one
    /// is deleted; a live one's last use is written at most once per
    /// [`SessionPolicy::touch_after`].
    pub async fn resolve_session(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        let digest = self.crypto.digest(secret);
        let Some((session, user)) = self.store.session(&digest).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        match self.sessions.state(&session, now) {
            SessionState::Expired => {
                self.store.delete_session(&digest).await?;
                Ok(None)
            }
            SessionState::Live { touch } => {
                if touch {
                    self.store.touch_session(&digest, now).await?;
                }
                Ok(Some(Principal::session(user)))
            }
        }
    }

    /// Who a session secret belongs to now, if it is a live session: as
    /// [`AccessService::resolve_session`], but writing nothing. For a connection that stays
    /// open (a WebSocket) to ask again and again whether its session still holds; asking does
    /// not count as a use, so a page left open still ends when idle.
    pub async fn check_session(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        let Some((session, user)) = self.store.session(&self.crypto.digest(secret)).await? else {
            return Ok(None);
        };
        Ok(match self.sessions.state(&session, self.clock.now()) {
            SessionState::Expired => None,
            SessionState::Live { .. } => Some(Principal::session(user)),
        })
    }

    /// Who an API token belongs to, if it is a stored one.
    pub async fn resolve_token(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        let found = self.store.token(&self.crypto.digest(secret)).await?;
        Ok(found.map(|(token, user)| Principal::token(token, user)))
    }

    /// Creates an API token for `owner`'s user, with `role` (default: the owner's) no higher
    /// than the owner's. The secret is in the answer only.
    pub async fn create_token(
        &self,
        owner: &Principal,
        name: &str,
        role: Option<Role>,
    ) -> Result<(ApiToken, BearerSecret), CreateTokenError> {
        let user = owner.user().ok_or(CreateTokenError::NoUser)?;
        let name = TokenName::parse(name)
            .map_err(|v| CreateTokenError::Invalid(ValidationErrors::single(v)))?;
        let role = role.unwrap_or(owner.role());
        if role > owner.role() {
            return Err(CreateTokenError::RoleTooHigh(owner.role()));
        }
        let secret = self.crypto.new_secret(TOKEN_PREFIX)?;
        let token = ApiToken {
            id: TokenId::new(),
            name,
            role,
            user: user.username.clone(),
            created_at: self.clock.now(),
            user_id: user.id,
        };
        self.store
            .insert_token(&self.crypto.digest(secret.expose()), &token)
            .await?;
        Ok((token, secret))
    }

    /// Every stored token, by name (never a secret).
    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.store.list_tokens().await
    }

    /// Revokes a token: whether it existed. Effective for the next request on every instance.
    pub async fn revoke_token(&self, id: &TokenId) -> Result<bool, StoreError> {
        self.store.delete_token(id).await
    }
}
