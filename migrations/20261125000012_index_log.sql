-- The index log: every change that a search index must apply, in commit order per row
-- (`seq`). Written in the same transaction as the change; tailed by every node that serves
-- search (see shared/api/src/indexer.rs). The index is a cache of PostgreSQL.

CREATE TABLE index_log (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    document_id  uuid NOT NULL,
    op           text NOT NULL CHECK (op IN ('upsert', 'delete')),
    created_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE index_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE index_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON index_log USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
DO $$
BEGIN
    -- For the security-definer reader below, which runs as the owner (FORCE applies to it).
    EXECUTE format('CREATE POLICY owner_lookup ON index_log FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Entries of all tenants after `p_seq`, oldest first: the applier's work list.
-- Sequence numbers are taken at insert but become visible at commit, possibly out of order.
-- Writers hold the shared advisory lock 'akta:index_log' until they commit (see
-- `log_index_change`); taking it exclusively here first waits for every writer that already
-- has a number, so no smaller number can become visible after a larger one was read.
CREATE FUNCTION akta_index_log_after(p_seq bigint, p_limit integer)
    RETURNS TABLE (seq bigint, tenant_id uuid, document_id uuid, op text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('akta:index_log'));
        -- A new statement: a snapshot taken after the lock (READ COMMITTED).
        RETURN QUERY
            SELECT l.seq, l.tenant_id, l.document_id, l.op FROM index_log l
             WHERE l.seq > p_seq
             ORDER BY l.seq
             LIMIT p_limit;
    END
    $$;
REVOKE ALL ON FUNCTION akta_index_log_after(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_index_log_after(bigint, integer) TO akta_app;

-- Newest sequence number, for the lag the search API reports.
CREATE FUNCTION akta_index_log_head()
    RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT coalesce(max(seq), 0) FROM index_log $$;
REVOKE ALL ON FUNCTION akta_index_log_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_index_log_head() TO akta_app;

GRANT SELECT, INSERT ON index_log TO akta_app;
