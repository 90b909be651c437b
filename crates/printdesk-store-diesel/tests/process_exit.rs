//! A process that exits while PostgreSQL connections are busy on other threads exits
//! cleanly.
//!
//! libpq talks TLS through the bundled OpenSSL. Initialised by libpq, OpenSSL registers an
//! `atexit` handler that frees its global state while other threads may still be reading
//! from a TLS connection — a pool's, or the `LISTEN` thread's —, and the process dies of
//! SIGSEGV after `main` has returned (seen: the API suite crashed after "210 passed").
//! The store initialises OpenSSL first, without that handler.
//!
//! The test runs itself as a child process, which opens a store, keeps connections busy on
//! a few threads and exits; the parent checks that each child exited with status 0.
//!
//! PostgreSQL tests need `PRINTDESK_TEST_POSTGRES_URL`; without it they say they were skipped.

use std::{process::Command, thread, time::Duration};

use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use printdesk_store_diesel::{Store, test_support::TestDatabase};

const CHILD_VAR: &str = "PRINTDESK_PROCESS_EXIT_CHILD_URL";
const CHILD_TEST: &str = "child_exits_with_busy_connections";
const BUSY_THREADS: usize = 4;
const RUNS: usize = 50;

#[test]
fn exiting_with_busy_postgres_connections_is_clean() {
    let Some(db) = TestDatabase::postgres("exiting_with_busy_postgres_connections_is_clean") else {
        return;
    };
    let exe = std::env::current_exe().expect("the test binary's path");
    for run in 1..=RUNS {
        let output = Command::new(&exe)
            .args(["--ignored", "--exact", CHILD_TEST, "--nocapture"])
            .env(CHILD_VAR, &db.url)
            .output()
            .expect("start the child process");
        assert!(
            output.status.success(),
            "run {run} of {RUNS}: the child exited with {} \nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

/// The child's half, run only by the test above.
#[test]
#[ignore = "the child process of exiting_with_busy_postgres_connections_is_clean"]
fn child_exits_with_busy_connections() {
    let url = std::env::var(CHILD_VAR).expect("started by the parent test, which sets the URL");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let store = runtime
        .block_on(Store::connect(&url))
        .expect("open the store");
    for _ in 0..BUSY_THREADS {
        let url = url.clone();
        thread::spawn(move || {
            loop {
                let mut conn = PgConnection::establish(&url).expect("connect");
                diesel::sql_query("SELECT pg_catalog.repeat('x', 4096)")
                    .execute(&mut conn)
                    .expect("query");
            }
        });
    }
    thread::sleep(Duration::from_millis(100));
    drop(store);
    // `exit` runs the C `atexit` handlers while the threads above are mid-query.
    std::process::exit(0);
}
