-- Security-definer functions resolve names in pg_catalog and public only, with pg_temp last:
-- a temporary table of the caller must never shadow a table such a function reads.

ALTER FUNCTION akta_authenticate(bytea) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION akta_expired_upload_intents(timestamptz) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION akta_authenticate_session(bytea, interval) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION akta_master_key_ids() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION akta_plan_scope_allows(uuid) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION akta_file_visible(uuid, uuid, text) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION akta_tenant_overview() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION akta_support_grant(text) SET search_path = pg_catalog, public, pg_temp;

-- And no temporary tables for the application at all (the migration role may lack the right
-- to change this on a managed database; then this is a warning, not an error).
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM akta_app', current_database());
END
$$;
