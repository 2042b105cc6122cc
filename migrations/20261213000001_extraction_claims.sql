-- A worker claims its batch of extraction jobs in one statement instead of one statement per
-- job (issue 12): during an import the claim was one round trip per document. Same order and
-- rules as akta_claim_extraction_job (pending jobs first through their partial index, then
-- expired leases; SKIP LOCKED). akta_claim_extraction_job stays for servers of the previous
-- release during a rolling upgrade.
CREATE FUNCTION akta_claim_extraction_jobs(p_lease double precision, p_limit integer)
    RETURNS TABLE (id uuid, tenant_id uuid, version_id uuid, attempts integer)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    #variable_conflict use_column
    DECLARE
        v_ids uuid[];
        v_more uuid[];
    BEGIN
        SELECT coalesce(array_agg(c.id), '{}') INTO v_ids
          FROM (SELECT c.id FROM extraction_jobs c
                 WHERE c.state = 'pending' AND c.run_after <= now()
                 ORDER BY c.run_after LIMIT p_limit
                   FOR UPDATE SKIP LOCKED) c;
        IF cardinality(v_ids) < p_limit THEN
            SELECT coalesce(array_agg(c.id), '{}') INTO v_more
              FROM (SELECT c.id FROM extraction_jobs c
                     WHERE c.state = 'running' AND c.locked_until < now()
                     ORDER BY c.locked_until LIMIT p_limit - cardinality(v_ids)
                       FOR UPDATE SKIP LOCKED) c;
            v_ids := v_ids || v_more;
        END IF;
        IF cardinality(v_ids) = 0 THEN
            RETURN;
        END IF;
        RETURN QUERY
            UPDATE extraction_jobs j
               SET state = 'running', attempts = j.attempts + 1,
                   locked_until = now() + make_interval(secs => p_lease), updated_at = now()
             WHERE j.id = ANY (v_ids)
            RETURNING j.id, j.tenant_id, j.version_id, j.attempts;
    END
    $$;
REVOKE ALL ON FUNCTION akta_claim_extraction_jobs(double precision, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_claim_extraction_jobs(double precision, integer) TO akta_app;
