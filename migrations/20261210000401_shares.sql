-- Amtshilfe (issue 13): a tenant shares one Akte, or one Vorgang of it, read-only with another
-- tenant until a date and for a reason. The receiving tenant sees the share row (to know what
-- was shared with it), never the owner's records: those are read in a transaction of the
-- owner tenant that the share wall below narrows to the shared Akte.
CREATE TABLE file_shares (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants(id),
    file_id            uuid NOT NULL REFERENCES files(id),
    case_id            uuid REFERENCES cases(id),
    grantee_tenant_id  uuid NOT NULL REFERENCES tenants(id),
    until_day          date NOT NULL,
    reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    -- What the receiving side's list shows, as the owner shared it (the list reads nothing
    -- of the owner's records).
    file_reference     text NOT NULL,
    label              text NOT NULL,
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    revoked_at         timestamptz,
    revoked_by         text,
    CONSTRAINT file_shares_not_self CHECK (tenant_id <> grantee_tenant_id)
);
CREATE INDEX file_shares_of_file ON file_shares (tenant_id, file_id);
CREATE INDEX file_shares_to_grantee ON file_shares (grantee_tenant_id, until_day)
    WHERE revoked_at IS NULL;
CALL akta_tenant_table('file_shares');
-- The receiving side reads the rows addressed to it (and only those: permissive policies are
-- ORed, so this adds exactly the grantee's rows to the owner's).
CREATE POLICY grantee_reads ON file_shares FOR SELECT TO akta_app
    USING (grantee_tenant_id = akta_current_tenant());
GRANT SELECT, INSERT, UPDATE ON file_shares TO akta_app;

-- The share wall: in a transaction that reads for a share (`app.share_file`, and
-- `app.share_case` for a Vorgang's share), the owner's records narrow to the shared Akte and
-- nothing of them can be written. Outside such a transaction the settings are empty and the
-- policies admit everything the other policies admit.
CREATE FUNCTION akta_share_file() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.share_file', true), '')::uuid $$;
CREATE FUNCTION akta_share_case() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.share_case', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION akta_share_file() TO akta_app;
GRANT EXECUTE ON FUNCTION akta_share_case() TO akta_app;

CREATE POLICY share_wall ON files AS RESTRICTIVE FOR SELECT TO akta_app
    USING (akta_share_file() IS NULL OR id = akta_share_file());
CREATE POLICY share_wall ON cases AS RESTRICTIVE FOR SELECT TO akta_app
    USING (akta_share_file() IS NULL
           OR (file_id = akta_share_file() AND (akta_share_case() IS NULL OR id = akta_share_case())));
CREATE POLICY share_wall ON documents AS RESTRICTIVE FOR SELECT TO akta_app
    USING (akta_share_file() IS NULL
           OR (file_id = akta_share_file()
               AND (akta_share_case() IS NULL OR case_id = akta_share_case())));
-- Versions and texts follow their document (whose own wall applies inside the probe).
CREATE POLICY share_wall ON document_versions AS RESTRICTIVE FOR SELECT TO akta_app
    USING (akta_share_file() IS NULL OR akta_document_id_visible(document_id));
CREATE POLICY share_wall ON extracted_texts AS RESTRICTIVE FOR SELECT TO akta_app
    USING (akta_share_file() IS NULL OR akta_version_id_visible(version_id));

-- Nothing of the owner is written in a share's transaction but its audit entries.
DO $$
DECLARE tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['files', 'cases', 'documents', 'document_versions',
                               'extracted_texts', 'file_shares']
    LOOP
        EXECUTE format('CREATE POLICY share_no_insert ON %I AS RESTRICTIVE FOR INSERT TO akta_app'
                       ' WITH CHECK (akta_share_file() IS NULL)', tbl);
        EXECUTE format('CREATE POLICY share_no_update ON %I AS RESTRICTIVE FOR UPDATE TO akta_app'
                       ' USING (akta_share_file() IS NULL)', tbl);
        EXECUTE format('CREATE POLICY share_no_delete ON %I AS RESTRICTIVE FOR DELETE TO akta_app'
                       ' USING (akta_share_file() IS NULL)', tbl);
    END LOOP;
END
$$;
-- And nothing of the owner's other records is visible in it at all.
DO $$
DECLARE tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['inbox_items', 'imports', 'incoming_transfers', 'transfers',
                               'transfer_items', 'transfer_messages', 'resubmissions',
                               'routings', 'routing_signers', 'file_access', 'file_visits',
                               'file_favourites', 'deputies', 'upload_intents',
                               'disposal_protocol', 'support_grants', 'api_tokens',
                               'sessions', 'oidc_configs', 'oidc_logins']
    LOOP
        EXECUTE format('CREATE POLICY share_wall ON %I AS RESTRICTIVE TO akta_app'
                       ' USING (akta_share_file() IS NULL)'
                       ' WITH CHECK (akta_share_file() IS NULL)', tbl);
    END LOOP;
END
$$;
