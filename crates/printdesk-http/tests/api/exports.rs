//! The exports as a spreadsheet user gets them, on both backends: the xlsx read back by a
//! spreadsheet reader (`calamine`), the `;` CSV read back by Python's `csv` module, both
//! equal to the job list with the same filters and order.

use std::{io::Write, process::Command, sync::Arc};

use calamine::{Data, Reader, Xlsx};
use printdesk_store_diesel::Store;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_fields, problem},
    jobs_filters::november,
};

/// The jobs `GET /jobs?{query}` lists, in its order.
async fn listed(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app.list_jobs(&format!("{query}&limit=500")).await;
    page["jobs"].as_array().unwrap().clone()
}

/// The five November jobs, one of them on a printer with a name.
async fn seed(app: &TestApp, store: &Store) {
    november(store).await;
    app.create_printer("x1c").await;
    let halloween = listed(app, "q=halloween").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .put_job(&halloween, &json!({ "printer_id": "x1c" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// CSV records as Python's `csv` module reads them with `delimiter=';'`.
fn python_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    let script = "import csv, json, sys\n\
        with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n\
        \x20   print(json.dumps(list(csv.reader(f, delimiter=';', strict=True))))\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn a_semicolon_csv_is_the_filtered_list_in_its_order(app: TestApp, store: Arc<Store>) {
    seed(&app, &store).await;
    let filters = "completed_from=2026-10-01&completed_to=2026-12-31&tz=Europe/Berlin\
        &sort=job_name:desc";
    let response = app
        .export_csv(&format!("{filters}&delimiter=%3B&lang=de"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let records = python_csv(&response.bytes().await.unwrap());
    assert_eq!(
        records[0][..6],
        [
            "ID",
            "Name",
            "Status",
            "Geschäftlich",
            "Kunde",
            "Drucker-ID"
        ]
    );
    let jobs = listed(&app, filters).await;
    assert_eq!(jobs.len(), 4);
    assert_eq!(records.len(), 1 + jobs.len());
    for (record, job) in records[1..].iter().zip(&jobs) {
        assert_eq!(record.len(), 16);
        assert_eq!(record[0], job["id"].as_str().unwrap());
        assert_eq!(record[1], job["job_name"].as_str().unwrap());
        assert_eq!(record[2], "Abgeschlossen");
        let business = if job["is_business"] == true {
            "Ja"
        } else {
            "Nein"
        };
        assert_eq!(record[3], business);
        assert_eq!(record[4], job["customer_name"].as_str().unwrap_or_default());
    }
    // "halloween" ended 23:30 UTC on 31 October: 00:30 on 1 November in Berlin.
    let halloween = records.iter().find(|r| r[1] == "halloween").unwrap();
    assert_eq!(halloween[12], "2026-11-01 00:30:00");
    assert_eq!(halloween[15], "Printer x1c");
    assert_eq!(halloween[5], "x1c");

    // Without the new parameters the file is as it was: commas, keys, API timestamps.
    let plain = app.export_csv("q=halloween").await.text().await.unwrap();
    assert!(
        plain.contains(",completed,true,Müller GmbH,x1c,"),
        "{plain}"
    );
    assert!(plain.contains(",2026-10-31T23:30:00.000Z,"), "{plain}");
}

async fn bad_export_parameters_are_named(app: TestApp, _store: Arc<Store>) {
    let body = problem(
        app.export_csv("delimiter=|&lang=fr&tz=Berlin").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["delimiter", "lang", "tz"]);
    let response = app
        .client
        .get(app.url("/jobs/export.xlsx?delimiter=%3B&offset=1"))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["delimiter", "offset"]);
}

/// `GET /jobs/export.xlsx?{query}` with `Accept-Language`, read back as a spreadsheet app
/// would: the first worksheet's cells.
async fn xlsx(app: &TestApp, query: &str, accept_language: &str) -> calamine::Range<Data> {
    let response = app
        .client
        .get(app.url(&format!("/jobs/export.xlsx?{query}")))
        .header(header::ACCEPT_LANGUAGE, accept_language)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = response.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(disposition.ends_with(".xlsx\""), "{disposition}");
    let length: usize = response.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.len(), length);
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = workbook.sheet_names()[0].clone();
    workbook.worksheet_range(&name).unwrap()
}

async fn the_xlsx_opens_with_dates_and_the_page_s_words(app: TestApp, store: Arc<Store>) {
    seed(&app, &store).await;
    let filters = "created_from=2026-11-01&created_to=2026-12-31&tz=Europe/Berlin&sort=status";
    let sheet = xlsx(&app, filters, "de-DE,de;q=0.9,en;q=0.8").await;
    let jobs = listed(&app, filters).await;
    assert_eq!(jobs.len(), 4, "last night, mid, open, december");
    assert_eq!(sheet.height(), 1 + jobs.len());
    let cell = |row: usize, col: usize| sheet.get((row, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(0, 2), Data::String("Status".into()));
    assert_eq!(cell(0, 4), Data::String("Kunde".into()));
    for (i, job) in jobs.iter().enumerate() {
        let row = i + 1;
        assert_eq!(
            cell(row, 0),
            Data::String(job["id"].as_str().unwrap().into())
        );
        let status = match job["status"].as_str().unwrap() {
            "pending" => "Wartend",
            "completed" => "Abgeschlossen",
            other => panic!("{other}"),
        };
        assert_eq!(
            cell(row, 2),
            Data::String(status.into()),
            "in the list's order"
        );
        let Data::DateTime(created) = cell(row, 10) else {
            panic!("created_at is a date cell: {:?}", cell(row, 10));
        };
        assert!(created.is_datetime());
    }
    // "last night" was created 21:00 UTC on 30 November: 22:00 in Berlin.
    let last_night = (1..sheet.height())
        .find(|r| cell(*r, 1) == Data::String("last night".into()))
        .unwrap();
    let Data::DateTime(created) = cell(last_night, 10) else {
        panic!("a date cell")
    };
    let expected = 46356.0 + 22.0 / 24.0; // 2026-11-30 22:00 as an Excel serial date
    assert!((created.as_f64() - expected).abs() < 1e-9, "{created:?}");

    // `lang` wins over Accept-Language; without tz the dates are UTC.
    let sheet = xlsx(&app, "q=last%20night&lang=en", "de-DE").await;
    assert_eq!(sheet.get((1, 2)), Some(&Data::String("Completed".into())));
    assert_eq!(sheet.get((1, 3)), Some(&Data::String("Yes".into())));
    let Some(Data::DateTime(created)) = sheet.get((1, 10)) else {
        panic!("a date cell")
    };
    assert!((created.as_f64() - (46356.0 + 21.0 / 24.0)).abs() < 1e-9);
    // The printer's name beside its id.
    let sheet = xlsx(&app, "q=halloween", "en").await;
    assert_eq!(sheet.get((1, 5)), Some(&Data::String("x1c".into())));
    assert_eq!(sheet.get((1, 6)), Some(&Data::String("Printer x1c".into())));
}

with_store!(
    a_semicolon_csv_is_the_filtered_list_in_its_order,
    bad_export_parameters_are_named,
    the_xlsx_opens_with_dates_and_the_page_s_words
);
