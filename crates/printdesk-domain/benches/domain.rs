//! The domain's hot path, without I/O: what every job edit does inside its transaction
//! (lay the patch over the stored job, check every rule, build the next version and its
//! changes), and what every create does (validate a draft). Run with `just bench-domain`.
//!
//! A slow rule shows up here in review: each figure is per call, in nanoseconds to
//! microseconds, so a regression of a few allocations is visible.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use printdesk_domain::{
    CustomerName, FileName, Job, JobChanges, JobDraft, JobId, JobName, JobPatch, JobStatus, Notes,
    Nullable, PrinterId, Version,
};
use time::OffsetDateTime;

fn stored_job() -> Job {
    let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("a valid time");
    Job {
        id: JobId::generate(),
        job_name: JobName::parse("Benchy v3 #4711").expect("valid"),
        status: JobStatus::Running,
        is_business: true,
        customer_name: Some(CustomerName::parse("Acme Robotics").expect("valid")),
        notes: Some(Notes::parse("re-sliced at 0.2 mm, PETG, 40% infill").expect("valid")),
        file_name: Some(FileName::parse("benchy-4711.3mf").expect("valid")),
        printer_id: Some(PrinterId::parse("printer-07").expect("valid")),
        version: Version::new(3),
        created_at: at,
        updated_at: at,
        started_at: Some(at),
        completed_at: None,
        auto_created: false,
        discovery_time: None,
    }
}

fn valid_draft() -> JobDraft {
    JobDraft {
        job_name: "  Benchy v3 #4711  ".into(),
        status: JobStatus::Pending,
        is_business: true,
        customer_name: Some(" Acme Robotics ".into()),
        notes: Some("re-sliced at 0.2 mm, PETG, 40% infill".into()),
        file_name: Some("benchy-4711.3mf".into()),
        printer_id: Some("printer-07".into()),
    }
}

fn invalid_draft() -> JobDraft {
    JobDraft {
        job_name: "   ".into(),
        status: JobStatus::Pending,
        is_business: true,
        customer_name: None,
        notes: Some("x".repeat(1001)),
        file_name: Some("f".repeat(256)),
        printer_id: Some("Not A Slug!".into()),
    }
}

fn notes_patch() -> JobPatch {
    JobPatch {
        notes: Nullable::Set("customer wants it by Friday".into()),
        ..JobPatch::default()
    }
}

fn validation(c: &mut Criterion) {
    let mut group = c.benchmark_group("JobDraft::validate");
    let valid = valid_draft();
    group.bench_function("valid business job", |b| {
        b.iter(|| black_box(valid.clone()).validate())
    });
    let invalid = invalid_draft();
    group.bench_function("five violations", |b| {
        b.iter(|| black_box(invalid.clone()).validate())
    });
    group.finish();
}

fn patch(c: &mut Criterion) {
    let job = stored_job();
    let patch = notes_patch();
    c.bench_function("JobPatch::apply_to (notes)", |b| {
        b.iter(|| black_box(&patch).apply_to(black_box(&job)))
    });
}

fn with_fields(c: &mut Criterion) {
    let job = stored_job();
    let now = OffsetDateTime::from_unix_timestamp(1_790_000_100).expect("a valid time");
    let changed = notes_patch().apply_to(&job).validate().expect("valid");
    let unchanged = JobPatch::default()
        .apply_to(&job)
        .validate()
        .expect("valid");
    let mut group = c.benchmark_group("Job::with_fields");
    group.bench_function("one field changed", |b| {
        b.iter(|| black_box(&job).with_fields(black_box(changed.clone()), now))
    });
    group.bench_function("nothing changed", |b| {
        b.iter(|| black_box(&job).with_fields(black_box(unchanged.clone()), now))
    });
    group.finish();
}

fn changes(c: &mut Criterion) {
    let old = stored_job();
    let mut new = old.clone();
    new.notes = Some(Notes::parse("customer wants it by Friday").expect("valid"));
    new.status = JobStatus::Completed;
    let mut group = c.benchmark_group("JobChanges::between");
    group.bench_function("two fields differ", |b| {
        b.iter(|| JobChanges::between(black_box(&old), black_box(&new)))
    });
    group.bench_function("identical", |b| {
        b.iter(|| JobChanges::between(black_box(&old), black_box(&old)))
    });
    group.finish();
}

/// The whole decision an edit makes inside its transaction, as `JobService::edit` builds it.
fn edit_decision(c: &mut Criterion) {
    let job = stored_job();
    let patch = notes_patch();
    let now = OffsetDateTime::from_unix_timestamp(1_790_000_100).expect("a valid time");
    c.bench_function("edit decision (apply_to + validate + with_fields)", |b| {
        b.iter(|| {
            let fields = black_box(&patch)
                .apply_to(black_box(&job))
                .validate()
                .expect("valid");
            job.with_fields(fields, now)
        })
    });
}

criterion_group!(
    benches,
    validation,
    patch,
    with_fields,
    changes,
    edit_decision
);
criterion_main!(benches);
