DROP TRIGGER jobs_counted_on_update ON jobs;
DROP TRIGGER jobs_counted ON jobs;
DROP FUNCTION count_jobs();
DROP TABLE job_counts;
