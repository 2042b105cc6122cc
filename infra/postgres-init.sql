-- The role Akta serves requests as: no owner, no superuser, no BYPASSRLS, so row-level
-- security applies to every query. Migrations (run as the owner) grant it what it needs.
CREATE ROLE akta_app LOGIN PASSWORD 'app-secret-change-me' NOSUPERUSER NOBYPASSRLS;
