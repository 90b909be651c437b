//! The CSV export (`GET /jobs/export.csv`): how a job becomes a row, and the streamed body.
//!
//! - UTF-8 with a byte order mark first, so spreadsheet apps detect the encoding.
//! - RFC 4180 with a chosen delimiter (`,` by default, `;` for spreadsheet apps set up for
//!   German and other languages that write decimal commas): records end with CRLF; a field
//!   holding `"`, the delimiter, CR or LF is quoted, with inner quotes doubled. Other fields
//!   are written bare.
//! - One header row, then one row per job, columns in [`COLUMNS`]' order (a stable contract:
//!   new columns may only ever be appended; `printer_name` was).
//! - Values: text as stored; timestamps as the API writes them (`2026-11-28T16:34:28.123Z`),
//!   or with a `tz` as that zone's wall-clock time (`2026-11-28 17:34:28`, which spreadsheet
//!   apps read as a date and time); `true`/`false` and status keys, or with a `lang` the
//!   page's words (`Ja`, `Abgeschlossen`) and headings; `null` → an empty field.
//! - Formula injection (OWASP "CSV Injection"): a field beginning with `=`, `+`, `-`, `@`,
//!   tab or CR gets a leading `'`, so a spreadsheet shows it as text instead of evaluating it.
//!   The `'` is part of the exported value (`-5 mm spacer` exports as `'-5 mm spacer`).
//! - The body is produced page by page as the domain's export reads them
//!   ([`printdesk_domain::JobExport`]: keyset pages in the list's order), one chunk per
//!   page, so memory stays constant however many jobs there are. This module only formats.

use std::{borrow::Cow, fmt, pin::Pin, sync::Arc};

use actix_web::web::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use printdesk_domain::{
    CustomerName, ExportJobsError, FileName, Job, Notes, PrinterId, Timestamp, timestamp,
};

use crate::{
    export_format::{Column, Lang, PrinterNames, printer_name},
    time_zone::Zone,
};

/// The columns, in order.
pub const COLUMNS: [Column; 16] = [
    Column::Id,
    Column::JobName,
    Column::Status,
    Column::IsBusiness,
    Column::CustomerName,
    Column::PrinterId,
    Column::FileName,
    Column::Notes,
    Column::Version,
    Column::CreatedAt,
    Column::UpdatedAt,
    Column::StartedAt,
    Column::CompletedAt,
    Column::AutoCreated,
    Column::DiscoveryTime,
    Column::PrinterName,
];

/// The UTF-8 byte order mark the file starts with.
pub const BOM: &str = "\u{feff}";

/// Characters that make a spreadsheet treat a cell as a formula when they come first.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// How the file is written: what a request's `delimiter`, `tz` and `lang` asked for, and the
/// printers' names.
#[derive(Debug, Clone)]
pub struct CsvFormat {
    /// `,` or `;`.
    pub delimiter: char,
    /// Timestamps as this zone's wall-clock time; `None`: as the API writes them.
    pub zone: Option<Zone>,
    /// Headings, statuses and yes/no as words; `None`: keys and `true`/`false`.
    pub lang: Option<Lang>,
    /// The printers' names by id.
    pub printers: PrinterNames,
}

impl Default for CsvFormat {
    fn default() -> Self {
        Self {
            delimiter: ',',
            zone: None,
            lang: None,
            printers: PrinterNames::new(),
        }
    }
}

/// Appends one field: neutralised against formula injection, then quoted if needed.
fn write_field(out: &mut String, value: &str, delimiter: char) {
    let neutralise = value.starts_with(FORMULA_TRIGGERS);
    let quote = value.contains(['"', delimiter, '\r', '\n']);
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

/// Appends one record: the fields separated by the delimiter, ended by CRLF.
fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S], delimiter: char) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        write_field(out, field.as_ref(), delimiter);
    }
    out.push_str("\r\n");
}

/// The start of the file: the byte order mark and the header row.
pub fn header(format: &CsvFormat) -> String {
    let mut out = String::from(BOM);
    let names: Vec<&str> = COLUMNS
        .iter()
        .map(|c| format.lang.map_or(c.key(), |lang| c.label(lang)))
        .collect();
    write_record(&mut out, &names, format.delimiter);
    out
}

/// A zone's wall-clock time, to the second: what spreadsheet apps read as a date and time.
pub fn local_time(zone: &Zone, t: Timestamp) -> String {
    let t = zone.local(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Appends a job's row.
pub fn write_row(out: &mut String, job: &Job, format: &CsvFormat) {
    fn text(value: Option<&str>) -> Cow<'_, str> {
        Cow::Borrowed(value.unwrap_or_default())
    }
    let time = |value: Option<Timestamp>| -> Cow<'static, str> {
        match (value, &format.zone) {
            (None, _) => Cow::Borrowed(""),
            (Some(t), None) => timestamp::format(t).into(),
            (Some(t), Some(zone)) => local_time(zone, t).into(),
        }
    };
    let boolean = |value: bool| -> Cow<'static, str> {
        Cow::Borrowed(match format.lang {
            Some(lang) => lang.yes_no(value),
            None if value => "true",
            None => "false",
        })
    };
    let status = format
        .lang
        .map_or(job.status.as_str(), |lang| lang.status(job.status));
    let fields: [Cow<'_, str>; COLUMNS.len()] = [
        job.id.to_string().into(),
        job.job_name.as_str().into(),
        status.into(),
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
        printer_name(job, &format.printers).into(),
    ];
    write_record(out, &fields, format.delimiter);
}

/// The rows of `jobs`, as one chunk.
fn rows(mut out: String, jobs: &[Job], format: &CsvFormat) -> Bytes {
    out.reserve(jobs.len() * 256);
    for job in jobs {
        write_row(&mut out, job, format);
    }
    Bytes::from(out)
}

/// The export stopped part-way because the store failed; the response is cut off so that the
/// client sees an incomplete transfer rather than a file that looks complete.
#[derive(Debug)]
pub struct ExportAborted;

impl fmt::Display for ExportAborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the export was aborted part-way")
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
    format: CsvFormat,
) -> impl Stream<Item = Result<Bytes, ExportAborted>> + 'static
where
    S: Stream<Item = Result<Vec<Job>, ExportJobsError>> + 'static,
{
    /// Pages still to come, or `None` once the export failed.
    type Pages<S> = Option<Pin<Box<S>>>;

    let format = Arc::new(format);
    let first = {
        let format = format.clone();
        stream::once(async move { Ok(rows(header(&format), &first_page, &format)) })
    };
    let rest = stream::unfold(Some(Box::pin(later_pages)) as Pages<S>, move |pages| {
        let format = format.clone();
        async move {
            let mut pages = pages?;
            match pages.next().await? {
                Ok(page) => Some((Ok(rows(String::new(), &page, &format)), Some(pages))),
                Err(error) => {
                    tracing::error!(
                        error = %error,
                        "the CSV export failed part-way; the response is cut off"
                    );
                    Some((Err(ExportAborted), None))
                }
            }
        }
    });
    first.chain(rest)
}

#[cfg(test)]
mod tests {
    use printdesk_domain::{JobId, JobName, JobStatus, StoreError, Version};
    use time::macros::datetime;

    use super::*;

    fn field(value: &str) -> String {
        let mut out = String::new();
        write_field(&mut out, value, ',');
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
        let header = header(&CsvFormat::default());
        assert!(header.starts_with('\u{feff}'));
        assert!(header.as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]));
        assert_eq!(
            header,
            "\u{feff}id,job_name,status,is_business,customer_name,printer_id,file_name,notes,\
             version,created_at,updated_at,started_at,completed_at,auto_created,discovery_time,\
             printer_name\r\n"
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
        write_row(&mut out, &job, &CsvFormat::default());
        assert_eq!(
            out,
            "00000000-0000-0000-0000-000000000001,Job 1,completed,true,\"ACME, Inc.\",x1c,\
             '=cmd.3mf,\"first line\nsecond \"\"line\"\"\",4,2026-11-28T16:34:28.123Z,\
             2026-11-28T16:34:28.123Z,2026-11-28T17:00:00.000Z,2026-11-28T18:30:00.500Z,\
             false,,x1c\r\n"
        );
    }

    #[test]
    fn a_semicolon_file_in_german_local_time() {
        let job = Job {
            is_business: true,
            customer_name: Some(CustomerName::parse("Müller; Söhne").unwrap()),
            notes: Some(Notes::parse("a, b").unwrap()),
            printer_id: Some(PrinterId::parse("x1c").unwrap()),
            status: JobStatus::Completed,
            completed_at: Some(datetime!(2026-10-31 23:30:00.999 UTC)),
            ..job(3)
        };
        let format = CsvFormat {
            delimiter: ';',
            zone: Some(Zone::parse("Europe/Berlin").unwrap()),
            lang: Some(Lang::De),
            printers: [("x1c".to_owned(), "Bambu X1C".to_owned())].into(),
        };
        assert!(header(&format).starts_with("\u{feff}ID;Name;Status;Geschäftlich;Kunde;"));
        let mut out = String::new();
        write_row(&mut out, &job, &format);
        assert_eq!(
            out,
            "00000000-0000-0000-0000-000000000003;Job 3;Abgeschlossen;Ja;\"Müller; Söhne\";x1c;;\
             a, b;1;2026-11-28 17:34:28;2026-11-28 17:34:28;;2026-11-01 00:30:00;Nein;;\
             Bambu X1C\r\n"
        );
    }

    #[test]
    fn nulls_are_empty_fields() {
        let mut out = String::new();
        write_row(&mut out, &job(2), &CsvFormat::default());
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
            "printer_name",
        ] {
            let i = COLUMNS.iter().position(|c| c.key() == column).unwrap();
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
        let (text, aborted) = collect(body(page(0, 1000), later, CsvFormat::default())).await;
        assert!(!aborted);
        assert_eq!(text.matches("\r\n").count(), 1 + 1000 + 1000 + 3);
        assert!(text.starts_with(BOM));
        assert_eq!(text.matches(BOM).count(), 1);
    }

    #[actix_web::test]
    async fn a_lone_first_page_is_the_whole_export() {
        let (text, aborted) =
            collect(body(page(0, 2), stream::empty(), CsvFormat::default())).await;
        assert!(!aborted);
        assert_eq!(text.lines().count(), 3);

        assert_eq!(
            collect(body(Vec::new(), stream::empty(), CsvFormat::default())).await,
            (header(&CsvFormat::default()), false)
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
        let (text, aborted) = collect(body(page(0, 1000), later, CsvFormat::default())).await;
        assert!(aborted);
        assert_eq!(
            text.matches("\r\n").count(),
            1 + 1000 + 5,
            "nothing after the failure"
        );
    }
}
