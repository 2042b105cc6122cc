-- Imports started over REST (issue 12): each runs as a background job of the node that took
-- it; its state and final report are kept here to be read and downloaded.
CREATE TABLE imports (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    state        text NOT NULL DEFAULT 'laufend'
                 CHECK (state IN ('laufend', 'fertig', 'fehlgeschlagen')),
    dry_run      boolean NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    report       jsonb,
    error        text
);
CALL akta_tenant_table('imports');
GRANT SELECT, INSERT, UPDATE ON imports TO akta_app;
