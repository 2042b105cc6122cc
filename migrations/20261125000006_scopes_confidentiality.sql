-- API token scopes (read/write, one plan-unit subtree, expiry) and confidential Akten that
-- only named users, org units or tokens can see. Both are enforced by row-level security for
-- the application role, on top of the tenant wall.

ALTER TABLE api_tokens
    ADD COLUMN can_write boolean NOT NULL DEFAULT true,
    ADD COLUMN plan_unit_id uuid REFERENCES plan_units(id),
    ADD COLUMN expires_at timestamptz;

DROP FUNCTION akta_authenticate(bytea);
CREATE FUNCTION akta_authenticate(p_hash bytea)
    RETURNS TABLE (kind text, token_id uuid, tenant_id uuid, role text, name text,
                   can_write boolean, plan_unit_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT 'operator', o.id, NULL::uuid, NULL::text, o.name, false, NULL::uuid
          FROM operator_tokens o
         WHERE o.token_hash = p_hash AND o.revoked_at IS NULL
        UNION ALL
        SELECT 'tenant', a.id, a.tenant_id, a.role, a.name, a.can_write, a.plan_unit_id
          FROM api_tokens a JOIN tenants t ON t.id = a.tenant_id
         WHERE a.token_hash = p_hash AND a.revoked_at IS NULL AND t.status = 'active'
           AND (a.expires_at IS NULL OR a.expires_at > now())
    $$;
REVOKE ALL ON FUNCTION akta_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_authenticate(bytea) TO akta_app;

-- Session lookups also report the user's org unit, which may open confidential Akten.
DROP FUNCTION akta_authenticate_session(bytea, interval);
CREATE FUNCTION akta_authenticate_session(p_hash bytea, p_idle interval)
    RETURNS TABLE (session_id uuid, tenant_id uuid, user_id uuid, username text, role text,
                   csrf_token text, org_unit_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT s.id, s.tenant_id, u.id, u.username, u.role, s.csrf_token, u.org_unit_id
          FROM sessions s
          JOIN users u ON u.id = s.user_id
          JOIN tenants t ON t.id = s.tenant_id
         WHERE s.token_hash = p_hash
           AND s.revoked_at IS NULL
           AND s.expires_at > now()
           AND s.last_seen_at > now() - p_idle
           AND u.disabled_at IS NULL
           AND t.status = 'active'
    $$;
REVOKE ALL ON FUNCTION akta_authenticate_session(bytea, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_authenticate_session(bytea, interval) TO akta_app;

-- Who may see a confidential Akte: exactly one of a user, an org unit or an API token.
CREATE TABLE file_access (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    file_id      uuid NOT NULL REFERENCES files(id),
    user_id      uuid REFERENCES users(id),
    org_unit_id  uuid REFERENCES org_units(id),
    token_id     uuid REFERENCES api_tokens(id),
    granted_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(user_id, org_unit_id, token_id) = 1)
);
CREATE UNIQUE INDEX file_access_once ON file_access (file_id, COALESCE(user_id, org_unit_id, token_id));
ALTER TABLE file_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_access FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_access USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
GRANT SELECT, INSERT, DELETE ON file_access TO akta_app;

CREATE FUNCTION akta_setting_uuid(p_name text) RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting(p_name, true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION akta_setting_uuid(text) TO akta_app;

-- Whether a plan unit lies in the transaction's plan-unit scope (a token limited to one
-- subtree of the Aktenplan); no scope allows everything.
CREATE FUNCTION akta_plan_scope_allows(p_plan_unit uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT akta_setting_uuid('app.plan_scope') IS NULL OR EXISTS (
            WITH RECURSIVE up (id, parent_id) AS (
                SELECT id, parent_id FROM plan_units WHERE id = p_plan_unit
                UNION ALL
                SELECT p.id, p.parent_id FROM plan_units p JOIN up ON p.id = up.parent_id
            )
            SELECT 1 FROM up WHERE up.id = akta_setting_uuid('app.plan_scope'))
    $$;

-- Whether the transaction's subject may see an Akte. Runs as the owner (not subject to the
-- akta_app-only policies below, so no recursion), still inside the tenant wall.
CREATE FUNCTION akta_file_visible(p_file uuid, p_plan_unit uuid, p_confidentiality text)
    RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT current_setting('app.system', true) = 'on'
            OR (akta_plan_scope_allows(p_plan_unit)
                AND (p_confidentiality = 'normal' OR EXISTS (
                    SELECT 1 FROM file_access a
                     WHERE a.file_id = p_file
                       AND (a.user_id = akta_setting_uuid('app.user_id')
                            OR a.org_unit_id = akta_setting_uuid('app.org_unit_id')
                            OR a.token_id = akta_setting_uuid('app.token_id')))))
    $$;
REVOKE ALL ON FUNCTION akta_plan_scope_allows(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_file_visible(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_plan_scope_allows(uuid) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_file_visible(uuid, uuid, text) TO akta_app;

DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON file_access FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Reading: an Akte only if visible; its Vorgänge, Dokumente and versions only through it.
CREATE POLICY visibility ON files AS RESTRICTIVE FOR SELECT TO akta_app
    USING (akta_file_visible(id, plan_unit_id, confidentiality));
CREATE POLICY scope_on_insert ON files AS RESTRICTIVE FOR INSERT TO akta_app
    WITH CHECK (akta_plan_scope_allows(plan_unit_id));
CREATE POLICY visibility ON cases AS RESTRICTIVE FOR SELECT TO akta_app
    USING (EXISTS (SELECT 1 FROM files f WHERE f.id = cases.file_id));
CREATE POLICY visibility ON documents AS RESTRICTIVE FOR SELECT TO akta_app
    USING (EXISTS (SELECT 1 FROM files f WHERE f.id = documents.file_id));
CREATE POLICY visibility ON document_versions AS RESTRICTIVE FOR SELECT TO akta_app
    USING (EXISTS (SELECT 1 FROM documents d WHERE d.id = document_versions.document_id));
CREATE POLICY visibility ON file_access AS RESTRICTIVE FOR SELECT TO akta_app
    USING (EXISTS (SELECT 1 FROM files f WHERE f.id = file_access.file_id));
