-- What monitoring remembers about each printer between two reports (the domain's
-- PrinterMemory): the last settled state, the last print seen (the printer's own id for it,
-- its file, its start) and the job that records it. `job_id` is not a foreign key: a job
-- deleted by a person leaves the memory pointing at nothing, which reads as "no job".
CREATE TABLE printer_memory (
    printer_id       TEXT PRIMARY KEY NOT NULL REFERENCES printers (id) ON DELETE CASCADE,
    last_state       TEXT,
    print_job_id     TEXT,
    print_file       TEXT,
    print_started_at TIMESTAMP,
    job_id           TEXT
);

-- The print each job that monitoring created records (the domain's TrackedPrint), written
-- once with the job. `printer_id` is kept as text: the job may lose its printer later.
CREATE TABLE job_prints (
    job_id         TEXT PRIMARY KEY NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    printer_id     TEXT NOT NULL,
    printer_job_id TEXT,
    file           TEXT,
    started_at     TIMESTAMP NOT NULL
);
-- One job per print that the printer names itself: the backstop against a second instance
-- recording the same print.
CREATE UNIQUE INDEX job_prints_printer_job_id ON job_prints (printer_id, printer_job_id)
    WHERE printer_job_id IS NOT NULL;

-- Which instance follows which printer, when several instances share one database. A lease
-- is renewed while its holder runs; once it expires another instance takes the printer.
CREATE TABLE monitor_leases (
    printer_id TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
