-- A tenant's running limit held under concurrent claims. Two workers claiming
-- at once each counted the tenant's running jobs in their own statement's
-- snapshot, both saw room, and both claimed (a limit of 1 ran 2). A claim now
-- asks this function for a capped tenant: it takes a transaction-scoped lock
-- for the tenant (held until the claim commits) and counts again; a volatile
-- function's query sees what committed since the statement began, so the
-- second claimer, let in once the first commits, sees its job running.
-- Uncapped tenants never take the lock.
CREATE FUNCTION kiln_tenant_has_room(claimant text, cap integer) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kiln_running ' || current_schema() || ' ' || claimant));
    RETURN (SELECT count(*) FROM jobs WHERE tenant = claimant AND status = 'running') < cap;
END;
$$;
