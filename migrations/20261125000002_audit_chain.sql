-- Tamper-evident audit log: every tenant's events form a SHA-256 hash chain. The chain head is
-- kept in audit_heads (row-locked per insert, so a tenant's events get gap-free sequence
-- numbers in commit order), and signed heads are stored in audit_signatures.

CREATE TABLE audit_heads (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants(id),
    seq        bigint NOT NULL,
    hash       bytea NOT NULL
);

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

ALTER TABLE audit_events
    ADD COLUMN seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

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

-- Chain events written before this migration, per tenant in id order.
DO $$
DECLARE
    r record;
    h bytea;
    s bigint;
    t uuid;
BEGIN
    t := NULL;
    FOR r IN SELECT * FROM audit_events ORDER BY tenant_id, id LOOP
        IF t IS DISTINCT FROM r.tenant_id THEN
            t := r.tenant_id;
            s := 0;
            h := '\x0000000000000000000000000000000000000000000000000000000000000000';
        END IF;
        s := s + 1;
        UPDATE audit_events
           SET seq = s, prev_hash = h,
               hash = sha256(h || akta_audit_payload(r.tenant_id, s, r.at, r.actor, r.action,
                   r.object_type, r.object_id, r.file_id, r.before, r.after))
         WHERE id = r.id
        RETURNING hash INTO h;
        INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (t, s, h)
        ON CONFLICT (tenant_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    END LOOP;
END
$$;

ALTER TABLE audit_events
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_events_tenant_seq UNIQUE (tenant_id, seq);

CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION akta_audit_chain();

ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_heads USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
ALTER TABLE audit_signatures ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_signatures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_signatures USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());

GRANT SELECT, INSERT, UPDATE ON audit_heads TO akta_app;
GRANT SELECT, INSERT ON audit_signatures TO akta_app;
GRANT EXECUTE ON FUNCTION akta_audit_payload(uuid, bigint, timestamptz, text, text, text, uuid, uuid, jsonb, jsonb) TO akta_app;
