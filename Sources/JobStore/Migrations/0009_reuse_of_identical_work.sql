-- Reuse of identical work. `work_key` is the SHA-256 of the input's SHA-256 and
-- the job's normalized plan (every output's operation list, keys sorted): two
-- jobs with the same key make the same files. A job that allows reuse (`reuse`,
-- the default) and finds an earlier succeeded job of its tenant with its key
-- takes copies of that job's files instead of running, and names it in
-- `reused_from`.
ALTER TABLE jobs ADD COLUMN work_key text;
ALTER TABLE jobs ADD COLUMN reuse boolean NOT NULL DEFAULT true;
ALTER TABLE jobs ADD COLUMN reused_from text;
CREATE INDEX jobs_reusable ON jobs (tenant, work_key, finished_at DESC) WHERE status = 'succeeded' AND work_key IS NOT NULL;
