-- Aussonderung (and later Abgabe), issue 11: a transfer offers Akten to an archive; its items
-- follow each Akte and Vorgang through the process; the messages exchanged are logged. The
-- transfer's id is the xdomea ProzessID of all its messages.
CREATE TABLE transfers (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    kind          text NOT NULL CHECK (kind IN ('aussonderung', 'abgabe')),
    state         text NOT NULL DEFAULT 'angeboten'
                  CHECK (state IN ('angeboten', 'bewertet', 'übergeben', 'abgeschlossen')),
    -- Abgabe inside Akta: the receiving tenant; and whether the sender keeps a closed copy.
    to_tenant_id  uuid REFERENCES tenants(id),
    keep_copy     boolean NOT NULL DEFAULT false,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CALL akta_tenant_table('transfers');

CREATE TABLE transfer_items (
    transfer_id   uuid NOT NULL REFERENCES transfers(id),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    object_id     uuid NOT NULL,
    object_type   text NOT NULL CHECK (object_type IN ('file', 'case')),
    -- No reference: the transfer keeps its history when the Akte is destroyed.
    file_id       uuid NOT NULL,
    state         text NOT NULL DEFAULT 'angeboten'
                  CHECK (state IN ('angeboten', 'bewertet', 'übergeben', 'archiviert', 'vernichtet',
                                   'abgegeben')),
    rating        text CHECK (rating IN ('A', 'V')),
    PRIMARY KEY (transfer_id, object_id)
);
CALL akta_tenant_table('transfer_items');
-- An Akte or Vorgang is in at most one unfinished transfer.
CREATE UNIQUE INDEX transfer_items_one_open ON transfer_items (object_id)
    WHERE state IN ('angeboten', 'bewertet', 'übergeben');
CREATE INDEX transfer_items_file ON transfer_items (file_id);

CREATE TABLE transfer_messages (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    transfer_id   uuid NOT NULL REFERENCES transfers(id),
    code          text NOT NULL CHECK (code ~ '^0[3-5][0-9]{2}$'),
    direction     text NOT NULL CHECK (direction IN ('in', 'out')),
    size_bytes    bigint NOT NULL,
    sha256        bytea NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CALL akta_tenant_table('transfer_messages');
CREATE INDEX transfer_messages_transfer ON transfer_messages (transfer_id, created_at);

GRANT SELECT, INSERT, UPDATE ON transfers, transfer_items TO akta_app;
GRANT SELECT, INSERT ON transfer_messages TO akta_app;

-- The Löschprotokoll: one entry per destroyed Akte, kept after its rows are gone.
CREATE TABLE disposal_protocol (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants(id),
    file_id            uuid NOT NULL,
    reference          text NOT NULL,
    subject            text NOT NULL,
    period_from        date,
    closed_on          date,
    -- The archive's rating (an Abgabe has none).
    rating             text CHECK (rating IN ('A', 'V')),
    outcome            text NOT NULL CHECK (outcome IN ('archiviert', 'vernichtet', 'abgegeben')),
    archive_reference  text,
    transfer_id        uuid NOT NULL REFERENCES transfers(id),
    messages           text[] NOT NULL,
    cases              integer NOT NULL,
    documents          integer NOT NULL,
    versions           integer NOT NULL,
    bytes              bigint NOT NULL,
    disposed_by        text NOT NULL,
    disposed_at        timestamptz NOT NULL DEFAULT now()
);
CALL akta_tenant_table('disposal_protocol');
GRANT SELECT, INSERT ON disposal_protocol TO akta_app;

-- Destroying records after an Aussonderung is the only way rows of Akten leave; the core
-- decides when. A legal hold in force is refused here too, whatever the application does.
GRANT DELETE ON files, cases, documents, document_versions, extraction_jobs TO akta_app;
CREATE FUNCTION akta_refuse_held_deletion() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        IF OLD.hold_reason IS NOT NULL AND (OLD.hold_until IS NULL OR OLD.hold_until >= current_date) THEN
            RAISE EXCEPTION 'the file % is under a legal hold', OLD.reference
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END
    $$;
CREATE TRIGGER files_hold_blocks_deletion BEFORE DELETE ON files
    FOR EACH ROW EXECUTE FUNCTION akta_refuse_held_deletion();

-- An Abgabe offered to this tenant by another tenant of the same Akta, until it is accepted.
CREATE TABLE incoming_transfers (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    source_tenant_id  uuid NOT NULL REFERENCES tenants(id),
    source_name       text NOT NULL,
    -- What is offered: [{"reference", "subject"}].
    files             jsonb NOT NULL CHECK (jsonb_typeof(files) = 'array'),
    state             text NOT NULL DEFAULT 'offen' CHECK (state IN ('offen', 'angenommen')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    accepted_at       timestamptz,
    accepted_by       text,
    -- What came in: [{"id", "reference", "previous_reference"}].
    accepted_files    jsonb
);
CALL akta_tenant_table('incoming_transfers');
GRANT SELECT, INSERT, UPDATE ON incoming_transfers TO akta_app;
