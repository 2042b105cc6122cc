-- Most Akten are ordinary ones, read by someone without a plan-unit scope. The policy now
-- says so inline, and only the others pay for `akta_file_visible`: a security-definer call
-- with its own search_path per row, which was most of the database's share of a search
-- (its hits are re-checked here, and each document's probe reads its Akte through this
-- policy). The fast path grants nothing the function would not: without a scope and for a
-- `normal` Akte it returns true as well.
ALTER POLICY visibility ON files
    USING (current_setting('app.system', true) = 'on'
           OR (confidentiality = 'normal'
               AND coalesce(current_setting('app.plan_scope', true), '') = '')
           OR akta_file_visible(id, plan_unit_id, confidentiality));
