use crate::clock::Timestamp;

/// Where a printer says it is, normalised across the four protocols
/// (`shared/printer-protocols.md` §6 has the map per protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportedState {
    /// Nothing printing; ready for the next print (Bambu `IDLE`/`INIT`, Moonraker `standby`,
    /// PrusaLink `IDLE`/`READY`, OctoPrint `Operational`).
    Idle,
    /// A print is being prepared and has not laid material yet (Bambu `PREPARE`/`SLICING`,
    /// PrusaLink `BUSY` with a job).
    Preparing,
    /// Printing.
    Printing,
    /// A print is paused; the same print continues on resume.
    Paused,
    /// The last print finished successfully; Bambu and PrusaLink keep saying so until the
    /// next print starts.
    Finished,
    /// The last print ended without finishing: an error, or cancelled when `cancelled`.
    Failed {
        /// The print was cancelled by a person (Bambu `print_error` 50348044, OctoPrint
        /// `PrintCancelled`, Moonraker `cancelled`, PrusaLink `STOPPED`).
        cancelled: bool,
    },
    /// The printer reports an error state of its own that is not the end of a print
    /// (PrusaLink `ERROR`/`ATTENTION` without a job, Klippy shut down).
    Error,
}

impl ReportedState {
    /// Whether a print is underway in this state (preparing, printing or paused).
    pub const fn is_active(self) -> bool {
        matches!(self, Self::Preparing | Self::Printing | Self::Paused)
    }

    /// Whether this state says a print has ended (finished or failed).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Failed { .. })
    }

    /// Every state, in the order of the lifecycle.
    pub const ALL: [ReportedState; 8] = [
        Self::Idle,
        Self::Preparing,
        Self::Printing,
        Self::Paused,
        Self::Finished,
        Self::Failed { cancelled: false },
        Self::Failed { cancelled: true },
        Self::Error,
    ];

    /// A stable name for storing the state (`"idle"`, …, `"failed"`, `"cancelled"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Preparing => "preparing",
            Self::Printing => "printing",
            Self::Paused => "paused",
            Self::Finished => "finished",
            Self::Failed { cancelled: false } => "failed",
            Self::Failed { cancelled: true } => "cancelled",
            Self::Error => "error",
        }
    }

    /// The state a stored name names ([`ReportedState::as_str`]).
    ///
    /// ```
    /// use printdesk_domain::monitoring::ReportedState;
    /// for state in ReportedState::ALL {
    ///     assert_eq!(ReportedState::from_name(state.as_str()), Some(state));
    /// }
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// The printer's own identity for one print, as precise as the protocol allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrintIdentity {
    /// An id the printer assigns to each print and never reuses for another: Moonraker's
    /// history `job_id`, PrusaLink's `job.id`, Bambu's `subtask_id` when it is not `"0"`.
    PrinterJobId(String),
    /// No such id: the print is known by its file and when it started (Bambu LAN prints,
    /// OctoPrint). Two reports name the same print when the file matches and the start times
    /// are close (the domain decides how close).
    FileAndStart,
}

/// One report from a printer, after the connector merged partial updates into the full
/// picture (a Bambu P1 sends only what changed; the connector keeps the rest).
///
/// Every member except `state` may be unknown; connectors leave out what the protocol did
/// not say rather than guessing.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterReport {
    /// Where the printer is.
    pub state: ReportedState,
    /// The file being printed (or last printed, in a terminal state), as the printer names it:
    /// `Benchy.gcode.3mf`, `subdir/cube.gcode`.
    pub file: Option<String>,
    /// The print's own name when the printer gives one apart from the file (Bambu's
    /// `subtask_name`).
    pub print_name: Option<String>,
    /// Progress in per cent, 0–100.
    pub progress: Option<f64>,
    /// Time left, in seconds (Bambu reports minutes: the connector converts).
    pub remaining_s: Option<u32>,
    /// Time printed so far, in seconds.
    ///
    /// While the print is underway the domain estimates its start as `now − elapsed` to
    /// recognise it after a gap ([`super::TrackedPrint::matches`]); a count that leaves pauses
    /// out moves that estimate by the time paused, so connectors prefer the wall-clock time
    /// since the start where the protocol has both.
    pub elapsed_s: Option<u32>,
    /// How the printer identifies this print.
    pub identity: PrintIdentity,
    /// When the printer says this print started, where the protocol says so and the value is
    /// trustworthy (not Bambu's stale `gcode_start_time`).
    pub started_at: Option<Timestamp>,
    /// When the printer says this print ended (Moonraker history `end_time`).
    pub ended_at: Option<Timestamp>,
}

impl PrinterReport {
    /// Whether `other` says the same as this report except for how far the print has got
    /// (progress, time left, time elapsed): same state, file, name, identity and times.
    ///
    /// ```
    /// use printdesk_domain::monitoring::{PrinterReport, ReportedState};
    /// let at = |progress, state| PrinterReport { state, progress: Some(progress), ..PrinterReport::idle() };
    /// assert!(at(10.0, ReportedState::Printing).differs_only_in_progress(&at(11.0, ReportedState::Printing)));
    /// assert!(!at(10.0, ReportedState::Printing).differs_only_in_progress(&at(10.0, ReportedState::Paused)));
    /// ```
    pub fn differs_only_in_progress(&self, other: &PrinterReport) -> bool {
        *self
            == PrinterReport {
                progress: self.progress,
                remaining_s: self.remaining_s,
                elapsed_s: self.elapsed_s,
                ..other.clone()
            }
    }

    /// A report of an idle printer with nothing else known.
    pub fn idle() -> Self {
        Self {
            state: ReportedState::Idle,
            file: None,
            print_name: None,
            progress: None,
            remaining_s: None,
            elapsed_s: None,
            identity: PrintIdentity::FileAndStart,
            started_at: None,
            ended_at: None,
        }
    }
}
