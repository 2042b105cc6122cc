-- Envelope encryption at rest. Every blob version has its own data key (DEK), stored wrapped by
-- the tenant's key; tenant keys are stored wrapped by the master key, which never enters the
-- database. Rows written before this migration keep NULL key columns: stored unencrypted.

-- 'deleted' = crypto-shredded: the tenant's keys are gone, its blobs can no longer be read.
-- akta_authenticate and akta_authenticate_session already admit only 'active' tenants.
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check
    CHECK (status IN ('active', 'suspended', 'deleted'));

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

ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_keys USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
-- For the security-definer function below, which runs as the owner (FORCE applies to it too).
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON tenant_keys FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- The DEK of each version, wrapped by tenant key version `tenant_key_version` and bound to the
-- context 'blob:<blob_key>'. Both NULL: content stored before encryption existed.
ALTER TABLE document_versions
    ADD COLUMN wrapped_dek bytea,
    ADD COLUMN tenant_key_version integer,
    ADD CONSTRAINT document_versions_dek_check
        CHECK ((wrapped_dek IS NULL) = (tenant_key_version IS NULL));
-- Key rotation looks for DEKs still wrapped by older tenant key versions.
CREATE INDEX document_versions_key_version ON document_versions (tenant_id, tenant_key_version)
    WHERE tenant_key_version IS NOT NULL;

-- Which master keys wrap live tenant keys, across tenants: lets `akta serve` refuse to start
-- with a master key that cannot open them. Returns fingerprints and counts, no key material.
CREATE FUNCTION akta_master_key_ids()
    RETURNS TABLE (master_key_id text, tenant_keys bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT k.master_key_id, count(*) FROM tenant_keys k
         WHERE k.retired_at IS NULL GROUP BY k.master_key_id ORDER BY 1
    $$;
REVOKE ALL ON FUNCTION akta_master_key_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_master_key_ids() TO akta_app;

-- Rotation re-wraps key material in place; nothing else of a tenant key or a document version
-- may change. DELETE on tenant_keys is crypto-shredding.
GRANT SELECT, INSERT, DELETE ON tenant_keys TO akta_app;
GRANT UPDATE (wrapped_key, master_key_id, retired_at) ON tenant_keys TO akta_app;
GRANT UPDATE (wrapped_dek, tenant_key_version) ON document_versions TO akta_app;
