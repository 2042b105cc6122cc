-- Posteingang (issue 14): documents that arrive without an Akte (scanned mail, Fachverfahren,
-- uploads) wait here, addressed to a person, an org unit or the whole authority, until a
-- clerk files them into an Akte or Vorgang or forwards them. Filing turns the item into a
-- document's first version in one transaction: the blob and its wrapped key move over, the
-- content is never copied.
CREATE TABLE inbox_items (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants(id),
    -- Neither set: the authority's general Posteingang.
    org_unit_id        uuid REFERENCES org_units(id),
    user_id            uuid REFERENCES users(id),
    title              text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    kind               text NOT NULL DEFAULT 'Eingang'
                       CHECK (kind IN ('Eingang', 'Ausgang', 'Vermerk', 'Bescheid', 'Sonstiges')),
    sender             text,
    document_date      date,
    note               text,
    blob_key           text NOT NULL UNIQUE,
    sha256             text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes         bigint NOT NULL CHECK (size_bytes >= 0),
    media_type         text NOT NULL,
    file_name          text NOT NULL,
    wrapped_dek        bytea,
    tenant_key_version integer,
    received_by        text NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    filed_document_id  uuid,
    filed_by           text,
    filed_at           timestamptz,
    row_version        integer NOT NULL DEFAULT 1,
    CONSTRAINT inbox_items_dek_check CHECK ((wrapped_dek IS NULL) = (tenant_key_version IS NULL)),
    CONSTRAINT inbox_items_filed_whole CHECK (
        (filed_document_id IS NULL) = (filed_by IS NULL) AND (filed_by IS NULL) = (filed_at IS NULL))
);
CREATE INDEX inbox_items_waiting ON inbox_items (tenant_id, received_at) WHERE filed_document_id IS NULL;
CALL akta_tenant_table('inbox_items');
GRANT SELECT, INSERT, UPDATE ON inbox_items TO akta_app;
