//! Deadlocks and lock waits on PostgreSQL, through two instances of the real binary on one
//! database (docs/operations.md, "Faults and what they look like"): printers deleted while
//! their jobs are edited and other jobs are assigned to them. No request may get a 500 or no
//! answer, and every 503 carries `Retry-After`. Runs with `PRINTDESK_TEST_POSTGRES_URL` (it
//! stops nothing, so the shared server will do).

mod support;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use printdesk_store_diesel::test_support::TestDatabase;
use reqwest::StatusCode;
use serde_json::json;
use support::{Server, TempDir, client, create_job};

/// Every status seen, with how many; and the answers that broke the rules.
#[derive(Debug, Default)]
struct Tally {
    statuses: BTreeMap<u16, usize>,
    bad: Vec<String>,
}

fn record(tally: &Mutex<Tally>, what: &str, result: reqwest::Result<reqwest::Response>) {
    let mut tally = tally.lock().unwrap();
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            tally.bad.push(format!("{what}: no answer: {e}"));
            return;
        }
    };
    let status = response.status();
    *tally.statuses.entry(status.as_u16()).or_default() += 1;
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tally.bad.push(format!("{what}: 500"));
    } else if status == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key("retry-after")
    {
        tally.bad.push(format!("{what}: 503 without Retry-After"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_printers_under_edits_and_assignments_never_fails_with_a_500() {
    let Some(database) = TestDatabase::postgres(
        "deleting_printers_under_edits_and_assignments_never_fails_with_a_500",
    ) else {
        return;
    };
    let dir = TempDir::new("lock-order");
    // Both in one directory: they share the key that seals printer secrets.
    let servers = [
        Server::start(&database.url, dir.path()),
        Server::start(&database.url, dir.path()),
    ];
    let http = client();
    let mut jobs = Vec::new();
    for i in 0..12 {
        jobs.push(create_job(&http, &servers[i % 2], &format!("job {i}")).await);
    }
    let jobs = Arc::new(jobs);
    let bases: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.url("")).collect());
    let tally = Arc::new(Mutex::new(Tally::default()));

    let started = Instant::now();
    let mut round = 0;
    while started.elapsed() < Duration::from_secs(8) {
        round += 1;
        let printer = format!("p-{round}");
        let response = http
            .post(format!("{}/api/v1/printers", bases[round % 2]))
            .json(&json!({ "id": printer, "name": format!("Printer {round}"), "printer_type": "bambu_lab" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        // Half the jobs on it.
        let on_it: Vec<&String> = jobs.iter().take(6).collect();
        let response = http
            .post(format!("{}/api/v1/jobs/bulk-edit", bases[0]))
            .json(&json!({ "ids": on_it, "changes": { "printer_id": printer } }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap()
        );

        let mut tasks = Vec::new();
        // The deletion, on one instance.
        {
            let (http, bases, tally, printer) =
                (http.clone(), bases.clone(), tally.clone(), printer.clone());
            tasks.push(tokio::spawn(async move {
                let result = http
                    .delete(format!(
                        "{}/api/v1/printers/{printer}",
                        bases[(round + 1) % 2]
                    ))
                    .send()
                    .await;
                record(&tally, "delete printer", result);
            }));
        }
        // Its jobs edited, and the other jobs assigned to it, on both.
        for (i, job) in jobs.iter().enumerate() {
            let (http, bases, tally, printer, job) = (
                http.clone(),
                bases.clone(),
                tally.clone(),
                printer.clone(),
                job.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let base = &bases[i % 2];
                let body = if i < 6 {
                    json!({ "notes": format!("round {round}") })
                } else {
                    json!({ "printer_id": printer })
                };
                let result = http
                    .put(format!("{base}/api/v1/jobs/{job}"))
                    .json(&body)
                    .send()
                    .await;
                record(&tally, if i < 6 { "edit" } else { "assign" }, result);
                // And the lot once more, as a bulk edit.
                if i == 0 {
                    let result = http
                        .post(format!("{base}/api/v1/jobs/bulk-edit"))
                        .json(&json!({ "ids": [job], "changes": { "printer_id": null } }))
                        .send()
                        .await;
                    record(&tally, "bulk detach", result);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }
    let tally = tally.lock().unwrap();
    eprintln!("{round} rounds; statuses: {:?}", tally.statuses);
    assert!(
        tally.bad.is_empty(),
        "{:?} (statuses {:?})",
        tally.bad,
        tally.statuses
    );
    assert!(round >= 5, "only {round} rounds");
}
