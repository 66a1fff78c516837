-- omnisync ledger, migration 0019: the statement-level reference checks
-- of 0018 plan for the whole statement (catalog import speed;
-- docs/import.md "Reference checks").  Owned by services/ledger/catalog.c.
-- Never edit an applied migration; add a new file instead.
--
-- 0018's checks ended in LIMIT 1, so the planner chose, for a
-- 25,000-row import statement, a nested-loop anti-join: one index probe
-- (and a heap fetch) for each written row, 25-30 ms a check.  Without the
-- LIMIT it plans for every row and hashes the parent instead (a few ms);
-- a single-row write still probes the index.  PL/pgSQL's EXECUTE ... INTO
-- keeps only the first row, so a statement with many orphans still
-- reports one.  The condition-building loop the two checks repeated is
-- one function now.
--
-- Two more per-row foreign keys the import writes in bulk become such
-- checks (2,500 and 1,000 index probes a 10,000-variant import), by the
-- same function 0018's loop ran inline:
--
--   child            columns       parent
--   product          group_id      product_group (id)
--   product_photo    product_id    product (id)

-- The join condition "L.lcols[1] = R.rcols[1] AND ..." of two
-- comma-separated column lists (same length), quoted as identifiers.
CREATE FUNCTION omnisync_refs_cond(l text, lcols text, r text, rcols text)
RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT string_agg(format('%I.%I = %I.%I', l, a.c, r, b.c), ' AND '
                      ORDER BY a.i)
      FROM unnest(string_to_array(lcols, ',')) WITH ORDINALITY AS a (c, i)
      JOIN unnest(string_to_array(rcols, ',')) WITH ORDINALITY AS b (c, i)
        USING (i)
$$;

-- Each column of a comma-separated list formatted with FMT (given the
-- quoted alias and column), joined by SEP: ('n', 'a,b', '%I.%I', ', ')
-- gives "n.a, n.b".
CREATE FUNCTION omnisync_refs_list(alias text, cols text, fmt text, sep text)
RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT string_agg(format(fmt, alias, c), sep ORDER BY i)
      FROM unnest(string_to_array(cols, ',')) WITH ORDINALITY AS t (c, i)
$$;

-- TG_ARGV: child columns, parent table, parent columns (comma-separated).
-- Rows with a NULL in the child columns are not checked (MATCH SIMPLE).
CREATE OR REPLACE FUNCTION omnisync_refs_child_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    EXECUTE format('SELECT concat_ws('', '', %s) FROM refs_new n WHERE %s '
                   'AND NOT EXISTS (SELECT 1 FROM %I p WHERE %s)',
                   omnisync_refs_list('n', TG_ARGV[0], '%I.%I', ', '),
                   omnisync_refs_list('n', TG_ARGV[0], '%I.%I IS NOT NULL',
                                      ' AND '),
                   TG_ARGV[1],
                   omnisync_refs_cond('p', TG_ARGV[2], 'n', TG_ARGV[0]))
        INTO bad;
    IF bad IS NOT NULL THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert or update on table "%s" violates its '
                             'reference to "%s"', TG_TABLE_NAME, TG_ARGV[1]),
            DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                            replace(TG_ARGV[0], ',', ', '), bad, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

-- TG_ARGV: parent columns, child table, child columns, 'cascade' or
-- 'restrict'.
CREATE OR REPLACE FUNCTION omnisync_refs_parent_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cond text := omnisync_refs_cond('c', TG_ARGV[2], 'o', TG_ARGV[0]);
    bad text;
BEGIN
    IF TG_ARGV[3] = 'cascade' THEN
        EXECUTE format('DELETE FROM %I c USING refs_old o WHERE %s',
                       TG_ARGV[1], cond);
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT concat_ws('', '', %s) FROM refs_old o WHERE EXISTS '
                   '(SELECT 1 FROM %I c WHERE %s)',
                   omnisync_refs_list('o', TG_ARGV[0], '%I.%I', ', '), TG_ARGV[1], cond)
        INTO bad;
    IF bad IS NOT NULL THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('update or delete on table "%s" violates the '
                             'reference from "%s"', TG_TABLE_NAME, TG_ARGV[1]),
            DETAIL = format('Key (%s)=(%s) is still referenced from table '
                            '"%s".', replace(TG_ARGV[0], ',', ', '), bad,
                            TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

-- The triggers of one reference NAME: CHILD (CCOLS) -> PARENT (PCOLS),
-- ON_DELETE 'cascade' or 'restrict' (0018's table of five, made once).
CREATE FUNCTION omnisync_refs_create(name text, child text, ccols text,
                                     parent text, pcols text,
                                     on_delete text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING '
                   'NEW TABLE AS refs_new FOR EACH STATEMENT EXECUTE '
                   'FUNCTION omnisync_refs_child_check(%L, %L, %L)',
                   name || '_ins', child, ccols, parent, pcols);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING '
                   'NEW TABLE AS refs_new FOR EACH STATEMENT EXECUTE '
                   'FUNCTION omnisync_refs_child_check(%L, %L, %L)',
                   name || '_upd', child, ccols, parent, pcols);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING '
                   'OLD TABLE AS refs_old FOR EACH STATEMENT EXECUTE '
                   'FUNCTION omnisync_refs_parent_check(%L, %L, %L, %L)',
                   name || '_del', parent, pcols, child, ccols, on_delete);
END $$;

SELECT omnisync_refs_create('product_group_ref', 'product', 'group_id',
                            'product_group', 'id', 'restrict');
SELECT omnisync_refs_create('product_photo_product', 'product_photo',
                            'product_id', 'product', 'id', 'restrict');
CREATE TRIGGER product_group_key_fixed BEFORE UPDATE OF id ON product_group
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION omnisync_refs_key_fixed();
ALTER TABLE product DROP CONSTRAINT product_group_id_fkey;
ALTER TABLE product_photo DROP CONSTRAINT product_photo_product_id_fkey;
