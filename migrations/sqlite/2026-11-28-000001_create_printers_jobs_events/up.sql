-- Timestamps are UTC, stored as ISO-8601 text by Diesel; they sort correctly as text.
CREATE TABLE printers (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    printer_type TEXT NOT NULL,
    location     TEXT,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE jobs (
    id             TEXT PRIMARY KEY NOT NULL,
    job_name       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    is_business    BOOLEAN NOT NULL DEFAULT 0,
    customer_name  TEXT,
    notes          TEXT,
    file_name      TEXT,
    -- Deleting a printer never deletes jobs. The store nulls printer_id itself (so the change is
    -- versioned and logged); the foreign key action is the safety net.
    printer_id     TEXT REFERENCES printers (id) ON DELETE SET NULL,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    started_at     TIMESTAMP,
    completed_at   TIMESTAMP,
    auto_created   BOOLEAN NOT NULL DEFAULT 0,
    discovery_time TIMESTAMP
);

-- Each list filter is served by an index that also yields the default order.
CREATE INDEX jobs_created_at ON jobs (created_at, id);
CREATE INDEX jobs_updated_at ON jobs (updated_at, id);
CREATE INDEX jobs_status_created_at ON jobs (status, created_at, id);
CREATE INDEX jobs_printer_created_at ON jobs (printer_id, created_at, id);
CREATE INDEX jobs_business_created_at ON jobs (is_business, created_at, id);

-- The event log: one row per committed change, numbered without gaps in commit order.
-- No foreign key to jobs: the history outlives the job.
CREATE TABLE job_events (
    seq     BIGINT PRIMARY KEY NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('job_created', 'job_updated', 'job_deleted')),
    job_id  TEXT NOT NULL,
    at      TIMESTAMP NOT NULL,
    actor   TEXT,
    changes TEXT NOT NULL,
    job     TEXT NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, seq);

-- The last seq handed out. Updating this single row in every writing transaction is what
-- makes seq order equal commit order.
CREATE TABLE event_seq (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last BIGINT NOT NULL
);
INSERT INTO event_seq (id, last) VALUES (1, 0);
