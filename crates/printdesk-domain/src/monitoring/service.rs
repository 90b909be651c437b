//! The monitoring use case: a connector hands over what a printer says; printdesk records the
//! jobs and sends the printer's status.

use std::sync::Arc;

use super::{
    connection::{ConnectionCondition, printer_status},
    decision::{MonitorDecision, MonitorOutcome, MonitorSnapshot, ReportContext, decide},
    errors::MonitorError,
    history::{HistoryEntry, decide_history},
    ports::{MonitorStore, PrinterStatusPublisher, Recorded},
    report::PrinterReport,
    status::PrinterStatus,
    throttle::StatusThrottle,
};
use crate::{
    clock::{Clock, Timestamp},
    job::JobId,
    ports::EventPublisher,
    printer::PrinterId,
};

/// Turns printers' reports into jobs and live status. One per process, shared by every
/// connector; each connector task watches its printer through a [`MonitorSession`].
#[derive(Debug, Clone)]
pub struct PrinterMonitor {
    store: Arc<dyn MonitorStore>,
    events: Arc<dyn EventPublisher>,
    statuses: Arc<dyn PrinterStatusPublisher>,
    clock: Arc<dyn Clock>,
}

impl PrinterMonitor {
    /// Wires the monitor to its ports.
    pub fn new(
        store: Arc<dyn MonitorStore>,
        events: Arc<dyn EventPublisher>,
        statuses: Arc<dyn PrinterStatusPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            events,
            statuses,
            clock,
        }
    }

    /// Starts watching `printer`: the session's first report is treated as the first since
    /// connecting (it reconciles, see [`super::decide`]).
    pub fn session(&self, printer: PrinterId) -> MonitorSession {
        MonitorSession {
            monitor: self.clone(),
            printer,
            first_report: true,
            connection: ConnectionCondition::Connecting,
            last_report: None,
            last_recorded: None,
            job_id: None,
            last_seen: None,
            status: PrinterStatus::default(),
            throttle: StatusThrottle::default(),
        }
    }
}

/// One printer watched by one connector task: what the connector tells about its connection
/// and the printer's reports. It keeps what only this watch needs (whether the next report
/// is the first since connecting, the status last sent); everything that must survive a
/// restart is in the [`MonitorStore`].
#[derive(Debug)]
pub struct MonitorSession {
    monitor: PrinterMonitor,
    printer: PrinterId,
    first_report: bool,
    connection: ConnectionCondition,
    last_report: Option<PrinterReport>,
    /// The last report the store recorded in this session (since connecting).
    last_recorded: Option<PrinterReport>,
    job_id: Option<JobId>,
    last_seen: Option<Timestamp>,
    status: PrinterStatus,
    throttle: StatusThrottle,
}

impl MonitorSession {
    /// The printer watched.
    pub fn printer(&self) -> &PrinterId {
        &self.printer
    }

    /// The printer's current status (also when the last change was held back by the
    /// throttle).
    pub fn status(&self) -> &PrinterStatus {
        &self.status
    }

    /// The connector is (re)connecting: the status says so, and the next report is the first
    /// since connecting.
    pub async fn connecting(&mut self) {
        self.lost(ConnectionCondition::Connecting).await;
    }

    /// The printer cannot be reached. Its open job stays as it is: printdesk does not guess
    /// how a print it cannot see is doing; the next report reconciles.
    pub async fn offline(&mut self, reason: Option<String>) {
        self.lost(ConnectionCondition::Offline(reason)).await;
    }

    /// printdesk reached the printer but cannot monitor it, for the reason given as a sentence
    /// ("access code refused", "certificate changed").
    pub async fn refused(&mut self, sentence: impl Into<String>) {
        self.lost(ConnectionCondition::Error(sentence.into())).await;
    }

    async fn lost(&mut self, connection: ConnectionCondition) {
        self.first_report = true;
        self.last_recorded = None;
        self.connection = connection;
        self.send_status(self.monitor.clock.now()).await;
    }

    /// Records one report: decides and writes its job changes in the store's transaction,
    /// publishes the committed events, then sends the printer's status if it must be sent
    /// now. A printer whose monitoring is off (or that was deleted) gets neither.
    ///
    /// A report that differs from the last one recorded in this session only in progress
    /// ([`PrinterReport::differs_only_in_progress`]) cannot change what the store holds (the
    /// decision on it is "nothing": see `tests/monitoring.rs`), so it does not reach the
    /// store: a printer reporting twice a second costs a transaction only when something
    /// happens. This relies on one session per printer at a time, which the monitor adapter
    /// ensures (one instance monitors a printer; its task stops when monitoring is switched
    /// off).
    ///
    /// On a store failure nothing was written; the status is still sent, and the next
    /// report is treated as the first since connecting again, so it reconciles.
    pub async fn report(&mut self, report: PrinterReport) -> Result<MonitorOutcome, MonitorError> {
        let now = self.monitor.clock.now();
        if !self.first_report
            && self
                .last_recorded
                .as_ref()
                .is_some_and(|last| last.differs_only_in_progress(&report))
        {
            self.last_seen = Some(now);
            self.last_report = Some(report);
            self.send_status(now).await;
            return Ok(MonitorOutcome {
                monitored: true,
                job_id: self.job_id,
                ..MonitorOutcome::default()
            });
        }
        let recorded = self.record(&report, now).await;
        if let Ok(Recorded { outcome, .. }) = &recorded
            && !outcome.monitored
        {
            return Ok(*outcome);
        }
        self.connection = ConnectionCondition::Online;
        self.last_seen = Some(now);
        let result = match recorded {
            Ok(Recorded { outcome, events }) => {
                for event in &events {
                    self.monitor.events.publish(event).await;
                }
                self.first_report = false;
                self.last_recorded = Some(report.clone());
                self.job_id = outcome.job_id;
                Ok(outcome)
            }
            Err(error) => {
                // printdesk did not take this report in: as if it had not been watching.
                self.first_report = true;
                self.last_recorded = None;
                Err(error)
            }
        };
        self.last_report = Some(report);
        self.send_status(now).await;
        result
    }

    /// Records the printer's own job history, handed over right after connecting and before
    /// the first report ([`decide_history`]): the prints that started and ended while
    /// printdesk was not watching become jobs with their real times, and the open auto job
    /// is closed from its entry. Publishes the committed events. The next report is still
    /// the first since connecting (it reconciles).
    pub async fn history(
        &mut self,
        entries: Vec<HistoryEntry>,
    ) -> Result<MonitorOutcome, MonitorError> {
        let now = self.monitor.clock.now();
        let result = self
            .run(move |snapshot, printer| decide_history(snapshot, printer, &entries, now))
            .await;
        self.last_recorded = None;
        let Recorded { outcome, events } = result?;
        for event in &events {
            self.monitor.events.publish(event).await;
        }
        Ok(outcome)
    }

    /// Runs the decision in the store; decides once more on fresh state after a conflict.
    async fn record(
        &self,
        report: &PrinterReport,
        now: Timestamp,
    ) -> Result<Recorded, MonitorError> {
        let report = report.clone();
        let first_report = self.first_report;
        self.run(move |snapshot, printer| {
            decide(
                snapshot,
                &ReportContext {
                    printer,
                    report: &report,
                    first_report,
                    now,
                },
            )
        })
        .await
    }

    /// Runs `decision` in the store's transaction; once more on fresh state after a
    /// conflict.
    async fn run<F>(&self, decision: F) -> Result<Recorded, MonitorError>
    where
        F: Fn(&MonitorSnapshot, &PrinterId) -> MonitorDecision + Clone + Send + Sync + 'static,
    {
        let mut retried = false;
        loop {
            let (printer, decision) = (self.printer.clone(), decision.clone());
            let result = self
                .monitor
                .store
                .record(
                    &self.printer,
                    Box::new(move |snapshot| decision(snapshot, &printer)),
                )
                .await;
            match result {
                Err(MonitorError::Conflict) if !retried => retried = true,
                other => return other,
            }
        }
    }

    /// Sends the printer's current status if the throttle held a change back and may let it
    /// go now. Call it about once a second: a printer that reports a progress change and
    /// then nothing for a while (P1 printers send only what changed) would otherwise show the
    /// earlier progress until its next report.
    pub async fn flush(&mut self) {
        let now = self.monitor.clock.now();
        if self.throttle.should_send(&self.status, now) {
            self.monitor
                .statuses
                .publish(&self.printer, &self.status)
                .await;
        }
    }

    async fn send_status(&mut self, now: Timestamp) {
        self.status = printer_status(
            &self.connection,
            self.last_report.as_ref(),
            self.job_id,
            self.last_seen,
            now,
        );
        if self.throttle.should_send(&self.status, now) {
            self.monitor
                .statuses
                .publish(&self.printer, &self.status)
                .await;
        }
    }
}
