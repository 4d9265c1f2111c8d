-- Who did what: every upload, delete, job submission, cancel and signed link,
-- with the tenant, the API key's public id (never the key), the object and the
-- client's address. Read newest first by tenant at `GET /v1/audit`.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    tenant     text NOT NULL,
    key_id     text,
    action     text NOT NULL,
    object     text NOT NULL,
    client     text,
    detail     jsonb
);
CREATE INDEX audit_log_tenant ON audit_log (tenant, id DESC);
