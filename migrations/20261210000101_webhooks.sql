-- Webhooks for Fachverfahren (issue 13): a tenant admin registers endpoints with the event
-- types they want; every domain event of a wanted type writes one delivery row per endpoint
-- in the transaction of the change (the webhook outbox); workers deliver them signed per the
-- Standard Webhooks spec, retrying with backoff.
CREATE TABLE webhook_endpoints (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    url                 text NOT NULL CHECK (length(url) <= 2000),
    -- Public event type names (see akta_domain::webhooks); '*' for all.
    events              text[] NOT NULL CHECK (cardinality(events) >= 1),
    description         text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- The signing secret, sealed under the tenant's key (like the OpenID client secret):
    -- the service must sign with it, so it cannot be hashed.
    secret_sealed       bytea NOT NULL,
    secret_len          bigint NOT NULL,
    secret_wrapped_key  bytea NOT NULL,
    secret_key_version  integer NOT NULL,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);
CALL akta_tenant_table('webhook_endpoints');
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO akta_app;

CREATE TABLE webhook_deliveries (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    endpoint_id   uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_type    text NOT NULL,
    -- The JSON body as sent, the same on every attempt.
    payload       text NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    run_after     timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz,
    last_status   integer,
    last_error    text,
    -- One entry per attempt: {"at", "status", "error"}.
    attempt_log   jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(attempt_log) = 'array'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (run_after) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_locked ON webhook_deliveries (locked_until) WHERE state = 'running';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
CALL akta_tenant_table('webhook_deliveries');
CREATE POLICY owner_lookup ON webhook_deliveries FOR SELECT TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO akta_app;
CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION akta_notify_channel('akta_webhooks');

-- Due deliveries of all tenants (pending and due, or running with an expired lease: a
-- crashed worker). Only ids, so the worker opens a transaction for the right tenant to claim.
CREATE FUNCTION akta_due_webhook_deliveries(p_limit integer)
    RETURNS TABLE (id uuid, tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT d.id, d.tenant_id FROM webhook_deliveries d
         WHERE (d.state = 'pending' AND d.run_after <= now())
            OR (d.state = 'running' AND d.locked_until < now())
         ORDER BY d.run_after
         LIMIT p_limit
    $$;
REVOKE ALL ON FUNCTION akta_due_webhook_deliveries(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_due_webhook_deliveries(integer) TO akta_app;

-- Idempotency-Key (issue 13): the first answer to a creating POST, replayed for a repeat of
-- the same request by the same principal for 24 hours. Principal ids (token, user) are unique
-- across tenants, so (principal, key) identifies a key. Answers may hold one-time secrets (a
-- new token), so the body is sealed under the tenant's key like other secrets.
CREATE TABLE idempotency_keys (
    principal         text NOT NULL,
    key               text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    -- SHA-256 of method, path, media type and body; NULL while the first request runs.
    request_hash      bytea,
    status            integer,
    headers           jsonb NOT NULL DEFAULT '{}'::jsonb,
    body_sealed       bytea,
    body_len          bigint,
    body_wrapped_key  bytea,
    body_key_version  integer,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
CALL akta_tenant_table('idempotency_keys');
CREATE POLICY owner_lookup ON idempotency_keys FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_prune ON idempotency_keys FOR DELETE TO CURRENT_USER USING (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO akta_app;

-- Forgets expired keys of every tenant (run by the workers).
CREATE FUNCTION akta_prune_idempotency_keys() RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        WITH gone AS (DELETE FROM idempotency_keys WHERE expires_at < now() RETURNING 1)
        SELECT count(*) FROM gone
    $$;
REVOKE ALL ON FUNCTION akta_prune_idempotency_keys() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION akta_prune_idempotency_keys() TO akta_app;
