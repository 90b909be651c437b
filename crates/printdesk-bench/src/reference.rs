//! The reference figure: the job edit run directly against the store, one edit after another
//! on one connection, with no HTTP in between. It goes through the same code as the server's
//! edit (`JobService::edit` on a `printdesk_store_diesel::Store`, same pragmas, same
//! transaction, same event append), so HTTP throughput divided by it says how much of the
//! database's own speed the server keeps, on any machine.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use printdesk_domain::{
    Actor, EventPublisher, JobEvent, JobId, JobPatch, JobService, Nullable, SystemClock,
    VersionCondition,
};
use printdesk_store_diesel::{Store, StoreOptions};

use crate::stats::Latencies;

/// Publishes nothing: the reference measures the store's transaction, not the fan-out.
#[derive(Debug)]
struct NoPublisher;

#[async_trait]
impl EventPublisher for NoPublisher {
    async fn publish(&self, _event: &JobEvent) {}
}

/// What the reference run measured.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Edits committed while measuring.
    pub edits: u64,
    /// How long the measured part took.
    pub elapsed: Duration,
    /// Per-edit latency.
    pub latencies: Latencies,
}

impl Reference {
    /// Two runs of the same reference as one: their edits over their time together, and
    /// each latency percentile the mean of the two runs' (close to, not exactly, that of
    /// all their edits).
    pub fn combined(a: &Self, b: &Self) -> Self {
        let mean = |x: u64, y: u64| x.midpoint(y);
        Self {
            edits: a.edits + b.edits,
            elapsed: a.elapsed + b.elapsed,
            latencies: Latencies {
                p50_us: mean(a.latencies.p50_us, b.latencies.p50_us),
                p99_us: mean(a.latencies.p99_us, b.latencies.p99_us),
                p999_us: mean(a.latencies.p999_us, b.latencies.p999_us),
            },
        }
    }

    /// Edits per second.
    pub fn rate(&self) -> f64 {
        self.edits as f64 / self.elapsed.as_secs_f64()
    }

    /// The line the child process prints and the parent parses.
    pub fn to_line(&self) -> String {
        format!(
            "REFERENCE edits={} elapsed_us={} p50_us={} p99_us={} p999_us={}",
            self.edits,
            self.elapsed.as_micros(),
            self.latencies.p50_us,
            self.latencies.p99_us,
            self.latencies.p999_us
        )
    }

    /// Parses [`Reference::to_line`].
    pub fn from_line(line: &str) -> Option<Self> {
        let fields = crate::stats::key_values(line.strip_prefix("REFERENCE ")?);
        let get = |k: &str| fields.get(k).and_then(|v| v.parse::<u64>().ok());
        Some(Self {
            edits: get("edits")?,
            elapsed: Duration::from_micros(get("elapsed_us")?),
            latencies: Latencies {
                p50_us: get("p50_us")?,
                p99_us: get("p99_us")?,
                p999_us: get("p999_us")?,
            },
        })
    }
}

/// Edits the jobs in `ids` in turn (notes set to a new text each time, as the HTTP load does)
/// for `warmup`, then measures for `measure`. With `search_index`, the store's text search
/// index is built first, and every edit keeps it current as it commits (as on the server);
/// without, the store keeps none.
pub async fn run(
    url: &str,
    ids: &[JobId],
    warmup: Duration,
    measure: Duration,
    search_index: bool,
) -> Result<Reference, String> {
    if ids.is_empty() {
        return Err("no job ids to edit".into());
    }
    let (backend, _) = printdesk_store_diesel::parse_url(url).map_err(|e| e.to_string())?;
    let options = StoreOptions {
        max_connections: 1,
        search_index,
        ..StoreOptions::for_backend(backend)
    };
    let store = Store::connect_with(url, options)
        .await
        .map_err(|e| e.to_string())?;
    if search_index && !store.wait_for_search_index(Duration::from_secs(600)).await {
        return Err("the search index was not built within 10 minutes".into());
    }

    let service = JobService::new(
        Arc::new(store.clone()),
        Arc::new(store),
        Arc::new(NoPublisher),
        Arc::new(SystemClock),
    );
    let actor = Actor::anonymous();
    let mut n: u64 = 0;
    let edit = |n: u64| {
        let id = ids[(n % ids.len() as u64) as usize];
        let patch = JobPatch {
            notes: Nullable::Set(format!("reference edit {n}")),
            ..JobPatch::default()
        };
        let service = &service;
        let actor = &actor;
        async move {
            service
                .edit(id, patch, VersionCondition::Any, actor)
                .await
                .map(drop)
                .map_err(|e| format!("edit failed: {e}"))
        }
    };

    let warm_until = Instant::now() + warmup;
    while Instant::now() < warm_until {
        edit(n).await?;
        n += 1;
    }
    let mut samples = Vec::with_capacity(100_000);
    let started = Instant::now();
    let mut edits = 0;
    while started.elapsed() < measure {
        let t = Instant::now();
        edit(n).await?;
        samples.push(t.elapsed());
        n += 1;
        edits += 1;
    }
    Ok(Reference {
        edits,
        elapsed: started.elapsed(),
        latencies: Latencies::from_samples(&mut samples),
    })
}
