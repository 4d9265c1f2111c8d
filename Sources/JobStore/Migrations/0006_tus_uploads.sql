-- Resumable uploads (tus 1.0, `/v1/uploads/tus`). Each PATCH stores what it
-- received as a chunk object and appends its key here in the same statement
-- that moves the offset, so concurrent PATCHes cannot both win and any API
-- server behind a load balancer can take the next one. When the offset reaches
-- the length the chunks become one media record (`media_id`) and are deleted.
CREATE TABLE tus_uploads (
    id             text PRIMARY KEY,
    tenant         text NOT NULL,
    upload_length  bigint NOT NULL CHECK (upload_length >= 0),
    upload_offset  bigint NOT NULL DEFAULT 0,
    metadata       text,
    chunks         jsonb NOT NULL DEFAULT '[]',
    media_id       text,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tus_uploads_expires ON tus_uploads (expires_at);
