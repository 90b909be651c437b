//! The xlsx export (`GET /jobs/export.xlsx`): a workbook a spreadsheet app opens as it is,
//! with no import wizard.
//!
//! - One worksheet, a bold header row that stays put when scrolling (frozen), column widths
//!   that fit the values, the printer's name beside its id.
//! - Timestamps are date cells (`yyyy-mm-dd hh:mm:ss`, to the millisecond in the cell) in
//!   the requested time zone: a spreadsheet can sort, filter and compute with them.
//! - Statuses and yes/no are the page's words in the requested language; the version is a
//!   number; all other text is written as text cells, never as formulas, so a job named
//!   `=HYPERLINK(…)` is shown as typed and never evaluated (no `'` is needed, unlike the CSV).
//! - Memory: the worksheet is written in `rust_xlsxwriter`'s constant-memory mode (each row
//!   goes to a temporary file as it is written), and the finished file is zipped into another
//!   temporary file that the response streams, so a large export never sits in memory whole.
//!   The file is complete before the first byte is sent (a zip's directory comes last), so a
//!   store failure is still an honest 503.

use std::io::{Read, Seek, SeekFrom};

use printdesk_domain::{Job, Timestamp};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};

use crate::{
    export_format::{Column, Lang, PrinterNames, printer_name},
    time_zone::Zone,
};

/// The columns, in order: the CSV's, with the printer's name beside its id.
pub const COLUMNS: [(Column, f64); 16] = [
    (Column::Id, 38.0),
    (Column::JobName, 32.0),
    (Column::Status, 16.0),
    (Column::IsBusiness, 13.0),
    (Column::CustomerName, 26.0),
    (Column::PrinterId, 18.0),
    (Column::PrinterName, 22.0),
    (Column::FileName, 30.0),
    (Column::Notes, 40.0),
    (Column::Version, 9.0),
    (Column::CreatedAt, 20.0),
    (Column::UpdatedAt, 20.0),
    (Column::StartedAt, 20.0),
    (Column::CompletedAt, 20.0),
    (Column::AutoCreated, 20.0),
    (Column::DiscoveryTime, 20.0),
];

/// The most jobs one worksheet holds (Excel's 1,048,576 rows, less the header).
pub const MAX_JOBS: u32 = 1_048_575;

/// How the workbook is written.
#[derive(Debug, Clone)]
pub struct XlsxFormat {
    /// The zone the date cells are in.
    pub zone: Zone,
    /// The language of the headings and words.
    pub lang: Lang,
    /// The printers' names by id.
    pub printers: PrinterNames,
}

/// Why the workbook could not be made.
#[derive(Debug, thiserror::Error)]
pub enum XlsxExportError {
    /// More jobs than a worksheet holds.
    #[error("more than {MAX_JOBS} jobs match, more than a worksheet holds")]
    TooManyJobs,
    /// The writer or the temporary files failed.
    #[error("the xlsx writer failed: {0}")]
    Writer(#[from] XlsxError),
    /// Reading the finished file back failed.
    #[error("the finished xlsx file could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// A workbook being written, row by row.
pub struct XlsxWriter {
    workbook: Workbook,
    format: XlsxFormat,
    /// The next row to write.
    row: u32,
    date: Format,
    text: Format,
}

impl std::fmt::Debug for XlsxWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxWriter")
            .field("format", &self.format)
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

impl XlsxWriter {
    /// A workbook with its header row written.
    pub fn new(format: XlsxFormat) -> Result<Self, XlsxExportError> {
        let mut workbook = Workbook::new();
        let header = Format::new()
            .set_bold()
            .set_align(FormatAlign::Top)
            .set_text_wrap();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(match format.lang {
            Lang::En => "Jobs",
            Lang::De => "Aufträge",
        })?;
        for (i, (column, width)) in COLUMNS.iter().enumerate() {
            let col = i as u16;
            sheet.set_column_width(col, *width)?;
            sheet.write_string_with_format(0, col, column.label(format.lang), &header)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(Self {
            workbook,
            format,
            row: 1,
            date: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            text: Format::new().set_align(FormatAlign::Top),
        })
    }

    /// Appends a row per job.
    pub fn write(&mut self, jobs: &[Job]) -> Result<(), XlsxExportError> {
        let sheet = self.workbook.worksheet_from_index(0)?;
        for job in jobs {
            if self.row > MAX_JOBS {
                return Err(XlsxExportError::TooManyJobs);
            }
            write_row(sheet, self.row, job, &self.format, &self.date, &self.text)?;
            self.row += 1;
        }
        Ok(())
    }

    /// Finishes the workbook into an anonymous temporary file (gone once closed), rewound
    /// for reading, and returns it with its length.
    pub fn finish(mut self) -> Result<(std::fs::File, u64), XlsxExportError> {
        let mut file = tempfile::tempfile()?;
        self.workbook.save_to_writer(&mut file)?;
        let len = file.seek(SeekFrom::End(0))?;
        file.seek(SeekFrom::Start(0))?;
        Ok((file, len))
    }
}

/// Reads the next chunk of a finished file (empty at its end).
pub fn read_chunk(file: &mut std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut chunk = vec![0; 64 * 1024];
    let n = file.read(&mut chunk)?;
    chunk.truncate(n);
    Ok(chunk)
}

/// A date cell's value: the wall-clock time in `zone`, to the millisecond.
fn date_cell(zone: &Zone, t: Timestamp) -> Result<ExcelDateTime, XlsxError> {
    let t = zone.local(t);
    let year = u16::try_from(t.year()).map_err(|_| XlsxError::DateTimeRangeError(t.to_string()))?;
    ExcelDateTime::from_ymd(year, t.month() as u8, t.day() as u8)?.and_hms_milli(
        t.hour() as u16,
        t.minute() as u8,
        t.second() as u8,
        t.millisecond() as u16,
    )
}

fn write_row(
    sheet: &mut Worksheet,
    row: u32,
    job: &Job,
    format: &XlsxFormat,
    date: &Format,
    text: &Format,
) -> Result<(), XlsxError> {
    for (i, (column, _)) in COLUMNS.iter().enumerate() {
        let col = i as u16;
        let string = |value: &str, sheet: &mut Worksheet| -> Result<(), XlsxError> {
            if !value.is_empty() {
                sheet.write_string_with_format(row, col, value, text)?;
            }
            Ok(())
        };
        let time = |value: Option<Timestamp>, sheet: &mut Worksheet| -> Result<(), XlsxError> {
            if let Some(t) = value {
                sheet.write_datetime_with_format(row, col, date_cell(&format.zone, t)?, date)?;
            }
            Ok(())
        };
        let lang = format.lang;
        match column {
            Column::Id => string(&job.id.to_string(), sheet)?,
            Column::JobName => string(job.job_name.as_str(), sheet)?,
            Column::Status => string(lang.status(job.status), sheet)?,
            Column::IsBusiness => string(lang.yes_no(job.is_business), sheet)?,
            Column::CustomerName => {
                string(job.customer_name.as_ref().map_or("", |v| v.as_str()), sheet)?;
            }
            Column::PrinterId => string(job.printer_id.as_ref().map_or("", |v| v.as_str()), sheet)?,
            Column::PrinterName => string(printer_name(job, &format.printers), sheet)?,
            Column::FileName => string(job.file_name.as_ref().map_or("", |v| v.as_str()), sheet)?,
            Column::Notes => string(job.notes.as_ref().map_or("", |v| v.as_str()), sheet)?,
            Column::Version => {
                sheet.write_number_with_format(row, col, job.version.get() as f64, text)?;
            }
            Column::CreatedAt => time(Some(job.created_at), sheet)?,
            Column::UpdatedAt => time(Some(job.updated_at), sheet)?,
            Column::StartedAt => time(job.started_at, sheet)?,
            Column::CompletedAt => time(job.completed_at, sheet)?,
            Column::AutoCreated => string(lang.yes_no(job.auto_created), sheet)?,
            Column::DiscoveryTime => time(job.discovery_time, sheet)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};
    use printdesk_domain::{CustomerName, JobId, JobName, JobStatus, Notes, PrinterId, Version};
    use time::macros::datetime;

    use super::*;

    fn job(n: u128) -> Job {
        Job {
            id: JobId::from(uuid::Uuid::from_u128(n)),
            job_name: JobName::parse(format!("Job {n}")).unwrap(),
            status: JobStatus::Completed,
            is_business: true,
            customer_name: Some(CustomerName::parse("Müller GmbH").unwrap()),
            notes: Some(Notes::parse("=HYPERLINK(\"http://evil\",\"x\")").unwrap()),
            file_name: None,
            printer_id: Some(PrinterId::parse("x1c").unwrap()),
            version: Version::new(3),
            created_at: datetime!(2026-10-31 23:30:00.250 UTC),
            updated_at: datetime!(2026-10-31 23:30:00.250 UTC),
            started_at: None,
            completed_at: Some(datetime!(2026-11-30 23:59:59 UTC)),
            auto_created: false,
            discovery_time: None,
        }
    }

    /// The workbook of `jobs`, read back by a spreadsheet reader.
    fn read_back(format: XlsxFormat, jobs: &[Job]) -> calamine::Range<Data> {
        let mut writer = XlsxWriter::new(format).unwrap();
        writer.write(jobs).unwrap();
        let (mut file, len) = writer.finish().unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, len);
        let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let name = workbook.sheet_names()[0].clone();
        workbook.worksheet_range(&name).unwrap()
    }

    #[test]
    fn dates_are_date_cells_in_the_zone_and_words_are_the_page_s() {
        let format = XlsxFormat {
            zone: Zone::parse("Europe/Berlin").unwrap(),
            lang: Lang::De,
            printers: [("x1c".to_owned(), "Bambu X1C".to_owned())].into(),
        };
        let range = read_back(format, &[job(1)]);
        let header: Vec<String> = (0..16)
            .map(|c| range.get((0, c)).unwrap().to_string())
            .collect();
        assert_eq!(
            &header[..7],
            [
                "ID",
                "Name",
                "Status",
                "Geschäftlich",
                "Kunde",
                "Drucker-ID",
                "Drucker"
            ]
        );
        let cell = |col: usize| range.get((1, col)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(2), Data::String("Abgeschlossen".into()));
        assert_eq!(cell(3), Data::String("Ja".into()));
        assert_eq!(cell(5), Data::String("x1c".into()));
        assert_eq!(cell(6), Data::String("Bambu X1C".into()));
        assert_eq!(cell(7), Data::Empty, "no file");
        assert_eq!(
            cell(8),
            Data::String("=HYPERLINK(\"http://evil\",\"x\")".into()),
            "text, never a formula"
        );
        assert_eq!(cell(9), Data::Float(3.0));
        let Data::DateTime(created) = cell(10) else {
            panic!("created_at is a date cell: {:?}", cell(10));
        };
        assert!(created.is_datetime());
        // 23:30:00.250 UTC on 31 October is 00:30:00.250 on 1 November in Berlin.
        let expected = ExcelDateTime::from_ymd(2026, 11, 1)
            .unwrap()
            .and_hms_milli(0, 30, 0, 250)
            .unwrap()
            .to_excel();
        assert!((created.as_f64() - expected).abs() < 1e-9, "{created:?}");
        assert_eq!(cell(12), Data::Empty, "never started");
        let Data::DateTime(completed) = cell(13) else {
            panic!("completed_at is a date cell");
        };
        let expected = ExcelDateTime::from_ymd(2026, 12, 1)
            .unwrap()
            .and_hms(0, 59, 59)
            .unwrap()
            .to_excel();
        assert!((completed.as_f64() - expected).abs() < 1e-9);
        assert_eq!(cell(14), Data::String("Nein".into()));
    }

    #[test]
    fn english_in_utc_and_many_rows() {
        let format = XlsxFormat {
            zone: Zone::default(),
            lang: Lang::En,
            printers: PrinterNames::new(),
        };
        let jobs: Vec<Job> = (0..2500).map(job).collect();
        let range = read_back(format, &jobs);
        assert_eq!(range.height(), 2501);
        assert_eq!(range.get((0, 3)).unwrap().to_string(), "Business");
        assert_eq!(range.get((2500, 2)).unwrap().to_string(), "Completed");
        assert_eq!(range.get((2500, 3)).unwrap().to_string(), "Yes");
        assert_eq!(
            range.get((1, 6)).unwrap().to_string(),
            "x1c",
            "the id without a name"
        );
    }
}
