-- The webhook outbox. A trigger adds a delivery in the same transaction that
-- gives a job its final state (whoever does it: a worker, the reaper, a
-- cancel), addressed to the job's own webhook or else the default one the
-- servers keep in `settings` (`default_webhook_url`). Workers send it, retry
-- it on a schedule, and record every attempt here; the `id` is the stable
-- `webhook-id` a receiver deduplicates by.
CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    job_id           text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    tenant           text NOT NULL,
    event            text NOT NULL CHECK (event IN ('job.succeeded', 'job.failed', 'job.canceled')),
    url              text NOT NULL,
    -- Built once, at the first attempt, from the job as the API shows it; every retry sends the same bytes.
    payload          text,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    -- One entry per attempt: {"at", "status" (HTTP), "error", "ms"}.
    log              jsonb NOT NULL DEFAULT '[]',
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id);

CREATE FUNCTION kiln_enqueue_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target text;
BEGIN
    target := COALESCE(NEW.webhook, (SELECT value FROM settings WHERE key = 'default_webhook_url'));
    IF target IS NOT NULL AND target <> '' THEN
        INSERT INTO webhook_deliveries (id, job_id, tenant, event, url)
        VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), NEW.id, NEW.tenant, 'job.' || NEW.status, target);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_enqueue_webhook AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (NEW.status IN ('succeeded', 'failed', 'canceled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION kiln_enqueue_webhook();
