-- Each job wrote four events, each its own INSERT inside the trigger, and each
-- event's foreign key ran a SELECT … FOR KEY SHARE on the job row that the
-- same statement had just written: `make bench`'s pg_stat_statements put the
-- events at a quarter of PostgreSQL's time per header-only job. Events are
-- written only here, for the row being inserted or updated, so the key proved
-- nothing; retention deletes a job's events with the job (pruneFinishedJobs).
ALTER TABLE job_events DROP CONSTRAINT IF EXISTS job_events_job_id_fkey;

-- The same events as migration 0011, gathered and written by one INSERT; the
-- outputs are compared only when they changed (a claim changes none).
CREATE OR REPLACE FUNCTION kiln_record_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    output_name  text;
    now_output   jsonb;
    was_output   jsonb;
    types        text[] := '{}';
    datas        jsonb[] := '{}';
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.outputs IS DISTINCT FROM OLD.outputs THEN
        FOR output_name, now_output IN SELECT key, value FROM jsonb_each(NEW.outputs) LOOP
            was_output := OLD.outputs -> output_name;
            CONTINUE WHEN was_output IS NOT DISTINCT FROM now_output;
            IF now_output ->> 'status' IN ('succeeded', 'failed')
               AND (was_output ->> 'status') IS DISTINCT FROM (now_output ->> 'status') THEN
                types := types || 'output'::text;
                datas := datas || jsonb_build_object(
                    'output', output_name, 'status', now_output -> 'status', 'files', now_output -> 'files',
                    'results', now_output -> 'results', 'error', now_output -> 'error', 'jobProgress', NEW.progress);
            ELSIF (was_output -> 'progress') IS DISTINCT FROM (now_output -> 'progress')
               OR (was_output -> 'playableAt') IS DISTINCT FROM (now_output -> 'playableAt') THEN
                types := types || 'progress'::text;
                datas := datas || jsonb_build_object(
                    'output', output_name, 'status', now_output -> 'status', 'progress', now_output -> 'progress',
                    'playable', (now_output -> 'playableAt') IS NOT NULL, 'jobProgress', NEW.progress);
            END IF;
        END LOOP;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status OR NEW.attempt IS DISTINCT FROM OLD.attempt THEN
        types := types || 'job'::text;
        datas := datas || jsonb_build_object('status', NEW.status, 'attempt', NEW.attempt, 'progress', NEW.progress, 'error', NEW.error);
    END IF;
    IF cardinality(types) > 0 THEN
        -- In the order gathered: event ids are the order clients replay them in.
        INSERT INTO job_events (job_id, type, data)
        SELECT NEW.id, event.type, event.data FROM unnest(types, datas) WITH ORDINALITY AS event(type, data, n) ORDER BY event.n;
        PERFORM pg_notify('kiln_events_' || current_schema(), NEW.id || ' ' || NEW.status || ' ' || NEW.tenant);
    END IF;
    RETURN NULL;
END;
$$;
