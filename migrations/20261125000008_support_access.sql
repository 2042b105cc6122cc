-- Time-limited support access: a tenant admin lets the operator read (never change) the
-- tenant's records for a few hours. Every request made under it is audited.

CREATE TABLE support_grants (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    granted_by  text NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
ALTER TABLE support_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON support_grants USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON support_grants FOR SELECT TO %I USING (true)', current_user);
END
$$;
GRANT SELECT, INSERT, UPDATE ON support_grants TO akta_app;

-- The operator asks before any tenant is in scope: is there a live grant for this tenant?
CREATE FUNCTION akta_support_grant(p_slug text)
    RETURNS TABLE (tenant_id uuid, grant_id uuid, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT g.tenant_id, g.id, g.expires_at
          FROM support_grants g JOIN tenants t ON t.id = g.tenant_id
         WHERE t.slug = p_slug AND t.status = 'active'
           AND g.revoked_at IS NULL AND g.expires_at > now()
         ORDER BY g.expires_at DESC
         LIMIT 1
    $$;
REVOKE ALL ON FUNCTION akta_support_grant(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_support_grant(text) TO akta_app;
