-- Extracted text is content: like the blob it comes from, it is stored encrypted. `sealed`
-- holds the full text (attachments appended) encrypted with its own key, `sealed_key` that key
-- wrapped by the version's DEK, so tenant-key rotation (which re-wraps DEKs) covers it and
-- crypto-shredding destroys it. `text`/`parts` stay for content stored without encryption.

ALTER TABLE extracted_texts
    ADD COLUMN sealed bytea,
    ADD COLUMN sealed_len bigint CHECK (sealed_len >= 0),
    ADD COLUMN sealed_key bytea,
    ADD CONSTRAINT extracted_texts_sealed_complete
        CHECK ((sealed IS NULL) = (sealed_key IS NULL) AND (sealed IS NULL) = (sealed_len IS NULL));
