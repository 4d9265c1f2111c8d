-- The events NOTIFY also names the job's tenant, last ("job_… running acme"),
-- so a tenant's event stream (/v1/events) wakes for its own jobs only, not on
-- every tenant's change. A payload without a tenant (retention, media
-- deletion) still wakes every stream, which then reads and finds nothing new.
CREATE OR REPLACE FUNCTION kiln_record_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    output_name  text;
    now_output   jsonb;
    was_output   jsonb;
    recorded     boolean := false;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        FOR output_name, now_output IN SELECT key, value FROM jsonb_each(NEW.outputs) LOOP
            was_output := OLD.outputs -> output_name;
            CONTINUE WHEN was_output IS NOT DISTINCT FROM now_output;
            IF now_output ->> 'status' IN ('succeeded', 'failed')
               AND (was_output ->> 'status') IS DISTINCT FROM (now_output ->> 'status') THEN
                INSERT INTO job_events (job_id, type, data) VALUES (NEW.id, 'output', jsonb_build_object(
                    'output', output_name, 'status', now_output -> 'status', 'files', now_output -> 'files',
                    'results', now_output -> 'results', 'error', now_output -> 'error', 'jobProgress', NEW.progress));
                recorded := true;
            ELSIF (was_output -> 'progress') IS DISTINCT FROM (now_output -> 'progress')
               OR (was_output -> 'playableAt') IS DISTINCT FROM (now_output -> 'playableAt') THEN
                INSERT INTO job_events (job_id, type, data) VALUES (NEW.id, 'progress', jsonb_build_object(
                    'output', output_name, 'status', now_output -> 'status', 'progress', now_output -> 'progress',
                    'playable', (now_output -> 'playableAt') IS NOT NULL, 'jobProgress', NEW.progress));
                recorded := true;
            END IF;
        END LOOP;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status OR NEW.attempt IS DISTINCT FROM OLD.attempt THEN
        INSERT INTO job_events (job_id, type, data) VALUES (NEW.id, 'job', jsonb_build_object(
            'status', NEW.status, 'attempt', NEW.attempt, 'progress', NEW.progress, 'error', NEW.error));
        recorded := true;
    END IF;
    IF recorded THEN
        PERFORM pg_notify('kiln_events_' || current_schema(), NEW.id || ' ' || NEW.status || ' ' || NEW.tenant);
    END IF;
    RETURN NULL;
END;
$$;
