-- The clerk's start page (issue 14): the Akten a person opened lately and their favourites;
-- and Vertretung: a person names a deputy for a period, who then also sees their
-- Posteingang and Wiedervorlagen.
CREATE TABLE file_visits (
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    user_id     uuid NOT NULL REFERENCES users(id),
    file_id     uuid NOT NULL REFERENCES files(id),
    visited_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, file_id)
);
CREATE INDEX file_visits_recent ON file_visits (user_id, visited_at DESC);
CALL akta_tenant_table('file_visits');
CREATE POLICY visibility ON file_visits AS RESTRICTIVE FOR SELECT TO akta_app
    USING (current_setting('app.system', true) = 'on' OR akta_file_id_visible(file_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON file_visits TO akta_app;

CREATE TABLE file_favourites (
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    user_id     uuid NOT NULL REFERENCES users(id),
    file_id     uuid NOT NULL REFERENCES files(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, file_id)
);
CALL akta_tenant_table('file_favourites');
CREATE POLICY visibility ON file_favourites AS RESTRICTIVE FOR SELECT TO akta_app
    USING (current_setting('app.system', true) = 'on' OR akta_file_id_visible(file_id));
GRANT SELECT, INSERT, DELETE ON file_favourites TO akta_app;

CREATE TABLE deputies (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    -- Who is away, and who stands in.
    user_id     uuid NOT NULL REFERENCES users(id),
    deputy_id   uuid NOT NULL REFERENCES users(id),
    from_day    date NOT NULL,
    until_day   date NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    CONSTRAINT deputies_period CHECK (from_day <= until_day),
    CONSTRAINT deputies_not_self CHECK (user_id <> deputy_id)
);
CREATE INDEX deputies_active ON deputies (deputy_id, until_day) WHERE ended_at IS NULL;
CALL akta_tenant_table('deputies');
GRANT SELECT, INSERT, UPDATE ON deputies TO akta_app;
