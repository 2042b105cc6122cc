-- Cheaper requests. The lookups every request makes become PL/pgSQL: a SQL-language function
-- with a SET clause is parsed and planned on every call, PL/pgSQL keeps its plans per
-- connection. Same rows, same rights, same search_path.

CREATE OR REPLACE FUNCTION akta_authenticate(p_hash bytea)
    RETURNS TABLE (kind text, token_id uuid, tenant_id uuid, role text, name text,
                   can_write boolean, plan_unit_id uuid)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    #variable_conflict use_column
    BEGIN
        RETURN QUERY
        SELECT 'operator'::text, o.id, NULL::uuid, NULL::text, o.name, false, NULL::uuid
          FROM operator_tokens o
         WHERE o.token_hash = p_hash AND o.revoked_at IS NULL
        UNION ALL
        SELECT 'tenant'::text, a.id, a.tenant_id, a.role, a.name, a.can_write, a.plan_unit_id
          FROM api_tokens a JOIN tenants t ON t.id = a.tenant_id
         WHERE a.token_hash = p_hash AND a.revoked_at IS NULL AND t.status = 'active'
           AND (a.expires_at IS NULL OR a.expires_at > now());
    END
    $$;

CREATE OR REPLACE FUNCTION akta_authenticate_session(p_hash bytea, p_idle interval)
    RETURNS TABLE (session_id uuid, tenant_id uuid, user_id uuid, username text, role text,
                   csrf_token text, org_unit_id uuid, plan_unit_id uuid)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    #variable_conflict use_column
    BEGIN
        RETURN QUERY
        SELECT s.id, s.tenant_id, u.id, u.username, u.role, s.csrf_token, u.org_unit_id,
               u.plan_unit_id
          FROM sessions s
          JOIN users u ON u.id = s.user_id
          JOIN tenants t ON t.id = s.tenant_id
         WHERE s.token_hash = p_hash
           AND s.revoked_at IS NULL
           AND s.expires_at > now()
           AND s.last_seen_at > now() - p_idle
           AND u.disabled_at IS NULL
           AND t.status = 'active';
    END
    $$;

-- The row-level-security checks, evaluated for every row of Akten (and through them of
-- Vorgänge, Dokumente and versions) a request reads: same logic as before.
CREATE OR REPLACE FUNCTION akta_plan_scope_allows(p_plan_unit uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    DECLARE
        v_scope uuid := NULLIF(current_setting('app.plan_scope', true), '')::uuid;
    BEGIN
        IF v_scope IS NULL THEN
            RETURN true;
        END IF;
        RETURN EXISTS (
            WITH RECURSIVE up (id, parent_id) AS (
                SELECT p.id, p.parent_id FROM plan_units p WHERE p.id = p_plan_unit
                UNION ALL
                SELECT p.id, p.parent_id FROM plan_units p JOIN up ON p.id = up.parent_id
            )
            SELECT 1 FROM up WHERE up.id = v_scope);
    END
    $$;

CREATE OR REPLACE FUNCTION akta_file_visible(p_file uuid, p_plan_unit uuid, p_confidentiality text)
    RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        IF current_setting('app.system', true) = 'on' THEN
            RETURN true;
        END IF;
        IF NOT akta_plan_scope_allows(p_plan_unit) THEN
            RETURN false;
        END IF;
        IF p_confidentiality = 'normal' THEN
            RETURN true;
        END IF;
        RETURN EXISTS (
            SELECT 1 FROM file_access a
             WHERE a.file_id = p_file
               AND (a.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid
                    OR a.org_unit_id = NULLIF(current_setting('app.org_unit_id', true), '')::uuid
                    OR a.token_id = NULLIF(current_setting('app.token_id', true), '')::uuid));
    END
    $$;

-- Every search asks which confidential Akten the caller may see; few Akten are confidential.
CREATE INDEX files_confidential ON files (tenant_id, id) WHERE confidentiality <> 'normal';

-- The start page's "recently changed": this tenant's events of the last days.
CREATE INDEX audit_events_at ON audit_events (tenant_id, at);
