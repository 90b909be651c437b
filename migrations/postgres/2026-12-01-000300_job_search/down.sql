DROP INDEX jobs_search_pending;
DROP TABLE job_search_terms;
DROP INDEX jobs_file_key;
DROP INDEX jobs_customer_key;
DROP INDEX jobs_name_key;
ALTER TABLE jobs DROP COLUMN file_key;
ALTER TABLE jobs DROP COLUMN customer_key;
ALTER TABLE jobs DROP COLUMN name_key;
ALTER TABLE jobs DROP COLUMN search_text;
