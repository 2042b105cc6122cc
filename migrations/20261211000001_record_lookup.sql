-- Akten and Vorgänge found by Zeichen prefix or Betreff words on a search's first page
-- (issue 14) at district scale (issue 15). Under row-level security PostgreSQL uses no index
-- for LIKE (its operator is not leakproof), so every search scanned every Akte and Vorgang of
-- the tenant and probed each Vorgang's Akte for visibility: about 1 s per search at 100,000
-- documents. This lookup carries the matched text, lowercased, with trigram indexes. It is
-- granted to nobody and its row-level security is not forced, so only its owner reads it:
-- through akta_record_candidates(), for the tenant of the transaction only, and the
-- candidates then pass row-level security on files and cases like every read (the second
-- wall). Triggers keep it in step with files and cases in the same transaction.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE record_lookup (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('file', 'case')),
    reference_lc text NOT NULL,
    subject_lc   text NOT NULL
);
CREATE INDEX record_lookup_reference ON record_lookup USING gin (reference_lc gin_trgm_ops);
CREATE INDEX record_lookup_subject ON record_lookup USING gin (subject_lc gin_trgm_ops);
ALTER TABLE record_lookup ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON record_lookup FROM PUBLIC;

CREATE FUNCTION akta_record_lookup_sync() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM record_lookup WHERE id = OLD.id;
            RETURN OLD;
        END IF;
        INSERT INTO record_lookup (id, tenant_id, kind, reference_lc, subject_lc)
        VALUES (NEW.id, NEW.tenant_id, TG_ARGV[0], lower(NEW.reference), lower(NEW.subject))
        ON CONFLICT (id) DO UPDATE
            SET reference_lc = EXCLUDED.reference_lc, subject_lc = EXCLUDED.subject_lc;
        RETURN NEW;
    END
    $$;
REVOKE ALL ON FUNCTION akta_record_lookup_sync() FROM PUBLIC;

CREATE TRIGGER record_lookup AFTER INSERT OR DELETE OR UPDATE OF reference, subject ON files
    FOR EACH ROW EXECUTE FUNCTION akta_record_lookup_sync('file');
CREATE TRIGGER record_lookup AFTER INSERT OR DELETE OR UPDATE OF reference, subject ON cases
    FOR EACH ROW EXECUTE FUNCTION akta_record_lookup_sync('case');

-- Up to p_limit Akten and Vorgänge of the transaction's tenant whose lowercased Zeichen is
-- LIKE p_prefix, and up to p_limit whose lowercased Betreff is LIKE every one of p_words (the
-- first word, the longest, is the one the index looks up). Candidates only: the caller reads
-- them through row-level security, where visibility decides.
CREATE FUNCTION akta_record_candidates(p_prefix text, p_words text[], p_limit integer)
    RETURNS TABLE(id uuid, kind text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
    DECLARE
        v_tenant uuid := akta_current_tenant();
    BEGIN
        IF v_tenant IS NULL THEN
            RETURN;
        END IF;
        IF p_prefix IS NOT NULL THEN
            RETURN QUERY
                SELECT l.id, l.kind FROM record_lookup l
                 WHERE l.reference_lc LIKE p_prefix AND l.tenant_id = v_tenant
                 LIMIT p_limit;
        END IF;
        IF cardinality(p_words) > 0 THEN
            RETURN QUERY
                SELECT l.id, l.kind FROM record_lookup l
                 WHERE l.subject_lc LIKE p_words[1] AND l.subject_lc LIKE ALL (p_words)
                   AND l.tenant_id = v_tenant
                 LIMIT p_limit;
        END IF;
    END
    $$;
REVOKE ALL ON FUNCTION akta_record_candidates(text, text[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_record_candidates(text, text[], integer) TO akta_app;

-- What exists already; row-level security is lifted for the copy only (the owner runs
-- migrations and sees no tenant).
ALTER TABLE files NO FORCE ROW LEVEL SECURITY;
ALTER TABLE cases NO FORCE ROW LEVEL SECURITY;
INSERT INTO record_lookup (id, tenant_id, kind, reference_lc, subject_lc)
SELECT id, tenant_id, 'file', lower(reference), lower(subject) FROM files;
INSERT INTO record_lookup (id, tenant_id, kind, reference_lc, subject_lc)
SELECT id, tenant_id, 'case', lower(reference), lower(subject) FROM cases;
ALTER TABLE files FORCE ROW LEVEL SECURITY;
ALTER TABLE cases FORCE ROW LEVEL SECURITY;
