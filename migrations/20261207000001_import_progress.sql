-- Imports (issue 12): progress while they run, what they read, and CLI runs kept beside
-- REST ones; the xdomea ids an import finds earlier work by are indexed, so resuming a large
-- import does not scan every Akte, Vorgang and Dokument of the tenant.
ALTER TABLE imports
    ADD COLUMN source   text NOT NULL DEFAULT '',
    ADD COLUMN progress jsonb;
CREATE INDEX files_xdomea_id ON files ((metadata->>'xdomea_id'))
    WHERE metadata ? 'xdomea_id';
CREATE INDEX cases_xdomea_id ON cases (file_id, (metadata->>'xdomea_id'))
    WHERE metadata ? 'xdomea_id';
CREATE INDEX documents_xdomea_id ON documents (file_id, (metadata->>'xdomea_id'))
    WHERE metadata ? 'xdomea_id';
