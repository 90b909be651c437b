DROP TABLE monitor_leases;
DROP INDEX IF EXISTS job_prints_printer_job_id;
DROP TABLE job_prints;
DROP TABLE printer_memory;
