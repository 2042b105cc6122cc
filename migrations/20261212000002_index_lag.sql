-- How far a node's index trails the tenant's index log, read at the start of every search
-- (issue 15). As part of the search's first statement, `seq > $1` made PostgreSQL plan that
-- statement anew on every search: for the generic plan it must assume a third of the log is
-- unapplied, which looks dear, so it kept choosing a custom plan, and planning was about a
-- quarter of PostgreSQL's time under the search benchmark. Here the log is walked in `seq`
-- order from the node's position, which costs what is actually unapplied under any plan, and
-- the plan is kept. The count stops at 100,000 entries (a node that far behind rebuilds).
CREATE FUNCTION akta_index_lag(p_applied bigint)
    RETURNS TABLE(entries bigint, seconds double precision)
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO force_generic_plan
    AS $$
    BEGIN
        RETURN QUERY
        SELECT (SELECT count(*) FROM (SELECT 1 FROM public.index_log l WHERE l.seq > p_applied
                                      ORDER BY l.seq LIMIT 100000) pending),
               coalesce((SELECT extract(epoch FROM now() - l.created_at)::float8
                           FROM public.index_log l WHERE l.seq > p_applied
                          ORDER BY l.seq LIMIT 1), 0);
    END
    $$;
GRANT EXECUTE ON FUNCTION akta_index_lag(bigint) TO akta_app;
