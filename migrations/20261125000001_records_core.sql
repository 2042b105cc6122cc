-- Akta records core. Runs as the owning role; the application connects as `akta_app`
-- (or a login role that is a member of it), which owns nothing and cannot bypass RLS.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'akta_app') THEN
        CREATE ROLE akta_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;

-- The tenant of the current transaction; NULL when none is set, which matches no row.
CREATE FUNCTION akta_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

-- Operator-level registry. Holds no tenant content, so no RLS: the operator lists tenants here.
CREATE TABLE tenants (
    id               uuid PRIMARY KEY,
    slug             text NOT NULL UNIQUE,
    display_name     text NOT NULL,
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    reference_format text NOT NULL DEFAULT '{kennzeichen}-{nr:04}/{year}',
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE operator_tokens (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE org_units (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    parent_id   uuid REFERENCES org_units(id),
    code        text NOT NULL,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, code)
);

CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    role        text NOT NULL CHECK (role IN ('admin', 'clerk', 'reader')),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Aktenplan. Retention and disposition are stored only where set on the unit itself;
-- effective values are inherited from the nearest ancestor at read time.
CREATE TABLE plan_units (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    parent_id           uuid REFERENCES plan_units(id),
    code                text NOT NULL,
    title               text NOT NULL,
    retention_set       boolean NOT NULL DEFAULT false,
    retention_years     integer CHECK (retention_years >= 0),
    disposition         text CHECK (disposition IN ('A', 'B', 'V')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, code),
    CHECK (retention_set OR retention_years IS NULL)
);

-- Gap-free running numbers: the row lock of the upsert serialises concurrent creators, and a
-- rolled-back creation rolls its increment back too.
CREATE TABLE reference_counters (
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    scope_id    uuid NOT NULL,
    year        integer NOT NULL,
    last_nr     bigint NOT NULL,
    PRIMARY KEY (scope_id, year)
);

CREATE TABLE files (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    plan_unit_id     uuid NOT NULL REFERENCES plan_units(id),
    reference        text NOT NULL,
    subject          text NOT NULL,
    lead_org_unit_id uuid REFERENCES org_units(id),
    period_from      date NOT NULL DEFAULT current_date,
    period_to        date,
    confidentiality  text NOT NULL DEFAULT 'normal'
                     CHECK (confidentiality IN ('normal', 'vertraulich', 'streng_vertraulich')),
    status           text NOT NULL DEFAULT 'offen' CHECK (status IN ('offen', 'zdA')),
    metadata         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    row_version      integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, reference)
);
CREATE INDEX files_plan_unit ON files (tenant_id, plan_unit_id, id);

CREATE TABLE cases (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    file_id     uuid NOT NULL REFERENCES files(id),
    nr          bigint NOT NULL,
    reference   text NOT NULL,
    subject     text NOT NULL,
    status      text NOT NULL DEFAULT 'offen' CHECK (status IN ('offen', 'zdA')),
    metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_id, nr),
    UNIQUE (tenant_id, reference)
);

CREATE TABLE documents (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    file_id        uuid NOT NULL REFERENCES files(id),
    case_id        uuid REFERENCES cases(id),
    title          text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('Eingang', 'Ausgang', 'Vermerk', 'Bescheid', 'Sonstiges')),
    sender         text,
    recipient      text,
    document_date  date,
    metadata       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_file ON documents (tenant_id, file_id);

-- Versions are immutable: the application role may only INSERT and SELECT them (see grants).
CREATE TABLE document_versions (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    document_id  uuid NOT NULL REFERENCES documents(id),
    nr           integer NOT NULL CHECK (nr >= 1),
    blob_key     text NOT NULL UNIQUE,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    media_type   text NOT NULL,
    file_name    text NOT NULL,
    author       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, nr)
);

-- A blob written before its metadata transaction. The version insert deletes the intent in the
-- same transaction; an intent that outlives the grace period marks an orphan for the sweeper.
CREATE TABLE upload_intents (
    blob_key    text PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text NOT NULL,
    action       text NOT NULL,
    object_type  text NOT NULL,
    object_id    uuid NOT NULL,
    file_id      uuid,
    before       jsonb,
    after        jsonb
);
CREATE INDEX audit_events_file ON audit_events (tenant_id, file_id, id);

-- Row-level security: every tenant-owned table sees only the transaction's tenant.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['org_units', 'api_tokens', 'plan_units', 'reference_counters', 'files',
                             'cases', 'documents', 'document_versions', 'upload_intents', 'audit_events']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = akta_current_tenant())'
                       ' WITH CHECK (tenant_id = akta_current_tenant())', t);
    END LOOP;
END
$$;

-- FORCE applies RLS to the owner too, so the two security-definer lookups below (which run as
-- the owner) get a read-only policy of their own. The application role never gets one.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON api_tokens FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON upload_intents FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Token lookup happens before the tenant is known, so it runs with the owner's rights, returns
-- only the one matching live token, and is the only door the application has to that lookup.
CREATE FUNCTION akta_authenticate(p_hash bytea)
    RETURNS TABLE (kind text, token_id uuid, tenant_id uuid, role text, name text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT 'operator', o.id, NULL::uuid, NULL::text, o.name
          FROM operator_tokens o
         WHERE o.token_hash = p_hash AND o.revoked_at IS NULL
        UNION ALL
        SELECT 'tenant', a.id, a.tenant_id, a.role, a.name
          FROM api_tokens a JOIN tenants t ON t.id = a.tenant_id
         WHERE a.token_hash = p_hash AND a.revoked_at IS NULL AND t.status = 'active'
    $$;
REVOKE ALL ON FUNCTION akta_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_authenticate(bytea) TO akta_app;

-- The sweeper needs expired intents of every tenant, but nothing else across tenants.
CREATE FUNCTION akta_expired_upload_intents(p_older_than timestamptz)
    RETURNS TABLE (blob_key text, tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT u.blob_key, u.tenant_id FROM upload_intents u WHERE u.created_at < p_older_than $$;
REVOKE ALL ON FUNCTION akta_expired_upload_intents(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_expired_upload_intents(timestamptz) TO akta_app;

GRANT SELECT, INSERT, UPDATE ON tenants TO akta_app;
GRANT SELECT, INSERT, UPDATE ON operator_tokens TO akta_app;
GRANT SELECT, INSERT, UPDATE ON org_units, api_tokens, plan_units, files, cases, documents TO akta_app;
GRANT SELECT, INSERT, UPDATE ON reference_counters TO akta_app;
GRANT SELECT, INSERT, DELETE ON upload_intents TO akta_app;
GRANT SELECT, INSERT ON document_versions, audit_events TO akta_app;
GRANT EXECUTE ON FUNCTION akta_current_tenant() TO akta_app;
