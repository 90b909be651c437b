//! One test per rule of the contract's job table, checked through `JobService` on both paths a
//! job's fields take: creating a job and editing one.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{
    JobDraft, JobPatch, JobStatus, Nullable, PrinterId, Version, VersionCondition,
    testing::{InMemoryStore, RecordingPublisher},
};
use support::{T0, World, anon, create_violations, edit_violations, fields, named, pairs};

fn patch() -> JobPatch {
    JobPatch::default()
}

// ---------------------------------------------------------------------------------------------
// Server-set fields at creation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_job_starts_at_version_1_stamped_with_the_clock() {
    let w = World::new();
    let job = w.named_job("Benchy").await;

    assert_eq!(job.version, Version::FIRST);
    assert_eq!(job.version.get(), 1);
    assert_eq!(job.created_at, T0);
    assert_eq!(job.updated_at, T0);
    assert_eq!(job.started_at, None);
    assert_eq!(job.completed_at, None);
    assert!(!job.auto_created);
    assert_eq!(job.discovery_time, None);
    assert_eq!(w.stored(job.id).await, job);
}

#[tokio::test]
async fn every_new_job_gets_its_own_id() {
    let w = World::new();
    let a = w.named_job("A").await;
    let b = w.named_job("A").await;
    assert_ne!(a.id, b.id);
}

// ---------------------------------------------------------------------------------------------
// job_name: required; trimmed; 1–200 characters after trimming
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn job_name_is_required() {
    let w = World::new();
    let errors = create_violations(w.jobs.create(named(""), &anon()).await);
    assert_eq!(pairs(&errors), [("job_name", "must not be empty")]);

    let job = w.named_job("Benchy").await;
    let errors = edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    job_name: Some(String::new()),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await,
    );
    assert_eq!(pairs(&errors), [("job_name", "must not be empty")]);
}

#[tokio::test]
async fn job_name_of_only_whitespace_is_rejected() {
    let w = World::new();
    let errors = create_violations(w.jobs.create(named(" \t\n\u{3000} "), &anon()).await);
    assert_eq!(pairs(&errors), [("job_name", "must not be empty")]);

    let job = w.named_job("Benchy").await;
    let errors = edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    job_name: Some("     ".into()),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await,
    );
    assert_eq!(pairs(&errors), [("job_name", "must not be empty")]);
}

#[tokio::test]
async fn job_name_is_trimmed() {
    let w = World::new();
    let job = w.job(named("  Benchy  \n")).await;
    assert_eq!(job.job_name.as_str(), "Benchy");

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                job_name: Some("\t3DBenchy v2 ".into()),
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.job_name.as_str(), "3DBenchy v2");
}

#[tokio::test]
async fn job_name_is_at_most_200_unicode_scalar_values() {
    let w = World::new();

    // 200 'é' are 400 bytes: the limit counts characters, not bytes.
    let job = w.job(named(&"é".repeat(200))).await;
    assert_eq!(job.job_name.as_str().chars().count(), 200);

    // Surrounding whitespace does not count: the limit applies after trimming.
    let padded = w.job(named(&format!("   {}   ", "é".repeat(200)))).await;
    assert_eq!(padded.job_name.as_str(), "é".repeat(200));

    let errors = create_violations(w.jobs.create(named(&"é".repeat(201)), &anon()).await);
    assert_eq!(
        pairs(&errors),
        [("job_name", "must be at most 200 characters")]
    );

    let actor = anon();
    let edit = |name: String| {
        w.jobs.edit(
            job.id,
            JobPatch {
                job_name: Some(name),
                ..patch()
            },
            VersionCondition::Any,
            &actor,
        )
    };
    assert_eq!(
        fields(&edit_violations(edit("x".repeat(201)).await)),
        ["job_name"]
    );
    let edited = edit("x".repeat(200)).await.unwrap();
    assert_eq!(edited.job_name.as_str().len(), 200);
}

#[tokio::test]
async fn job_name_of_one_character_is_enough() {
    let w = World::new();
    assert_eq!(w.job(named("x")).await.job_name.as_str(), "x");
}

// ---------------------------------------------------------------------------------------------
// status: default pending
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn status_defaults_to_pending() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    assert_eq!(job.status, JobStatus::Pending);
}

#[tokio::test]
async fn status_can_be_any_of_the_four() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    for status in [
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Pending,
    ] {
        let edited = w
            .jobs
            .edit(
                job.id,
                JobPatch {
                    status: Some(status),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await
            .unwrap();
        assert_eq!(edited.status, status);
    }

    let created = w
        .job(JobDraft {
            status: JobStatus::Failed,
            ..named("Spaghetti")
        })
        .await;
    assert_eq!(created.status, JobStatus::Failed);
}

// ---------------------------------------------------------------------------------------------
// is_business: default false
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn is_business_defaults_to_false() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    assert!(!job.is_business);
}

// ---------------------------------------------------------------------------------------------
// customer_name: trimmed, ≤200 characters, empty becomes null,
// required whenever the job is a business job, judged on the job after the change
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn customer_name_is_trimmed() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            customer_name: Some("  ACME Corp \t".into()),
            ..named("Bracket")
        })
        .await;
    assert_eq!(job.customer_name.unwrap().as_str(), "ACME Corp");

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                customer_name: Nullable::Set(" Globex ".into()),
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.customer_name.unwrap().as_str(), "Globex");
}

#[tokio::test]
async fn customer_name_that_is_empty_or_blank_becomes_null() {
    let w = World::new();
    for blank in ["", "   ", "\t\n"] {
        let job = w
            .job(JobDraft {
                customer_name: Some(blank.into()),
                ..named("Bracket")
            })
            .await;
        assert_eq!(job.customer_name, None, "{blank:?}");
    }

    // On the edit, a blank value clears the stored customer just like null does.
    let job = w
        .job(JobDraft {
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        })
        .await;
    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                customer_name: Nullable::Set("  ".into()),
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.customer_name, None);
}

#[tokio::test]
async fn customer_name_null_clears_it() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        })
        .await;
    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                customer_name: Nullable::Clear,
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.customer_name, None);
}

#[tokio::test]
async fn customer_name_is_at_most_200_unicode_scalar_values() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            customer_name: Some(format!("  {}  ", "ü".repeat(200))),
            ..named("Bracket")
        })
        .await;
    assert_eq!(job.customer_name.unwrap().as_str(), "ü".repeat(200));

    let errors = create_violations(
        w.jobs
            .create(
                JobDraft {
                    customer_name: Some("ü".repeat(201)),
                    ..named("Bracket")
                },
                &anon(),
            )
            .await,
    );
    assert_eq!(
        pairs(&errors),
        [("customer_name", "must be at most 200 characters")]
    );

    let errors = edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    customer_name: Nullable::Set("c".repeat(201)),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await,
    );
    assert_eq!(fields(&errors), ["customer_name"]);
}

#[tokio::test]
async fn business_job_needs_a_customer_on_create() {
    let w = World::new();
    for customer in [None, Some(""), Some("   ")] {
        let errors = create_violations(
            w.jobs
                .create(
                    JobDraft {
                        is_business: true,
                        customer_name: customer.map(Into::into),
                        ..named("Bracket")
                    },
                    &anon(),
                )
                .await,
        );
        assert_eq!(
            pairs(&errors),
            [("customer_name", "is required for business jobs")],
            "{customer:?}"
        );
    }

    let job = w
        .job(JobDraft {
            is_business: true,
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        })
        .await;
    assert!(job.is_business);
    assert_eq!(job.customer_name.unwrap().as_str(), "ACME");
}

#[tokio::test]
async fn business_rule_counts_stored_values_clearing_customer_of_business_job_is_rejected() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            is_business: true,
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        })
        .await;

    for customer in [
        Nullable::Clear,
        Nullable::Set(String::new()),
        Nullable::Set("  ".into()),
    ] {
        let errors = edit_violations(
            w.jobs
                .edit(
                    job.id,
                    JobPatch {
                        customer_name: customer.clone(),
                        ..patch()
                    },
                    VersionCondition::Any,
                    &anon(),
                )
                .await,
        );
        assert_eq!(
            pairs(&errors),
            [("customer_name", "is required for business jobs")],
            "{customer:?}"
        );
    }
    assert_eq!(w.stored(job.id).await, job);
}

#[tokio::test]
async fn business_rule_counts_patch_values_turning_off_business_allows_clearing_customer() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            is_business: true,
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        })
        .await;

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                is_business: Some(false),
                customer_name: Nullable::Clear,
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert!(!edited.is_business);
    assert_eq!(edited.customer_name, None);
}

#[tokio::test]
async fn business_rule_making_a_job_business_without_a_customer_is_rejected() {
    let w = World::new();
    let job = w.named_job("Bracket").await;

    // The stored job has no customer, and the patch does not add one.
    let errors = edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    is_business: Some(true),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await,
    );
    assert_eq!(
        pairs(&errors),
        [("customer_name", "is required for business jobs")]
    );

    // With the customer in the same patch it is fine.
    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                is_business: Some(true),
                customer_name: Nullable::Set("ACME".into()),
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert!(edited.is_business);
}

#[tokio::test]
async fn business_rule_a_stored_customer_satisfies_it() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        })
        .await;

    // Only the flag is sent; the stored customer counts.
    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                is_business: Some(true),
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert!(edited.is_business);
    assert_eq!(edited.customer_name.unwrap().as_str(), "ACME");
}

// ---------------------------------------------------------------------------------------------
// notes: ≤1000 characters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn notes_are_at_most_1000_unicode_scalar_values() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            notes: Some("ß".repeat(1000)),
            ..named("Vase")
        })
        .await;
    assert_eq!(job.notes.unwrap().as_str().chars().count(), 1000);

    let errors = create_violations(
        w.jobs
            .create(
                JobDraft {
                    notes: Some("ß".repeat(1001)),
                    ..named("Vase")
                },
                &anon(),
            )
            .await,
    );
    assert_eq!(
        pairs(&errors),
        [("notes", "must be at most 1000 characters")]
    );

    let errors = edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    notes: Nullable::Set("n".repeat(1001)),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await,
    );
    assert_eq!(fields(&errors), ["notes"]);
}

#[tokio::test]
async fn notes_null_clears_them() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            notes: Some("re-sliced".into()),
            ..named("Vase")
        })
        .await;
    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Clear,
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.notes, None);
}

// ---------------------------------------------------------------------------------------------
// file_name: ≤255 characters; no reference check
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn file_name_is_at_most_255_unicode_scalar_values() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            file_name: Some("ф".repeat(255)),
            ..named("Vase")
        })
        .await;
    assert_eq!(job.file_name.unwrap().as_str().chars().count(), 255);

    let errors = create_violations(
        w.jobs
            .create(
                JobDraft {
                    file_name: Some("ф".repeat(256)),
                    ..named("Vase")
                },
                &anon(),
            )
            .await,
    );
    assert_eq!(
        pairs(&errors),
        [("file_name", "must be at most 255 characters")]
    );

    let errors = edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    file_name: Nullable::Set("f".repeat(256)),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await,
    );
    assert_eq!(fields(&errors), ["file_name"]);
}

#[tokio::test]
async fn file_name_is_not_checked_against_any_file_store() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            file_name: Some("long-gone/benchy_0.2mm_PLA_3h12m.gcode.3mf".into()),
            ..named("Benchy")
        })
        .await;
    assert_eq!(
        job.file_name.unwrap().as_str(),
        "long-gone/benchy_0.2mm_PLA_3h12m.gcode.3mf"
    );
}

// ---------------------------------------------------------------------------------------------
// printer_id: null = manual job; otherwise must name an existing printer
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn printer_id_null_is_a_manual_job() {
    let w = World::new();
    let job = w.named_job("Hand-fed").await;
    assert_eq!(job.printer_id, None);
}

#[tokio::test]
async fn printer_id_must_name_an_existing_printer_on_create() {
    let w = World::new();
    w.printer("mk4-1").await;

    let job = w
        .job(JobDraft {
            printer_id: Some("mk4-1".into()),
            ..named("Benchy")
        })
        .await;
    assert_eq!(job.printer_id, Some(PrinterId::parse("mk4-1").unwrap()));

    let errors = create_violations(
        w.jobs
            .create(
                JobDraft {
                    printer_id: Some("mk4-2".into()),
                    ..named("Benchy")
                },
                &anon(),
            )
            .await,
    );
    assert_eq!(
        pairs(&errors),
        [("printer_id", "names no printer ('mk4-2')")]
    );
}

#[tokio::test]
async fn printer_id_must_name_an_existing_printer_on_edit() {
    let w = World::new();
    w.printer("mk4-1").await;
    w.printer("x1c").await;
    let job = w.named_job("Benchy").await;

    let actor = anon();
    let edit = |id: &str| {
        w.jobs.edit(
            job.id,
            JobPatch {
                printer_id: Nullable::Set(id.into()),
                ..patch()
            },
            VersionCondition::Any,
            &actor,
        )
    };
    let errors = edit_violations(edit("no-such-printer").await);
    assert_eq!(
        pairs(&errors),
        [("printer_id", "names no printer ('no-such-printer')")]
    );

    assert_eq!(
        edit("x1c").await.unwrap().printer_id.unwrap().as_str(),
        "x1c"
    );
    assert_eq!(
        edit("mk4-1").await.unwrap().printer_id.unwrap().as_str(),
        "mk4-1"
    );
}

#[tokio::test]
async fn printer_id_null_clears_it() {
    let w = World::new();
    w.printer("mk4-1").await;
    let job = w
        .job(JobDraft {
            printer_id: Some("mk4-1".into()),
            ..named("Benchy")
        })
        .await;

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                printer_id: Nullable::Clear,
                ..patch()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.printer_id, None);
}

#[tokio::test]
async fn printer_id_that_is_malformed_is_reported_as_malformed() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let shape = "must be 1–64 characters of a–z, 0–9, '-' or '_'";

    for bad in ["Bambu X1C", "", "a/b", "é", &"a".repeat(65)] {
        let errors = create_violations(
            w.jobs
                .create(
                    JobDraft {
                        printer_id: Some(bad.into()),
                        ..named("Benchy")
                    },
                    &anon(),
                )
                .await,
        );
        // Reported once, as a shape problem, not also as "names no printer".
        assert_eq!(pairs(&errors), [("printer_id", shape)], "{bad:?}");

        let errors = edit_violations(
            w.jobs
                .edit(
                    job.id,
                    JobPatch {
                        printer_id: Nullable::Set(bad.into()),
                        ..patch()
                    },
                    VersionCondition::Any,
                    &anon(),
                )
                .await,
        );
        assert_eq!(pairs(&errors), [("printer_id", shape)], "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// All violations are reported at once, each with its field; nothing is saved
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn all_violations_are_reported_at_once_on_create() {
    let w = World::new();
    let errors = create_violations(
        w.jobs
            .create(
                JobDraft {
                    job_name: "  ".into(),
                    status: JobStatus::Running,
                    is_business: true,
                    customer_name: None,
                    notes: Some("n".repeat(1001)),
                    file_name: Some("f".repeat(256)),
                    printer_id: Some("no-such-printer".into()),
                },
                &anon(),
            )
            .await,
    );
    assert_eq!(
        pairs(&errors),
        [
            ("job_name", "must not be empty"),
            ("customer_name", "is required for business jobs"),
            ("notes", "must be at most 1000 characters"),
            ("file_name", "must be at most 255 characters"),
            ("printer_id", "names no printer ('no-such-printer')"),
        ]
    );
    // One sentence a person can read, for the problem's `detail`.
    assert_eq!(
        errors.to_string(),
        "job_name must not be empty; customer_name is required for business jobs; \
         notes must be at most 1000 characters; file_name must be at most 255 characters; \
         printer_id names no printer ('no-such-printer')"
    );
}

#[tokio::test]
async fn all_violations_are_reported_at_once_on_edit() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            is_business: true,
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        })
        .await;

    let errors = edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    job_name: Some(String::new()),
                    customer_name: Nullable::Clear,
                    notes: Nullable::Set("n".repeat(1001)),
                    file_name: Nullable::Set("f".repeat(256)),
                    printer_id: Nullable::Set("no-such-printer".into()),
                    ..patch()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await,
    );
    assert_eq!(
        fields(&errors),
        [
            "job_name",
            "customer_name",
            "notes",
            "file_name",
            "printer_id"
        ]
    );
}

#[tokio::test]
async fn nothing_is_saved_when_a_create_breaks_a_rule() {
    let w = World::new();
    create_violations(w.jobs.create(named(""), &anon()).await);
    create_violations(
        w.jobs
            .create(
                JobDraft {
                    printer_id: Some("no-such-printer".into()),
                    ..named("Benchy")
                },
                &anon(),
            )
            .await,
    );

    let page = w.jobs.list(&Default::default()).await.unwrap();
    assert_eq!(page.total_count, 0);
    assert!(w.logged().is_empty());
    assert!(w.published().is_empty());
}

#[tokio::test]
async fn nothing_is_saved_when_an_edit_breaks_a_rule() {
    let w = World::new();
    let job = w
        .job(JobDraft {
            notes: Some("first".into()),
            ..named("Benchy")
        })
        .await;

    // A valid change next to an invalid one: neither is stored.
    edit_violations(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    notes: Nullable::Set("second".into()),
                    file_name: Nullable::Set("f".repeat(256)),
                    ..patch()
                },
                VersionCondition::from(job.version),
                &anon(),
            )
            .await,
    );

    assert_eq!(w.stored(job.id).await, job);
    assert_eq!(w.logged().len(), 1, "only job_created is logged");
    assert_eq!(w.published().len(), 1, "only job_created is published");
}

// ---------------------------------------------------------------------------------------------
// The in-memory adapters promise what the real store promises
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_adapters_are_usable_on_their_own() {
    // A smoke test that the public constructors are enough to wire a service.
    let store = std::sync::Arc::new(InMemoryStore::default());
    let publisher = std::sync::Arc::new(RecordingPublisher::default());
    let service = printdesk_domain::JobService::new(
        store.clone(),
        store.clone(),
        publisher.clone(),
        std::sync::Arc::new(support::FixedClock::new(T0)),
    );
    let job = service.create(named("Benchy"), &anon()).await.unwrap();
    assert_eq!(service.get(job.id).await.unwrap(), job);
    assert_eq!(store.events().len(), 1);
    assert_eq!(publisher.events().len(), 1);
}
