-- The visibility policies of Vorgänge, Dokumente, versions, extracted texts and access lists
-- asked `EXISTS (SELECT 1 FROM files f WHERE f.id = …)`. PostgreSQL may run such a policy as
-- a hashed subplan: it then evaluates the visibility of every Akte of the tenant to answer a
-- lookup of one document. It did so whenever its statistics said the tenant had few Akten,
-- as they do during a bulk import: 7.5 ms per document lookup at 379 Akten, growing with
-- them, so ingestion slowed as the tenant grew. A PL/pgSQL function is never inlined, so each
-- row is checked by one primary-key probe, under the caller's own policies of the parent
-- table (SECURITY INVOKER): the same rule, at a cost that does not grow with the tenant.
CREATE FUNCTION akta_file_id_visible(p_file uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
    BEGIN
        RETURN EXISTS (SELECT 1 FROM public.files f WHERE f.id = p_file);
    END
    $$;

CREATE FUNCTION akta_document_id_visible(p_document uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
    BEGIN
        RETURN EXISTS (SELECT 1 FROM public.documents d WHERE d.id = p_document);
    END
    $$;

CREATE FUNCTION akta_version_id_visible(p_version uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
    BEGIN
        RETURN EXISTS (SELECT 1 FROM public.document_versions v WHERE v.id = p_version);
    END
    $$;

-- The system's own work (extraction, the index applier) sees every Akte of its tenant
-- (`akta_file_visible` says so for `app.system`): it skips the probes altogether.
ALTER POLICY visibility ON files
    USING (current_setting('app.system', true) = 'on'
           OR akta_file_visible(id, plan_unit_id, confidentiality));
ALTER POLICY visibility ON cases
    USING (current_setting('app.system', true) = 'on' OR akta_file_id_visible(file_id));
ALTER POLICY visibility ON documents
    USING (current_setting('app.system', true) = 'on' OR akta_file_id_visible(file_id));
ALTER POLICY visibility ON file_access
    USING (current_setting('app.system', true) = 'on' OR akta_file_id_visible(file_id));
ALTER POLICY visibility ON document_versions
    USING (current_setting('app.system', true) = 'on' OR akta_document_id_visible(document_id));
ALTER POLICY visibility ON extracted_texts
    USING (current_setting('app.system', true) = 'on' OR akta_version_id_visible(version_id));
