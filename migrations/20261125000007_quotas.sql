-- Per-tenant quotas set by the operator, and the usage they are checked against. Usage rows
-- are updated in the same transaction as the document versions they count.

CREATE TABLE tenant_quotas (
    tenant_id            uuid PRIMARY KEY REFERENCES tenants(id),
    max_storage_bytes    bigint CHECK (max_storage_bytes >= 0),
    max_documents        bigint CHECK (max_documents >= 0),
    requests_per_minute  integer CHECK (requests_per_minute > 0),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_usage (
    tenant_id      uuid PRIMARY KEY REFERENCES tenants(id),
    storage_bytes  bigint NOT NULL DEFAULT 0,
    documents      bigint NOT NULL DEFAULT 0
);

-- Usage so far.
INSERT INTO tenant_usage (tenant_id, storage_bytes, documents)
SELECT t.id,
       COALESCE((SELECT sum(size_bytes) FROM document_versions v WHERE v.tenant_id = t.id), 0),
       (SELECT count(*) FROM documents d WHERE d.tenant_id = t.id)
  FROM tenants t;

-- Quotas and usage are operator data about a tenant, not tenant content: the operator reads
-- them for all tenants; tenant transactions see their own (RLS).
ALTER TABLE tenant_quotas ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_quotas FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_quotas USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
ALTER TABLE tenant_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_usage USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON tenant_quotas FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON tenant_usage FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- The operator's overview: counts only, never content.
CREATE FUNCTION akta_tenant_overview()
    RETURNS TABLE (tenant_id uuid, storage_bytes bigint, documents bigint,
                   max_storage_bytes bigint, max_documents bigint, requests_per_minute integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id, COALESCE(u.storage_bytes, 0), COALESCE(u.documents, 0),
               q.max_storage_bytes, q.max_documents, q.requests_per_minute
          FROM tenants t
          LEFT JOIN tenant_usage u ON u.tenant_id = t.id
          LEFT JOIN tenant_quotas q ON q.tenant_id = t.id
    $$;
REVOKE ALL ON FUNCTION akta_tenant_overview() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_tenant_overview() TO akta_app;

GRANT SELECT, INSERT, UPDATE ON tenant_quotas, tenant_usage TO akta_app;
