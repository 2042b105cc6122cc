-- Aufbewahrung (issue 11): an Akte may set its own Aufbewahrungsfrist and Aussonderungsart
-- (otherwise its plan unit's apply) and carry a legal hold (Aussonderungssperre).
ALTER TABLE files
    ADD COLUMN retention_set boolean NOT NULL DEFAULT false,
    ADD COLUMN retention_years integer CHECK (retention_years >= 0),
    ADD COLUMN disposition text CHECK (disposition IN ('A', 'B', 'V')),
    ADD COLUMN hold_reason text,
    ADD COLUMN hold_until date,
    ADD COLUMN hold_by text,
    ADD COLUMN hold_at timestamptz,
    ADD CONSTRAINT files_retention_check CHECK (retention_set OR retention_years IS NULL),
    ADD CONSTRAINT files_hold_whole CHECK (
        (hold_reason IS NULL) = (hold_by IS NULL) AND (hold_reason IS NULL) = (hold_at IS NULL));
