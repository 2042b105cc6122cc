-- Text extraction: an outbox of jobs written in the same transaction as each document version,
-- and the extracted text, kept so indexes can be rebuilt without extracting again.

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

CREATE TABLE extracted_texts (
    version_id    uuid PRIMARY KEY REFERENCES document_versions(id),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    method        text NOT NULL,
    text          text NOT NULL,
    parts         jsonb NOT NULL DEFAULT '[]',
    notes         jsonb NOT NULL DEFAULT '[]',
    extracted_at  timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['extraction_jobs', 'extracted_texts']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = akta_current_tenant())'
                       ' WITH CHECK (tenant_id = akta_current_tenant())', t);
    END LOOP;
    -- For the security-definer work list below, which runs as the owner (FORCE applies to it).
    EXECUTE format('CREATE POLICY owner_lookup ON extraction_jobs FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Text of a confidential Akte is as confidential as its content: visible only with its version.
CREATE POLICY visibility ON extracted_texts AS RESTRICTIVE FOR SELECT TO akta_app
    USING (EXISTS (SELECT 1 FROM document_versions v WHERE v.id = extracted_texts.version_id));

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
REVOKE ALL ON FUNCTION akta_due_extraction_jobs(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_due_extraction_jobs(integer) TO akta_app;

GRANT SELECT, INSERT, UPDATE ON extraction_jobs TO akta_app;
GRANT SELECT, INSERT, UPDATE ON extracted_texts TO akta_app;
