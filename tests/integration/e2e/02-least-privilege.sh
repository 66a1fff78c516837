#!/usr/bin/env bash
# harness: fresh-kafka
# Least privilege end to end: every service and the CLI connect as a
# login user in the role `omnisync db roles` made for it, and the whole
# loop works: the operator's CLI imports the catalog and adds the store,
# outbox-relay, catalog-publisher and image-uploader put products and
# photos into the store (`sync initial`), stock-publisher pushes the
# stock, order-ingestor takes orders back with their reservations, and
# `reconcile` finds the store in step.  No service logs a permission
# error; then each service's user is refused a write to a table it does
# not own.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"

P="t${RANDOM}x$$_"
SVCS="outbox_relay catalog_publisher stock_publisher image_uploader order_ingestor"
ROLES="$SVCS ledger_api operator viewer"
ADMIN_PG=$OMNISYNC_PG
roles_drop() { # roles are cluster-wide; their grants live in this database
    local r
    for r in $ROLES; do
        sql "DROP ROLE IF EXISTS ${P}u_$r" >/dev/null 2>&1
        sql "DROP OWNED BY ${P}$r" >/dev/null 2>&1
        sql "DROP ROLE IF EXISTS ${P}$r" >/dev/null 2>&1
    done
}
t_cleanup_add "OMNISYNC_PG=\$ADMIN_PG roles_drop"
as() { psql "$ADMIN_PG user=${P}u_$1" -XqtA -v ON_ERROR_STOP=1 -c "$2" 2>&1; }
pg_of() { printf '%s user=%s' "$ADMIN_PG" "${P}u_$1"; }

omnisync db migrate >/dev/null || t_bail "db migrate"
omnisync db roles --prefix "$P" >/dev/null || t_bail "db roles"
for r in $ROLES; do
    sql "CREATE ROLE ${P}u_$r LOGIN IN ROLE ${P}$r" >/dev/null || t_bail "login $r"
done
export OMNISYNC_PG
OMNISYNC_PG=$(pg_of operator) # the CLI (and sql below) as the operator

# ---- the operator sets up the chain (cat_setup without its services)
omnisync pricelist add ONLINE --name Online >/dev/null || t_bail "pricelist"
omnisync location add WH1 --kind warehouse >/dev/null || t_bail "location"
omnisync location add WEB1 --kind online --price-list ONLINE >/dev/null || t_bail "location"
mkdir -p "$T_TMP/cat"
cat_gen "$T_TMP/cat" 6 2 || t_bail "gen-catalog"
t_ok "as the operator: import catalog (with photos)" \
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE
rm -rf "$T_TMP/cat/photos"
CAT_SIM_PORT=$(free_port)
t_bg sim store-sim --port "$CAT_SIM_PORT" --login "$CAT_LOGIN" --password "$CAT_PW" \
    --limit 500 --window 10
wait_for 10 sim_get /_sim/health || t_bail "store-sim did not start"
CAT_PW_ENV=$CAT_PW t_ok "as the operator: store add" \
    omnisync store add "$CAT_STORE" --platform insales \
    --url "http://127.0.0.1:$CAT_SIM_PORT" --login "$CAT_LOGIN" \
    --password-env CAT_PW_ENV --online-location WEB1 --source-locations WH1 \
    --price-list ONLINE --delivery-sku ART-00001-1 --api-limit 500 --api-window 10
mapfile -t SKUS < <(sql "SELECT sku FROM variant WHERE sku NOT LIKE 'ART-00001-%' ORDER BY sku")
for s in "${SKUS[@]}"; do
    omnisync stock receipt WH1 "$s" 20 >/dev/null || t_bail "receipt $s"
done

# ---- every service as its own user
KOPTS=(-o log.level=info -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500)
ORD_PORT=$(free_port)
OMNISYNC_PG=$(pg_of outbox_relay) t_bg relay outbox-relay -o relay.poll.ms=200 -o relay.standby.ms=200
OMNISYNC_PG=$(pg_of catalog_publisher) t_bg catpub catalog-publisher "${KOPTS[@]}"
OMNISYNC_PG=$(pg_of image_uploader) t_bg imgup image-uploader "${KOPTS[@]}"
OMNISYNC_PG=$(pg_of stock_publisher) t_bg stockpub stock-publisher "${KOPTS[@]}"
OMNISYNC_PG=$(pg_of order_ingestor) t_bg ingest order-ingestor "${KOPTS[@]}" \
    -o intake.listen="127.0.0.1:$ORD_PORT" -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
    -o poll.interval.ms=2000 -o stores.refresh.ms=2000
run_json() { omnisync sync initial "$CAT_STORE" --timeout 120 --json >"$T_TMP/sync.json"; }
t_ok "sync initial: catalog and photos into the store" run_json
t_is "every product and photo synced" \
    "$(jq -c '[.done, .products.failed, .photos.failed, .photos.synced == .photos.total, .photos.total > 0]' "$T_TMP/sync.json")" \
    "[true,0,0,true,true]"
t_ok "the store's catalog equals the ledger's" cat_compare
in_step() { omnisync reconcile "$CAT_STORE" >"$T_TMP/rec.out" 2>&1; }
t_ok "the stock reaches the store (reconcile in step)" wait_for 60 in_step

hooks_ok() { [ "$(sim_get /admin/webhooks.json | jq length)" -ge 2 ]; }
t_ok "order-ingestor registers its webhooks" wait_for 30 hooks_ok
placed=0
for i in 1 2 3 4 5 6 7 8; do
    sku=${SKUS[$((i % ${#SKUS[@]}))]}
    curl -sf -u "$CAT_LOGIN:$CAT_PW" -H 'Content-Type: application/json' \
        --data "{\"lines\":[{\"sku\":\"$sku\",\"quantity\":2}],\"delivery_price\":\"100.0\"}" \
        "http://127.0.0.1:$CAT_SIM_PORT/_sim/orders" >/dev/null && placed=$((placed + 1))
done
t_is "8 orders placed in the store" "$placed" 8
reserved() { [ "$(sql "SELECT count(*) FROM customer_order WHERE stock_state = 'reserved'")" = 8 ]; }
t_ok "order-ingestor reserves them all" wait_for 60 reserved
t_is "16 units reserved" "$(sql "SELECT sum(reserved) FROM stock_level")" 16
t_ok "the store is in step after the orders" wait_for 60 in_step
t_diag "$(tail -2 "$T_TMP/rec.out")"

t_is "every service connected as its own user" \
    "$(OMNISYNC_PG=$ADMIN_PG sql "SELECT string_agg(DISTINCT usename, ' ' ORDER BY usename)
        FROM pg_stat_activity WHERE usename LIKE '${P}u_%'" | sed "s/${P}u_//g")" \
    "catalog_publisher image_uploader order_ingestor outbox_relay stock_publisher"
for n in relay catpub imgup stockpub ingest; do
    t_unlike "$n logged no permission error" "$(cat "$T_TMP/$n.log")" "permission denied|must be owner"
done

# ---- each service's user is refused what it does not own
denied() { # NAME ROLE SQL TABLE
    t_like "$1" "$(as "$2" "$3")" "permission denied for table $4"
}
denied "outbox-relay cannot write an order" outbox_relay \
    "UPDATE customer_order SET stock_state = 'none'" customer_order
denied "catalog-publisher cannot move stock" catalog_publisher \
    "UPDATE stock_level SET on_hand = 0" stock_level
denied "catalog-publisher cannot write an order" catalog_publisher \
    "DELETE FROM customer_order_line" customer_order_line
denied "stock-publisher cannot change a product" stock_publisher \
    "UPDATE product SET name = 'x'" product
denied "image-uploader cannot move stock" image_uploader \
    "INSERT INTO stock_movement (kind) VALUES ('receipt')" stock_movement
denied "image-uploader cannot change prices" image_uploader \
    "UPDATE price SET price = 0" price
denied "order-ingestor cannot change a product" order_ingestor \
    "UPDATE product SET name = 'x'" product
denied "order-ingestor cannot rewrite the store map" order_ingestor \
    "DELETE FROM remote_map" remote_map
denied "order-ingestor cannot change a store" order_ingestor \
    "UPDATE store SET safety_stock = 9" store
denied "ledger-api cannot rewrite the store map" ledger_api \
    "DELETE FROM remote_map" remote_map
denied "ledger-api cannot change a store" ledger_api \
    "UPDATE store SET safety_stock = 9" store
denied "no service may drop the outbox" stock_publisher \
    "TRUNCATE outbox" outbox
for n in ingest stockpub imgup catpub relay; do
    t_ok "$n stops cleanly" t_kill "$n"
done
t_done
