-- A tus upload's chunks, one row each, instead of a JSON array in its row:
-- appending a chunk is one INSERT, where it rewrote (and every HEAD and PATCH
-- decoded) the whole list, so n small PATCHes cost O(n²). Ordered by the
-- offset each chunk starts at, which only grows within an upload.
CREATE TABLE tus_chunks (
    upload_id     text NOT NULL,
    start_offset  bigint NOT NULL,
    key           text NOT NULL,
    PRIMARY KEY (upload_id, start_offset)
);

-- Uploads in progress keep their chunks: the JSON order becomes start offsets
-- (their keys already begin with the offset, zero-padded).
INSERT INTO tus_chunks (upload_id, start_offset, key)
SELECT u.id, c.position, c.key
FROM tus_uploads u, jsonb_array_elements_text(u.chunks) WITH ORDINALITY AS c(key, position);

ALTER TABLE tus_uploads DROP COLUMN chunks;
