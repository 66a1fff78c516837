#!/usr/bin/env bash
# omnisync stock: receipt/sale/return/writeoff/transfer/count arithmetic,
# --ref idempotency, input errors (exit 2), stock show, and the movement
# ledger being append-only.
. "$(dirname "$0")/cli-lib.bash"

cli_chain || t_bail "setting up the chain failed"
lvl() { # LOC SKU -> "on_hand reserved" or "none"
    local v
    v=$(sql "SELECT s.on_hand || ' ' || s.reserved FROM stock_level s
             JOIN location l ON l.id = s.location_id
             JOIN variant v ON v.id = s.variant_id
             WHERE l.code = '$1' AND v.sku = '$2'")
    echo "${v:-none}"
}

run omnisync stock receipt WH1 SH-1-RED-M 10
t_is "receipt exits 0" "$RC" 0
t_like "receipt reports the new level" "$OUT" '^receipt WH1 SH-1-RED-M \+10: on hand 10 \(movement [0-9]+\)$'
t_is "receipt: level" "$(lvl WH1 SH-1-RED-M)" "10 0"
run omnisync stock sale WH1 SH-1-RED-M 3
t_is "sale: level" "$(lvl WH1 SH-1-RED-M)" "7 0"
run omnisync stock return WH1 SH-1-RED-M 1
t_is "return: level" "$(lvl WH1 SH-1-RED-M)" "8 0"
run omnisync stock writeoff WH1 SH-1-RED-M 2
t_is "writeoff: level" "$(lvl WH1 SH-1-RED-M)" "6 0"
t_is "no warning while on hand stays >= 0" "$ERR" ""

# ---- transfer: one movement, two lines
run omnisync stock transfer WH1 SHOP1 SH-1-RED-M 4
t_is "transfer exits 0" "$RC" 0
t_is "transfer: source" "$(lvl WH1 SH-1-RED-M)" "2 0"
t_is "transfer: destination" "$(lvl SHOP1 SH-1-RED-M)" "4 0"
t_is "transfer is one movement with two lines" \
    "$(sql "SELECT count(*) || ':' || string_agg(l.on_hand_delta::text, ',' ORDER BY l.line_no)
            FROM stock_movement m JOIN stock_movement_line l ON l.movement_id = m.id
            WHERE m.kind = 'transfer'")" "2:-4,4"
t_like "transfer output" "$OUT" 'transfer WH1 -> SHOP1 SH-1-RED-M 4: on hand WH1 2, SHOP1 4'

# ---- count: sets on hand, records the difference
run omnisync stock count SHOP1 SH-1-RED-M 9
t_is "count up: level" "$(lvl SHOP1 SH-1-RED-M)" "9 0"
t_like "count reports the delta" "$OUT" 'count SHOP1 SH-1-RED-M = 9 \(\+5\)'
run omnisync stock count SHOP1 SH-1-RED-M 1
t_is "count down: level" "$(lvl SHOP1 SH-1-RED-M)" "1 0"
run omnisync stock count SHOP1 SH-1-RED-M 0
t_is "count 0 is allowed" "$RC" 0
t_is "count 0: level" "$(lvl SHOP1 SH-1-RED-M)" "0 0"
run omnisync stock count WH2 TR-1-32 5
t_is "count where there was nothing" "$(lvl WH2 TR-1-32)" "5 0"
t_is "count lines hold the deltas" \
    "$(sql "SELECT string_agg(l.on_hand_delta::text, ',' ORDER BY m.id)
            FROM stock_movement m JOIN stock_movement_line l ON l.movement_id = m.id
            WHERE m.kind = 'count'")" "5,-8,-1,5"

# ---- the level is always the sum of the ledger
t_is "levels equal the sum of movement lines" \
    "$(sql "SELECT count(*) FROM stock_level s FULL JOIN (
              SELECT location_id, variant_id, sum(on_hand_delta) oh
              FROM stock_movement_line GROUP BY 1, 2) m
            USING (location_id, variant_id) WHERE s.on_hand IS DISTINCT FROM m.oh")" 0

# ---- --ref: a repeat is a no-op that says so
run omnisync stock receipt WH2 SH-1-RED-L 7 --ref grn-001
t_is "receipt with --ref" "$(lvl WH2 SH-1-RED-L)" "7 0"
n=$(sql "SELECT count(*) FROM stock_movement")
run omnisync stock receipt WH2 SH-1-RED-L 7 --ref grn-001
t_is "repeated --ref exits 0" "$RC" 0
t_is "repeated --ref says so" "$OUT" "already applied: ref grn-001"
t_is "repeated --ref changes no level" "$(lvl WH2 SH-1-RED-L)" "7 0"
t_is "repeated --ref adds no movement" "$(sql "SELECT count(*) FROM stock_movement")" "$n"
run omnisync stock sale WH1 TR-1-32 1 --ref grn-001
t_is "a key is global: another kind with it is a no-op too" "$OUT" "already applied: ref grn-001"
run omnisync stock transfer WH2 WH1 SH-1-RED-L 2 --ref=tr-9
run omnisync stock transfer WH2 WH1 SH-1-RED-L 2 --ref=tr-9
t_is "repeated transfer ref" "$OUT" "already applied: ref tr-9"
t_is "transfer applied once" "$(lvl WH2 SH-1-RED-L) / $(lvl WH1 SH-1-RED-L)" "5 0 / 2 0"
run omnisync stock count WH2 SH-1-RED-L 1 --ref cnt-1
run omnisync stock count WH2 SH-1-RED-L 3 --ref cnt-1
t_is "repeated count ref keeps the first count" "$(lvl WH2 SH-1-RED-L)" "1 0"
t_is "idem_key stored" "$(sql "SELECT count(*) FROM stock_movement WHERE idem_key IN ('grn-001','tr-9','cnt-1')")" 3

# ---- negative on hand: allowed with a warning
run omnisync stock sale SHOP1 TR-1-32 2
t_is "selling what the ledger does not have: exit 0" "$RC" 0
t_is "on hand goes negative" "$(lvl SHOP1 TR-1-32)" "-2 0"
t_like "with a warning naming it" "$ERR" 'warning: on hand of TR-1-32 at SHOP1 is now -2'
run omnisync stock writeoff SHOP1 TR-1-32 1
t_like "writeoff below zero warns too" "$ERR" 'now -3'

# ---- input errors: exit 2, nothing written
n=$(sql "SELECT count(*) FROM stock_movement")
for q in 0 -1 1.5 abc 1e3 9999999999999 ""; do
    run omnisync stock receipt WH1 SH-1-RED-M "$q"
    t_is "receipt QTY '$q': exit 2" "$RC" 2
done
t_like "bad QTY is named" "$ERR" "bad QTY"
run omnisync stock count WH1 SH-1-RED-M -1
t_is "count QTY -1: exit 2" "$RC" 2
run omnisync stock transfer WH1 SHOP1 SH-1-RED-M 0
t_is "transfer QTY 0: exit 2" "$RC" 2
run omnisync stock receipt NOWHERE SH-1-RED-M 1
t_is "unknown location: exit 2" "$RC" 2
t_like "unknown location named" "$ERR" "unknown location 'NOWHERE'"
run omnisync stock receipt WH1 NO-SUCH-SKU 1
t_is "unknown SKU: exit 2" "$RC" 2
t_like "unknown SKU named" "$ERR" "unknown SKU 'NO-SUCH-SKU'"
run omnisync stock transfer WH1 NOWHERE SH-1-RED-M 1
t_is "transfer to unknown location: exit 2" "$RC" 2
t_like "transfer names it" "$ERR" "unknown location 'NOWHERE'"
run omnisync stock transfer WH1 WH1 SH-1-RED-M 1
t_is "transfer to itself: exit 2" "$RC" 2
run omnisync stock receipt WH1 SH-1-RED-M
t_is "missing QTY: exit 2" "$RC" 2
run omnisync stock receipt WH1 SH-1-RED-M 1 2
t_is "extra argument: exit 2" "$RC" 2
run omnisync stock receipt WH1 SH-1-RED-M 1 --ref ""
t_is "empty --ref: exit 2" "$RC" 2
run omnisync stock move WH1 SH-1-RED-M 1
t_is "unknown stock subcommand: exit 2" "$RC" 2
t_is "no movement written by the failures" "$(sql "SELECT count(*) FROM stock_movement")" "$n"

# ---- stock show
run omnisync stock show
t_is "stock show exits 0" "$RC" 0
t_is "stock show table, sorted by location then sku" "$OUT" "$(printf '%s\n' \
    'location  sku         on_hand  reserved' \
    'SHOP1     SH-1-RED-M  0        0' \
    'SHOP1     TR-1-32     -3       0' \
    'WH1       SH-1-RED-L  2        0' \
    'WH1       SH-1-RED-M  2        0' \
    'WH2       SH-1-RED-L  1        0' \
    'WH2       TR-1-32     5        0')"
run omnisync stock show --location WH1 --json
t_is "stock show --location --json" "$(printf '%s' "$OUT" | jq -c .)" \
    '[{"location":"WH1","sku":"SH-1-RED-L","on_hand":2,"reserved":0},{"location":"WH1","sku":"SH-1-RED-M","on_hand":2,"reserved":0}]'
run omnisync stock show --sku TR-1-32 --json
t_is "stock show --sku" "$(printf '%s' "$OUT" | jq -r '[.[].location] | join(",")')" "SHOP1,WH2"
run omnisync stock show --sku TR-1-32 --location WH2
t_is "both filters" "$(printf '%s\n' "$OUT" | tail -n +2)" "WH2       TR-1-32  5        0"
run omnisync stock show --location NOWHERE
t_is "show unknown location: exit 2" "$RC" 2
run omnisync stock show --sku NOPE
t_is "show unknown sku: exit 2" "$RC" 2
t_is "--json keys exactly" "$(omnisync stock show --json | jq -c '[.[] | keys] | unique')" \
    '[["location","on_hand","reserved","sku"]]'

# ---- the movement ledger is append-only
t_nok "UPDATE stock_movement is refused" sql "UPDATE stock_movement SET note = 'x'"
t_nok "DELETE stock_movement_line is refused" sql "DELETE FROM stock_movement_line"
t_nok "TRUNCATE stock_movement is refused" sql "TRUNCATE stock_movement CASCADE"
t_done
