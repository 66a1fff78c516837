#!/usr/bin/env bash
# stock.available outbox events: written for every store that sells from
# a location a movement touched, with absolute values summed over the
# store's sources, safety stock subtracted, never below 0; nothing for
# locations no store sells from; a new store announces its stock.
. "$(dirname "$0")/cli-lib.bash"

cli_chain || t_bail "setting up the chain failed"
omnisync location add WEB3 --kind online >/dev/null
# S1 sells from WH1 and WH2 keeping 1 back; S2 from WH2 only; SHOP1 feeds
# no store.
cli_store S1 WEB1 WH1,WH2 --safety-stock 1 >/dev/null || t_bail "store S1"
cli_store S2 WEB2 WH2 >/dev/null || t_bail "store S2"
t_is "stores without stock announce nothing" "$(sql "SELECT count(*) FROM outbox")" 0

omnisync stock receipt WH1 SH-1-RED-M 10 >/dev/null
t_is "WH1 receipt: S1 (available on_hand reserved safety)" "$(cli_avail S1 SH-1-RED-M)" "9 10 0 1"
t_is "WH1 receipt: nothing for S2 (not its source)" "$(cli_events S2)" 0

omnisync stock receipt WH2 SH-1-RED-M 5 >/dev/null
t_is "WH2 receipt: S1 sums both warehouses" "$(cli_avail S1 SH-1-RED-M)" "14 15 0 1"
t_is "WH2 receipt: S2 sees its own source only" "$(cli_avail S2 SH-1-RED-M)" "5 5 0 0"

n=$(sql "SELECT count(*) FROM outbox")
omnisync stock receipt SHOP1 SH-1-RED-M 3 >/dev/null
omnisync stock sale SHOP1 SH-1-RED-M 1 >/dev/null
t_is "movements at an outlet no store sells from emit nothing" \
    "$(sql "SELECT count(*) FROM outbox")" "$n"

omnisync stock transfer WH1 SHOP1 SH-1-RED-M 4 >/dev/null
t_is "transfer out of a source: S1 down by 4" "$(cli_avail S1 SH-1-RED-M)" "10 11 0 1"
t_is "transfer: still nothing for S2" "$(cli_events S2)" 1
t_is "transfer: one event for S1 (one movement)" "$(cli_events S1)" 3

omnisync stock transfer WH1 WH2 SH-1-RED-M 2 >/dev/null
t_is "transfer between S1's sources: same total" "$(cli_avail S1 SH-1-RED-M)" "10 11 0 1"
t_is "transfer between sources: one event per store and variant" \
    "$(sql "SELECT count(*) FROM outbox WHERE id > (SELECT max(id) - 2 FROM outbox) AND store = 'S1'")" 1
t_is "... and S2 sees WH2 grow" "$(cli_avail S2 SH-1-RED-M)" "7 7 0 0"

omnisync stock count WH2 SH-1-RED-M 0 >/dev/null
t_is "count to 0: S1 keeps WH1 less safety" "$(cli_avail S1 SH-1-RED-M)" "3 4 0 1"
t_is "count to 0: S2 has none" "$(cli_avail S2 SH-1-RED-M)" "0 0 0 0"

# ---- never below 0, also when on hand is negative
omnisync stock sale WH2 TR-1-32 2 2>/dev/null >/dev/null
t_is "negative on hand: S2 available 0" "$(cli_avail S2 TR-1-32)" "0 -2 0 0"
t_is "negative on hand: S1 available 0" "$(cli_avail S1 TR-1-32)" "0 -2 0 1"
omnisync stock receipt WH1 TR-1-32 2 >/dev/null
t_is "S1: -2 + 2 - safety 1 is still 0" "$(cli_avail S1 TR-1-32)" "0 0 0 1"
omnisync stock receipt WH1 TR-1-32 2 >/dev/null
t_is "S1: 2 - 1 = 1" "$(cli_avail S1 TR-1-32)" "1 2 0 1"

# ---- a repeated --ref emits nothing
omnisync stock receipt WH2 SH-1-RED-L 3 --ref e-1 >/dev/null
n=$(sql "SELECT count(*) FROM outbox")
omnisync stock receipt WH2 SH-1-RED-L 3 --ref e-1 >/dev/null
t_is "a repeated --ref emits no event" "$(sql "SELECT count(*) FROM outbox")" "$n"

# ---- the event row itself
row=$(sql "SELECT topic || '|' || type || '|' || key || '|' || store || '|' ||
                  (data->>'variant_id') || '|' || (SELECT id FROM variant WHERE sku = 'SH-1-RED-L')
           FROM outbox WHERE store = 'S2' AND data->>'sku' = 'SH-1-RED-L' ORDER BY id DESC LIMIT 1")
vid=${row##*|}
t_is "topic, type, key <store>:<variant id>, store" "$row" \
    "omnisync.stock.v1|stock.available|S2:$vid|S2|$vid|$vid"
t_is "data has exactly the documented keys" \
    "$(sql "SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT jsonb_object_keys(data) k FROM outbox
            WHERE id = (SELECT max(id) FROM outbox)) x")" \
    "available,old_price,on_hand,price,reserved,safety_stock,sku,variant_id"
t_is "values are JSON numbers" \
    "$(sql "SELECT jsonb_typeof(data->'available') || jsonb_typeof(data->'variant_id') FROM outbox
            WHERE id = (SELECT max(id) FROM outbox)")" "numbernumber"
t_is "every event has a unique id" \
    "$(sql "SELECT count(*) - count(DISTINCT event_id) FROM outbox")" 0

# ---- a new store announces what it can sell, in the same transaction
n=$(sql "SELECT count(*) FROM outbox")
run cli_store S3 WEB3 WH2 --safety-stock 2
t_like "store add reports the events" "$OUT" 'added store S3 \(2 source locations, 2 stock events\)'
t_is "store add wrote one event per variant with stock at its sources" \
    "$(sql "SELECT string_agg(data->>'sku' || '=' || (data->>'available') || '/' || (data->>'on_hand'), ','
            ORDER BY data->>'sku') FROM outbox WHERE store = 'S3'")" \
    "SH-1-RED-L=1/3,TR-1-32=0/-2"
t_is "and for no other store" "$(sql "SELECT count(*) FROM outbox")" $((n + 2))
t_done
