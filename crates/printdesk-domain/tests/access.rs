//! Access control without a database: roles and the permission table, the values users are
//! made of, session expiry, the sign-in slow-down, and the use cases on the in-memory store.
#![cfg(feature = "testing")]

mod support;

use std::{sync::Arc, time::Duration as StdDuration};

use printdesk_domain::access::{
    AccessService, AccountEdit, CreateTokenError, CreateUserError, DeleteUserError, DisplayName,
    FailureCount, InMemoryAccessStore, Operation, PERMISSIONS, Password, PasswordHash, Principal,
    Role, Session, SessionPolicy, SessionState, SignInError, TestCrypto, ThrottleKey,
    ThrottlePolicy, UpdateUserError, User, UserChanges, UserDraft, UserEdit, UserId, Username, Via,
};
use support::{FixedClock, T0};
use time::Duration;

// ---------------------------------------------------------------------------------------------
// Roles and the permission table
// ---------------------------------------------------------------------------------------------

#[test]
fn roles_are_ordered_and_named() {
    assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Ok(role));
    }
    assert!(Role::parse("Admin").is_err());
    assert!(Role::parse("root").is_err());
    assert_eq!(
        serde_json::to_value(Role::Operator).unwrap(),
        serde_json::json!("operator")
    );
}

const EVERY_OPERATION: [Operation; 9] = [
    Operation::ReadJobs,
    Operation::CreateJobs,
    Operation::EditJobs,
    Operation::MoveJobs,
    Operation::DeleteJobs,
    Operation::ReadPrinters,
    Operation::ManagePrinters,
    Operation::ManageUsers,
    Operation::ManageTokens,
];

#[test]
fn every_operation_has_exactly_one_row() {
    for op in EVERY_OPERATION {
        let rows = PERMISSIONS.iter().filter(|(o, _)| *o == op).count();
        assert_eq!(rows, 1, "{op:?}");
    }
    assert_eq!(PERMISSIONS.len(), EVERY_OPERATION.len());
}

#[test]
fn the_table_is_the_contracts() {
    use Operation::*;
    let expected = [
        (ReadJobs, Role::Viewer),
        (ReadPrinters, Role::Viewer),
        (CreateJobs, Role::Operator),
        (EditJobs, Role::Operator),
        (MoveJobs, Role::Operator),
        (DeleteJobs, Role::Operator),
        (ManagePrinters, Role::Admin),
        (ManageUsers, Role::Admin),
        (ManageTokens, Role::Admin),
    ];
    for (op, needed) in expected {
        assert_eq!(op.required_role(), needed, "{op:?}");
        for role in Role::ALL {
            let outcome = op.check(role);
            assert_eq!(outcome.is_ok(), role >= needed, "{op:?} as {role}");
            if let Err(refusal) = outcome {
                assert_eq!(refusal.needed, needed);
                assert_eq!(refusal.had, role);
                assert!(refusal.to_string().contains(needed.as_str()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Usernames, display names, passwords
// ---------------------------------------------------------------------------------------------

#[test]
fn usernames_are_lower_cased_and_plain() {
    assert_eq!(Username::parse("Anna").unwrap().as_str(), "anna");
    for good in [
        "a",
        "anna.berg",
        "front_desk-2",
        "anna@shop",
        &"x".repeat(64),
    ] {
        assert!(Username::parse(good).is_ok(), "{good}");
    }
    for bad in ["", " anna", "an na", "anna:", "änna", &"x".repeat(65)] {
        let violation = Username::parse(bad).unwrap_err();
        assert_eq!(violation.field, "username", "{bad}");
    }
}

#[test]
fn display_names_are_trimmed_and_printable() {
    assert_eq!(
        DisplayName::parse("  Anna Berg ").unwrap().as_str(),
        "Anna Berg"
    );
    assert_eq!(
        DisplayName::parse("Jürgen Ölß").unwrap().as_str(),
        "Jürgen Ölß"
    );
    for bad in ["", "   ", "Anna\nBerg", "x\u{0}", &"x".repeat(101)] {
        assert_eq!(DisplayName::parse(bad).unwrap_err().field, "display_name");
    }
}

#[test]
fn passwords_have_a_length_and_never_show() {
    assert!(Password::new("1234567").is_err());
    assert!(Password::new("12345678").is_ok());
    assert!(Password::new("x".repeat(1025)).is_err());
    let password = Password::new("correct horse").unwrap();
    assert_eq!(format!("{password:?}"), "Password(..)");
    // A presented password is never refused, only cut.
    assert_eq!(Password::presented("x").expose(), "x");
    assert_eq!(Password::presented(&"y".repeat(5000)).expose().len(), 1024);
}

#[test]
fn a_draft_reports_every_broken_rule_at_once() {
    let errors = UserDraft {
        username: "a b".into(),
        display_name: Some("Anna\u{7}".into()),
        role: Role::Viewer,
        password: "short".into(),
    }
    .validate()
    .unwrap_err();
    let fields: Vec<&str> = errors
        .violations()
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["username", "display_name", "password"]);
    // A display name of only white space is taken as absent: the username is used.
    let (_, display_name, _, _) = UserDraft {
        username: "olaf".into(),
        display_name: Some("  ".into()),
        role: Role::Viewer,
        password: "long enough".into(),
    }
    .validate()
    .unwrap();
    assert_eq!(display_name.as_str(), "olaf");

    let (username, display_name, role, _) = UserDraft {
        username: "Anna".into(),
        display_name: None,
        role: Role::Operator,
        password: "long enough".into(),
    }
    .validate()
    .unwrap();
    assert_eq!(
        (username.as_str(), display_name.as_str(), role),
        ("anna", "Anna", Role::Operator)
    );
}

// ---------------------------------------------------------------------------------------------
// Session expiry
// ---------------------------------------------------------------------------------------------

#[test]
fn sessions_end_when_idle_or_too_old() {
    let policy = SessionPolicy {
        idle: StdDuration::from_secs(600),
        absolute: StdDuration::from_secs(3600),
        touch_after: StdDuration::from_secs(60),
    };
    let session = Session {
        user_id: UserId::new(),
        created_at: T0,
        last_seen_at: T0,
    };
    assert_eq!(
        policy.state(&session, T0 + Duration::seconds(30)),
        SessionState::Live { touch: false }
    );
    assert_eq!(
        policy.state(&session, T0 + Duration::seconds(60)),
        SessionState::Live { touch: true }
    );
    assert_eq!(
        policy.state(&session, T0 + Duration::seconds(600)),
        SessionState::Expired
    );
    // Used a minute ago but 1 h old: over.
    let busy = Session {
        last_seen_at: T0 + Duration::seconds(3540),
        ..session.clone()
    };
    assert_eq!(
        policy.state(&busy, T0 + Duration::seconds(3599)),
        SessionState::Live { touch: false }
    );
    assert_eq!(
        policy.state(&busy, T0 + Duration::seconds(3600)),
        SessionState::Expired
    );
}

// ---------------------------------------------------------------------------------------------
// The sign-in slow-down
// ---------------------------------------------------------------------------------------------

fn throttle() -> ThrottlePolicy {
    ThrottlePolicy {
        free_per_user: 3,
        free_per_address: 10,
        first_delay: StdDuration::from_secs(1),
        max_delay: StdDuration::from_secs(8),
        window: StdDuration::from_secs(900),
    }
}

#[test]
fn failures_beyond_the_free_ones_wait_twice_as_long_each_time() {
    let policy = throttle();
    let user = ThrottleKey::user("Anna");
    assert_eq!(user, ThrottleKey::User("anna".into()));
    let count = |failures| {
        Some(FailureCount {
            failures,
            last_failure: T0,
        })
    };
    assert_eq!(policy.wait(&user, None, T0), None);
    assert_eq!(policy.wait(&user, count(2), T0), None);
    let secs = StdDuration::from_secs;
    assert_eq!(policy.wait(&user, count(3), T0), Some(secs(1)));
    assert_eq!(policy.wait(&user, count(4), T0), Some(secs(2)));
    assert_eq!(policy.wait(&user, count(5), T0), Some(secs(4)));
    assert_eq!(policy.wait(&user, count(6), T0), Some(secs(8)));
    assert_eq!(policy.wait(&user, count(60), T0), Some(secs(8)), "capped");
    // Time spent since the last failure counts.
    assert_eq!(
        policy.wait(&user, count(5), T0 + Duration::milliseconds(3500)),
        Some(StdDuration::from_millis(500))
    );
    assert_eq!(
        policy.wait(&user, count(5), T0 + Duration::seconds(4)),
        None
    );
    // An address has more free failures.
    let address = ThrottleKey::Address("192.0.2.7".into());
    assert_eq!(policy.wait(&address, count(9), T0), None);
    assert_eq!(policy.wait(&address, count(10), T0), Some(secs(1)));
    // After the window, everything is forgotten.
    assert_eq!(
        policy.wait(&user, count(60), T0 + Duration::seconds(900)),
        None
    );
}

#[test]
fn counting_starts_afresh_after_the_window() {
    let policy = throttle();
    let first = policy.after_failure(None, T0);
    assert_eq!(first.failures, 1);
    let second = policy.after_failure(Some(first), T0 + Duration::seconds(899));
    assert_eq!(second.failures, 2);
    let later = policy.after_failure(Some(second), T0 + Duration::seconds(899 + 900));
    assert_eq!(later.failures, 1);
}

// ---------------------------------------------------------------------------------------------
// The use cases
// ---------------------------------------------------------------------------------------------

struct Access {
    service: AccessService,
    crypto: Arc<TestCrypto>,
    clock: Arc<FixedClock>,
}

fn access() -> Access {
    let crypto = Arc::new(TestCrypto::default());
    let clock = Arc::new(FixedClock::new(T0));
    let sessions = SessionPolicy {
        idle: StdDuration::from_secs(600),
        absolute: StdDuration::from_secs(3600),
        touch_after: StdDuration::from_secs(60),
    };
    let service = AccessService::new(
        Arc::new(InMemoryAccessStore::default()),
        crypto.clone(),
        clock.clone(),
    )
    .with_policies(sessions, throttle());
    Access {
        service,
        crypto,
        clock,
    }
}

fn draft(username: &str, role: Role) -> UserDraft {
    UserDraft {
        username: username.into(),
        display_name: Some(format!("{username} the {role}")),
        role,
        password: format!("{username}-password"),
    }
}

#[tokio::test]
async fn the_first_admin_can_be_made_only_once() {
    let a = access();
    assert!(!a.service.any_user().await.unwrap());
    let admin = a
        .service
        .create_first_admin(draft("anna", Role::Viewer))
        .await
        .unwrap();
    assert_eq!(
        admin.role,
        Role::Admin,
        "the first user is an admin whatever was asked"
    );
    assert!(a.service.any_user().await.unwrap());
    assert!(matches!(
        a.service
            .create_first_admin(draft("bert", Role::Admin))
            .await,
        Err(CreateUserError::NotFirst)
    ));
    assert!(matches!(
        a.service.create_user(draft("Anna", Role::Viewer)).await,
        Err(CreateUserError::Duplicate(name)) if name.as_str() == "anna"
    ));
}

#[tokio::test]
async fn signing_in_makes_a_session_that_names_the_user() {
    let a = access();
    a.service
        .create_user(draft("anna", Role::Operator))
        .await
        .unwrap();
    let signed_in = a
        .service
        .sign_in("Anna", "anna-password", Some("192.0.2.7"))
        .await
        .unwrap();
    let principal = a
        .service
        .resolve_session(signed_in.secret.expose())
        .await
        .unwrap()
        .expect("a live session");
    assert_eq!(principal.role(), Role::Operator);
    assert_eq!(principal.actor().name(), Some("anna the operator"));
    assert!(matches!(principal.via(), Via::Session(user) if user.username.as_str() == "anna"));
    assert!(principal.may(Operation::EditJobs).is_ok());
    assert_eq!(
        principal.may(Operation::ManagePrinters).unwrap_err().needed,
        Role::Admin
    );

    a.service.sign_out(signed_in.secret.expose()).await.unwrap();
    assert_eq!(
        a.service
            .resolve_session(signed_in.secret.expose())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer_and_the_same_work() {
    let a = access();
    a.service
        .create_user(draft("anna", Role::Viewer))
        .await
        .unwrap();
    let wrong = a.service.sign_in("anna", "not-it", None).await.unwrap_err();
    let unknown = a
        .service
        .sign_in("nobody", "not-it", None)
        .await
        .unwrap_err();
    let malformed = a
        .service
        .sign_in("no body!", "not-it", None)
        .await
        .unwrap_err();
    assert_eq!(wrong, SignInError::WrongCredentials);
    assert_eq!(unknown, SignInError::WrongCredentials);
    assert_eq!(malformed, SignInError::WrongCredentials);
    assert_eq!(
        a.crypto.password_checks(),
        3,
        "every attempt checks a password"
    );
}

#[tokio::test]
async fn repeated_failures_are_slowed_per_user_and_per_address() {
    let a = access();
    a.service
        .create_user(draft("anna", Role::Viewer))
        .await
        .unwrap();
    for _ in 0..3 {
        let e = a
            .service
            .sign_in("anna", "wrong", Some("198.51.100.1"))
            .await;
        assert_eq!(e.unwrap_err(), SignInError::WrongCredentials);
    }
    // Even the right password waits now, from another address too.
    let e = a
        .service
        .sign_in("anna", "anna-password", Some("198.51.100.2"))
        .await;
    assert_eq!(
        e.unwrap_err(),
        SignInError::Throttled(StdDuration::from_secs(1))
    );
    let checks = a.crypto.password_checks();
    assert_eq!(checks, 3, "a throttled attempt checks no password");
    a.clock.advance(Duration::seconds(1));
    a.service
        .sign_in("anna", "anna-password", Some("198.51.100.2"))
        .await
        .expect("the wait is over");
    // A success starts the user's count afresh.
    assert_eq!(
        a.service.sign_in("anna", "wrong", None).await.unwrap_err(),
        SignInError::WrongCredentials
    );

    // Per address: ten failures on ten different names slow down an eleventh name.
    for n in 0..10 {
        let e = a
            .service
            .sign_in(&format!("guess{n}"), "x", Some("203.0.113.9"))
            .await;
        assert_eq!(e.unwrap_err(), SignInError::WrongCredentials);
    }
    let e = a
        .service
        .sign_in("anna", "anna-password", Some("203.0.113.9"))
        .await;
    assert!(matches!(e, Err(SignInError::Throttled(_))));
    a.service
        .sign_in("anna", "anna-password", Some("203.0.113.10"))
        .await
        .expect("another address is not slowed");
}

#[tokio::test]
async fn sessions_expire_and_are_touched_at_most_once_a_minute() {
    let a = access();
    a.service
        .create_user(draft("anna", Role::Viewer))
        .await
        .unwrap();
    let secret = a
        .service
        .sign_in("anna", "anna-password", None)
        .await
        .unwrap()
        .secret;
    let resolve = || a.service.resolve_session(secret.expose());
    // Used every 5 minutes, it lives past the 10-minute idle limit.
    for _ in 0..5 {
        a.clock.advance(Duration::minutes(5));
        assert!(resolve().await.unwrap().is_some());
    }
    // Unused for 10 minutes: over.
    a.clock.advance(Duration::minutes(10));
    assert_eq!(resolve().await.unwrap(), None);

    let secret = a
        .service
        .sign_in("anna", "anna-password", None)
        .await
        .unwrap()
        .secret;
    for _ in 0..11 {
        a.clock.advance(Duration::minutes(5));
        assert!(
            a.service
                .resolve_session(secret.expose())
                .await
                .unwrap()
                .is_some()
        );
    }
    a.clock.advance(Duration::minutes(5));
    assert_eq!(
        a.service.resolve_session(secret.expose()).await.unwrap(),
        None,
        "an hour after signing in, however busy"
    );
}

#[tokio::test]
async fn tokens_act_for_their_user_never_above_it_and_revoke_at_once() {
    let a = access();
    a.service
        .create_user(draft("anna", Role::Admin))
        .await
        .unwrap();
    a.service
        .create_user(draft("olaf", Role::Operator))
        .await
        .unwrap();
    let anna = signed_in(&a, "anna").await;
    let olaf = signed_in(&a, "olaf").await;

    let (token, secret) = a
        .service
        .create_token(&anna, "front-desk", Some(Role::Viewer))
        .await
        .unwrap();
    assert!(secret.expose().starts_with("pd_"));
    assert_eq!((token.role, token.user.as_str()), (Role::Viewer, "anna"));
    let principal = a
        .service
        .resolve_token(secret.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(principal.role(), Role::Viewer);
    assert_eq!(principal.actor().name(), Some("front-desk"));

    assert_eq!(
        a.service
            .create_token(&olaf, "mine", Some(Role::Admin))
            .await
            .unwrap_err(),
        CreateTokenError::RoleTooHigh(Role::Operator)
    );
    let (own, _) = a.service.create_token(&olaf, "mine", None).await.unwrap();
    assert_eq!(own.role, Role::Operator, "the owner's role by default");
    assert!(matches!(
        a.service.create_token(&anna, "mine", None).await,
        Err(CreateTokenError::Duplicate(name)) if name == "mine"
    ));
    assert!(matches!(
        a.service.create_token(&anna, "front desk", None).await,
        Err(CreateTokenError::Invalid(_))
    ));
    assert_eq!(
        a.service
            .create_token(&Principal::configured_token("ci"), "x", None)
            .await
            .unwrap_err(),
        CreateTokenError::NoUser
    );
    let names: Vec<String> = a
        .service
        .list_tokens()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, ["front-desk", "mine"]);

    assert!(a.service.revoke_token(&token.id).await.unwrap());
    assert!(!a.service.revoke_token(&token.id).await.unwrap());
    assert_eq!(
        a.service.resolve_token(secret.expose()).await.unwrap(),
        None
    );
}

async fn signed_in(a: &Access, username: &str) -> Principal {
    let secret = a
        .service
        .sign_in(username, &format!("{username}-password"), None)
        .await
        .unwrap()
        .secret;
    a.service
        .resolve_session(secret.expose())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn deleting_a_user_ends_its_sessions_and_tokens_but_never_the_last_admin() {
    let a = access();
    a.service
        .create_user(draft("anna", Role::Admin))
        .await
        .unwrap();
    a.service
        .create_user(draft("olaf", Role::Operator))
        .await
        .unwrap();
    let olaf = signed_in(&a, "olaf").await;
    let session = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;
    let (_, token) = a
        .service
        .create_token(&olaf, "olaf-phone", None)
        .await
        .unwrap();

    assert_eq!(
        a.service.delete_user("anna").await.unwrap_err(),
        DeleteUserError::LastAdmin
    );
    assert_eq!(
        a.service.delete_user("nobody").await.unwrap_err(),
        DeleteUserError::NotFound
    );
    a.service.delete_user("OLAF").await.unwrap();
    assert_eq!(
        a.service.resolve_session(session.expose()).await.unwrap(),
        None
    );
    assert_eq!(a.service.resolve_token(token.expose()).await.unwrap(), None);
    let users: Vec<String> = a
        .service
        .list_users()
        .await
        .unwrap()
        .iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(users, ["anna"]);
}

#[tokio::test]
async fn an_admin_ends_every_session_of_a_user() {
    let a = access();
    a.service
        .create_user(draft("olaf", Role::Operator))
        .await
        .unwrap();
    let phone = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;
    let desk = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;
    assert_eq!(a.service.end_sessions_of("olaf").await.unwrap(), 2);
    for secret in [phone, desk] {
        assert_eq!(
            a.service.resolve_session(secret.expose()).await.unwrap(),
            None
        );
    }
    assert_eq!(
        a.service.end_sessions_of("nobody").await.unwrap_err(),
        DeleteUserError::NotFound
    );
}

// ---------------------------------------------------------------------------------------------
// Changing users: the rules, then the use cases
// ---------------------------------------------------------------------------------------------

fn stored(username: &str, role: Role) -> User {
    User {
        id: UserId::new(),
        username: Username::parse(username).unwrap(),
        display_name: DisplayName::parse(username).unwrap(),
        role,
        created_at: T0,
    }
}

fn changes(role: Option<Role>, password: bool) -> UserChanges {
    UserChanges {
        display_name: None,
        role,
        password: password.then(|| PasswordHash::new("new".into())),
    }
}

#[test]
fn the_last_admin_keeps_the_admin_role() {
    let anna = stored("anna", Role::Admin);
    assert_eq!(
        changes(Some(Role::Operator), false).check(&anna, 1),
        Err(UpdateUserError::LastAdmin)
    );
    assert_eq!(
        changes(Some(Role::Operator), false).check(&anna, 2),
        Ok(true)
    );
    // Staying an admin, or changing anything else, is no demotion.
    assert_eq!(changes(Some(Role::Admin), false).check(&anna, 1), Ok(false));
    assert_eq!(changes(None, true).check(&anna, 1), Ok(true));
    let olaf = stored("olaf", Role::Operator);
    assert_eq!(changes(Some(Role::Admin), false).check(&olaf, 1), Ok(true));
}

#[test]
fn a_new_password_or_role_ends_sessions_a_display_name_does_not() {
    let olaf = stored("olaf", Role::Operator);
    let renamed = UserChanges {
        display_name: Some(DisplayName::parse("Olaf K.").unwrap()),
        role: None,
        password: None,
    };
    assert_eq!(renamed.check(&olaf, 1), Ok(false));
    assert_eq!(
        changes(Some(Role::Operator), false).check(&olaf, 1),
        Ok(false)
    );
    assert_eq!(changes(Some(Role::Viewer), false).check(&olaf, 1), Ok(true));
    assert_eq!(changes(None, true).check(&olaf, 1), Ok(true));
    let applied = renamed.apply(&olaf);
    assert_eq!(applied.display_name.as_str(), "Olaf K.");
    assert_eq!((applied.role, applied.id), (olaf.role, olaf.id));
}

#[test]
fn an_edit_reports_every_broken_rule_and_an_account_edit_needs_the_current_password() {
    let errors = UserEdit {
        display_name: Some("  ".into()),
        role: Some(Role::Viewer),
        password: Some("short".into()),
    }
    .validate()
    .unwrap_err();
    let fields: Vec<&str> = errors
        .violations()
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["display_name", "password"]);
    let nothing = UserEdit::default().validate().unwrap();
    assert_eq!(
        (nothing.display_name, nothing.role, nothing.password),
        (None, None, None)
    );

    let errors = AccountEdit {
        password: Some("a long new one".into()),
        ..AccountEdit::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(errors.violations()[0].field, "current_password");
    let (edit, current) = AccountEdit {
        display_name: Some("Olaf".into()),
        current_password: Some("ignored without a new password".into()),
        ..AccountEdit::default()
    }
    .validate()
    .unwrap();
    assert_eq!(edit.display_name.unwrap().as_str(), "Olaf");
    assert!(current.is_none());
}

#[tokio::test]
async fn an_admin_changes_a_user_and_a_new_role_or_password_ends_its_sessions() {
    let a = access();
    a.service
        .create_user(draft("anna", Role::Admin))
        .await
        .unwrap();
    a.service
        .create_user(draft("olaf", Role::Operator))
        .await
        .unwrap();
    let anna = a
        .service
        .sign_in("anna", "anna-password", None)
        .await
        .unwrap()
        .secret;
    let olaf = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;

    let renamed = a
        .service
        .update_user(
            "olaf",
            UserEdit {
                display_name: Some(" Olaf Krause ".into()),
                ..UserEdit::default()
            },
            Some(anna.expose()),
        )
        .await
        .unwrap();
    assert_eq!(renamed.display_name.as_str(), "Olaf Krause");
    let still = a.service.resolve_session(olaf.expose()).await.unwrap();
    assert_eq!(
        still.unwrap().actor().name(),
        Some("Olaf Krause"),
        "a new name keeps the session and counts at once"
    );

    let demoted = a
        .service
        .update_user(
            "OLAF",
            UserEdit {
                role: Some(Role::Viewer),
                ..UserEdit::default()
            },
            Some(anna.expose()),
        )
        .await
        .unwrap();
    assert_eq!(demoted.role, Role::Viewer);
    assert_eq!(
        a.service.resolve_session(olaf.expose()).await.unwrap(),
        None
    );

    // The last admin stays one; an unknown user is not found; a bad field is named.
    assert_eq!(
        a.service
            .update_user(
                "anna",
                UserEdit {
                    role: Some(Role::Operator),
                    ..UserEdit::default()
                },
                Some(anna.expose()),
            )
            .await
            .unwrap_err(),
        UpdateUserError::LastAdmin
    );
    assert_eq!(
        a.service
            .update_user("nobody", UserEdit::default(), None)
            .await
            .unwrap_err(),
        UpdateUserError::NotFound
    );
    assert!(matches!(
        a.service
            .update_user(
                "olaf",
                UserEdit {
                    password: Some("short".into()),
                    ..UserEdit::default()
                },
                None,
            )
            .await,
        Err(UpdateUserError::Invalid(_))
    ));

    // An admin who sets their own password keeps the session doing it, not the others.
    let other = a
        .service
        .sign_in("anna", "anna-password", None)
        .await
        .unwrap()
        .secret;
    a.service
        .update_user(
            "anna",
            UserEdit {
                password: Some("anna-new-password".into()),
                ..UserEdit::default()
            },
            Some(anna.expose()),
        )
        .await
        .unwrap();
    assert!(
        a.service
            .resolve_session(anna.expose())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        a.service.resolve_session(other.expose()).await.unwrap(),
        None
    );
    assert!(matches!(
        a.service.sign_in("anna", "anna-password", None).await,
        Err(SignInError::WrongCredentials)
    ));
    a.service
        .sign_in("anna", "anna-new-password", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn users_change_their_own_password_only_with_the_current_one() {
    let a = access();
    a.service
        .create_user(draft("olaf", Role::Operator))
        .await
        .unwrap();
    let here = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;
    let phone = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;
    let me = a
        .service
        .resolve_session(here.expose())
        .await
        .unwrap()
        .unwrap();
    let edit = |current: &str| AccountEdit {
        password: Some("olaf-new-password".into()),
        current_password: Some(current.into()),
        ..AccountEdit::default()
    };

    assert_eq!(
        a.service
            .update_account(&me, Some(here.expose()), edit("wrong"))
            .await
            .unwrap_err(),
        UpdateUserError::WrongPassword
    );
    assert!(
        a.service
            .resolve_session(phone.expose())
            .await
            .unwrap()
            .is_some()
    );

    let changed = a
        .service
        .update_account(&me, Some(here.expose()), edit("olaf-password"))
        .await
        .unwrap();
    assert_eq!(
        changed.role,
        Role::Operator,
        "no role of one's own choosing"
    );
    assert!(
        a.service
            .resolve_session(here.expose())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        a.service.resolve_session(phone.expose()).await.unwrap(),
        None
    );
    a.service
        .sign_in("olaf", "olaf-new-password", None)
        .await
        .unwrap();

    // Wrong current passwords are slowed down like sign-ins.
    let mut last = None;
    for _ in 0..10 {
        last = Some(
            a.service
                .update_account(&me, Some(here.expose()), edit("wrong"))
                .await
                .unwrap_err(),
        );
    }
    assert!(
        matches!(last, Some(UpdateUserError::Throttled(_))),
        "{last:?}"
    );

    // A token or an open server has no account of its own.
    assert_eq!(
        a.service
            .update_account(&Principal::open(), None, AccountEdit::default())
            .await
            .unwrap_err(),
        UpdateUserError::NotSignedIn
    );
}

#[tokio::test]
async fn checking_a_session_writes_nothing_and_sees_its_end() {
    let a = access();
    a.service
        .create_user(draft("olaf", Role::Operator))
        .await
        .unwrap();
    let secret = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;
    a.clock.advance(Duration::minutes(9));
    assert!(
        a.service
            .check_session(secret.expose())
            .await
            .unwrap()
            .is_some()
    );
    // Checking is no use: the session still ends ten minutes after its last use.
    a.clock.advance(Duration::minutes(2));
    assert_eq!(
        a.service.check_session(secret.expose()).await.unwrap(),
        None
    );
    let fresh = a
        .service
        .sign_in("olaf", "olaf-password", None)
        .await
        .unwrap()
        .secret;
    a.service.sign_out(fresh.expose()).await.unwrap();
    assert_eq!(a.service.check_session(fresh.expose()).await.unwrap(), None);
}
