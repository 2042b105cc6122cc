-- Geschäftsgang, lightweight (issue 14): a Mitzeichnung or a Verfügung routes a document
-- (often a Vermerk) to colleagues, one after another or all at once; each signs it
-- ("zeichnet") or returns it with a comment. A Verfügung's numbered steps ("1. Schreiben ab",
-- "2. WV 14 Tage", "3. z.d.A.") are carried out by Akta when the last one signs.
CREATE TABLE routings (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    file_id      uuid NOT NULL REFERENCES files(id),
    case_id      uuid REFERENCES cases(id),
    document_id  uuid NOT NULL REFERENCES documents(id),
    kind         text NOT NULL CHECK (kind IN ('mitzeichnung', 'verfuegung')),
    mode         text NOT NULL CHECK (mode IN ('nacheinander', 'gleichzeitig')),
    state        text NOT NULL DEFAULT 'laufend'
                 CHECK (state IN ('laufend', 'abgeschlossen', 'zurueckgegeben')),
    -- A Verfügung's steps: [{"nr": 1, "text": "...", "action": "note" | "wv" | "zda", "days": 14}]
    steps        jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(steps) = 'array'),
    note         text CHECK (length(note) <= 2000),
    created_by   text NOT NULL,
    created_user uuid REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX routings_document ON routings (document_id);
CALL akta_tenant_table('routings');
CREATE POLICY visibility ON routings AS RESTRICTIVE FOR SELECT TO akta_app
    USING (current_setting('app.system', true) = 'on' OR akta_file_id_visible(file_id));
GRANT SELECT, INSERT, UPDATE ON routings TO akta_app;

CREATE TABLE routing_signers (
    routing_id  uuid NOT NULL REFERENCES routings(id),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    position    integer NOT NULL CHECK (position >= 1),
    user_id     uuid NOT NULL REFERENCES users(id),
    state       text NOT NULL DEFAULT 'offen'
                CHECK (state IN ('offen', 'gezeichnet', 'zurueckgegeben')),
    comment     text CHECK (length(comment) <= 2000),
    decided_by  text,
    decided_at  timestamptz,
    PRIMARY KEY (routing_id, position)
);
CREATE INDEX routing_signers_open ON routing_signers (user_id) WHERE state = 'offen';
CALL akta_tenant_table('routing_signers');
GRANT SELECT, INSERT, UPDATE ON routing_signers TO akta_app;
