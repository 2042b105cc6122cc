-- Hardening (issue 10): extraction claimed one job at a time across tenants and woken by
-- NOTIFY, request and login limits shared by all replicas, OIDC client secrets sealed with
-- the tenant key.

-- ---------------------------------------------------------------------------------------------
-- Extraction: a pool of workers each claims the next due job in one statement. Pending jobs
-- come first through their partial index, expired leases after; done jobs are never scanned,
-- however many there are. SKIP LOCKED: workers never wait for each other.
-- ---------------------------------------------------------------------------------------------
-- The owner (and so the function below, which runs with its rights) may claim any tenant's
-- job; the application role still sees and updates only its tenant's rows.
CREATE POLICY owner_claim ON extraction_jobs FOR UPDATE TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE FUNCTION akta_claim_extraction_job(p_lease double precision)
    RETURNS TABLE (id uuid, tenant_id uuid, version_id uuid, attempts integer)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    #variable_conflict use_column
    DECLARE
        v_id uuid;
    BEGIN
        SELECT c.id INTO v_id FROM extraction_jobs c
         WHERE c.state = 'pending' AND c.run_after <= now()
         ORDER BY c.run_after LIMIT 1
           FOR UPDATE SKIP LOCKED;
        IF v_id IS NULL THEN
            SELECT c.id INTO v_id FROM extraction_jobs c
             WHERE c.state = 'running' AND c.locked_until < now()
             ORDER BY c.locked_until LIMIT 1
               FOR UPDATE SKIP LOCKED;
        END IF;
        IF v_id IS NULL THEN
            RETURN;
        END IF;
        RETURN QUERY
            UPDATE extraction_jobs j
               SET state = 'running', attempts = j.attempts + 1,
                   locked_until = now() + make_interval(secs => p_lease), updated_at = now()
             WHERE j.id = v_id
            RETURNING j.id, j.tenant_id, j.version_id, j.attempts;
    END
    $$;
REVOKE ALL ON FUNCTION akta_claim_extraction_job(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_claim_extraction_job(double precision) TO akta_app;

-- Workers and indexers sleep until told: one notification per committing statement (PostgreSQL
-- folds equal notifications of one transaction into one). Polling stays as the fallback for
-- retries after a backoff and for a listener that reconnected.
CREATE FUNCTION akta_notify_channel() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        PERFORM pg_notify(TG_ARGV[0], '');
        RETURN NULL;
    END
    $$;
CREATE TRIGGER extraction_jobs_notify AFTER INSERT ON extraction_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION akta_notify_channel('akta_extraction');
CREATE TRIGGER index_log_notify AFTER INSERT ON index_log
    FOR EACH STATEMENT EXECUTE FUNCTION akta_notify_channel('akta_index_log');

-- ---------------------------------------------------------------------------------------------
-- Rate limits shared by every replica: one counter per bucket and minute. UNLOGGED: counters
-- need no WAL and no replication, and losing them in a crash only forgives one minute.
-- Buckets are not tenant data (client addresses, tenant names as typed), so no RLS; the
-- application reaches the table only through the function below.
-- ---------------------------------------------------------------------------------------------
CREATE UNLOGGED TABLE rate_counters (
    bucket        text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- Counts one hit of each bucket in the current minute and returns, per bucket, the hits so
-- far (this one included) and the seconds until the window ends. Buckets are counted in a
-- fixed order, so concurrent calls never deadlock on each other's rows.
CREATE FUNCTION akta_rate_hit(p_buckets text[])
    RETURNS TABLE (bucket text, hits integer, reset_secs integer)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        INSERT INTO rate_counters AS r (bucket, window_start, hits)
        SELECT b, date_trunc('minute', now()), 1
          FROM (SELECT DISTINCT unnest(p_buckets) AS b ORDER BY 1) s
        ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
        RETURNING r.bucket, r.hits,
                  GREATEST(1, ceil(extract(epoch FROM r.window_start + interval '1 minute' - now())))::integer
    $$;
REVOKE ALL ON FUNCTION akta_rate_hit(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_rate_hit(text[]) TO akta_app;

CREATE FUNCTION akta_rate_prune() RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM rate_counters WHERE window_start < now() - interval '2 minutes' RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;
REVOKE ALL ON FUNCTION akta_rate_prune() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_rate_prune() TO akta_app;

-- ---------------------------------------------------------------------------------------------
-- OIDC client secrets sealed like content: encrypted under their own key, which the tenant
-- key wraps. Re-wrapped when the tenant key rotates; unreadable once the tenant's keys are
-- destroyed. `client_secret` keeps only secrets stored before this (sealed at start-up).
-- ---------------------------------------------------------------------------------------------
ALTER TABLE oidc_configs
    ADD COLUMN secret_sealed bytea,
    ADD COLUMN secret_len bigint,
    ADD COLUMN secret_wrapped_key bytea,
    ADD COLUMN secret_key_version integer,
    ADD CONSTRAINT oidc_configs_secret_sealed_whole CHECK (
        (secret_sealed IS NULL) = (secret_wrapped_key IS NULL)
        AND (secret_sealed IS NULL) = (secret_key_version IS NULL)
        AND (secret_sealed IS NULL) = (secret_len IS NULL));
