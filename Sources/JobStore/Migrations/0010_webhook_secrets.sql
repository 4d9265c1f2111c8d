-- Each tenant signs its own webhooks. A tenant's secret is made by
-- `POST /v1/webhook-secret` and shown once; making another rotates it: the
-- one before keeps signing beside it until `previous_until`, so receivers can
-- switch without losing a message (Standard Webhooks sends both signatures).
-- The deployment's own secret (KILN_WEBHOOK_SECRET, or the one kept in
-- `settings`) signs what goes to the deployment's default receiver, and the
-- `default` tenant's webhooks while it has no secret of its own.
CREATE TABLE webhook_secrets (
    tenant          text PRIMARY KEY,
    secret          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    previous        text,
    previous_until  timestamptz
);

-- Whether a delivery goes to the deployment's default receiver (which the
-- operator configured, so it may be an internal address) or to a job's own.
ALTER TABLE webhook_deliveries ADD COLUMN to_default boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION kiln_enqueue_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target text;
BEGIN
    target := COALESCE(NEW.webhook, (SELECT value FROM settings WHERE key = 'default_webhook_url'));
    IF target IS NOT NULL AND target <> '' THEN
        INSERT INTO webhook_deliveries (id, job_id, tenant, event, url, to_default)
        VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), NEW.id, NEW.tenant, 'job.' || NEW.status, target,
                NEW.webhook IS NULL);
    END IF;
    RETURN NULL;
END;
$$;
