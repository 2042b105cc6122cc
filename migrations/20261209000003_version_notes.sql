-- A new version says what changed (issue 14): the Änderungsvermerk a clerk writes with it.
ALTER TABLE document_versions
    ADD COLUMN change_note text CHECK (length(change_note) <= 2000);
