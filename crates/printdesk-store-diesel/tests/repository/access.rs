//! The `AccessStore` contract (`printdesk_domain::access::AccessStore`'s MUSTs) on every
//! store: users, sessions, API tokens, failed sign-ins.

use std::sync::Arc;

use printdesk_domain::{
    Clock, SystemClock, Timestamp,
    access::{
        AccessStore, ApiToken, CreateTokenError, CreateUserError, DeleteUserError, DisplayName,
        FailureCount, PasswordHash, Purge, Role, SecretDigest, Session, ThrottleKey, TokenId,
        TokenName, UpdateUserError, User, UserChanges, UserId, Username,
    },
};
use time::Duration;

use super::Ctx;

fn in_memory() -> Ctx {
    super::in_memory()
}

async fn ctx(db: printdesk_store_diesel::test_support::TestDatabase) -> Ctx {
    super::ctx(db).await
}

on_every_store!(
    contract:
    users_read_back_exactly_and_are_listed_by_username,
    a_taken_username_is_refused,
    only_one_first_user_even_at_once,
    sessions_are_found_with_their_user_touched_and_ended,
    tokens_are_found_by_digest_listed_by_name_and_revoked,
    deleting_a_user_asks_first_and_takes_its_sessions_and_tokens,
    changing_a_user_asks_first_and_ends_its_other_sessions_when_told,
    concurrent_changes_of_admins_keep_one,
    concurrent_failures_are_all_counted_per_key,
    purge_deletes_only_what_is_older;
    diesel:
);

fn now() -> Timestamp {
    SystemClock.now()
}

fn user(username: &str, role: Role) -> User {
    User {
        id: UserId::new(),
        username: Username::parse(username).unwrap(),
        display_name: DisplayName::parse(&format!("{username} (display) ✓")).unwrap(),
        role,
        created_at: now(),
    }
}

fn hash(of: &str) -> PasswordHash {
    PasswordHash::new(format!("$test${of}"))
}

fn digest(n: u8) -> SecretDigest {
    SecretDigest::from_bytes([n; 32])
}

async fn add(ctx: &Ctx, username: &str, role: Role) -> User {
    let u = user(username, role);
    ctx.access
        .insert_user(&u, &hash(username), false)
        .await
        .unwrap();
    u
}

fn token(name: &str, owner: &User, role: Role) -> ApiToken {
    ApiToken {
        id: TokenId::new(),
        name: TokenName::parse(name).unwrap(),
        role,
        user: owner.username.clone(),
        created_at: now(),
        user_id: owner.id,
    }
}

async fn users_read_back_exactly_and_are_listed_by_username(ctx: Ctx) {
    assert!(!ctx.access.any_user().await.unwrap());
    let olaf = add(&ctx, "olaf", Role::Operator).await;
    let anna = add(&ctx, "anna", Role::Admin).await;
    assert!(ctx.access.any_user().await.unwrap());
    let (read, stored) = ctx
        .access
        .user_by_username(&anna.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, anna);
    assert_eq!(stored, hash("anna"));
    let unknown = Username::parse("nobody").unwrap();
    assert_eq!(ctx.access.user_by_username(&unknown).await.unwrap(), None);
    assert_eq!(ctx.access.list_users().await.unwrap(), vec![anna, olaf]);
}

async fn a_taken_username_is_refused(ctx: Ctx) {
    add(&ctx, "anna", Role::Viewer).await;
    let again = user("anna", Role::Admin);
    let refused = ctx.access.insert_user(&again, &hash("x"), false).await;
    assert!(matches!(refused, Err(CreateUserError::Duplicate(name)) if name.as_str() == "anna"));
    let users = ctx.access.list_users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].role, Role::Viewer, "nothing was written");
}

async fn only_one_first_user_even_at_once(ctx: Ctx) {
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let access = ctx.access.clone();
            tokio::spawn(async move {
                let u = user(&format!("admin{n}"), Role::Admin);
                access.insert_user(&u, &hash("x"), true).await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(CreateUserError::NotFirst) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(ctx.access.list_users().await.unwrap().len(), 1);
    let later = user("later", Role::Admin);
    assert!(matches!(
        ctx.access.insert_user(&later, &hash("x"), true).await,
        Err(CreateUserError::NotFirst)
    ));
    ctx.access
        .insert_user(&later, &hash("x"), false)
        .await
        .unwrap();
}

async fn sessions_are_found_with_their_user_touched_and_ended(ctx: Ctx) {
    let anna = add(&ctx, "anna", Role::Operator).await;
    let at = now();
    let session = Session {
        user_id: anna.id,
        created_at: at,
        last_seen_at: at,
    };
    ctx.access
        .insert_session(&digest(1), &session)
        .await
        .unwrap();
    ctx.access
        .insert_session(&digest(2), &session)
        .await
        .unwrap();
    assert_eq!(
        ctx.access.session(&digest(1)).await.unwrap(),
        Some((session.clone(), anna.clone()))
    );
    assert_eq!(ctx.access.session(&digest(9)).await.unwrap(), None);

    let later = at + Duration::minutes(3);
    ctx.access.touch_session(&digest(1), later).await.unwrap();
    let (touched, _) = ctx.access.session(&digest(1)).await.unwrap().unwrap();
    assert_eq!((touched.created_at, touched.last_seen_at), (at, later));
    ctx.access.touch_session(&digest(9), later).await.unwrap();

    ctx.access.delete_session(&digest(1)).await.unwrap();
    assert_eq!(ctx.access.session(&digest(1)).await.unwrap(), None);
    assert!(ctx.access.session(&digest(2)).await.unwrap().is_some());
    ctx.access.delete_session(&digest(1)).await.unwrap();

    ctx.access
        .insert_session(&digest(3), &session)
        .await
        .unwrap();
    assert_eq!(ctx.access.delete_sessions_of(&anna.id).await.unwrap(), 2);
    assert_eq!(ctx.access.session(&digest(2)).await.unwrap(), None);
    assert_eq!(ctx.access.session(&digest(3)).await.unwrap(), None);
}

async fn tokens_are_found_by_digest_listed_by_name_and_revoked(ctx: Ctx) {
    let anna = add(&ctx, "anna", Role::Admin).await;
    let olaf = add(&ctx, "olaf", Role::Operator).await;
    let desk = token("front-desk", &anna, Role::Viewer);
    let bot = token("ci-bot", &olaf, Role::Operator);
    ctx.access.insert_token(&digest(1), &desk).await.unwrap();
    ctx.access.insert_token(&digest(2), &bot).await.unwrap();
    assert_eq!(
        ctx.access.token(&digest(1)).await.unwrap(),
        Some((desk.clone(), anna.clone()))
    );
    assert_eq!(ctx.access.token(&digest(7)).await.unwrap(), None);
    let taken = token("front-desk", &olaf, Role::Viewer);
    assert!(matches!(
        ctx.access.insert_token(&digest(3), &taken).await,
        Err(CreateTokenError::Duplicate(name)) if name == "front-desk"
    ));
    assert_eq!(
        ctx.access.list_tokens().await.unwrap(),
        vec![bot.clone(), desk.clone()]
    );

    assert!(ctx.access.delete_token(&desk.id).await.unwrap());
    assert!(!ctx.access.delete_token(&desk.id).await.unwrap());
    assert_eq!(ctx.access.token(&digest(1)).await.unwrap(), None);
    assert_eq!(ctx.access.list_tokens().await.unwrap(), vec![bot]);
}

async fn deleting_a_user_asks_first_and_takes_its_sessions_and_tokens(ctx: Ctx) {
    let anna = add(&ctx, "anna", Role::Admin).await;
    let olaf = add(&ctx, "olaf", Role::Admin).await;
    add(&ctx, "vera", Role::Viewer).await;
    let at = now();
    let session = Session {
        user_id: olaf.id,
        created_at: at,
        last_seen_at: at,
    };
    ctx.access
        .insert_session(&digest(1), &session)
        .await
        .unwrap();
    ctx.access
        .insert_token(&digest(2), &token("olaf-phone", &olaf, Role::Admin))
        .await
        .unwrap();
    ctx.access
        .insert_token(&digest(3), &token("anna-desk", &anna, Role::Admin))
        .await
        .unwrap();

    let nobody = Username::parse("nobody").unwrap();
    let refused = ctx
        .access
        .delete_user(
            &nobody,
            Box::new(|_, _| panic!("not asked for an unknown user")),
        )
        .await;
    assert_eq!(refused.unwrap_err(), DeleteUserError::NotFound);

    let refused = ctx
        .access
        .delete_user(
            &olaf.username,
            Box::new(|user, admins| {
                assert_eq!((user.username.as_str(), admins), ("olaf", 2));
                Err(DeleteUserError::LastAdmin)
            }),
        )
        .await;
    assert_eq!(refused.unwrap_err(), DeleteUserError::LastAdmin);
    assert!(
        ctx.access.session(&digest(1)).await.unwrap().is_some(),
        "nothing deleted"
    );
    assert!(ctx.access.token(&digest(2)).await.unwrap().is_some());

    let deleted = ctx
        .access
        .delete_user(&olaf.username, Box::new(|_, _| Ok(())))
        .await
        .unwrap();
    assert_eq!(deleted, olaf);
    assert_eq!(ctx.access.session(&digest(1)).await.unwrap(), None);
    assert_eq!(ctx.access.token(&digest(2)).await.unwrap(), None);
    assert!(
        ctx.access.token(&digest(3)).await.unwrap().is_some(),
        "others' tokens stay"
    );
    let names: Vec<String> = ctx
        .access
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["anna", "vera"]);
}

async fn concurrent_failures_are_all_counted_per_key(ctx: Ctx) {
    let user_key = ThrottleKey::user("anna");
    let address = ThrottleKey::Address("192.0.2.7".into());
    let other = ThrottleKey::Address("192.0.2.8".into());
    assert_eq!(
        ctx.access
            .sign_in_failures(&[user_key.clone(), address.clone()])
            .await
            .unwrap(),
        vec![None, None]
    );
    let at = now();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let access = ctx.access.clone();
            let keys = vec![user_key.clone(), address.clone()];
            tokio::spawn(async move {
                access
                    .record_sign_in_failure(
                        &keys,
                        Box::new(move |count: Option<FailureCount>| FailureCount {
                            failures: count.map_or(1, |c| c.failures + 1),
                            last_failure: at,
                        }),
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let expected = Some(FailureCount {
        failures: 20,
        last_failure: at,
    });
    assert_eq!(
        ctx.access
            .sign_in_failures(&[address.clone(), other.clone(), user_key.clone()])
            .await
            .unwrap(),
        vec![expected, None, expected],
        "in the order of the keys"
    );
    ctx.access.clear_sign_in_failures(&user_key).await.unwrap();
    assert_eq!(
        ctx.access
            .sign_in_failures(&[user_key, address])
            .await
            .unwrap(),
        vec![None, expected]
    );
}

async fn purge_deletes_only_what_is_older(ctx: Ctx) {
    let anna = add(&ctx, "anna", Role::Viewer).await;
    let t0 = now();
    let session = |created: i64, seen: i64| Session {
        user_id: anna.id,
        created_at: t0 + Duration::minutes(created),
        last_seen_at: t0 + Duration::minutes(seen),
    };
    let access: &Arc<dyn AccessStore> = &ctx.access;
    access
        .insert_session(&digest(1), &session(0, 1))
        .await
        .unwrap(); // idle too long
    access
        .insert_session(&digest(2), &session(-100, 9))
        .await
        .unwrap(); // too old
    access
        .insert_session(&digest(3), &session(0, 9))
        .await
        .unwrap(); // live
    for (key, minutes) in [("old", 1), ("new", 9)] {
        let at = t0 + Duration::minutes(minutes);
        access
            .record_sign_in_failure(
                &[ThrottleKey::user(key)],
                Box::new(move |_| FailureCount {
                    failures: 3,
                    last_failure: at,
                }),
            )
            .await
            .unwrap();
    }
    let cutoff = t0 + Duration::minutes(5);
    let purged = access
        .purge(Purge {
            idle_before: cutoff,
            created_before: t0 - Duration::minutes(50),
            failures_before: cutoff,
        })
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert_eq!(access.session(&digest(1)).await.unwrap(), None);
    assert_eq!(access.session(&digest(2)).await.unwrap(), None);
    assert!(access.session(&digest(3)).await.unwrap().is_some());
    let counts = access
        .sign_in_failures(&[ThrottleKey::user("old"), ThrottleKey::user("new")])
        .await
        .unwrap();
    assert_eq!(counts[0], None);
    assert_eq!(counts[1].map(|c| c.failures), Some(3));
}

async fn changing_a_user_asks_first_and_ends_its_other_sessions_when_told(ctx: Ctx) {
    let anna = add(&ctx, "anna", Role::Admin).await;
    let olaf = add(&ctx, "olaf", Role::Operator).await;
    let at = now();
    for (n, user) in [(1, &olaf), (2, &olaf), (3, &anna)] {
        let session = Session {
            user_id: user.id,
            created_at: at,
            last_seen_at: at,
        };
        ctx.access
            .insert_session(&digest(n), &session)
            .await
            .unwrap();
    }
    ctx.access
        .insert_token(&digest(9), &token("olaf-phone", &olaf, Role::Operator))
        .await
        .unwrap();
    let demote = UserChanges {
        display_name: Some(DisplayName::parse("Olaf Krause").unwrap()),
        role: Some(Role::Viewer),
        password: Some(hash("olaf-new")),
    };

    let nobody = Username::parse("nobody").unwrap();
    let refused = ctx
        .access
        .update_user(
            &nobody,
            &demote,
            None,
            Box::new(|_, _| panic!("not asked for an unknown user")),
        )
        .await;
    assert_eq!(refused.unwrap_err(), UpdateUserError::NotFound);

    let refused = ctx
        .access
        .update_user(
            &olaf.username,
            &demote,
            None,
            Box::new(|user, admins| {
                assert_eq!(
                    (user.username.as_str(), user.role, admins),
                    ("olaf", Role::Operator, 1)
                );
                Err(UpdateUserError::LastAdmin)
            }),
        )
        .await;
    assert_eq!(refused.unwrap_err(), UpdateUserError::LastAdmin);
    let (unchanged, unchanged_hash) = ctx
        .access
        .user_by_username(&olaf.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (unchanged, unchanged_hash),
        (olaf.clone(), hash("olaf")),
        "nothing changed"
    );

    // Told to end sessions, keeping session 2 (the editor's own).
    let changed = ctx
        .access
        .update_user(
            &olaf.username,
            &demote,
            Some(digest(2)),
            Box::new(|_, _| Ok(true)),
        )
        .await
        .unwrap();
    assert_eq!(changed.display_name.as_str(), "Olaf Krause");
    assert_eq!(
        (changed.role, changed.id, changed.created_at),
        (Role::Viewer, olaf.id, olaf.created_at)
    );
    let (read, read_hash) = ctx
        .access
        .user_by_username(&olaf.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read, read_hash), (changed.clone(), hash("olaf-new")));
    assert_eq!(ctx.access.session(&digest(1)).await.unwrap(), None);
    let (_, kept) = ctx.access.session(&digest(2)).await.unwrap().unwrap();
    assert_eq!(kept, changed, "the kept session has the user as changed");
    assert!(
        ctx.access.session(&digest(3)).await.unwrap().is_some(),
        "other users' sessions stay"
    );
    let (_, owner) = ctx.access.token(&digest(9)).await.unwrap().unwrap();
    assert_eq!(owner.role, Role::Viewer, "a token sees its user's new role");

    // Not told to: every session stays; fields not given keep their values.
    let renamed = UserChanges {
        display_name: Some(DisplayName::parse("Anna B.").unwrap()),
        role: None,
        password: None,
    };
    let anna_changed = ctx
        .access
        .update_user(&anna.username, &renamed, None, Box::new(|_, _| Ok(false)))
        .await
        .unwrap();
    assert_eq!(
        (anna_changed.role, anna_changed.display_name.as_str()),
        (Role::Admin, "Anna B.")
    );
    let (_, anna_hash) = ctx
        .access
        .user_by_username(&anna.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anna_hash, hash("anna"));
    assert!(ctx.access.session(&digest(3)).await.unwrap().is_some());
}

/// Two admins demoting each other at once: the count each decision sees is the one inside
/// its transaction, so exactly one demotion goes through.
async fn concurrent_changes_of_admins_keep_one(ctx: Ctx) {
    let anna = add(&ctx, "anna", Role::Admin).await;
    let olaf = add(&ctx, "olaf", Role::Admin).await;
    let demote = UserChanges {
        display_name: None,
        role: Some(Role::Operator),
        password: None,
    };
    let store = ctx.access.clone();
    let (a, b) = tokio::join!(
        store.update_user(
            &anna.username,
            &demote,
            None,
            Box::new({
                let demote = demote.clone();
                move |user, admins| demote.check(user, admins)
            }),
        ),
        store.update_user(
            &olaf.username,
            &demote,
            None,
            Box::new({
                let demote = demote.clone();
                move |user, admins| demote.check(user, admins)
            }),
        ),
    );
    let refused = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(UpdateUserError::LastAdmin)))
        .count();
    assert_eq!(refused, 1, "{a:?} {b:?}");
    let admins = ctx
        .access
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.role == Role::Admin)
        .count();
    assert_eq!(admins, 1);
}
