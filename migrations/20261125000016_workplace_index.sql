-- "Mein Arbeitsplatz" finds a clerk's Akten and Vorgänge from their latest audit events:
-- an index by actor keeps that independent of how many Akten a tenant has.
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor, id);
