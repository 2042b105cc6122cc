-- Crypto-shredding a tenant must also destroy the plaintext copies that search keeps: the
-- extracted texts in PostgreSQL (deleted in the shredding transaction) and every node's
-- local index (a 'purge' entry in the index log tells each node to empty it).

ALTER TABLE index_log ALTER COLUMN document_id DROP NOT NULL;
ALTER TABLE index_log DROP CONSTRAINT index_log_op_check;
ALTER TABLE index_log ADD CONSTRAINT index_log_op_check
    CHECK (op IN ('upsert', 'delete', 'purge') AND (document_id IS NULL) = (op = 'purge'));

GRANT DELETE ON extracted_texts TO akta_app;
