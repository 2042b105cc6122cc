-- Wiedervorlagen per person (issue 14): several on one Akte or Vorgang, each for a person
-- (NULL: for everyone, as a Fachverfahren sets it) with a note; done when someone marks it
-- so, and all of them when their Akte or Vorgang is closed (zdA). Replaces the single date
-- on files and cases, whose values move over.
CREATE TABLE resubmissions (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    file_id     uuid NOT NULL REFERENCES files(id),
    case_id     uuid REFERENCES cases(id),
    due_on      date NOT NULL,
    user_id     uuid REFERENCES users(id),
    note        text CHECK (length(note) <= 2000),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz,
    done_by     text,
    -- 'erledigt' (someone marked it), 'zdA' (its Akte or Vorgang closed), 'ersetzt'.
    done_reason text CHECK (done_reason IN ('erledigt', 'zdA', 'ersetzt')),
    CONSTRAINT resubmissions_done_whole CHECK (
        (done_at IS NULL) = (done_by IS NULL) AND (done_at IS NULL) = (done_reason IS NULL))
);
CREATE INDEX resubmissions_due ON resubmissions (tenant_id, due_on) WHERE done_at IS NULL;
CREATE INDEX resubmissions_file ON resubmissions (file_id) WHERE done_at IS NULL;
CALL akta_tenant_table('resubmissions');
-- Whoever does not see the Akte does not see its Wiedervorlagen.
CREATE POLICY visibility ON resubmissions AS RESTRICTIVE FOR SELECT TO akta_app
    USING (current_setting('app.system', true) = 'on' OR akta_file_id_visible(file_id));
GRANT SELECT, INSERT, UPDATE ON resubmissions TO akta_app;

-- The existing dates move over as they are; row-level security is lifted for the move only
-- (the owner runs migrations and sees no tenant).
ALTER TABLE files NO FORCE ROW LEVEL SECURITY;
ALTER TABLE cases NO FORCE ROW LEVEL SECURITY;
ALTER TABLE resubmissions NO FORCE ROW LEVEL SECURITY;
INSERT INTO resubmissions (id, tenant_id, file_id, case_id, due_on, user_id, created_by)
SELECT gen_random_uuid(), tenant_id, id, NULL, resubmit_on, resubmit_user_id, 'system:migration'
  FROM files WHERE resubmit_on IS NOT NULL AND status = 'offen';
INSERT INTO resubmissions (id, tenant_id, file_id, case_id, due_on, user_id, created_by)
SELECT gen_random_uuid(), tenant_id, file_id, id, resubmit_on, resubmit_user_id, 'system:migration'
  FROM cases WHERE resubmit_on IS NOT NULL AND status = 'offen';
ALTER TABLE files FORCE ROW LEVEL SECURITY;
ALTER TABLE cases FORCE ROW LEVEL SECURITY;
ALTER TABLE resubmissions FORCE ROW LEVEL SECURITY;

ALTER TABLE files DROP COLUMN resubmit_on, DROP COLUMN resubmit_user_id;
ALTER TABLE cases DROP COLUMN resubmit_on, DROP COLUMN resubmit_user_id;
