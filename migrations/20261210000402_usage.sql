-- Usage for cost sharing (issue 13): per tenant and month, counted as it happens (never by
-- scanning records at report time). Documents, versions and bytes are counted where the
-- quota charges them, in the transaction that files them; extraction time by the worker
-- that stores the text; API and search requests and active people are rolled up from the
-- per-minute rate counters (which every request already writes) before they are pruned.
CREATE TABLE usage_monthly (
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    month               date NOT NULL CHECK (extract(day FROM month) = 1),
    documents           bigint NOT NULL DEFAULT 0,
    versions            bigint NOT NULL DEFAULT 0,
    -- Bytes added this month: as filed (logical) and as written to the store (sealed).
    bytes_added         bigint NOT NULL DEFAULT 0,
    stored_bytes_added  bigint NOT NULL DEFAULT 0,
    -- The tenant's whole storage after the month's last change (a level, not a sum).
    logical_bytes       bigint,
    stored_bytes        bigint,
    api_requests        bigint NOT NULL DEFAULT 0,
    search_requests     bigint NOT NULL DEFAULT 0,
    extraction_ms       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, month)
);
CALL akta_tenant_table('usage_monthly');
GRANT SELECT, INSERT, UPDATE ON usage_monthly TO akta_app;
CREATE POLICY owner_all ON usage_monthly TO CURRENT_USER USING (true) WITH CHECK (true);

CREATE TABLE usage_active_users (
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    month      date NOT NULL,
    user_id    uuid NOT NULL,
    PRIMARY KEY (tenant_id, month, user_id)
);
CALL akta_tenant_table('usage_active_users');
GRANT SELECT ON usage_active_users TO akta_app;
CREATE POLICY owner_all ON usage_active_users TO CURRENT_USER USING (true) WITH CHECK (true);

-- What is in the store, beside what was filed: sealed content is larger.
ALTER TABLE tenant_usage ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;

-- The month a moment belongs to, in Germany.
CREATE FUNCTION akta_usage_month(p_at timestamptz) RETURNS date
    LANGUAGE sql STABLE
    AS $$ SELECT date_trunc('month', p_at AT TIME ZONE 'Europe/Berlin')::date $$;
GRANT EXECUTE ON FUNCTION akta_usage_month(timestamptz) TO akta_app;

-- Rate buckets that are usage: `api:<tenant>` (every authenticated REST request of a tenant),
-- `search:<tenant>` and `user:<tenant>:<user>` (a person active in that minute).
CREATE FUNCTION akta_usage_rollup(p_before timestamptz) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
    BEGIN
        INSERT INTO usage_monthly AS u (tenant_id, month, api_requests, search_requests)
        SELECT t.id, akta_usage_month(r.window_start),
               COALESCE(sum(r.hits) FILTER (WHERE r.bucket LIKE 'api:%'), 0),
               COALESCE(sum(r.hits) FILTER (WHERE r.bucket LIKE 'search:%'), 0)
          FROM rate_counters r
          JOIN tenants t ON t.id::text = split_part(r.bucket, ':', 2)
         WHERE r.window_start < p_before
           AND (r.bucket LIKE 'api:%' OR r.bucket LIKE 'search:%')
         GROUP BY 1, 2
        ON CONFLICT (tenant_id, month) DO UPDATE
           SET api_requests = u.api_requests + EXCLUDED.api_requests,
               search_requests = u.search_requests + EXCLUDED.search_requests;
        INSERT INTO usage_active_users (tenant_id, month, user_id)
        SELECT DISTINCT t.id, akta_usage_month(r.window_start), split_part(r.bucket, ':', 3)::uuid
          FROM rate_counters r
          JOIN tenants t ON t.id::text = split_part(r.bucket, ':', 2)
         WHERE r.window_start < p_before AND r.bucket LIKE 'user:%'
        ON CONFLICT DO NOTHING;
    END
    $$;
REVOKE ALL ON FUNCTION akta_usage_rollup(timestamptz) FROM PUBLIC;

-- Pruning now rolls the usage up first; a new function (a routine is created in one
-- migration only), the old one goes.
DROP FUNCTION akta_rate_prune();
CREATE FUNCTION akta_rate_prune_with_usage() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
    DECLARE
        cutoff timestamptz := now() - interval '2 minutes';
        n bigint;
    BEGIN
        -- Usage first, then the counters go: both in this one transaction.
        PERFORM akta_usage_rollup(cutoff);
        DELETE FROM rate_counters WHERE window_start < cutoff;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
    END
    $$;
REVOKE ALL ON FUNCTION akta_rate_prune_with_usage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_rate_prune_with_usage() TO akta_app;

-- One row per tenant for `month`: the rolled-up counters plus those still in the rate
-- counters (not yet pruned), and the storage level of the latest month with a change.
CREATE FUNCTION akta_usage_report(p_month date)
    RETURNS TABLE(tenant_id uuid, slug text, display_name text, status text, documents bigint,
                  versions bigint, bytes_added bigint, stored_bytes_added bigint,
                  logical_bytes bigint, stored_bytes bigint, active_users bigint,
                  api_requests bigint, search_requests bigint, extraction_ms bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
        WITH pending AS (
            SELECT split_part(r.bucket, ':', 2) AS tenant,
                   sum(r.hits) FILTER (WHERE r.bucket LIKE 'api:%') AS api,
                   sum(r.hits) FILTER (WHERE r.bucket LIKE 'search:%') AS search
              FROM rate_counters r
             WHERE (r.bucket LIKE 'api:%' OR r.bucket LIKE 'search:%')
               AND akta_usage_month(r.window_start) = p_month
             GROUP BY 1
        ), pending_users AS (
            SELECT DISTINCT split_part(r.bucket, ':', 2) AS tenant, split_part(r.bucket, ':', 3) AS user_id
              FROM rate_counters r
             WHERE r.bucket LIKE 'user:%' AND akta_usage_month(r.window_start) = p_month
        )
        SELECT t.id, t.slug, t.display_name, t.status,
               COALESCE(m.documents, 0), COALESCE(m.versions, 0),
               COALESCE(m.bytes_added, 0), COALESCE(m.stored_bytes_added, 0),
               COALESCE(level.logical_bytes, 0), COALESCE(level.stored_bytes, 0),
               (SELECT count(*) FROM (
                    SELECT a.user_id::text FROM usage_active_users a
                     WHERE a.tenant_id = t.id AND a.month = p_month
                    UNION
                    SELECT pu.user_id FROM pending_users pu WHERE pu.tenant = t.id::text) x),
               COALESCE(m.api_requests, 0) + COALESCE(p.api, 0),
               COALESCE(m.search_requests, 0) + COALESCE(p.search, 0),
               COALESCE(m.extraction_ms, 0)
          FROM tenants t
          LEFT JOIN usage_monthly m ON m.tenant_id = t.id AND m.month = p_month
          LEFT JOIN pending p ON p.tenant = t.id::text
          LEFT JOIN LATERAL (
              SELECT l.logical_bytes, l.stored_bytes FROM usage_monthly l
               WHERE l.tenant_id = t.id AND l.month <= p_month AND l.logical_bytes IS NOT NULL
               ORDER BY l.month DESC LIMIT 1) level ON true
         WHERE t.created_at < (p_month + interval '1 month')
         ORDER BY t.slug
    $$;
REVOKE ALL ON FUNCTION akta_usage_report(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_usage_report(date) TO akta_app;

-- For /metrics (operator): the outboxes' depths and each tenant's storage, across tenants.
CREATE FUNCTION akta_outbox_depths() RETURNS TABLE(outbox text, state text, depth bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
        -- Every state that is still work, with its count (0 included, so series do not vanish).
        SELECT 'extraction', s, (SELECT count(*) FROM extraction_jobs j WHERE j.state = s)
          FROM unnest(ARRAY['pending', 'running', 'failed']) s
        UNION ALL
        SELECT 'webhooks', s, (SELECT count(*) FROM webhook_deliveries d WHERE d.state = s)
          FROM unnest(ARRAY['pending', 'running', 'failed']) s
    $$;
REVOKE ALL ON FUNCTION akta_outbox_depths() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_outbox_depths() TO akta_app;

CREATE FUNCTION akta_storage_by_tenant() RETURNS TABLE(slug text, logical bigint, stored bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
        SELECT t.slug, COALESCE(u.storage_bytes, 0), COALESCE(u.stored_bytes, 0)
          FROM tenants t LEFT JOIN tenant_usage u ON u.tenant_id = t.id
         WHERE t.status <> 'deleted'
         ORDER BY t.slug
    $$;
REVOKE ALL ON FUNCTION akta_storage_by_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_storage_by_tenant() TO akta_app;
