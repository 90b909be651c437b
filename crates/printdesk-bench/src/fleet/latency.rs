//! Matching what the simulated printers reported with what printdesk showed: per printer, the
//! starts and ends in the order they were reported, and for each the moment the job was first
//! seen in `GET /api/v1/jobs` and on the WebSocket.
//!
//! A printer runs one print at a time, so the n-th new running job seen for a printer is its
//! n-th start, and the first terminal state of that job is its end.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// A start or an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edge {
    Start,
    End,
}

/// Where printdesk showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Seen {
    List,
    Socket,
}

#[derive(Debug, Clone)]
struct Mark {
    edge: Edge,
    /// When the printer's state changed.
    changed: Instant,
    /// When the printer told printdesk (a polled printer: the answer that first showed it).
    reported: Option<Instant>,
    list: Option<Instant>,
    socket: Option<Instant>,
}

#[derive(Debug, Default)]
struct Inner {
    marks: HashMap<String, Vec<Mark>>,
    /// (where, edge, job id) already matched.
    matched: HashSet<(Seen, Edge, String)>,
    /// Observations that matched no mark: a job printdesk showed that no printer reported.
    unexpected: Vec<String>,
}

/// Shared by the printers' drivers and the observers.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Inner>>);

/// One printer kind's figures, or the whole fleet's.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub list: Vec<Duration>,
    pub socket: Vec<Duration>,
    /// Change → list, for polled printers (includes waiting for the poll).
    pub change_to_list: Vec<Duration>,
    /// Marks that were not seen in one of the two places.
    pub missing: usize,
    pub starts: usize,
    pub ends: usize,
}

impl Recorder {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A printer that pushes its state reported `edge` now.
    pub fn reported(&self, printer: &str, edge: Edge) {
        let now = Instant::now();
        self.with(|i| {
            i.marks.entry(printer.to_owned()).or_default().push(Mark {
                edge,
                changed: now,
                reported: Some(now),
                list: None,
                socket: None,
            });
        });
    }

    /// A polled printer's state changed now; [`Recorder::polled`] says when it was read.
    pub fn changed(&self, printer: &str, edge: Edge) {
        let now = Instant::now();
        self.with(|i| {
            i.marks.entry(printer.to_owned()).or_default().push(Mark {
                edge,
                changed: now,
                reported: None,
                list: None,
                socket: None,
            });
        });
    }

    /// A polled printer's answer showed its last change to printdesk now.
    pub fn polled(&self, printer: &str) {
        let now = Instant::now();
        self.with(|i| {
            if let Some(mark) = i
                .marks
                .get_mut(printer)
                .and_then(|m| m.iter_mut().rev().find(|m| m.reported.is_none()))
            {
                mark.reported = Some(now);
            }
        });
    }

    /// printdesk showed job `job` of `printer` as `status` (`running`, `completed`, …) at `at`.
    pub fn observed(&self, seen: Seen, printer: &str, job: &str, status: &str, at: Instant) {
        let edge = match status {
            "running" => Edge::Start,
            "completed" | "failed" | "cancelled" => Edge::End,
            _ => return,
        };
        self.with(|i| {
            if !i.matched.insert((seen, edge, job.to_owned())) {
                return;
            }
            let mark = i.marks.get_mut(printer).and_then(|marks| {
                marks.iter_mut().find(|m| {
                    m.edge == edge
                        && match seen {
                            Seen::List => m.list.is_none(),
                            Seen::Socket => m.socket.is_none(),
                        }
                })
            });
            match mark {
                Some(m) => match seen {
                    Seen::List => m.list = Some(at),
                    Seen::Socket => m.socket = Some(at),
                },
                None => i
                    .unexpected
                    .push(format!("{printer}: job {job} {status} seen ({seen:?})")),
            }
        });
    }

    /// Marks not yet seen in both places, reported before `before`.
    pub fn pending(&self, before: Instant) -> usize {
        self.with(|i| {
            i.marks
                .values()
                .flatten()
                .filter(|m| m.changed < before && (m.list.is_none() || m.socket.is_none()))
                .count()
        })
    }

    /// The marks made in `[from, to)` not seen in both places, described.
    pub fn missing(&self, from: Instant, to: Instant) -> Vec<String> {
        self.with(|i| {
            let mut missing: Vec<String> = i
                .marks
                .iter()
                .flat_map(|(printer, marks)| {
                    marks
                        .iter()
                        .filter(|m| m.changed >= from && m.changed < to)
                        .filter(|m| m.reported.is_none() || m.list.is_none() || m.socket.is_none())
                        .map(move |m| {
                            format!(
                                "{printer}: {:?} {:.1} s into the window, reported: {}, in GET /jobs: {}, on the WebSocket: {}",
                                m.edge,
                                m.changed.duration_since(from).as_secs_f64(),
                                m.reported.is_some(),
                                m.list.is_some(),
                                m.socket.is_some()
                            )
                        })
                })
                .collect();
            missing.sort();
            missing
        })
    }

    /// Jobs printdesk showed that no printer reported.
    pub fn unexpected(&self) -> Vec<String> {
        self.with(|i| i.unexpected.clone())
    }

    /// The figures of the marks made in `[from, to)` by the printers `select` picks.
    pub fn samples(&self, from: Instant, to: Instant, select: impl Fn(&str) -> bool) -> Samples {
        self.with(|i| {
            let mut s = Samples::default();
            for (printer, marks) in &i.marks {
                if !select(printer) {
                    continue;
                }
                for m in marks.iter().filter(|m| m.changed >= from && m.changed < to) {
                    match m.edge {
                        Edge::Start => s.starts += 1,
                        Edge::End => s.ends += 1,
                    }
                    let Some(reported) = m.reported else {
                        s.missing += 1;
                        continue;
                    };
                    match m.list {
                        Some(at) => {
                            s.list.push(at.saturating_duration_since(reported));
                            if m.changed != reported {
                                s.change_to_list
                                    .push(at.saturating_duration_since(m.changed));
                            }
                        }
                        None => s.missing += 1,
                    }
                    match m.socket {
                        Some(at) => s.socket.push(at.saturating_duration_since(reported)),
                        None => s.missing += 1,
                    }
                }
            }
            s
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_and_ends_match_the_jobs_in_order_and_strangers_are_kept() {
        let r = Recorder::default();
        let t0 = Instant::now();
        r.reported("b1", Edge::Start);
        r.observed(Seen::Socket, "b1", "j1", "running", Instant::now());
        r.observed(Seen::Socket, "b1", "j1", "running", Instant::now());
        r.observed(Seen::List, "b1", "j1", "running", Instant::now());
        r.reported("b1", Edge::End);
        r.observed(Seen::List, "b1", "j1", "completed", Instant::now());
        assert_eq!(
            r.pending(Instant::now()),
            1,
            "the end is not on the socket yet"
        );
        r.observed(Seen::Socket, "b1", "j1", "completed", Instant::now());
        assert_eq!(r.pending(Instant::now()), 0);
        r.observed(Seen::List, "b2", "j2", "running", Instant::now());
        assert_eq!(r.unexpected().len(), 1);
        let s = r.samples(t0, Instant::now() + Duration::from_secs(1), |_| true);
        assert_eq!(
            (s.starts, s.ends, s.list.len(), s.socket.len()),
            (1, 1, 2, 2)
        );
        assert_eq!(s.missing, 0);
    }

    #[test]
    fn a_polled_change_counts_from_the_answer_that_showed_it() {
        let r = Recorder::default();
        let t0 = Instant::now();
        r.changed("p1", Edge::Start);
        std::thread::sleep(Duration::from_millis(20));
        r.polled("p1");
        r.observed(Seen::List, "p1", "j", "running", Instant::now());
        r.observed(Seen::Socket, "p1", "j", "running", Instant::now());
        let s = r.samples(t0, Instant::now(), |_| true);
        assert!(s.list[0] < Duration::from_millis(20), "{:?}", s.list);
        assert!(s.change_to_list[0] >= Duration::from_millis(20));
    }
}
