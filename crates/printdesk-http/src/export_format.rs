//! What the two exports (CSV and xlsx) share: their columns, the words they write for
//! statuses and yes/no in each language, and the language a request asks for.

use std::collections::HashMap;

use printdesk_domain::{Job, JobStatus};
use serde::Deserialize;
use utoipa::ToSchema;

/// A language the exports write words in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
}

/// The message for a `lang` that is neither.
pub const UNKNOWN_LANG: &str = "must be en or de";

impl Lang {
    /// `en` or `de`.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        match value {
            "en" => Ok(Self::En),
            "de" => Ok(Self::De),
            _ => Err(UNKNOWN_LANG),
        }
    }

    /// The language an `Accept-Language` header prefers among the two (by its `q` weights,
    /// then its order); English when it names neither.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let mut best: Option<(f32, Self)> = None;
        for item in header.unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("de") => Self::De,
                Some("en") => Self::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::En, |(_, lang)| lang)
    }

    /// A status as the page shows it.
    pub fn status(self, status: JobStatus) -> &'static str {
        match (self, status) {
            (Self::En, JobStatus::Pending) => "Pending",
            (Self::En, JobStatus::Running) => "Running",
            (Self::En, JobStatus::Completed) => "Completed",
            (Self::En, JobStatus::Failed) => "Failed",
            (Self::De, JobStatus::Pending) => "Wartend",
            (Self::De, JobStatus::Running) => "Läuft",
            (Self::De, JobStatus::Completed) => "Abgeschlossen",
            (Self::De, JobStatus::Failed) => "Fehlgeschlagen",
        }
    }

    /// Yes or no.
    pub fn yes_no(self, value: bool) -> &'static str {
        match (self, value) {
            (Self::En, true) => "Yes",
            (Self::En, false) => "No",
            (Self::De, true) => "Ja",
            (Self::De, false) => "Nein",
        }
    }
}

/// A column of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `id`
    Id,
    /// `job_name`
    JobName,
    /// `status`
    Status,
    /// `is_business`
    IsBusiness,
    /// `customer_name`
    CustomerName,
    /// `printer_id`
    PrinterId,
    /// `printer_name`: the printer's name (empty for a manual job).
    PrinterName,
    /// `file_name`
    FileName,
    /// `notes`
    Notes,
    /// `version`
    Version,
    /// `created_at`
    CreatedAt,
    /// `updated_at`
    UpdatedAt,
    /// `started_at`
    StartedAt,
    /// `completed_at`
    CompletedAt,
    /// `auto_created`
    AutoCreated,
    /// `discovery_time`
    DiscoveryTime,
}

impl Column {
    /// The machine name (the CSV's header without `lang`).
    pub const fn key(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::JobName => "job_name",
            Self::Status => "status",
            Self::IsBusiness => "is_business",
            Self::CustomerName => "customer_name",
            Self::PrinterId => "printer_id",
            Self::PrinterName => "printer_name",
            Self::FileName => "file_name",
            Self::Notes => "notes",
            Self::Version => "version",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::StartedAt => "started_at",
            Self::CompletedAt => "completed_at",
            Self::AutoCreated => "auto_created",
            Self::DiscoveryTime => "discovery_time",
        }
    }

    /// The heading a person reads.
    pub const fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => match self {
                Self::Id => "ID",
                Self::JobName => "Name",
                Self::Status => "Status",
                Self::IsBusiness => "Business",
                Self::CustomerName => "Customer",
                Self::PrinterId => "Printer ID",
                Self::PrinterName => "Printer",
                Self::FileName => "File",
                Self::Notes => "Notes",
                Self::Version => "Version",
                Self::CreatedAt => "Created",
                Self::UpdatedAt => "Updated",
                Self::StartedAt => "Started",
                Self::CompletedAt => "Completed",
                Self::AutoCreated => "Auto-created",
                Self::DiscoveryTime => "Discovered",
            },
            Lang::De => match self {
                Self::Id => "ID",
                Self::JobName => "Name",
                Self::Status => "Status",
                Self::IsBusiness => "Geschäftlich",
                Self::CustomerName => "Kunde",
                Self::PrinterId => "Drucker-ID",
                Self::PrinterName => "Drucker",
                Self::FileName => "Datei",
                Self::Notes => "Notizen",
                Self::Version => "Version",
                Self::CreatedAt => "Erstellt",
                Self::UpdatedAt => "Geändert",
                Self::StartedAt => "Gestartet",
                Self::CompletedAt => "Abgeschlossen",
                Self::AutoCreated => "Automatisch erfasst",
                Self::DiscoveryTime => "Entdeckt",
            },
        }
    }
}

/// The printers' names by id, read once per export.
pub type PrinterNames = HashMap<String, String>;

/// The name of `job`'s printer: its name, its id if it has none any more, empty for a
/// manual job.
pub fn printer_name<'a>(job: &'a Job, names: &'a PrinterNames) -> &'a str {
    job.printer_id.as_ref().map_or("", |id| {
        names.get(id.as_str()).map_or(id.as_str(), String::as_str)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_the_two() {
        let pick = |h: &str| Lang::from_accept_language(Some(h));
        assert_eq!(pick("de-DE,de;q=0.9,en;q=0.8"), Lang::De);
        assert_eq!(pick("en-US,en;q=0.9,de;q=0.8"), Lang::En);
        assert_eq!(pick("fr-FR,fr;q=0.9,de;q=0.7,en;q=0.5"), Lang::De);
        assert_eq!(pick("en;q=0.5, DE-at"), Lang::De);
        assert_eq!(pick("de;q=0, en"), Lang::En);
        assert_eq!(pick("fr"), Lang::En);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
    }

    #[test]
    fn every_status_and_answer_has_a_word_in_each_language() {
        for lang in [Lang::En, Lang::De] {
            let words: Vec<_> = JobStatus::ALL.iter().map(|s| lang.status(*s)).collect();
            let mut unique = words.clone();
            unique.dedup();
            assert_eq!(unique.len(), 4, "{words:?}");
            assert_ne!(lang.yes_no(true), lang.yes_no(false));
        }
        assert_eq!(Lang::De.status(JobStatus::Completed), "Abgeschlossen");
        assert_eq!(Lang::parse("fr"), Err(UNKNOWN_LANG));
    }
}
