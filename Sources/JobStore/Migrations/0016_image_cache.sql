-- The result cache of image URLs: one row per rendering kept in the blob
-- store (under image-cache/), so every replica evicts from one shared view,
-- least recently used first, by bytes. Hits do not write here one by one:
-- each API process gathers the keys it served and marks them used in one
-- statement every few seconds.
CREATE TABLE image_cache (
    key      text PRIMARY KEY,
    tenant   text NOT NULL,
    -- What was rendered: 'sha256:' and the source's digest, or 'url:' and its URL.
    source   text NOT NULL,
    bytes    bigint NOT NULL,
    made_at  timestamptz NOT NULL DEFAULT now(),
    used_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX image_cache_by_use ON image_cache (used_at);
CREATE INDEX image_cache_by_source ON image_cache (tenant, source);
CREATE INDEX media_tenant_sha256 ON media (tenant, sha256);

-- When a tenant's last media with some bytes goes (deleted, or expired by
-- retention), the renderings made from those bytes go too: their rows at
-- once (nothing serves them after), their bytes through blob_deletions.
CREATE FUNCTION kiln_forget_renderings() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM media WHERE tenant = OLD.tenant AND sha256 = OLD.sha256) THEN
        WITH gone AS (
            DELETE FROM image_cache WHERE tenant = OLD.tenant AND source = 'sha256:' || OLD.sha256 RETURNING key
        )
        INSERT INTO blob_deletions (prefix) SELECT key FROM gone;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER media_renderings_forgotten AFTER DELETE ON media FOR EACH ROW EXECUTE FUNCTION kiln_forget_renderings();
