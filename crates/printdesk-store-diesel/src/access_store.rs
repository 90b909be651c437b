//! [`AccessStore`] on Diesel: users, sessions, API tokens and failed sign-ins, in the database
//! so that every instance sees the same (a session made on one is accepted by all, a token
//! revoked on one is refused by all at the next request).
//!
//! Writes here go through the retrying [`Store::write`]: each transaction's inputs are cloned
//! into every attempt, so a PostgreSQL conflict (two sign-ins counting failures against one
//! address, an admin's change racing a sign-in) runs the transaction again instead of
//! answering 503. None of them locks jobs or printers, so they take no part in the lock order.

use async_trait::async_trait;
use diesel::{prelude::*, result::Error as DieselError};
use printdesk_domain::{
    StoreError, Timestamp,
    access::{
        AccessStore, ApiToken, CreateTokenError, CreateUserError, DeleteUserError, DisplayName,
        FailureCount, FailureUpdate, PasswordHash, Purge, Role, SecretDigest, Session, ThrottleKey,
        TokenId, TokenName, UpdateUserError, User, UserChanges, UserDeletion, UserId, UserUpdate,
        Username,
    },
};
use time::PrimitiveDateTime;

use crate::{
    connection::{AnyConnection, on_backend},
    constraint::{Constraint, OnConstraint},
    db_time::DbTime,
    rows::{corrupt, from_db_time, to_db_time},
    schema::{api_tokens, sessions, sign_in_failures, users},
    store::{Store, TxError},
};

/// Serialises changes to the set of users on PostgreSQL (the first-user check, the last-admin
/// check) for the rest of the transaction; SQLite's one writer does that already.
const USERS_LOCK: i64 = 1_886_545_254;

fn lock_users(conn: &mut AnyConnection) -> Result<(), DieselError> {
    if let AnyConnection::Postgres(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({USERS_LOCK})")).execute(pg)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    role: String,
    password_hash: String,
    #[diesel(deserialize_as = DbTime)]
    created_at: PrimitiveDateTime,
}

impl UserRow {
    fn new(user: &User, hash: &PasswordHash) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            role: user.role.as_str().to_owned(),
            password_hash: hash.as_str().to_owned(),
            created_at: to_db_time(user.created_at),
        }
    }

    fn into_user(self) -> Result<(User, PasswordHash), StoreError> {
        let user = User {
            id: UserId::parse(&self.id).map_err(|e| corrupt("user id", e))?,
            username: Username::parse(&self.username).map_err(|e| corrupt("username", e))?,
            display_name: DisplayName::parse(&self.display_name)
                .map_err(|e| corrupt("display name", e))?,
            role: Role::parse(&self.role).map_err(|e| corrupt("role", e))?,
            created_at: from_db_time(self.created_at),
        };
        Ok((user, PasswordHash::new(self.password_hash)))
    }
}

fn to_user(row: UserRow) -> Result<User, StoreError> {
    row.into_user().map(|(user, _)| user)
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    user_id: String,
    #[diesel(deserialize_as = DbTime)]
    created_at: PrimitiveDateTime,
    #[diesel(deserialize_as = DbTime)]
    last_seen_at: PrimitiveDateTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
struct TokenRow {
    id: String,
    name: String,
    role: String,
    #[diesel(deserialize_as = DbTime)]
    created_at: PrimitiveDateTime,
}

impl TokenRow {
    fn into_token(self, user: &User) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            id: TokenId::parse(&self.id).map_err(|e| corrupt("token id", e))?,
            name: TokenName::parse(&self.name).map_err(|e| corrupt("token name", e))?,
            role: Role::parse(&self.role).map_err(|e| corrupt("token role", e))?,
            user: user.username.clone(),
            created_at: from_db_time(self.created_at),
            user_id: user.id,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sign_in_failures)]
struct FailureRow {
    failures: i64,
    #[diesel(deserialize_as = DbTime)]
    last_failure: PrimitiveDateTime,
}

impl FailureRow {
    /// A row with no failures is the placeholder [`record_failure`] locks: none stored.
    fn into_count(self) -> Option<FailureCount> {
        (self.failures > 0).then(|| FailureCount {
            failures: u32::try_from(self.failures).unwrap_or(u32::MAX),
            last_failure: from_db_time(self.last_failure),
        })
    }
}

fn read_failure(conn: &mut AnyConnection, key: &str) -> Result<Option<FailureCount>, DieselError> {
    Ok(sign_in_failures::table
        .find(key)
        .select(FailureRow::as_select())
        .get_result(conn)
        .optional()?
        .and_then(FailureRow::into_count))
}

/// Counts one failure against `key`: makes sure its row exists, takes the row's lock (a
/// no-op update, as for a job), then reads, decides and writes.
fn record_failure(
    conn: &mut AnyConnection,
    key: &str,
    update: &FailureUpdate,
) -> Result<(), DieselError> {
    let epoch = to_db_time(Timestamp::UNIX_EPOCH);
    on_backend!(conn, |c| diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::throttle_key.eq(key),
            sign_in_failures::failures.eq(0i64),
            sign_in_failures::last_failure.eq(epoch),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    diesel::update(sign_in_failures::table.find(key))
        .set(sign_in_failures::failures.eq(sign_in_failures::failures))
        .execute(conn)?;
    let count = update(read_failure(conn, key)?);
    diesel::update(sign_in_failures::table.find(key))
        .set((
            sign_in_failures::failures.eq(i64::from(count.failures)),
            sign_in_failures::last_failure.eq(to_db_time(count.last_failure)),
        ))
        .execute(conn)?;
    Ok(())
}

#[async_trait]
impl AccessStore for Store {
    async fn insert_user(
        &self,
        user: &User,
        password: &PasswordHash,
        only_if_first: bool,
    ) -> Result<(), CreateUserError> {
        let row = UserRow::new(user, password);
        let username = user.username.clone();
        self.write(move |conn| {
            lock_users(conn)?;
            if only_if_first {
                let any: bool = diesel::select(diesel::dsl::exists(users::table.select(users::id)))
                    .get_result(conn)?;
                if any {
                    return Err(TxError::Domain(CreateUserError::NotFirst));
                }
            }
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)
                .on_constraint(Constraint::Username, || {
                    CreateUserError::Duplicate(username.clone())
                })?;
            Ok(())
        })
        .await
    }

    async fn user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<(User, PasswordHash)>, StoreError> {
        let key = username.as_str().to_owned();
        let row = self
            .read(move |conn| {
                users::table
                    .filter(users::username.eq(key))
                    .select(UserRow::as_select())
                    .get_result(conn)
                    .optional()
            })
            .await?;
        row.map(UserRow::into_user).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = self
            .read(|conn| {
                users::table
                    .order_by(users::username.asc())
                    .select(UserRow::as_select())
                    .load(conn)
            })
            .await?;
        rows.into_iter().map(to_user).collect()
    }

    async fn any_user(&self) -> Result<bool, StoreError> {
        self.read(|conn| {
            diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)
        })
        .await
    }

    async fn delete_user(
        &self,
        username: &Username,
        decide: UserDeletion,
    ) -> Result<User, DeleteUserError> {
        let key = username.as_str().to_owned();
        self.write(move |conn| {
            lock_users(conn)?;
            let row = users::table
                .filter(users::username.eq(&key))
                .select(UserRow::as_select())
                .get_result(conn)
                .optional()?
                .ok_or(TxError::Domain(DeleteUserError::NotFound))?;
            let user = to_user(row).map_err(|e| TxError::Domain(e.into()))?;
            let admins: i64 = users::table
                .filter(users::role.eq(Role::Admin.as_str()))
                .count()
                .get_result(conn)?;
            decide(&user, usize::try_from(admins).unwrap_or(usize::MAX))
                .map_err(TxError::Domain)?;
            let id = user.id.to_string();
            // The foreign keys cascade too; deleting explicitly does not depend on SQLite's
            // foreign_keys setting of the connection.
            diesel::delete(sessions::table.filter(sessions::user_id.eq(&id))).execute(conn)?;
            diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(&id))).execute(conn)?;
            diesel::delete(users::table.find(&id)).execute(conn)?;
            Ok(user)
        })
        .await
    }

    async fn update_user(
        &self,
        username: &Username,
        changes: &UserChanges,
        keep: Option<SecretDigest>,
        decide: UserUpdate,
    ) -> Result<User, UpdateUserError> {
        let key = username.as_str().to_owned();
        let changes = changes.clone();
        let keep = keep.map(|digest| digest.to_hex());
        self.write(move |conn| {
            lock_users(conn)?;
            let row = users::table
                .filter(users::username.eq(&key))
                .select(UserRow::as_select())
                .get_result(conn)
                .optional()?
                .ok_or(TxError::Domain(UpdateUserError::NotFound))?;
            let (user, _) = row
                .clone()
                .into_user()
                .map_err(|e| TxError::Domain(e.into()))?;
            let admins: i64 = users::table
                .filter(users::role.eq(Role::Admin.as_str()))
                .count()
                .get_result(conn)?;
            let ends_sessions = decide(&user, usize::try_from(admins).unwrap_or(usize::MAX))
                .map_err(TxError::Domain)?;
            let changed = changes.apply(&user);
            let hash = changes
                .password
                .as_ref()
                .map_or(row.password_hash, |h| h.as_str().to_owned());
            diesel::update(users::table.find(&row.id))
                .set((
                    users::display_name.eq(changed.display_name.as_str()),
                    users::role.eq(changed.role.as_str()),
                    users::password_hash.eq(hash),
                ))
                .execute(conn)?;
            if ends_sessions {
                let of_user = sessions::user_id.eq(&row.id);
                match &keep {
                    Some(keep) => diesel::delete(
                        sessions::table.filter(of_user.and(sessions::digest.ne(keep))),
                    )
                    .execute(conn)?,
                    None => diesel::delete(sessions::table.filter(of_user)).execute(conn)?,
                };
            }
            Ok(changed)
        })
        .await
    }

    async fn insert_session(
        &self,
        digest: &SecretDigest,
        session: &Session,
    ) -> Result<(), StoreError> {
        let values = (
            sessions::digest.eq(digest.to_hex()),
            sessions::user_id.eq(session.user_id.to_string()),
            sessions::created_at.eq(to_db_time(session.created_at)),
            sessions::last_seen_at.eq(to_db_time(session.last_seen_at)),
        );
        self.write(move |conn| {
            diesel::insert_into(sessions::table)
                .values(values.clone())
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn session(&self, digest: &SecretDigest) -> Result<Option<(Session, User)>, StoreError> {
        let key = digest.to_hex();
        let row = self
            .read(move |conn| {
                sessions::table
                    .inner_join(users::table)
                    .filter(sessions::digest.eq(key))
                    .select((SessionRow::as_select(), UserRow::as_select()))
                    .get_result(conn)
                    .optional()
            })
            .await?;
        let Some((session, user)) = row else {
            return Ok(None);
        };
        let user = to_user(user)?;
        if session.user_id != user.id.to_string() {
            return Err(corrupt("session", "joined to another user"));
        }
        let session = Session {
            user_id: user.id,
            created_at: from_db_time(session.created_at),
            last_seen_at: from_db_time(session.last_seen_at),
        };
        Ok(Some((session, user)))
    }

    async fn touch_session(&self, digest: &SecretDigest, at: Timestamp) -> Result<(), StoreError> {
        let key = digest.to_hex();
        let at = to_db_time(at);
        self.write(move |conn| {
            diesel::update(sessions::table.find(&key))
                .set(sessions::last_seen_at.eq(at))
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, digest: &SecretDigest) -> Result<(), StoreError> {
        let key = digest.to_hex();
        self.write(move |conn| {
            diesel::delete(sessions::table.find(&key)).execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn delete_sessions_of(&self, user: &UserId) -> Result<usize, StoreError> {
        let id = user.to_string();
        self.write(move |conn| {
            Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(&id))).execute(conn)?)
        })
        .await
    }

    async fn insert_token(
        &self,
        digest: &SecretDigest,
        token: &ApiToken,
    ) -> Result<(), CreateTokenError> {
        let values = (
            api_tokens::id.eq(token.id.to_string()),
            api_tokens::digest.eq(digest.to_hex()),
            api_tokens::name.eq(token.name.as_str().to_owned()),
            api_tokens::role.eq(token.role.as_str()),
            api_tokens::user_id.eq(token.user_id.to_string()),
            api_tokens::created_at.eq(to_db_time(token.created_at)),
        );
        let name = token.name.to_string();
        self.write(move |conn| {
            diesel::insert_into(api_tokens::table)
                .values(values.clone())
                .execute(conn)
                .on_constraint(Constraint::TokenName, || {
                    CreateTokenError::Duplicate(name.clone())
                })?;
            Ok(())
        })
        .await
    }

    async fn token(&self, digest: &SecretDigest) -> Result<Option<(ApiToken, User)>, StoreError> {
        let key = digest.to_hex();
        let row = self
            .read(move |conn| {
                api_tokens::table
                    .inner_join(users::table)
                    .filter(api_tokens::digest.eq(key))
                    .select((TokenRow::as_select(), UserRow::as_select()))
                    .get_result(conn)
                    .optional()
            })
            .await?;
        let Some((token, user)) = row else {
            return Ok(None);
        };
        let user = to_user(user)?;
        Ok(Some((token.into_token(&user)?, user)))
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = self
            .read(|conn| {
                api_tokens::table
                    .inner_join(users::table)
                    .order_by(api_tokens::name.asc())
                    .select((TokenRow::as_select(), UserRow::as_select()))
                    .load(conn)
            })
            .await?;
        rows.into_iter()
            .map(|(token, user)| token.into_token(&to_user(user)?))
            .collect()
    }

    async fn delete_token(&self, id: &TokenId) -> Result<bool, StoreError> {
        let key = id.to_string();
        self.write(move |conn| Ok(diesel::delete(api_tokens::table.find(&key)).execute(conn)? > 0))
            .await
    }

    async fn sign_in_failures(
        &self,
        keys: &[ThrottleKey],
    ) -> Result<Vec<Option<FailureCount>>, StoreError> {
        let keys: Vec<String> = keys.iter().map(ThrottleKey::as_stored).collect();
        self.read(move |conn| {
            keys.iter()
                .map(|key| read_failure(conn, key))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
    }

    async fn record_sign_in_failure(
        &self,
        keys: &[ThrottleKey],
        update: FailureUpdate,
    ) -> Result<(), StoreError> {
        let mut keys: Vec<String> = keys.iter().map(ThrottleKey::as_stored).collect();
        // Rows locked in one order everywhere: two sign-ins cannot wait for each other.
        keys.sort();
        self.write(move |conn| {
            for key in &keys {
                record_failure(conn, key, &update)?;
            }
            Ok(())
        })
        .await
    }

    async fn clear_sign_in_failures(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        let key = key.as_stored();
        self.write(move |conn| {
            diesel::delete(sign_in_failures::table.find(&key)).execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn purge(&self, cutoffs: Purge) -> Result<usize, StoreError> {
        let idle_before = to_db_time(cutoffs.idle_before);
        let created_before = to_db_time(cutoffs.created_before);
        let failures_before = to_db_time(cutoffs.failures_before);
        self.write(move |conn| {
            let sessions = diesel::delete(
                sessions::table.filter(
                    sessions::last_seen_at
                        .lt(idle_before)
                        .or(sessions::created_at.lt(created_before)),
                ),
            )
            .execute(conn)?;
            diesel::delete(
                sign_in_failures::table.filter(sign_in_failures::last_failure.lt(failures_before)),
            )
            .execute(conn)?;
            Ok(sessions)
        })
        .await
    }
}
