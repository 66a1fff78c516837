#!/usr/bin/env bash
# store-sim keeps secrets out of sight: its --password is blanked in its
# command line (ps shows x's), and a webhook address's path — where the
# receiver keeps its secret — never appears in its log, even at debug
# level and when a delivery fails.
SIM_PASSWORD=pw-Zq7SECRET
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0 --webhook-timeout-ms 500 --log-level debug

t_unlike "--password is not in /proc/PID/cmdline" \
    "$(tr '\0' ' ' </proc/"$SIM_PID"/cmdline)" "Zq7SECRET"
api GET /admin/account.json
t_is "the password still works" "$ST" 200

hook_start
secret=0123456789abcdef0123456789abcdef
ok_url="${HOOK_URL%/}/hooks/$secret/orders"
dead_url="http://127.0.0.1:1/hooks/$secret/orders"
for u in "$ok_url" "$dead_url"; do
    api POST /admin/webhooks.json "{\"webhook\":{\"address\":\"$u\",\"topic\":\"orders/create\",\"format_type\":\"json\"}}"
    t_is "webhook registered" "$ST" 201
done
api POST /_sim/products '{"products":[{"title":"T","variants_attributes":[{"sku":"S-1","price":10,"quantity":5}]}]}'
api POST /_sim/orders '{"lines":[{"sku":"S-1","quantity":1}]}'
t_is "an order placed" "$ST" 201
failed() { grep -q 'webhook http://127.0.0.1:1/...' "$SIM_LOG"; }
t_ok "the failed delivery is logged, by origin" wait_for 10 failed
delivered() { grep -q "webhook ${HOOK_URL%%/*}//.*HTTP 200" "$SIM_LOG"; }
t_ok "the delivered one too (debug)" wait_for 10 delivered
t_unlike "no webhook secret in the log" "$(cat "$SIM_LOG")" "$secret"
t_unlike "no password in the log" "$(cat "$SIM_LOG")" "Zq7SECRET"
t_done
