-- Pruning the index log. Every node keeps its own position in the log; entries older than a
-- retention period are deleted, and the highest deleted sequence number is kept as the
-- horizon. A node whose position is below the horizon may have missed entries and rebuilds
-- its indexes from PostgreSQL instead (see shared/api/src/indexer.rs).

CREATE TABLE index_log_horizon (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_upto  bigint NOT NULL DEFAULT 0
);
INSERT INTO index_log_horizon DEFAULT VALUES;

CREATE INDEX index_log_created ON index_log (created_at);
-- Per-tenant lag: entries of one tenant after a position.
CREATE INDEX index_log_tenant_seq ON index_log (tenant_id, seq);

DO $$
BEGIN
    -- For the security-definer pruner below (FORCE row level security applies to the owner).
    EXECUTE format('CREATE POLICY owner_prune ON index_log FOR DELETE TO %I USING (true)', current_user);
END
$$;

-- Deletes entries older than `p_keep` and returns how many. Takes the log's lock
-- exclusively first, like the reader: no writer with a smaller number is still in flight.
CREATE FUNCTION akta_index_log_prune(p_keep interval)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    DECLARE
        v_max bigint;
        v_count bigint;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('akta:index_log'));
        WITH gone AS (
            DELETE FROM index_log WHERE created_at < now() - p_keep RETURNING seq
        )
        SELECT max(seq), count(*) INTO v_max, v_count FROM gone;
        IF v_max IS NOT NULL THEN
            UPDATE index_log_horizon SET pruned_upto = greatest(pruned_upto, v_max);
        END IF;
        RETURN v_count;
    END
    $$;
REVOKE ALL ON FUNCTION akta_index_log_prune(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_index_log_prune(interval) TO akta_app;

-- The highest pruned sequence number (0 when nothing was pruned).
CREATE FUNCTION akta_index_log_horizon()
    RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT pruned_upto FROM index_log_horizon $$;
REVOKE ALL ON FUNCTION akta_index_log_horizon() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_index_log_horizon() TO akta_app;

-- The newest sequence number once every writer that already holds a number has finished:
-- a rebuild that starts here and then reads PostgreSQL misses nothing at or below it.
CREATE FUNCTION akta_index_log_settled_head()
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('akta:index_log'));
        RETURN greatest((SELECT coalesce(max(seq), 0) FROM index_log),
                        (SELECT pruned_upto FROM index_log_horizon));
    END
    $$;
REVOKE ALL ON FUNCTION akta_index_log_settled_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_index_log_settled_head() TO akta_app;
