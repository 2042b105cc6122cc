-- For the clerk web UI: Wiedervorlage dates on Akten and Vorgänge, and tenant branding.

-- A Wiedervorlage returns an Akte or Vorgang to a clerk's start page on a date. It is kept
-- on the object (one per object): the clerk who set it, or everyone when set by a token.
ALTER TABLE files ADD COLUMN resubmit_on date, ADD COLUMN resubmit_user_id uuid REFERENCES users(id);
ALTER TABLE cases ADD COLUMN resubmit_on date, ADD COLUMN resubmit_user_id uuid REFERENCES users(id);
CREATE INDEX files_resubmit ON files (tenant_id, resubmit_on) WHERE resubmit_on IS NOT NULL;
CREATE INDEX cases_resubmit ON cases (tenant_id, resubmit_on) WHERE resubmit_on IS NOT NULL;

-- What the web UI's header shows for a tenant. The logo is small and served by Akta itself
-- (no third-party hosts under the Content-Security-Policy), so it lives in the row.
CREATE TABLE tenant_branding (
    tenant_id        uuid PRIMARY KEY REFERENCES tenants(id),
    header_name      text CHECK (char_length(header_name) BETWEEN 1 AND 120),
    accent_color     text CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    logo             bytea CHECK (octet_length(logo) <= 262144),
    logo_media_type  text CHECK (logo_media_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((logo IS NULL) = (logo_media_type IS NULL))
);
ALTER TABLE tenant_branding ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_branding FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_branding USING (tenant_id = akta_current_tenant())
    WITH CHECK (tenant_id = akta_current_tenant());
GRANT SELECT, INSERT, UPDATE ON tenant_branding TO akta_app;
