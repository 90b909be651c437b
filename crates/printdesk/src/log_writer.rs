//! The log's way to stderr: a bounded queue and a thread of its own, so that a request never
//! waits for, or fails with, the log sink.
//!
//! A supervisor's pipe whose reader is gone, stderr on a full disk, `2>/dev/full`, a reader
//! that stopped reading: each makes writes to stderr fail or block. Lines are formatted on the
//! request's thread and handed to the queue without waiting; the writer thread writes them.
//! A line that finds the queue full, or that the sink refuses, is dropped and counted
//! (`printdesk_log_lines_dropped_total`); once a write succeeds again, one WARN line says how
//! many were lost. Nothing here panics or returns an error to the logging call.

use std::{
    io::{self, Write},
    sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError},
    thread,
    time::{Duration, Instant},
};

use prometheus::IntCounter;
use tracing_subscriber::fmt::MakeWriter;

/// Lines that may wait for the sink: a burst of requests' lines, about 400 KiB of JSON.
const QUEUE_LINES: usize = 1024;

/// What the writer thread is sent.
enum Message {
    Line(Vec<u8>),
    /// Write what is queued before this, then say so.
    Flush(SyncSender<()>),
}

/// The [`MakeWriter`] the subscriber formats into. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LogWriter {
    queue: SyncSender<Message>,
    dropped: IntCounter,
}

impl LogWriter {
    /// Starts the writer thread over `sink` (stderr in production). `dropped` counts the
    /// lines lost.
    pub fn start(sink: impl Write + Send + 'static, dropped: IntCounter) -> io::Result<Self> {
        let (queue, lines) = mpsc::sync_channel(QUEUE_LINES);
        let thread_dropped = dropped.clone();
        thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_lines(sink, &lines, &thread_dropped))?;
        Ok(Self { queue, dropped })
    }

    /// Waits at most `limit` for the lines queued so far to be written (at exit). Returns
    /// whether they were.
    pub fn flush(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let (done, flushed) = mpsc::sync_channel(1);
        let mut message = Message::Flush(done);
        loop {
            match self.queue.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    message = back;
                    thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return false,
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        !matches!(
            flushed.recv_timeout(left),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected)
        )
    }
}

/// One event's line, handed to the queue when the subscriber drops it.
#[derive(Debug)]
pub struct Line<'a> {
    buffer: Vec<u8>,
    writer: &'a LogWriter,
}

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.buffer);
        if self.writer.queue.try_send(Message::Line(line)).is_err() {
            self.writer.dropped.inc();
        }
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line {
            buffer: Vec::with_capacity(256),
            writer: self,
        }
    }
}

/// The writer thread: until every [`LogWriter`] is gone.
fn write_lines(mut sink: impl Write, lines: &Receiver<Message>, dropped: &IntCounter) {
    // Dropped lines already reported in a WARN line.
    let mut reported = 0;
    while let Ok(message) = lines.recv() {
        match message {
            Message::Line(line) => {
                if sink.write_all(&line).and_then(|()| sink.flush()).is_err() {
                    dropped.inc();
                    continue;
                }
                let lost = dropped.get();
                if lost > reported {
                    // Through the subscriber, so that the line has the log's format; it comes
                    // back through the queue like any other.
                    tracing::warn!(
                        dropped = lost - reported,
                        dropped_total = lost,
                        "log lines were dropped: the log could not be written (closed, full \
                         or too slow); printdesk_log_lines_dropped_total counts them"
                    );
                    reported = lost;
                }
            }
            Message::Flush(done) => {
                let _ = sink.flush();
                let _ = done.try_send(());
            }
        }
    }
}

/// The counter behind `printdesk_log_lines_dropped_total`.
pub fn dropped_counter() -> IntCounter {
    IntCounter::new(
        "printdesk_log_lines_dropped_total",
        "Log lines dropped because the log sink (stderr) was closed, full or too slow.",
    )
    .expect("a valid metric")
}

/// Writes to stderr, ignoring failure: for the few lines printed before the log is set up, or
/// instead of it (`eprintln!` panics when stderr cannot be written).
pub fn say(line: &str) {
    let _ = writeln!(io::stderr(), "printdesk: {line}");
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A sink that fails while `broken` is set, and keeps what it was given otherwise.
    #[derive(Clone, Default)]
    struct Flaky {
        broken: Arc<Mutex<bool>>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Flaky {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if *self.broken.lock().unwrap() {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            self.written.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn log(writer: &LogWriter, text: &str) {
        let mut line = writer.make_writer();
        line.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn lines_the_sink_refuses_are_counted_and_reported_once_it_is_back() {
        let sink = Flaky::default();
        let dropped = dropped_counter();
        let writer = LogWriter::start(sink.clone(), dropped.clone()).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer.clone())
            .with_ansi(false)
            .finish();
        // Global: the report is logged from the writer thread. No other test of this binary
        // installs a subscriber.
        tracing::subscriber::set_global_default(subscriber).unwrap();

        log(&writer, "one\n");
        assert!(writer.flush(Duration::from_secs(5)));
        *sink.broken.lock().unwrap() = true;
        for _ in 0..3 {
            log(&writer, "lost\n");
        }
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(dropped.get(), 3);
        *sink.broken.lock().unwrap() = false;
        log(&writer, "two\n");
        assert!(writer.flush(Duration::from_secs(5)));
        // The report is queued behind "two" by the writer thread itself.
        assert!(writer.flush(Duration::from_secs(5)));

        let text = String::from_utf8(sink.written.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..2], ["one", "two"], "{text}");
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[2].contains("log lines were dropped"), "{text}");
        assert!(lines[2].contains("dropped=3"), "{text}");
        assert!(!text.contains("lost"), "{text}");
    }

    #[test]
    fn a_sink_that_blocks_never_blocks_the_caller() {
        /// Never returns from a write.
        struct Stuck;
        impl Write for Stuck {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                thread::sleep(Duration::from_secs(3600));
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let dropped = dropped_counter();
        let writer = LogWriter::start(Stuck, dropped.clone()).unwrap();
        let started = Instant::now();
        for _ in 0..QUEUE_LINES + 100 {
            log(&writer, "x\n");
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        // One line is in the stuck write, QUEUE_LINES wait; the rest were dropped.
        assert!(dropped.get() >= 99, "{}", dropped.get());
        assert!(!writer.flush(Duration::from_millis(50)));
    }
}
