-- Users, like API tokens, can be limited to the Akten of one Aktenplan subtree.

ALTER TABLE users ADD COLUMN plan_unit_id uuid REFERENCES plan_units(id);

DROP FUNCTION akta_authenticate_session(bytea, interval);
CREATE FUNCTION akta_authenticate_session(p_hash bytea, p_idle interval)
    RETURNS TABLE (session_id uuid, tenant_id uuid, user_id uuid, username text, role text,
                   csrf_token text, org_unit_id uuid, plan_unit_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
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
           AND t.status = 'active'
    $$;
REVOKE ALL ON FUNCTION akta_authenticate_session(bytea, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_authenticate_session(bytea, interval) TO akta_app;
