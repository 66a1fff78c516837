#!/usr/bin/env bash
# budget: 4 processes x 4 threads (one priority class each) hammer one store
# (limit 50 per 10 s) for 3 windows through the shared Redis budget.  The
# store must reject nothing and the fleet must use >= 90% of the budget.
. "$(dirname "$0")/budget-lib.sh"
[ -n "${OMNISYNC_REDIS:-}" ] || t_bail "OMNISYNC_REDIS not set (run via tests/run.sh)"

LIMIT=50 WINDOW=10 DURATION=30
bud_sim_start sim --limit $LIMIT --window $WINDOW
T0=$(now_ms)
for c in orders stock catalog images; do
    bud_hammer "h_$c" --class $c --threads 4 --duration $DURATION \
        --limit $LIMIT --window $WINDOW
done
for c in orders stock catalog images; do
    t_wait "h_$c" $((DURATION + 30))
    t_is "hammer $c exited cleanly" $? 0
done
ELAPSED=$(($(now_ms) - T0))
bud_report h_orders h_stock h_catalog h_images

REQ=$(bud_state .requests)
t_is "store-sim rejected no request" "$(bud_state .rejected)" 0
t_is "store-sim answered only 200" "$(bud_state '.status_counts | keys | join(",")')" 200
WINDOWS=$((DURATION / WINDOW))
NEED=$(((9 * LIMIT * WINDOWS + 9) / 10))
t_diag "store-sim counted $REQ requests in $ELAPSED ms; available $((LIMIT * WINDOWS)) in $WINDOWS windows; utilisation $((100 * REQ / (LIMIT * WINDOWS)))%"
t_ok "fleet used >= 90% of the budget ($REQ >= $NEED)" test "$REQ" -ge "$NEED"
t_ok "fleet never exceeded the budget ($REQ <= $((LIMIT * (WINDOWS + 1))))" \
    test "$REQ" -le $((LIMIT * (WINDOWS + 1)))

SUM=0
for c in orders stock catalog images; do
    SUM=$((SUM + $(bud_json "h_$c" .calls)))
    t_is "no 429 seen by $c" "$(bud_json "h_$c" .s429)" 0
done
t_is "hammers' calls add up to store-sim's count" "$SUM" "$REQ"
IMG=$(bud_json h_images .calls)
t_ok "images stayed within its 70% share ($IMG <= 0.7 x $REQ)" \
    test $((10 * IMG)) -le $((7 * REQ))
t_ok "orders got tokens ($(bud_json h_orders .calls))" test "$(bud_json h_orders .calls)" -gt 0

KEY="omnisync:budget:{$BUD_STORE}"
RP=${OMNISYNC_REDIS##*:}
RH=${OMNISYNC_REDIS%:*}
t_like "budget hash holds the window" \
    "$(redis-cli -h "$RH" -p "$RP" hgetall "$KEY" | tr '\n' ' ')" \
    'window_start_ms.*used.*limit 50 .*window_ms 10000'
TTL=$(redis-cli -h "$RH" -p "$RP" pttl "$KEY")
t_ok "budget key expires (pttl $TTL)" test "$TTL" -gt 0
t_done
