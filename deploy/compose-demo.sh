#!/bin/sh
# deploy/compose-demo.sh — the `demo-setup` one-shot of docker-compose.yml's
# `demo` profile (docs/deploy.md): loads the small sample chain of
# deploy/sample/ (mounted at $SAMPLE) into the ledger, adds the online store
# demo-shop on the profile's store-sim, and starts its initial sync.  Runs in
# the omnisync image (POSIX sh, no bash, jq or python).  Idempotent: when
# the ledger already has the store it changes nothing and exits 0.
#
# Environment: SAMPLE (default /opt/omnisync/sample), DEMO_STORE (demo-shop),
# DEMO_STORE_URL (http://store-sim:8765), DEMO_STORE_LOGIN,
# DEMO_STORE_PASSWORD (store-sim's), and the omnisync settings (OMNISYNC_PG,
# OMNISYNC_SECRET_KEY, ...).
set -eu
SAMPLE=${SAMPLE:-/opt/omnisync/sample}
STORE=${DEMO_STORE:-demo-shop}
URL=${DEMO_STORE_URL:-http://store-sim:8765}

say() { printf 'demo-setup: %s\n' "$*"; }
rows() { tail -n +2 "$1" | tr -d '\r'; } # a sample CSV's data rows

if omnisync store show "$STORE" >/dev/null 2>&1; then
    say "the ledger has store $STORE already: nothing to do"
    exit 0
fi
say "price lists, locations (deploy/sample/locations.csv)"
# A rerun after a half-done run: what exists already is kept (exit 2 and
# "already exists"); the imports and the receipts (--ref) are idempotent.
omnisync pricelist add RETAIL --name "Retail (shops)" >/dev/null 2>&1 || true
omnisync pricelist add ONLINE --name "Online store" >/dev/null 2>&1 || true
rows "$SAMPLE/locations.csv" | while IFS=';' read -r code name kind pl; do
    omnisync location add "$code" --kind "$kind" --name "$name" \
        ${pl:+--price-list "$pl"} >/dev/null 2>&1 || true
done
say "$(omnisync import catalog "$SAMPLE/small/catalog.csv" --price-list RETAIL)"
say "$(omnisync import prices "$SAMPLE/small/prices-online.csv" --price-list ONLINE)"
say "opening stock ($(rows "$SAMPLE/small/stock.csv" | wc -l) receipts)"
rows "$SAMPLE/small/stock.csv" | while IFS=';' read -r loc sku qty; do
    omnisync stock receipt "$loc" "$sku" "$qty" --ref "open-$loc-$sku" >/dev/null
done
say "store $STORE on $URL"
omnisync store add "$STORE" --platform insales --url "$URL" \
    --login "$DEMO_STORE_LOGIN" --password-env DEMO_STORE_PASSWORD \
    --online-location WEB --source-locations WH1,WH2 --price-list ONLINE \
    --delivery-sku DELIVERY
omnisync sync initial "$STORE" --no-wait
say "done: follow it with 'docker compose run --rm cli omnisync status'"
