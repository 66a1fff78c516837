-- omnisync ledger, migration 0018: the catalog's bulk references are
-- checked once a statement, not once a row (catalog import speed;
-- docs/import.md "Reference checks").  Owned by services/ledger/catalog.c.
-- Never edit an applied migration; add a new file instead.
--
-- A foreign key checks each row it writes with its own index probe (and a
-- KEY SHARE lock on the parent row): a 10,000-variant import writes about
-- 60,000 of them, the larger part of its time.  These five references are
-- written in bulk, by the catalog import and PUT /v1/catalog, and only by
-- catalog.c; each becomes a pair of statement-level triggers instead:
--
--   child side   AFTER INSERT / AFTER UPDATE of the child, FOR EACH
--                STATEMENT with its transition table: one anti-join finds
--                any written row whose parent is missing, and the
--                statement fails with SQLSTATE 23503 (foreign_key_violation)
--                and the same DETAIL a foreign key gives;
--   parent side  AFTER DELETE of the parent (statement, transition table):
--                a child still pointing at a deleted row fails the same way
--                (variant_option's rows go with their variant, as ON DELETE
--                CASCADE did); the key columns cannot be updated at all.
--
-- The trade-off: a foreign key also locks the parent row against a
-- concurrent delete.  No omnisync code deletes a product, variant, option
-- value or price list (they are archived), so only a hand-written DELETE
-- racing an import could leave an orphan; docs/import.md says so.
--
--   child            columns                           parent
--   variant          product_id                        product (id)
--   variant_option   variant_id                        variant (id)
--   variant_option   option_value_id, option_name_id   option_value (id, option_name_id)
--   price            variant_id                        variant (id)
--   price            price_list_id                     price_list (id)

-- TG_ARGV: child columns, parent table, parent columns (comma-separated).
-- Rows with a NULL in the child columns are not checked (MATCH SIMPLE).
CREATE FUNCTION omnisync_refs_child_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ccols text[] := string_to_array(TG_ARGV[0], ',');
    pcols text[] := string_to_array(TG_ARGV[2], ',');
    cond text := '';
    nn text := '';
    bad text;
BEGIN
    FOR i IN 1 .. array_length(ccols, 1) LOOP
        cond := cond || CASE WHEN i > 1 THEN ' AND ' ELSE '' END ||
                format('p.%I = n.%I', pcols[i], ccols[i]);
        nn := nn || format(' AND n.%I IS NOT NULL', ccols[i]);
    END LOOP;
    EXECUTE format('SELECT concat_ws('', '', %s) FROM refs_new n WHERE true%s AND '
                   'NOT EXISTS (SELECT 1 FROM %I p WHERE %s) LIMIT 1',
                   (SELECT string_agg(format('n.%I', c), ', ')
                      FROM unnest(ccols) c),
                   nn, TG_ARGV[1], cond)
        INTO bad;
    IF bad IS NOT NULL THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert or update on table "%s" violates its '
                             'reference to "%s"', TG_TABLE_NAME, TG_ARGV[1]),
            DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                            array_to_string(ccols, ', '), bad, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

-- TG_ARGV: parent columns, child table, child columns, 'cascade' or
-- 'restrict'.
CREATE FUNCTION omnisync_refs_parent_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pcols text[] := string_to_array(TG_ARGV[0], ',');
    ccols text[] := string_to_array(TG_ARGV[2], ',');
    cond text := '';
    bad text;
BEGIN
    FOR i IN 1 .. array_length(pcols, 1) LOOP
        cond := cond || CASE WHEN i > 1 THEN ' AND ' ELSE '' END ||
                format('c.%I = o.%I', ccols[i], pcols[i]);
    END LOOP;
    IF TG_ARGV[3] = 'cascade' THEN
        EXECUTE format('DELETE FROM %I c USING refs_old o WHERE %s',
                       TG_ARGV[1], cond);
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT concat_ws('', '', %s) FROM refs_old o WHERE EXISTS '
                   '(SELECT 1 FROM %I c WHERE %s) LIMIT 1',
                   (SELECT string_agg(format('o.%I', c), ', ')
                      FROM unnest(pcols) c),
                   TG_ARGV[1], cond)
        INTO bad;
    IF bad IS NOT NULL THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('update or delete on table "%s" violates the '
                             'reference from "%s"', TG_TABLE_NAME, TG_ARGV[1]),
            DETAIL = format('Key (%s)=(%s) is still referenced from table '
                            '"%s".', array_to_string(pcols, ', '), bad,
                            TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

-- A referenced key never changes (every row keeps its id).
CREATE FUNCTION omnisync_refs_key_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING
        MESSAGE = format('the key of table "%s" cannot be updated (it is '
                         'referenced)', TG_TABLE_NAME);
END $$;

-- Each reference: its child-side triggers (insert, update) and its
-- parent-side trigger (delete).  A trigger with a transition table takes
-- one event, hence two on the child.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES
        ('variant_product', 'variant', 'product_id', 'product', 'id',
         'restrict'),
        ('variant_option_variant', 'variant_option', 'variant_id', 'variant',
         'id', 'cascade'),
        ('variant_option_value', 'variant_option',
         'option_value_id,option_name_id', 'option_value', 'id,option_name_id',
         'restrict'),
        ('price_variant', 'price', 'variant_id', 'variant', 'id', 'restrict'),
        ('price_price_list', 'price', 'price_list_id', 'price_list', 'id',
         'restrict'))
        AS t (name, child, ccols, parent, pcols, on_delete)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING '
                       'NEW TABLE AS refs_new FOR EACH STATEMENT EXECUTE '
                       'FUNCTION omnisync_refs_child_check(%L, %L, %L)',
                       r.name || '_ins', r.child, r.ccols, r.parent, r.pcols);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING '
                       'NEW TABLE AS refs_new FOR EACH STATEMENT EXECUTE '
                       'FUNCTION omnisync_refs_child_check(%L, %L, %L)',
                       r.name || '_upd', r.child, r.ccols, r.parent, r.pcols);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING '
                       'OLD TABLE AS refs_old FOR EACH STATEMENT EXECUTE '
                       'FUNCTION omnisync_refs_parent_check(%L, %L, %L, %L)',
                       r.name || '_del', r.parent, r.pcols, r.child, r.ccols,
                       r.on_delete);
    END LOOP;
END $$;

CREATE TRIGGER product_key_fixed BEFORE UPDATE OF id ON product
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION omnisync_refs_key_fixed();
CREATE TRIGGER variant_key_fixed BEFORE UPDATE OF id ON variant
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION omnisync_refs_key_fixed();
CREATE TRIGGER option_value_key_fixed BEFORE UPDATE OF id, option_name_id
    ON option_value FOR EACH ROW
    WHEN ((OLD.id, OLD.option_name_id) IS DISTINCT FROM
          (NEW.id, NEW.option_name_id))
    EXECUTE FUNCTION omnisync_refs_key_fixed();
CREATE TRIGGER price_list_key_fixed BEFORE UPDATE OF id ON price_list
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION omnisync_refs_key_fixed();

ALTER TABLE variant DROP CONSTRAINT variant_product_id_fkey;
ALTER TABLE variant_option
    DROP CONSTRAINT variant_option_variant_id_fkey,
    DROP CONSTRAINT variant_option_value_fkey;
ALTER TABLE price
    DROP CONSTRAINT price_variant_id_fkey,
    DROP CONSTRAINT price_price_list_id_fkey;
