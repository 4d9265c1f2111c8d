-- Media with a time to live (`expiresIn` on upload: stories that vanish after
-- a day). Once past it, retention removes the media, the jobs made from it and
-- their files, and leaves a tombstone of each, so that reads answer 410 Gone
-- rather than 404 and `GET /v1/usage` can say what expired.
ALTER TABLE media ADD COLUMN expires_at timestamptz;
CREATE INDEX media_by_expiry ON media (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE expired_objects (
    id          text PRIMARY KEY,
    tenant      text NOT NULL,
    -- 'media' or 'job'
    kind        text NOT NULL,
    -- What it held in the store: the upload's size, or the job's output files.
    bytes       bigint NOT NULL DEFAULT 0,
    expired_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX expired_objects_by_tenant ON expired_objects (tenant, kind);
CREATE INDEX expired_objects_by_age ON expired_objects (expired_at);
