//! The CSV export (`GET /jobs/export.csv`): how a job becomes a row, and the streamed body.
//!
//! - UTF-8 with a byte order mark first, so spreadsheet apps detect the encoding.
//! - RFC 4180: records end with CRLF; a field holding `"`, `,`, CR or LF is quoted, with
//!   inner quotes doubled. Other fields are written bare.
//! - One header row, then one row per job, columns in [`COLUMNS`]' order (a stable contract:
//!   new columns may only ever be appended).
//! - Values: text as stored; `true`/`false`; timestamps as the API writes them
//!   (`2026-11-28T16:34:28.123Z`); `null` → an empty field.
//! - Formula injection (OWASP "CSV Injection"): a field beginning with `=`, `+`, `-`, `@`,
//!   tab or CR gets a leading `'`, so a spreadsheet shows it as text instead of evaluating it.
//!   The `'` is part of the exported value (`-5 mm spacer` exports as `'-5 mm spacer`).
//! - The body is produced page by page as the domain's export reads them
//!   ([`printdesk_domain::JobExport`]: keyset pages by id), one chunk per page, so memory
//!   stays constant however many jobs there are. This module only formats.

use std::{borrow::Cow, fmt, pin::Pin};

use actix_web::web::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use printdesk_domain::{
    CustomerName, ExportJobsError, FileName, Job, Notes, PrinterId, Timestamp, timestamp,
};

/// The columns, in order.
pub const COLUMNS: [&str; 15] = [
    "id",
    "job_name",
    "status",
    "is_business",
    "customer_name",
    "printer_id",
    "file_name",
    "notes",
    "version",
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "auto_created",
    "discovery_time",
];

/// The UTF-8 byte order mark the file starts with.
pub const BOM: &str = "\u{feff}";

/// Characters that make a spreadsheet treat a cell as a formula when they come first.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Characters that make a field need quotes (RFC 4180).
const NEEDS_QUOTES: [char; 4] = ['"', ',', '\r', '\n'];

/// Appends one field: neutralised against formula injection, then quoted if needed.
fn write_field(out: &mut String, value: &str) {
    let neutralise = value.starts_with(FORMULA_TRIGGERS);
    let quote = value.contains(NEEDS_QUOTES);
    if quote {
        out.push('"');
    }
    if neutralise {
        out.push('\'');
    }
    if quote {
        for part in value.split_inclusive('"') {
            out.push_str(part);
            if part.ends_with('"') {
                out.push('"');
            }
        }
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Appends one record: the fields separated by commas, ended by CRLF.
fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_field(out, field.as_ref());
    }
    out.push_str("\r\n");
}

/// The start of the file: the byte order mark and the header row.
pub fn header() -> String {
    let mut out = String::from(BOM);
    write_record(&mut out, &COLUMNS);
    out
}

/// Appends a job's row.
pub fn write_row(out: &mut String, job: &Job) {
    fn text(value: Option<&str>) -> Cow<'_, str> {
        Cow::Borrowed(value.unwrap_or_default())
    }
    fn time(value: Option<Timestamp>) -> Cow<'static, str> {
        value.map_or(Cow::Borrowed(""), |t| timestamp::format(t).into())
    }
    fn boolean(value: bool) -> Cow<'static, str> {
        Cow::Borrowed(if value { "true" } else { "false" })
    }
    let fields: [Cow<'_, str>; COLUMNS.len()] = [
        job.id.to_string().into(),
        job.job_name.as_str().into(),
        job.status.as_str().into(),
        boolean(job.is_business),
        text(job.customer_name.as_ref().map(CustomerName::as_str)),
        text(job.printer_id.as_ref().map(PrinterId::as_str)),
        text(job.file_name.as_ref().map(FileName::as_str)),
        text(job.notes.as_ref().map(Notes::as_str)),
        job.version.to_string().into(),
        time(Some(job.created_at)),
        time(Some(job.updated_at)),
        time(job.started_at),
        time(job.completed_at),
        boolean(job.auto_created),
        time(job.discovery_time),
    ];
    write_record(out, &fields);
}

/// The rows of `jobs`, as one chunk.
fn rows(mut out: String, jobs: &[Job]) -> Bytes {
    out.reserve(jobs.len() * 256);
    for job in jobs {
        write_row(&mut out, job);
    }
    Bytes::from(out)
}

/// The export stopped part-way because the store failed; the response is cut off so that the
/// client sees an incomplete transfer rather than a file that looks complete.
#[derive(Debug)]
pub struct ExportAborted;

impl fmt::Display for ExportAborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the CSV export was aborted because the store failed")
    }
}

impl std::error::Error for ExportAborted {}

/// The CSV body: the header and `first_page`, then one chunk per page of `later_pages`.
///
/// The first page is read by the caller before the response starts, so that a store that is
/// down answers with a proper 503. A later failure cannot change the status any more: it is
/// logged, and the stream ends with [`ExportAborted`], which makes the server cut the
/// connection instead of finishing the chunked body.
pub fn body<S>(
    first_page: Vec<Job>,
    later_pages: S,
) -> impl Stream<Item = Result<Bytes, ExportAborted>> + 'static
where
    S: Stream<Item = Result<Vec<Job>, ExportJobsError>> + 'static,
{
    /// Pages still to come, or `None` once the export failed.
    type Pages<S> = Option<Pin<Box<S>>>;

    let first = stream::once(async move { Ok(rows(header(), &first_page)) });
    let rest = stream::unfold(
        Some(Box::pin(later_pages)) as Pages<S>,
        |pages| async move {
            let mut pages = pages?;
            match pages.next().await? {
                Ok(page) => Some((Ok(rows(String::new(), &page)), Some(pages))),
                Err(error) => {
                    tracing::error!(
                        error = %error,
                        "the CSV export failed part-way; the response is cut off"
                    );
                    Some((Err(ExportAborted), None))
                }
            }
        },
    );
    first.chain(rest)
}

#[cfg(test)]
mod tests {
    use printdesk_domain::{JobId, JobName, JobStatus, StoreError, Version};
    use time::macros::datetime;

    use super::*;

    fn field(value: &str) -> String {
        let mut out = String::new();
        write_field(&mut out, value);
        out
    }

    fn job(n: u128) -> Job {
        Job {
            id: JobId::from(uuid::Uuid::from_u128(n)),
            job_name: JobName::parse(format!("Job {n}")).unwrap(),
            status: JobStatus::Pending,
            is_business: false,
            customer_name: None,
            notes: None,
            file_name: None,
            printer_id: None,
            version: Version::FIRST,
            created_at: datetime!(2026-11-28 16:34:28.123 UTC),
            updated_at: datetime!(2026-11-28 16:34:28.123 UTC),
            started_at: None,
            completed_at: None,
            auto_created: false,
            discovery_time: None,
        }
    }

    #[test]
    fn plain_fields_are_written_bare() {
        assert_eq!(field("Benchy"), "Benchy");
        assert_eq!(field(""), "");
        assert_eq!(field("a b;c"), "a b;c");
    }

    #[test]
    fn fields_with_quotes_commas_or_line_breaks_are_quoted() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("\""), "\"\"\"\"");
        assert_eq!(field("line 1\nline 2"), "\"line 1\nline 2\"");
        assert_eq!(field("line 1\r\nline 2"), "\"line 1\r\nline 2\"");
    }

    #[test]
    fn formula_triggers_are_neutralised() {
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("+49 30 123"), "'+49 30 123");
        assert_eq!(field("-5 mm spacer"), "'-5 mm spacer");
        assert_eq!(field("@SUM(A1:A2)"), "'@SUM(A1:A2)");
        assert_eq!(field("\tx"), "'\tx");
        // Neutralised, then quoted (the quote comes first, the ' is inside).
        assert_eq!(field("\r=x"), "\"'\r=x\"");
        assert_eq!(
            field("=HYPERLINK(\"http://evil\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""
        );
        // Only the first character counts.
        assert_eq!(field("a=b"), "a=b");
        assert_eq!(field("1-2"), "1-2");
    }

    #[test]
    fn unicode_is_kept_as_is() {
        assert_eq!(field("Zürich – 東京 🖨️"), "Zürich – 東京 🖨️");
        assert_eq!(field("Müller, Jörg"), "\"Müller, Jörg\"");
    }

    #[test]
    fn header_starts_with_the_bom_and_names_every_column() {
        let header = header();
        assert!(header.starts_with('\u{feff}'));
        assert!(header.as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]));
        assert_eq!(
            header,
            "\u{feff}id,job_name,status,is_business,customer_name,printer_id,file_name,notes,\
             version,created_at,updated_at,started_at,completed_at,auto_created,discovery_time\r\n"
        );
    }

    #[test]
    fn a_full_row() {
        let job = Job {
            is_business: true,
            customer_name: Some(CustomerName::parse("ACME, Inc.").unwrap()),
            notes: Some(Notes::parse("first line\nsecond \"line\"").unwrap()),
            file_name: Some(FileName::parse("=cmd.3mf").unwrap()),
            printer_id: Some(PrinterId::parse("x1c").unwrap()),
            status: JobStatus::Completed,
            version: Version::new(4),
            started_at: Some(datetime!(2026-11-28 17:00:00 UTC)),
            completed_at: Some(datetime!(2026-11-28 18:30:00.5 UTC)),
            ..job(1)
        };
        let mut out = String::new();
        write_row(&mut out, &job);
        assert_eq!(
            out,
            "00000000-0000-0000-0000-000000000001,Job 1,completed,true,\"ACME, Inc.\",x1c,\
             '=cmd.3mf,\"first line\nsecond \"\"line\"\"\",4,2026-11-28T16:34:28.123Z,\
             2026-11-28T16:34:28.123Z,2026-11-28T17:00:00.000Z,2026-11-28T18:30:00.500Z,\
             false,\r\n"
        );
    }

    #[test]
    fn nulls_are_empty_fields() {
        let mut out = String::new();
        write_row(&mut out, &job(2));
        let fields: Vec<_> = out.trim_end_matches("\r\n").split(',').collect();
        assert_eq!(fields.len(), COLUMNS.len());
        for column in [
            "customer_name",
            "printer_id",
            "file_name",
            "notes",
            "started_at",
            "completed_at",
            "discovery_time",
        ] {
            let i = COLUMNS.iter().position(|c| *c == column).unwrap();
            assert_eq!(fields[i], "", "{column}");
        }
    }

    /// Collects the stream's chunks, and whether it ended with an error.
    async fn collect(stream: impl Stream<Item = Result<Bytes, ExportAborted>>) -> (String, bool) {
        let mut text = String::new();
        let mut aborted = false;
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => text.push_str(std::str::from_utf8(&bytes).unwrap()),
                Err(ExportAborted) => aborted = true,
            }
        }
        (text, aborted)
    }

    fn page(from: u128, len: usize) -> Vec<Job> {
        (from..from + len as u128).map(job).collect()
    }

    #[actix_web::test]
    async fn every_page_becomes_rows_after_one_header() {
        let later = stream::iter([Ok(page(10, 1000)), Ok(page(2000, 3))]);
        let (text, aborted) = collect(body(page(0, 1000), later)).await;
        assert!(!aborted);
        assert_eq!(text.matches("\r\n").count(), 1 + 1000 + 1000 + 3);
        assert!(text.starts_with(BOM));
        assert_eq!(text.matches(BOM).count(), 1);
    }

    #[actix_web::test]
    async fn a_lone_first_page_is_the_whole_export() {
        let (text, aborted) = collect(body(page(0, 2), stream::empty())).await;
        assert!(!aborted);
        assert_eq!(text.lines().count(), 3);

        assert_eq!(
            collect(body(Vec::new(), stream::empty())).await,
            (header(), false)
        );
    }

    #[actix_web::test]
    async fn a_store_failure_part_way_aborts_the_stream() {
        let later = stream::iter([
            Ok(page(1000, 5)),
            Err(ExportJobsError::Store(StoreError::Unavailable(
                "gone".into(),
            ))),
            Ok(page(2000, 5)),
        ]);
        let (text, aborted) = collect(body(page(0, 1000), later)).await;
        assert!(aborted);
        assert_eq!(
            text.matches("\r\n").count(),
            1 + 1000 + 5,
            "nothing after the failure"
        );
    }
}
