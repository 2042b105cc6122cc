-- People of a tenant (clerks, admins, archivists) and their login sessions.

ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('admin', 'clerk', 'reader', 'archivist'));

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    username       text NOT NULL,
    display_name   text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'clerk', 'reader', 'archivist')),
    -- Argon2id in PHC string form; NULL for users who only log in through OpenID Connect.
    password_hash  text,
    oidc_subject   text,
    org_unit_id    uuid REFERENCES org_units(id),
    failed_logins  integer NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, username),
    UNIQUE (tenant_id, oidc_subject)
);

-- Server-side sessions; the cookie holds a random token, the table only its hash.
CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    user_id       uuid NOT NULL REFERENCES users(id),
    token_hash    bytea NOT NULL UNIQUE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON sessions FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON users FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- A session cookie arrives before the tenant is known: like akta_authenticate for tokens,
-- this is the one door from a cookie to its live session, user and tenant.
CREATE FUNCTION akta_authenticate_session(p_hash bytea, p_idle interval)
    RETURNS TABLE (session_id uuid, tenant_id uuid, user_id uuid, username text, role text,
                   csrf_token text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT s.id, s.tenant_id, u.id, u.username, u.role, s.csrf_token
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

GRANT SELECT, INSERT, UPDATE ON users, sessions TO akta_app;
