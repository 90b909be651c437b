//! What an auto job is called and which file it names, from what the printer reported.

use super::report::PrinterReport;
use crate::{
    fields::{FILE_NAME_MAX_CHARS, FileName, JOB_NAME_MAX_CHARS, JobName},
    printer::PrinterId,
};

/// Suffixes a sliced file's name carries, stripped from the end repeatedly (case-insensitive)
/// to name the print: `Benchy.gcode.3mf` → `Benchy`. Only these are stripped, so a dot that is
/// part of the name stays (`bracket.v2.gcode` → `bracket.v2`).
pub const PRINT_FILE_SUFFIXES: [&str; 8] = [
    ".3mf", ".gcode", ".bgcode", ".gco", ".g", ".ufp", ".stl", ".step",
];

/// The file name without its directories and without its whole chain of print-file suffixes
/// ([`PRINT_FILE_SUFFIXES`]). Gives the name back unchanged when nothing would be left.
///
/// ```
/// use printdesk_domain::monitoring::print_name_of_file;
/// assert_eq!(print_name_of_file("Benchy.gcode.3mf"), "Benchy");
/// assert_eq!(print_name_of_file("/data/Metadata/plate_1.gcode"), "plate_1");
/// assert_eq!(print_name_of_file("bracket.v2.GCODE"), "bracket.v2");
/// ```
pub fn print_name_of_file(file: &str) -> &str {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    without_print_suffixes(base)
}

/// `name` without its chain of [`PRINT_FILE_SUFFIXES`]; `name` itself when nothing would be left.
fn without_print_suffixes(name: &str) -> &str {
    let mut stem = name;
    while let Some(shorter) = PRINT_FILE_SUFFIXES.iter().find_map(|suffix| {
        let cut = stem.len().checked_sub(suffix.len())?;
        let tail = stem.get(cut..)?;
        tail.eq_ignore_ascii_case(suffix).then(|| &stem[..cut])
    }) {
        stem = shorter;
    }
    if stem.trim().is_empty() { name } else { stem }
}

/// The job name for a print: the print's own name when the printer gives one, else the file's
/// ([`print_name_of_file`]), fitted to [`JobName`]'s rules (NUL removed, trimmed, cut to
/// [`JOB_NAME_MAX_CHARS`]). A print with neither is called `Print on <printer id>`.
pub fn job_name_for(report: &PrinterReport, printer: &PrinterId) -> JobName {
    let candidates = [
        // A print's own name may hold a slash that is part of the name, not a directory.
        report.print_name.as_deref().map(without_print_suffixes),
        report.file.as_deref().map(print_name_of_file),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|name| JobName::parse(fit_job_name(name)).ok())
        .unwrap_or_else(|| {
            JobName::parse(format!("Print on {printer}")).expect("a printer id is a valid name")
        })
}

fn fit_job_name(name: &str) -> String {
    let cleaned: String = name.replace('\0', "");
    cleaned
        .trim()
        .chars()
        .take(JOB_NAME_MAX_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The job's `file_name`: the file as the printer names it, NUL removed and fitted to
/// [`FILE_NAME_MAX_CHARS`] by dropping characters from the front (the end of a long path is
/// the part that names the file). `None` when the report names no file.
pub fn file_name_for(report: &PrinterReport) -> Option<FileName> {
    let file = report.file.as_deref()?.replace('\0', "");
    let count = file.chars().count();
    let fitted: String = file
        .chars()
        .skip(count.saturating_sub(FILE_NAME_MAX_CHARS))
        .collect();
    if fitted.trim().is_empty() {
        return None;
    }
    FileName::parse(fitted).ok()
}
