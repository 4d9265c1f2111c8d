-- How many times a job was handed back by a worker shutting down. Such a
-- release does not use up an attempt, up to a bound, so a deploy never fails
-- a job, and a job that keeps meeting restarts still cannot loop for ever.
ALTER TABLE jobs ADD COLUMN releases integer NOT NULL DEFAULT 0;
