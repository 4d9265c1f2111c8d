-- The result cache of image URLs: one row per rendering kept in the blob
-- store (under image-cache/), so every replica evicts from one shared view,
-- least recently used first, by bytes. Hits do not write here one by one:
-- each API process gathers the keys it served and marks them used in one
-- statement every few seconds.
CREATE TABLE image_cache (
    key      text PRIMARY KEY,
    tenant   text NOT NULL,
    bytes    bigint NOT NULL,
    made_at  timestamptz NOT NULL DEFAULT now(),
    used_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX image_cache_by_use ON image_cache (used_at);
