DROP INDEX jobs_customer_fold_pending;
DROP INDEX jobs_customer_fold;
ALTER TABLE jobs DROP COLUMN customer_fold;
