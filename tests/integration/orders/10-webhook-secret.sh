#!/usr/bin/env bash
# harness: fresh-kafka
# The webhook secret is sealed at rest (migration 0011): the store row
# holds no plain secret, only the sealed one and its SHA-256; a webhook
# with the right secret is accepted, one with a wrong secret refused
# (404); a plain-text row left by an older ledger is sealed by
# `omnisync db migrate` (which needs OMNISYNC_SECRET_KEY for it) and keeps
# the same secret, so the store's registered address still works; the
# secret is in no log line and no `store show` output by default.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

run() { RC=0; OUT=$("$@" 2>"$T_TMP/run.err") || RC=$?; ERR=$(cat "$T_TMP/run.err"); }

ord_setup 10 0 0
t_like "the secret opens to 32 hex chars" "$ORD_SECRET" '^[0-9a-f]{32}$'
t_is "no column of the store row holds it" \
    "$(sql "SELECT count(*) FROM store s WHERE s::text LIKE '%$ORD_SECRET%'
              OR position(convert_to('$ORD_SECRET', 'UTF8') in webhook_box) > 0")" 0
t_is "plain column empty; sealed box, nonce and hash set" \
    "$(sql "SELECT webhook_secret IS NULL, length(webhook_box), length(webhook_nonce),
                   webhook_hash = sha256('$ORD_SECRET'::bytea) FROM store")" "t|48|24|t"

ord_start oi
t_ok "intake up" wait_for 20 ord_healthy
order() { # ID
    printf '{"id": %s, "updated_at": "2030-01-01T00:00:00.000+03:00", "delivery_price": "0",
 "order_lines": [{"sku": "ART-00001-1", "quantity": 1, "sale_price": "1"}]}' "$1" >"$T_TMP/o$1.json"
    printf '%s' "$T_TMP/o$1.json"
}
wrong=$(printf '%s' "$ORD_SECRET" | tr '0-9a-f' '1-9a-f0')
t_is "the right secret: 200" "$(hook_post "$ORD_SECRET" "$(order 499999301)")" 200
t_is "a wrong secret: 404" "$(hook_post "$wrong" "$(order 499999302)")" 404
t_is "its prefix only: 404" "$(hook_post "${ORD_SECRET:0:31}" "$(order 499999303)")" 404
t_ok "the accepted order is applied" wait_for 30 is_state 499999301 reserved
t_is "the refused ones are not" \
    "$(sql "SELECT count(*) FROM customer_order WHERE remote_id IN (499999302, 499999303)")" 0

# ---- an older ledger: the row as migration 0010 left it (plain secret,
# no sealed columns) and 0011 not applied yet.
OLD=0123456789abcdef0123456789abcdef
sql "ALTER TABLE store DROP CONSTRAINT store_webhook_one_form,
         DROP COLUMN webhook_nonce, DROP COLUMN webhook_box, DROP COLUMN webhook_hash;
     UPDATE store SET webhook_secret = '$OLD';
     ALTER TABLE store ALTER COLUMN webhook_secret SET NOT NULL;
     DELETE FROM schema_migrations WHERE version LIKE '0011%'" || t_bail "downgrade"
t_is "the old row is plain" "$(sql "SELECT webhook_secret FROM store")" "$OLD"
OMNISYNC_SECRET_KEY= run omnisync db migrate
t_is "db migrate without the key: exit 2" "$RC" 2
t_like "... saying why" "$ERR" 'webhook secret in clear.*OMNISYNC_SECRET_KEY'
t_is "... the plain row is not half-converted" \
    "$(sql "SELECT webhook_secret IS NOT NULL AND webhook_box IS NULL FROM store")" t
run omnisync db migrate
t_is "db migrate with the key: exit 0" "$RC" 0
t_like "... seals the row" "$OUT" 'sealed the webhook secret of 1 store'
t_is "the plain secret is gone, sealed instead" \
    "$(sql "SELECT count(*) FROM store s WHERE s::text LIKE '%$OLD%'")|$(sql "SELECT webhook_secret IS NULL AND webhook_box IS NOT NULL FROM store")" "0|t"
t_is "the hash is the old secret's" \
    "$(sql "SELECT webhook_hash = sha256('$OLD'::bytea) FROM store")" t
t_is "it opens to the same secret" "$(ord_secret)" "$OLD"
run omnisync db migrate
t_is "db migrate again: nothing to seal" "$RC|$OUT" "0|up to date"

# The running ingestor picks the store up again (stores.refresh.ms 2 s).
ok_old() { [ "$(hook_post "$OLD" "$(order 499999304)")" = 200 ]; }
t_ok "the old secret still authenticates after the conversion" wait_for 20 ok_old
t_is "the previous secret does not" "$(hook_post "$ORD_SECRET" "$(order 499999305)")" 404
t_ok "the order is applied" wait_for 30 is_state 499999304 reserved

all="$(omnisync store show "$ORD_STORE") $(omnisync store show "$ORD_STORE" --json) $(omnisync store list --json)"
t_unlike "no secret in store show/list" "$all" "$OLD|$ORD_SECRET"
t_unlike "no secret in the ingestor's log" "$(cat "$T_TMP/oi.log")" "$OLD|$ORD_SECRET"
t_unlike "nor in --dump-config" "$(order-ingestor --dump-config 2>&1)" "$OLD|$ORD_SECRET"
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
