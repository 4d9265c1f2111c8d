-- Media, jobs and settings. Every row carries its tenant from the start, so
-- tenant scoping never needs a data migration.

CREATE TABLE media (
    id            text PRIMARY KEY,
    tenant        text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
    content_type  text NOT NULL,
    size          bigint NOT NULL,
    sha256        text NOT NULL,
    width         integer,
    height        integer,
    duration      double precision,
    storage_key   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_tenant_created ON media (tenant, created_at DESC);

CREATE SEQUENCE job_lease_tokens;

CREATE TABLE jobs (
    id                  text PRIMARY KEY,
    seq                 bigserial UNIQUE,
    tenant              text NOT NULL,
    status              text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    input_media_id      text NOT NULL,
    input_kind          text NOT NULL,
    input_key           text NOT NULL,
    input_content_type  text NOT NULL,
    plan                jsonb NOT NULL,
    outputs             jsonb NOT NULL DEFAULT '{}',
    progress            double precision NOT NULL DEFAULT 0,
    attempt             integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL DEFAULT 5,
    lease_token         bigint,
    lease_owner         text,
    lease_until         timestamptz,
    run_after           timestamptz NOT NULL DEFAULT now(),
    cancel_requested    boolean NOT NULL DEFAULT false,
    error               jsonb,
    last_error          jsonb,
    webhook             text,
    metadata            jsonb,
    idempotency_key     text,
    request_hash        text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_claimable ON jobs (run_after, seq) WHERE status = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX jobs_tenant_seq ON jobs (tenant, seq DESC);
CREATE INDEX jobs_tenant_status_seq ON jobs (tenant, status, seq DESC);

CREATE TABLE settings (
    key    text PRIMARY KEY,
    value  text NOT NULL
);
