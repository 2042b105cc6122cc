-- OpenID Connect login per tenant: each tenant may name its own identity provider.

-- One provider per tenant. The client secret is write-only through the API (never returned).
CREATE TABLE oidc_configs (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants(id),
    issuer             text NOT NULL,
    client_id          text NOT NULL,
    client_secret      text NOT NULL,
    token_auth_method  text NOT NULL DEFAULT 'client_secret_basic'
                       CHECK (token_auth_method IN ('client_secret_basic', 'client_secret_post')),
    scopes             text NOT NULL DEFAULT 'openid profile email',
    -- Name (or dotted path, e.g. realm_access.roles) of the claim that carries the role;
    -- NULL: every login gets default_role.
    role_claim         text,
    -- Claim value → Akta role, e.g. {"Sachbearbeitung": "clerk"}.
    role_mapping       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(role_mapping) = 'object'),
    -- Role for a login whose claim maps to nothing; NULL refuses such logins.
    default_role       text CHECK (default_role IN ('admin', 'clerk', 'reader', 'archivist')),
    enabled            boolean NOT NULL DEFAULT true,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- A login started at Akta and not yet come back from the provider. The browser holds the
-- state (in the URL and a cookie); only its hash is stored. Consumed exactly once.
CREATE TABLE oidc_logins (
    state_hash     bytea PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    nonce          text NOT NULL,
    pkce_verifier  text NOT NULL,
    redirect_uri   text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX oidc_logins_expiry ON oidc_logins (tenant_id, expires_at);

-- The callback path names the tenant, so both tables are read in a tenant-scoped transaction:
-- no security-definer lookup is needed, and another tenant's state is simply not there.
ALTER TABLE oidc_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE oidc_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oidc_configs USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
ALTER TABLE oidc_logins ENABLE ROW LEVEL SECURITY;
ALTER TABLE oidc_logins FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oidc_logins USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());

GRANT SELECT, INSERT, UPDATE ON oidc_configs TO akta_app;
GRANT SELECT, INSERT, DELETE ON oidc_logins TO akta_app;
