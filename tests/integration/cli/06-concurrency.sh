#!/usr/bin/env bash
# Availability races (DESIGN.md): many movements of one variant at two
# source locations of one store, in parallel.  The variant lock serialises
# them, so the newest stock.available event always carries the final
# total, and concurrent --ref repeats apply once.
. "$(dirname "$0")/cli-lib.bash"

cli_chain || t_bail "setting up the chain failed"
cli_store S1 WEB1 WH1,WH2 >/dev/null || t_bail "store S1"
omnisync stock receipt WH1 SH-1-RED-M 100 >/dev/null
omnisync stock receipt WH2 SH-1-RED-M 100 >/dev/null
first=$(sql "SELECT max(id) FROM outbox")

pids=()
for i in $(seq 1 15); do
    omnisync stock sale WH1 SH-1-RED-M 1 >/dev/null 2>&1 &
    pids+=($!)
    omnisync stock sale WH2 SH-1-RED-M 2 >/dev/null 2>&1 &
    pids+=($!)
    omnisync stock receipt WH2 SH-1-RED-M 1 >/dev/null 2>&1 &
    pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
t_is "45 concurrent movements all succeed" "$fails" 0
t_is "final levels" \
    "$(omnisync stock show --sku SH-1-RED-M --json | jq -r '[.[] | "\(.location)=\(.on_hand)"] | join(",")')" \
    "WH1=85,WH2=85"
t_is "the newest event carries the final total" "$(cli_avail S1 SH-1-RED-M)" "170 170 0 0"
t_is "one event per movement" "$(cli_events S1)" 47
# Each event's on_hand is the one after its own movement: consecutive
# events (in outbox id order) differ by exactly that movement's delta.
t_is "events form an unbroken chain (no write skew)" \
    "$(sql "SELECT count(*) FROM (
              SELECT (data->>'on_hand')::int - lag((data->>'on_hand')::int)
                     OVER (ORDER BY id) AS d FROM outbox
              WHERE store = 'S1' AND id >= $first) x
            WHERE d IS NOT NULL AND d NOT IN (-1, -2, 1)")" 0

pids=()
for i in $(seq 1 8); do
    omnisync stock receipt WH1 TR-1-32 5 --ref same-doc >"$T_TMP/r$i.out" 2>&1 &
    pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
t_is "8 concurrent runs of one --ref all exit 0" "$fails" 0
t_is "exactly one applied it" "$(cat "$T_TMP"/r?.out | grep -c '^receipt ')" 1
t_is "the others said so" "$(cat "$T_TMP"/r?.out | grep -c '^already applied: ref same-doc$')" 7
t_is "level counted once" "$(omnisync stock show --location WH1 --sku TR-1-32 --json | jq '.[0].on_hand')" 5
t_done
