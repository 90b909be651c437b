-- The customers' autocomplete (GET /customers?q=mül, issue 17): `customer_fold` is the
-- customer name folded by the domain's rules (case, accents, compatibility forms, as the text
-- search folds), written by the store beside the name, so that "the names beginning with
-- `mul`" is one range of this index, read without touching the table (the index holds the
-- name and its collation key, which the answer is grouped and ordered by).
--
-- Existing jobs get NULL; the store fills it in at start-up (Store::connect), finding them
-- by the second, partial index, which is empty once they are done.
-- "C": byte order, in which a prefix is one index range.
ALTER TABLE jobs ADD COLUMN customer_fold TEXT COLLATE "C";

CREATE INDEX jobs_customer_fold ON jobs (customer_fold, customer_key, customer_name)
    WHERE customer_fold IS NOT NULL;

CREATE INDEX jobs_customer_fold_pending ON jobs (id)
    WHERE customer_name IS NOT NULL AND customer_fold IS NULL;
