-- Fair claims across tenants. A claim takes, among the tenants with work
-- waiting, the one with the fewest jobs running (and under its running limit),
-- and that tenant's oldest claimable job: one tenant's 10,000 queued jobs no
-- longer delay another tenant's single one by the time they all take.
-- The tenants with queued jobs are found by skipping through this index one
-- tenant at a time, and each tenant's oldest job by the same index.
CREATE INDEX jobs_queued_by_tenant ON jobs (tenant, run_after, seq) WHERE status = 'queued';

-- Per-tenant limits the claim applies (`kiln serve` writes them from its
-- configuration at start-up); tenant `*` holds the defaults, NULL: no limit.
CREATE TABLE tenant_limits (
    tenant       text PRIMARY KEY,
    max_running  integer
);
