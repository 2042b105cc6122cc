-- Akta's schema. Runs as the owning role (akta_owner); the application connects as
-- `akta_app` (or a login role that is a member of it), which owns nothing and cannot bypass
-- row-level security. All grants to akta_app are at the end of this file.
--
-- Sections:
--   1. Application role and the row-level-security helper
--   2. Tenants, operator tokens and tenant keys
--   3. Organisation and Aktenplan
--   4. Users, sessions, API tokens, OpenID Connect
--   5. Records: Akten, Vorgänge, Dokumente, versions, upload intents, access lists
--   6. Audit chain
--   7. Quotas and support access
--   8. Text extraction
--   9. Index log
--  10. Web UI
--  11. Visibility within a tenant (plan-unit scopes, confidential Akten)
--  12. Grants


-- ===========================================================================================
-- 1. Application role and the row-level-security helper
-- ===========================================================================================

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

-- Makes `tbl` tenant content: it sees and accepts only rows of the transaction's tenant.
-- FORCE applies the wall to the owner too, so a security-definer function (which runs as the
-- owner) reads across tenants only where an explicit `owner_lookup` policy lets it.
-- Every table with a tenant_id calls this right after its CREATE TABLE.
CREATE PROCEDURE akta_tenant_table(tbl regclass)
    LANGUAGE plpgsql
    AS $$
    BEGIN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
        EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = akta_current_tenant())'
                       ' WITH CHECK (tenant_id = akta_current_tenant())', tbl);
    END
    $$;
-- Schema changes are the owner's business only.
REVOKE ALL ON PROCEDURE akta_tenant_table(regclass) FROM PUBLIC;


-- ===========================================================================================
-- 2. Tenants, operator tokens and tenant keys
-- ===========================================================================================

-- Operator-level registry. Holds no tenant content, so no RLS: the operator lists tenants here.
-- 'deleted' = crypto-shredded: the tenant's keys are gone, its blobs can no longer be read.
CREATE TABLE tenants (
    id               uuid PRIMARY KEY,
    slug             text NOT NULL UNIQUE,
    display_name     text NOT NULL,
    status           text NOT NULL DEFAULT 'active'
                     CONSTRAINT tenants_status_check CHECK (status IN ('active', 'suspended', 'deleted')),
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

-- Envelope encryption at rest: every blob version has its own data key (DEK), stored wrapped
-- by the tenant's key (see document_versions); tenant keys are stored wrapped by the master
-- key, which never enters the database. Rows with NULL key columns are stored unencrypted.
--
-- Versions of a tenant's key. The highest live version wraps new DEKs; older versions stay
-- until no DEK refers to them, then their key material is erased (retired_at set). Deleting a
-- tenant deletes its rows altogether.
CREATE TABLE tenant_keys (
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    version        integer NOT NULL CHECK (version >= 1),
    -- AES-256-GCM wrap by the master key, bound to the context 'tenant:<tenant id>:v<version>'.
    wrapped_key    bytea,
    -- Fingerprint of the master key that wrapped it (first 8 bytes of its SHA-256, hex), so a
    -- wrong or missing master key is named instead of failing as "authentication failed".
    master_key_id  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    retired_at     timestamptz,
    PRIMARY KEY (tenant_id, version),
    CHECK ((retired_at IS NULL) = (wrapped_key IS NOT NULL))
);
CALL akta_tenant_table('tenant_keys');
CREATE POLICY owner_lookup ON tenant_keys FOR SELECT TO CURRENT_USER USING (true);

-- Which master keys wrap live tenant keys, across tenants: lets `akta serve` refuse to start
-- with a master key that cannot open them. Returns fingerprints and counts, no key material.
CREATE FUNCTION akta_master_key_ids()
    RETURNS TABLE (master_key_id text, tenant_keys bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT k.master_key_id, count(*) FROM tenant_keys k
         WHERE k.retired_at IS NULL GROUP BY k.master_key_id ORDER BY 1
    $$;


-- ===========================================================================================
-- 3. Organisation and Aktenplan
-- ===========================================================================================

CREATE TABLE org_units (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    parent_id   uuid REFERENCES org_units(id),
    code        text NOT NULL,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, code)
);
CALL akta_tenant_table('org_units');

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
CALL akta_tenant_table('plan_units');

-- Gap-free running numbers: the row lock of the upsert serialises concurrent creators, and a
-- rolled-back creation rolls its increment back too.
CREATE TABLE reference_counters (
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    scope_id    uuid NOT NULL,
    year        integer NOT NULL,
    last_nr     bigint NOT NULL,
    PRIMARY KEY (scope_id, year)
);
CALL akta_tenant_table('reference_counters');


-- ===========================================================================================
-- 4. Users, sessions, API tokens, OpenID Connect
-- ===========================================================================================

-- People of a tenant (clerks, admins, archivists). Like API tokens, a user can be limited to
-- the Akten of one Aktenplan subtree (plan_unit_id).
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
    plan_unit_id   uuid REFERENCES plan_units(id),
    -- The UI language is a setting of the user, not only of one browser: applied at every login.
    language       text CHECK (language IN ('de', 'en')),
    UNIQUE (tenant_id, username),
    UNIQUE (tenant_id, oidc_subject)
);
CALL akta_tenant_table('users');
CREATE POLICY owner_lookup ON users FOR SELECT TO CURRENT_USER USING (true);

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
CALL akta_tenant_table('sessions');
CREATE POLICY owner_lookup ON sessions FOR SELECT TO CURRENT_USER USING (true);

-- API tokens of a tenant. Scopes: read-only (can_write false), one plan-unit subtree, expiry.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    name          text NOT NULL,
    role          text NOT NULL
                  CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'clerk', 'reader', 'archivist')),
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    can_write     boolean NOT NULL DEFAULT true,
    plan_unit_id  uuid REFERENCES plan_units(id),
    expires_at    timestamptz
);
CALL akta_tenant_table('api_tokens');
CREATE POLICY owner_lookup ON api_tokens FOR SELECT TO CURRENT_USER USING (true);

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
CALL akta_tenant_table('oidc_configs');
CALL akta_tenant_table('oidc_logins');

-- Token lookup happens before the tenant is known, so it runs with the owner's rights, returns
-- only the one matching live token, and is the only door the application has to that lookup.
-- PL/pgSQL rather than SQL: a SQL function with a SET clause is planned on every call,
-- PL/pgSQL keeps its plans per connection, and every request makes this lookup.
CREATE FUNCTION akta_authenticate(p_hash bytea)
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

-- A session cookie arrives before the tenant is known: like akta_authenticate for tokens,
-- this is the one door from a cookie to its live session, user and tenant. Also reports the
-- user's org unit (which may open confidential Akten) and plan-unit scope.
CREATE FUNCTION akta_authenticate_session(p_hash bytea, p_idle interval)
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


-- ===========================================================================================
-- 5. Records: Akten, Vorgänge, Dokumente, versions, upload intents, access lists
-- ===========================================================================================

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
    -- Wiedervorlage (see section 10).
    resubmit_on      date,
    resubmit_user_id uuid REFERENCES users(id),
    UNIQUE (tenant_id, reference)
);
CREATE INDEX files_plan_unit ON files (tenant_id, plan_unit_id, id);
-- Every search asks which confidential Akten the caller may see; few Akten are confidential.
CREATE INDEX files_confidential ON files (tenant_id, id) WHERE confidentiality <> 'normal';
CALL akta_tenant_table('files');

CREATE TABLE cases (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    file_id          uuid NOT NULL REFERENCES files(id),
    nr               bigint NOT NULL,
    reference        text NOT NULL,
    subject          text NOT NULL,
    status           text NOT NULL DEFAULT 'offen' CHECK (status IN ('offen', 'zdA')),
    metadata         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Wiedervorlage (see section 10).
    resubmit_on      date,
    resubmit_user_id uuid REFERENCES users(id),
    UNIQUE (file_id, nr),
    UNIQUE (tenant_id, reference)
);
CALL akta_tenant_table('cases');

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
CALL akta_tenant_table('documents');

-- Versions are immutable: the application role may only INSERT and SELECT them, and UPDATE
-- the two key columns (key rotation re-wraps DEKs; see grants).
CREATE TABLE document_versions (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    document_id         uuid NOT NULL REFERENCES documents(id),
    nr                  integer NOT NULL CHECK (nr >= 1),
    blob_key            text NOT NULL UNIQUE,
    sha256              text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes          bigint NOT NULL CHECK (size_bytes >= 0),
    media_type          text NOT NULL,
    file_name           text NOT NULL,
    author              text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- The version's DEK, wrapped by tenant key version `tenant_key_version` and bound to the
    -- context 'blob:<blob_key>'. Both NULL: content stored without encryption.
    wrapped_dek         bytea,
    tenant_key_version  integer,
    UNIQUE (document_id, nr),
    CONSTRAINT document_versions_dek_check CHECK ((wrapped_dek IS NULL) = (tenant_key_version IS NULL))
);
-- Key rotation looks for DEKs still wrapped by older tenant key versions.
CREATE INDEX document_versions_key_version ON document_versions (tenant_id, tenant_key_version)
    WHERE tenant_key_version IS NOT NULL;
CALL akta_tenant_table('document_versions');

-- A blob written before its metadata transaction. The version insert deletes the intent in the
-- same transaction; an intent that outlives the grace period marks an orphan for the sweeper.
CREATE TABLE upload_intents (
    blob_key    text PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CALL akta_tenant_table('upload_intents');
CREATE POLICY owner_lookup ON upload_intents FOR SELECT TO CURRENT_USER USING (true);

-- The sweeper needs expired intents of every tenant, but nothing else across tenants.
CREATE FUNCTION akta_expired_upload_intents(p_older_than timestamptz)
    RETURNS TABLE (blob_key text, tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT u.blob_key, u.tenant_id FROM upload_intents u WHERE u.created_at < p_older_than $$;

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
CALL akta_tenant_table('file_access');
-- For akta_file_visible (section 11), which runs as the owner.
CREATE POLICY owner_lookup ON file_access FOR SELECT TO CURRENT_USER USING (true);


-- ===========================================================================================
-- 6. Audit chain
-- ===========================================================================================

-- Tamper-evident audit log: every tenant's events form a SHA-256 hash chain. The chain head is
-- kept in audit_heads (row-locked per insert, so a tenant's events get gap-free sequence
-- numbers in commit order), and signed heads are stored in audit_signatures. The application
-- may only INSERT and SELECT events; seq, prev_hash and hash are set by the trigger below.
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
    after        jsonb,
    seq          bigint NOT NULL,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL,
    CONSTRAINT audit_events_tenant_seq UNIQUE (tenant_id, seq)
);
CREATE INDEX audit_events_file ON audit_events (tenant_id, file_id, id);
-- "Mein Arbeitsplatz" finds a clerk's Akten and Vorgänge from their latest audit events:
-- an index by actor keeps that independent of how many Akten a tenant has.
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor, id);
-- The start page's "recently changed": this tenant's events of the last days.
CREATE INDEX audit_events_at ON audit_events (tenant_id, at);
CALL akta_tenant_table('audit_events');

CREATE TABLE audit_heads (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants(id),
    seq        bigint NOT NULL,
    hash       bytea NOT NULL
);
CALL akta_tenant_table('audit_heads');

CREATE TABLE audit_signatures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    seq        bigint NOT NULL,
    hash       bytea NOT NULL,
    signed_at  timestamptz NOT NULL,
    key_id     text NOT NULL,
    signature  bytea NOT NULL
);
CREATE INDEX audit_signatures_tenant ON audit_signatures (tenant_id, seq);
CALL akta_tenant_table('audit_signatures');

-- The exact bytes that are hashed. `akta audit verify` rebuilds them in Rust from the column
-- values (db::audit_chain::payload) and must agree byte for byte: each field is written as
-- <octet length>:<text>; so no choice of contents can make two entries collide.
CREATE FUNCTION akta_audit_payload(
    p_tenant uuid, p_seq bigint, p_at timestamptz, p_actor text, p_action text,
    p_object_type text, p_object_id uuid, p_file_id uuid, p_before jsonb, p_after jsonb
) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT convert_to(string_agg(octet_length(f) || ':' || f || ';', '' ORDER BY n), 'UTF8')
      FROM unnest(ARRAY[
               p_tenant::text,
               p_seq::text,
               (extract(epoch FROM p_at) * 1000000)::bigint::text,
               p_actor, p_action, p_object_type, p_object_id::text,
               COALESCE(p_file_id::text, ''),
               COALESCE(p_before::text, 'null'),
               COALESCE(p_after::text, 'null')
           ]) WITH ORDINALITY AS t(f, n)
$$;

CREATE FUNCTION akta_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
BEGIN
    INSERT INTO audit_heads (tenant_id, seq, hash)
         VALUES (NEW.tenant_id, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
    ON CONFLICT (tenant_id) DO NOTHING;
    SELECT * INTO head FROM audit_heads WHERE tenant_id = NEW.tenant_id FOR UPDATE;
    -- Microsecond precision: the payload uses microseconds since the epoch.
    NEW.at := date_trunc('microseconds', NEW.at);
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := sha256(NEW.prev_hash || akta_audit_payload(
        NEW.tenant_id, NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.object_type,
        NEW.object_id, NEW.file_id, NEW.before, NEW.after));
    UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE tenant_id = NEW.tenant_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION akta_audit_chain();


-- ===========================================================================================
-- 7. Quotas and support access
-- ===========================================================================================

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

-- Quotas and usage are operator data about a tenant, not tenant content: the operator reads
-- them for all tenants (akta_tenant_overview); tenant transactions see their own (RLS).
CALL akta_tenant_table('tenant_quotas');
CALL akta_tenant_table('tenant_usage');
CREATE POLICY owner_lookup ON tenant_quotas FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_lookup ON tenant_usage FOR SELECT TO CURRENT_USER USING (true);

-- The operator's overview: counts only, never content.
CREATE FUNCTION akta_tenant_overview()
    RETURNS TABLE (tenant_id uuid, storage_bytes bigint, documents bigint,
                   max_storage_bytes bigint, max_documents bigint, requests_per_minute integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT t.id, COALESCE(u.storage_bytes, 0), COALESCE(u.documents, 0),
               q.max_storage_bytes, q.max_documents, q.requests_per_minute
          FROM tenants t
          LEFT JOIN tenant_usage u ON u.tenant_id = t.id
          LEFT JOIN tenant_quotas q ON q.tenant_id = t.id
    $$;

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
CALL akta_tenant_table('support_grants');
CREATE POLICY owner_lookup ON support_grants FOR SELECT TO CURRENT_USER USING (true);

-- The operator asks before any tenant is in scope: is there a live grant for this tenant?
CREATE FUNCTION akta_support_grant(p_slug text)
    RETURNS TABLE (tenant_id uuid, grant_id uuid, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT g.tenant_id, g.id, g.expires_at
          FROM support_grants g JOIN tenants t ON t.id = g.tenant_id
         WHERE t.slug = p_slug AND t.status = 'active'
           AND g.revoked_at IS NULL AND g.expires_at > now()
         ORDER BY g.expires_at DESC
         LIMIT 1
    $$;


-- ===========================================================================================
-- 8. Text extraction
-- ===========================================================================================

-- An outbox of jobs written in the same transaction as each document version, and the
-- extracted text, kept so indexes can be rebuilt without extracting again.
CREATE TABLE extraction_jobs (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    version_id    uuid NOT NULL UNIQUE REFERENCES document_versions(id),
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_after     timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- The worker's work list: pending jobs by due time, running ones by lock expiry.
CREATE INDEX extraction_jobs_due ON extraction_jobs (run_after) WHERE state = 'pending';
CREATE INDEX extraction_jobs_locked ON extraction_jobs (locked_until) WHERE state = 'running';
CALL akta_tenant_table('extraction_jobs');
-- For the security-definer work list below, which runs as the owner.
CREATE POLICY owner_lookup ON extraction_jobs FOR SELECT TO CURRENT_USER USING (true);

-- Extracted text is content: like the blob it comes from, it is stored encrypted. `sealed`
-- holds the full text (attachments appended) encrypted with its own key, `sealed_key` that key
-- wrapped by the version's DEK, so tenant-key rotation (which re-wraps DEKs) covers it and
-- crypto-shredding destroys it. `text`/`parts` hold content stored without encryption.
-- Crypto-shredding a tenant also deletes its rows here (the plaintext copies search keeps).
CREATE TABLE extracted_texts (
    version_id    uuid PRIMARY KEY REFERENCES document_versions(id),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    method        text NOT NULL,
    text          text NOT NULL,
    parts         jsonb NOT NULL DEFAULT '[]',
    notes         jsonb NOT NULL DEFAULT '[]',
    extracted_at  timestamptz NOT NULL DEFAULT now(),
    sealed        bytea,
    sealed_len    bigint CHECK (sealed_len >= 0),
    sealed_key    bytea,
    CONSTRAINT extracted_texts_sealed_complete
        CHECK ((sealed IS NULL) = (sealed_key IS NULL) AND (sealed IS NULL) = (sealed_len IS NULL))
);
CALL akta_tenant_table('extracted_texts');

-- Due jobs of all tenants (pending and due, or running with an expired lock: a crashed
-- worker). Only ids, so the worker can open a transaction for the right tenant and claim there.
CREATE FUNCTION akta_due_extraction_jobs(p_limit integer)
    RETURNS TABLE (id uuid, tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT j.id, j.tenant_id FROM extraction_jobs j
         WHERE (j.state = 'pending' AND j.run_after <= now())
            OR (j.state = 'running' AND j.locked_until < now())
         ORDER BY j.run_after
         LIMIT p_limit
    $$;


-- ===========================================================================================
-- 9. Index log
-- ===========================================================================================

-- Every change that a search index must apply, in commit order per row (`seq`). Written in
-- the same transaction as the change; tailed by every node that serves search (see
-- shared/api/src/indexer.rs). The index is a cache of PostgreSQL. A 'purge' entry (no
-- document) tells each node to empty a tenant's local index: crypto-shredding.
CREATE TABLE index_log (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    document_id  uuid,
    op           text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT index_log_op_check
        CHECK (op IN ('upsert', 'delete', 'purge') AND (document_id IS NULL) = (op = 'purge'))
);
-- For pruning by age.
CREATE INDEX index_log_created ON index_log (created_at);
-- Per-tenant lag: entries of one tenant after a position.
CREATE INDEX index_log_tenant_seq ON index_log (tenant_id, seq);
CALL akta_tenant_table('index_log');
-- For the security-definer reader and pruner below, which run as the owner.
CREATE POLICY owner_lookup ON index_log FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_prune ON index_log FOR DELETE TO CURRENT_USER USING (true);

-- Pruning: every node keeps its own position in the log; entries older than a retention
-- period are deleted, and the highest deleted sequence number is kept here as the horizon.
-- A node whose position is below the horizon may have missed entries and rebuilds its indexes
-- from PostgreSQL instead. Exactly one row, which the functions below expect to exist.
CREATE TABLE index_log_horizon (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_upto  bigint NOT NULL DEFAULT 0
);
INSERT INTO index_log_horizon DEFAULT VALUES;

-- Entries of all tenants after `p_seq`, oldest first: the applier's work list.
-- Sequence numbers are taken at insert but become visible at commit, possibly out of order.
-- Writers hold the shared advisory lock 'akta:index_log' until they commit (see
-- `log_index_change`); taking it exclusively here first waits for every writer that already
-- has a number, so no smaller number can become visible after a larger one was read.
CREATE FUNCTION akta_index_log_after(p_seq bigint, p_limit integer)
    RETURNS TABLE (seq bigint, tenant_id uuid, document_id uuid, op text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('akta:index_log'));
        -- A new statement: a snapshot taken after the lock (READ COMMITTED).
        RETURN QUERY
            SELECT l.seq, l.tenant_id, l.document_id, l.op FROM index_log l
             WHERE l.seq > p_seq
             ORDER BY l.seq
             LIMIT p_limit;
    END
    $$;

-- Newest sequence number, for the lag the search API reports.
CREATE FUNCTION akta_index_log_head()
    RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT coalesce(max(seq), 0) FROM index_log $$;

-- Deletes entries older than `p_keep` and returns how many. Takes the log's lock
-- exclusively first, like the reader: no writer with a smaller number is still in flight.
CREATE FUNCTION akta_index_log_prune(p_keep interval)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    DECLARE
        v_max bigint;
        v_count bigint;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('akta:index_log'));
        WITH gone AS (
            DELETE FROM index_log WHERE created_at < now() - p_keep RETURNING seq
        )
        SELECT max(seq), count(*) INTO v_max, v_count FROM gone;
        IF v_max IS NOT NULL THEN
            UPDATE index_log_horizon SET pruned_upto = greatest(pruned_upto, v_max);
        END IF;
        RETURN v_count;
    END
    $$;

-- The highest pruned sequence number (0 when nothing was pruned).
CREATE FUNCTION akta_index_log_horizon()
    RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT pruned_upto FROM index_log_horizon $$;

-- The newest sequence number once every writer that already holds a number has finished:
-- a rebuild that starts here and then reads PostgreSQL misses nothing at or below it.
CREATE FUNCTION akta_index_log_settled_head()
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('akta:index_log'));
        RETURN greatest((SELECT coalesce(max(seq), 0) FROM index_log),
                        (SELECT pruned_upto FROM index_log_horizon));
    END
    $$;


-- ===========================================================================================
-- 10. Web UI
-- ===========================================================================================

-- A Wiedervorlage returns an Akte or Vorgang to a clerk's start page on a date. It is kept
-- on the object (one per object, columns resubmit_on/resubmit_user_id of files and cases):
-- the clerk who set it, or everyone when set by a token.
CREATE INDEX files_resubmit ON files (tenant_id, resubmit_on) WHERE resubmit_on IS NOT NULL;
CREATE INDEX cases_resubmit ON cases (tenant_id, resubmit_on) WHERE resubmit_on IS NOT NULL;

-- What the web UI's header shows for a tenant. The logo is small and served by Akta itself
-- (no third-party hosts under the Content-Security-Policy), so it lives in the row.
CREATE TABLE tenant_branding (
    tenant_id        uuid PRIMARY KEY REFERENCES tenants(id),
    header_name      text CHECK (char_length(header_name) BETWEEN 1 AND 120),
    accent_color     text CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    logo             bytea CHECK (octet_length(logo) <= 262144),
    logo_media_type  text CHECK (logo_media_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((logo IS NULL) = (logo_media_type IS NULL))
);
CALL akta_tenant_table('tenant_branding');


-- ===========================================================================================
-- 11. Visibility within a tenant (plan-unit scopes, confidential Akten)
-- ===========================================================================================

-- API tokens and users may be limited to one Aktenplan subtree, and confidential Akten are
-- visible only to named users, org units or tokens. Both are enforced by row-level security
-- for the application role, on top of the tenant wall. The request sets the transaction
-- settings app.plan_scope, app.user_id, app.org_unit_id, app.token_id (and app.system for
-- the system's own housekeeping).

-- A transaction setting as uuid; NULL when unset.
CREATE FUNCTION akta_setting_uuid(p_name text) RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting(p_name, true), '')::uuid $$;

-- Whether a plan unit lies in the transaction's plan-unit scope; no scope allows everything.
-- The two checks below run for every row of Akten (and through them of Vorgänge, Dokumente
-- and versions) a request reads, hence PL/pgSQL (plans kept per connection).
CREATE FUNCTION akta_plan_scope_allows(p_plan_unit uuid) RETURNS boolean
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

-- Whether the transaction's subject may see an Akte. Runs as the owner (not subject to the
-- akta_app-only policies below, so no recursion), still inside the tenant wall.
CREATE FUNCTION akta_file_visible(p_file uuid, p_plan_unit uuid, p_confidentiality text)
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

-- Reading: an Akte only if visible; its Vorgänge, Dokumente, versions and their extracted
-- text only through it. Creating: an Akte only inside the plan-unit scope.
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
CREATE POLICY visibility ON extracted_texts AS RESTRICTIVE FOR SELECT TO akta_app
    USING (EXISTS (SELECT 1 FROM document_versions v WHERE v.id = extracted_texts.version_id));


-- ===========================================================================================
-- 12. Grants
-- ===========================================================================================

-- Operator registry.
GRANT SELECT, INSERT, UPDATE ON tenants, operator_tokens TO akta_app;

-- Tenant keys: rotation re-wraps key material in place, nothing else of a key may change;
-- DELETE is crypto-shredding.
GRANT SELECT, INSERT, DELETE ON tenant_keys TO akta_app;
GRANT UPDATE (wrapped_key, master_key_id, retired_at) ON tenant_keys TO akta_app;

GRANT SELECT, INSERT, UPDATE ON org_units, plan_units, reference_counters TO akta_app;
GRANT SELECT, INSERT, UPDATE ON users, sessions, api_tokens, oidc_configs TO akta_app;
GRANT SELECT, INSERT, DELETE ON oidc_logins TO akta_app;

GRANT SELECT, INSERT, UPDATE ON files, cases, documents TO akta_app;
-- Versions are immutable but for the re-wrap of their DEK by key rotation.
GRANT SELECT, INSERT ON document_versions TO akta_app;
GRANT UPDATE (wrapped_dek, tenant_key_version) ON document_versions TO akta_app;
GRANT SELECT, INSERT, DELETE ON upload_intents, file_access TO akta_app;

-- The audit log is append-only for the application.
GRANT SELECT, INSERT ON audit_events, audit_signatures TO akta_app;
GRANT SELECT, INSERT, UPDATE ON audit_heads TO akta_app;

GRANT SELECT, INSERT, UPDATE ON tenant_quotas, tenant_usage, support_grants TO akta_app;

GRANT SELECT, INSERT, UPDATE ON extraction_jobs TO akta_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON extracted_texts TO akta_app;

-- index_log_horizon only through the functions of section 9.
GRANT SELECT, INSERT ON index_log TO akta_app;

GRANT SELECT, INSERT, UPDATE ON tenant_branding TO akta_app;

-- Plain functions (PUBLIC keeps EXECUTE too).
GRANT EXECUTE ON FUNCTION akta_current_tenant() TO akta_app;
GRANT EXECUTE ON FUNCTION akta_setting_uuid(text) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_audit_payload(uuid, bigint, timestamptz, text, text, text, uuid, uuid, jsonb, jsonb) TO akta_app;

-- Security-definer functions: the application's only doors past the tenant wall (and the
-- visibility checks), so nobody else may call them.
REVOKE ALL ON FUNCTION akta_master_key_ids() FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_authenticate(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_authenticate_session(bytea, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_expired_upload_intents(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_tenant_overview() FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_support_grant(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_due_extraction_jobs(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_index_log_after(bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_index_log_head() FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_index_log_prune(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_index_log_horizon() FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_index_log_settled_head() FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_plan_scope_allows(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION akta_file_visible(uuid, uuid, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION akta_master_key_ids() TO akta_app;
GRANT EXECUTE ON FUNCTION akta_authenticate(bytea) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_authenticate_session(bytea, interval) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_expired_upload_intents(timestamptz) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_tenant_overview() TO akta_app;
GRANT EXECUTE ON FUNCTION akta_support_grant(text) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_due_extraction_jobs(integer) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_index_log_after(bigint, integer) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_index_log_head() TO akta_app;
GRANT EXECUTE ON FUNCTION akta_index_log_prune(interval) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_index_log_horizon() TO akta_app;
GRANT EXECUTE ON FUNCTION akta_index_log_settled_head() TO akta_app;
GRANT EXECUTE ON FUNCTION akta_plan_scope_allows(uuid) TO akta_app;
GRANT EXECUTE ON FUNCTION akta_file_visible(uuid, uuid, text) TO akta_app;

-- No temporary tables for the application at all: a temporary table could shadow a table
-- that a security-definer function reads (they also put pg_temp last in their search_path).
-- The migration role may lack the right to change this on a managed database; then this is
-- a warning, not an error.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM akta_app', current_database());
END
$$;
