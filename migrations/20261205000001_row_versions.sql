-- Vorgänge and Dokumente get a row version like Akten: PATCH over REST and the web forms send
-- it back (If-Match / hidden field), so no one overwrites a change they have not seen.
ALTER TABLE cases ADD COLUMN row_version integer NOT NULL DEFAULT 1;
ALTER TABLE documents ADD COLUMN row_version integer NOT NULL DEFAULT 1;
