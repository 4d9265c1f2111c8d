-- Attempts that ended with their worker gone (its lease ran out). A job whose
-- attempts keep killing their worker ends `failed` with `worker_crashed`
-- after a few, instead of taking down worker after worker.
ALTER TABLE jobs ADD COLUMN crashes integer NOT NULL DEFAULT 0;
