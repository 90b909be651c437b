//! `GET /jobs/export.csv`: the streamed CSV export.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use async_trait::async_trait;
use futures_util::StreamExt;
use printdesk_domain::{
    BulkUpdateError, CreateJobError, DeleteJobError, EditJobError, EventLog, Job, JobDeletion,
    JobDraft, JobEdit, JobEvent, JobHistory, JobId, JobPage, JobQuery, JobRepository, NewJobEvent,
    Seq, StoreError, SummaryGroup, SummaryKey, UpdateOutcome,
};
use reqwest::{Method, Response, StatusCode, header};
use serde_json::json;

use crate::helpers::{Backend, TestApp, error_fields, id_of, problem, spawn_app_with};

api_tests!(
    an_empty_export_is_the_bom_and_the_header,
    rows_hold_every_column_quoted_and_neutralised,
    the_list_filters_apply,
    paging_parameters_are_refused,
    three_thousand_jobs_arrive_complete,
    the_route_is_not_a_job_id,
);

const HEADER: &str = "id,job_name,status,is_business,customer_name,printer_id,file_name,notes,\
                      version,created_at,updated_at,started_at,completed_at,auto_created,\
                      discovery_time,printer_name";

/// Parses RFC 4180 CSV (CRLF records, `"` quoting with doubled inner quotes) strictly: a bare
/// LF or CR outside quotes, or a quote inside a bare field, fails the test.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    assert!(
                        matches!(chars.peek(), Some(',' | '\r') | None),
                        "text after a closing quote"
                    );
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            '"' => panic!("a quote inside a bare field: {field}"),
            ',' => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_field_start = true;
            }
            '\n' => panic!("a bare LF ends a record"),
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    assert!(!quoted, "an unterminated quoted field");
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record lacks CRLF"
    );
    records
}

/// Checks the export's headers and BOM, and returns its records (header row included).
async fn export(response: Response) -> Vec<Vec<String>> {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    let name = disposition
        .strip_prefix("attachment; filename=\"printdesk-jobs-")
        .and_then(|rest| rest.strip_suffix(".csv\""))
        .unwrap_or_else(|| panic!("{disposition}"));
    assert!(
        time::Date::parse(
            name,
            time::macros::format_description!("[year]-[month]-[day]")
        )
        .is_ok(),
        "{disposition}"
    );
    let bytes = response.bytes().await.unwrap();
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "the body starts with the UTF-8 BOM"
    );
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    let records = parse_csv(text);
    assert_eq!(records[0].join(","), HEADER);
    assert!(
        records.iter().all(|r| r.len() == 16),
        "16 fields per record"
    );
    records
}

fn column(name: &str) -> usize {
    HEADER.split(',').position(|c| c == name).unwrap()
}

async fn an_empty_export_is_the_bom_and_the_header(app: TestApp) {
    let response = app.export_csv("").await;
    let records = export(response).await;
    assert_eq!(records.len(), 1);
    let raw = app.export_csv("").await.bytes().await.unwrap();
    assert_eq!(&raw[..], format!("\u{feff}{HEADER}\r\n").as_bytes());
}

async fn rows_hold_every_column_quoted_and_neutralised(app: TestApp) {
    app.create_printer("x1c").await;
    let plain = app
        .create_job(json!({
            "job_name": "Benchy", "is_business": true, "customer_name": "Müller, Jörg & Söhne",
            "printer_id": "x1c", "file_name": "benchy \"v2\".3mf",
            "notes": "line one\nline two\r\nline three"
        }))
        .await;
    app.post_status(&id_of(&plain), &json!({ "status": "running" }), None)
        .await;
    let plain = app.stored_job(&id_of(&plain)).await;

    let injections = [
        (
            "=HYPERLINK(\"http://evil\",\"x\")",
            "'=HYPERLINK(\"http://evil\",\"x\")",
        ),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("東京 🖨️", "東京 🖨️"),
    ];
    for (name, _) in injections {
        app.create_job(json!({ "job_name": name, "notes": "\tcmd", "file_name": "\r=x" }))
            .await;
    }

    let records = export(app.export_csv("").await).await;
    assert_eq!(records.len(), 1 + 1 + injections.len());
    // Rows come in creation order.
    let row = &records[1];
    let field = |name: &str| row[column(name)].as_str();
    assert_eq!(field("id"), plain["id"]);
    assert_eq!(field("job_name"), "Benchy");
    assert_eq!(field("status"), "running");
    assert_eq!(field("is_business"), "true");
    assert_eq!(field("customer_name"), "Müller, Jörg & Söhne");
    assert_eq!(field("printer_id"), "x1c");
    assert_eq!(field("file_name"), "benchy \"v2\".3mf");
    assert_eq!(field("notes"), "line one\nline two\r\nline three");
    assert_eq!(field("version"), "2");
    for ts in ["created_at", "updated_at", "started_at"] {
        assert_eq!(field(ts), plain[ts], "{ts}");
    }
    assert_eq!(field("completed_at"), "");
    assert_eq!(field("auto_created"), "false");
    assert_eq!(field("discovery_time"), "");

    for (row, (_, exported)) in records[2..].iter().zip(injections) {
        assert_eq!(row[column("job_name")], exported);
        assert_eq!(row[column("notes")], "'\tcmd");
        assert_eq!(row[column("file_name")], "'\r=x");
        assert_eq!(row[column("is_business")], "false");
        assert_eq!(row[column("customer_name")], "");
    }
}

async fn the_list_filters_apply(app: TestApp) {
    app.create_printer("mk4").await;
    app.create_job(json!({ "job_name": "Alpha", "status": "running", "printer_id": "mk4" }))
        .await;
    app.create_job(json!({ "job_name": "Bravo", "is_business": true, "customer_name": "Acme" }))
        .await;
    app.create_job(json!({ "job_name": "Charlie", "status": "failed", "notes": "acme spaghetti" }))
        .await;

    let names = |records: Vec<Vec<String>>| -> Vec<String> {
        records[1..]
            .iter()
            .map(|r| r[column("job_name")].clone())
            .collect()
    };
    for (query, expected) in [
        ("status=running", vec!["Alpha"]),
        ("printer_id=mk4", vec!["Alpha"]),
        ("is_business=true", vec!["Bravo"]),
        ("is_business=false", vec!["Alpha", "Charlie"]),
        ("q=ACME", vec!["Bravo", "Charlie"]),
        ("q=acme&status=failed", vec!["Charlie"]),
        ("q=", vec!["Alpha", "Bravo", "Charlie"]),
        ("status=completed", vec![]),
    ] {
        assert_eq!(
            names(export(app.export_csv(query).await).await),
            expected,
            "{query}"
        );
    }

    let body = problem(
        app.export_csv("status=done&stauts=running").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["status", "stauts"]);
}

async fn paging_parameters_are_refused(app: TestApp) {
    let body = problem(
        app.export_csv("sort=job_name&limit=10&offset=0").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["limit", "offset"]);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("not supported by the export")
    );
}

async fn three_thousand_jobs_arrive_complete(app: TestApp) {
    const JOBS: usize = 3000;
    let seeded = app
        .seed_jobs(JOBS, |n| JobDraft {
            job_name: format!("Job {n}"),
            notes: Some(format!("notes, with a comma {n}")),
            is_business: n % 3 == 0,
            customer_name: (n % 3 == 0).then(|| "ACME".to_owned()),
            ..JobDraft::default()
        })
        .await;

    // Read it as a stream of chunks, as a browser would.
    let response = app.export_csv("").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get(header::CONTENT_LENGTH).is_none(),
        "a streamed body has no length up front"
    );
    let mut stream = response.bytes_stream();
    let mut bytes = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.expect("the transfer completes"));
        chunks += 1;
    }
    assert!(chunks > 1, "the body arrives in several chunks");
    let records = parse_csv(std::str::from_utf8(&bytes[3..]).unwrap());
    assert_eq!(records.len(), 1 + JOBS);

    let ids: Vec<&str> = records[1..].iter().map(|r| r[0].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "rows come in id (creation) order");
    let exported: HashSet<&str> = ids.iter().copied().collect();
    let expected: HashSet<String> = seeded.iter().map(|j| j.id.to_string()).collect();
    assert_eq!(exported.len(), JOBS);
    assert!(expected.iter().all(|id| exported.contains(id.as_str())));

    // Filters hold across pages too.
    let business = export(app.export_csv("is_business=true").await).await;
    assert_eq!(business.len() - 1, JOBS / 3);
    assert!(
        business[1..]
            .iter()
            .all(|r| r[column("customer_name")] == "ACME")
    );
}

async fn the_route_is_not_a_job_id(app: TestApp) {
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let response = app
            .client
            .request(method, app.url("/jobs/export.csv"))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    }
    let job = app.create_named_job("Benchy").await;
    let records = export(app.export_csv("").await).await;
    assert_eq!(records[1][0], id_of(&job));
}

/// The store, except that `scan` fails while `failing` is set: for the first page (before the
/// response starts) or for later ones (part-way through the body).
#[derive(Debug)]
struct FailingScans {
    inner: Arc<dyn JobRepository>,
    first_page_fails: Arc<AtomicBool>,
    later_pages_fail: Arc<AtomicBool>,
}

#[async_trait]
impl JobRepository for FailingScans {
    async fn insert(&self, event: NewJobEvent) -> Result<JobEvent, CreateJobError> {
        self.inner.insert(event).await
    }
    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.inner.get(id).await
    }
    async fn list(&self, query: &JobQuery) -> Result<JobPage, StoreError> {
        self.inner.list(query).await
    }
    async fn update(&self, id: JobId, edit: JobEdit) -> Result<UpdateOutcome, EditJobError> {
        self.inner.update(id, edit).await
    }
    async fn update_many(
        &self,
        edits: Vec<(JobId, JobEdit)>,
    ) -> Result<Vec<UpdateOutcome>, BulkUpdateError> {
        self.inner.update_many(edits).await
    }
    async fn scan(
        &self,
        query: &JobQuery,
        after: Option<&Job>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let failing = match after {
            None => &self.first_page_fails,
            Some(_) => &self.later_pages_fail,
        };
        if failing.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected by the test".into()));
        }
        self.inner.scan(query, after, limit).await
    }
    async fn summarize(
        &self,
        query: &JobQuery,
        key: &SummaryKey,
    ) -> Result<Vec<SummaryGroup>, StoreError> {
        self.inner.summarize(query, key).await
    }
    async fn customers(
        &self,
        query: &printdesk_domain::CustomerQuery,
    ) -> Result<Vec<printdesk_domain::CustomerCount>, StoreError> {
        self.inner.customers(query).await
    }
    async fn delete(&self, id: JobId, deletion: JobDeletion) -> Result<JobEvent, DeleteJobError> {
        self.inner.delete(id, deletion).await
    }
}

#[async_trait]
impl EventLog for FailingScans {
    async fn events_after(&self, after: Seq, limit: u32) -> Result<Vec<JobEvent>, StoreError> {
        self.inner.events_after(after, limit).await
    }
    async fn latest_seq(&self) -> Result<Seq, StoreError> {
        self.inner.latest_seq().await
    }
    async fn history(&self, id: JobId, limit: u32, offset: u64) -> Result<JobHistory, StoreError> {
        self.inner.history(id, limit, offset).await
    }
}

/// A store failure before the response is a 503 problem; one part-way through cuts the transfer
/// off, so the client sees a failed download, not a complete-looking file. (SQLite only: what
/// is tested is the HTTP side.)
#[tokio::test]
async fn a_store_failure_is_a_503_before_the_body_and_a_cut_off_during_it() {
    let first_page_fails = Arc::new(AtomicBool::new(false));
    let later_pages_fail = Arc::new(AtomicBool::new(false));
    let (first, later) = (first_page_fails.clone(), later_pages_fail.clone());
    let app = spawn_app_with(Backend::Sqlite, "export_failure", move |store| {
        Arc::new(FailingScans {
            inner: store,
            first_page_fails: first,
            later_pages_fail: later,
        })
    })
    .await
    .expect("SQLite is always available");
    // More than one page, so that a second page is read.
    app.seed_jobs(1001, |n| JobDraft {
        job_name: format!("Job {n}"),
        ..JobDraft::default()
    })
    .await;

    first_page_fails.store(true, Ordering::SeqCst);
    let body = problem(app.export_csv("").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["type"], "urn:printdesk:problem:unavailable");
    first_page_fails.store(false, Ordering::SeqCst);

    later_pages_fail.store(true, Ordering::SeqCst);
    let response = app.export_csv("").await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = response.bytes_stream();
    let mut received = 0;
    let outcome = loop {
        match stream.next().await {
            Some(Ok(chunk)) => received += chunk.len(),
            Some(Err(error)) => break Err(error),
            None => break Ok(()),
        }
    };
    assert!(outcome.is_err(), "the transfer must not end normally");
    assert!(received > 0, "the first page was sent");
    later_pages_fail.store(false, Ordering::SeqCst);

    let records = export(app.export_csv("").await).await;
    assert_eq!(records.len(), 1 + 1001);
}
