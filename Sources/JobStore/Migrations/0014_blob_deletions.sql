-- Files to delete from the store, recorded in the same statement that deletes
-- the rows that pointed at them (a media record, an expired job). The
-- deletion is then tried at once, and when the store fails, retried until it
-- succeeds: the bytes of deleted media never outlive their record for good,
-- and the client is answered once the deletion is recorded, not lost.
CREATE TABLE blob_deletions (
    id               bigserial PRIMARY KEY,
    prefix           text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_deletions_due ON blob_deletions (next_attempt_at);
