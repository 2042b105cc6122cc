-- The operator console and onboarding a town (issue 13).

-- Operators: the hosting city's IT staff who log into the console. They belong to no tenant,
-- so these tables have no row-level security, like `tenants` and `operator_tokens`.
CREATE TABLE operators (
    id             uuid PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    -- Argon2id in PHC string form, as tenant users' passwords.
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);

-- Console sessions, apart from tenant sessions: another table, another cookie.
CREATE TABLE operator_sessions (
    id            uuid PRIMARY KEY,
    operator_id   uuid NOT NULL REFERENCES operators(id),
    token_hash    bytea NOT NULL UNIQUE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
GRANT SELECT, INSERT, UPDATE ON operators, operator_sessions TO akta_app;

-- Aktenpläne the operator publishes for every tenant to import (as CSV, see
-- shared/core/src/plan_templates.rs). The built-in template is compiled in, not stored.
CREATE TABLE plan_templates (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    title         text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    csv           text NOT NULL,
    published_by  text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON plan_templates TO akta_app;

-- The town's own host name (e.g. akta.herdecke.de), set at onboarding.
ALTER TABLE tenants ADD COLUMN host_name text UNIQUE
    CHECK (host_name ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$');

-- The first admin's invitation: a one-time link (random token, stored hashed), valid 7 days.
CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('admin', 'clerk', 'reader', 'archivist')),
    token_hash  bytea NOT NULL UNIQUE,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    user_id     uuid REFERENCES users(id)
);
CALL akta_tenant_table('invitations');
CREATE POLICY owner_lookup ON invitations FOR SELECT TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE ON invitations TO akta_app;

-- The invitation page knows only the token: which tenant's invitation is it?
CREATE FUNCTION akta_invitation_tenant(p_hash bytea)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT i.tenant_id FROM invitations i JOIN tenants t ON t.id = i.tenant_id
         WHERE i.token_hash = p_hash AND t.status = 'active'
    $$;
REVOKE ALL ON FUNCTION akta_invitation_tenant(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_invitation_tenant(bytea) TO akta_app;

-- A coat of arms may be SVG: served only as an image, with `Content-Security-Policy: sandbox`
-- and never inline in a page (shared/web/src/pages/admin.rs).
ALTER TABLE tenant_branding DROP CONSTRAINT tenant_branding_logo_media_type_check;
ALTER TABLE tenant_branding ADD CONSTRAINT tenant_branding_logo_media_type_check
    CHECK (logo_media_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'));
