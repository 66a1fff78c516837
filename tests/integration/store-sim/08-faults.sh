#!/usr/bin/env bash
# store-sim: injected faults, the request log, reset, shutdown.
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0

ctl GET /_sim/faults
t_is "default faults" "$(jb -c '[.error_rate, .error_status, .latency_ms, .timeout_rate]')" '[0,500,0,0]'
ctl POST /_sim/faults '{"error_rate":1,"error_status":503,"seed":7}'
t_is "set error fault" "$ST" 200
api GET /admin/account.json
t_is "error_rate=1 -> error_status" "$ST" 503
ctl POST /_sim/faults '{"error_rate":0.5,"seed":7}'
codes1=$(for i in $(seq 1 20); do api GET /admin/account.json; printf '%s ' "$ST"; done)
ctl POST /_sim/faults '{"seed":7}'
codes2=$(for i in $(seq 1 20); do api GET /admin/account.json; printf '%s ' "$ST"; done)
t_is "same seed, same fault sequence" "$codes1" "$codes2"
t_ok "error_rate 0.5 mixes 200 and 503" sh -c "echo '$codes1' | grep -q 200 && echo '$codes1' | grep -q 503"
ctl POST /_sim/faults '{"error_rate":0}'

ctl POST /_sim/faults '{"latency_ms":300}'
T0=$(date +%s%N)
api GET /admin/account.json
T1=$(date +%s%N)
t_ok "latency_ms delays answers" test $(((T1 - T0) / 1000000)) -ge 300
t_is "latency answer still 200" "$ST" 200
ctl POST /_sim/faults '{"latency_ms":0,"timeout_rate":1,"timeout_ms":400}'
ST=$(curl -s -o /dev/null -w '%{http_code}' -m 0.2 -u "$SIM_LOGIN:$SIM_PASSWORD" "$SIM_URL/admin/account.json")
t_is "timeout_rate=1: a client with a short timeout gives up" "$ST" 000
api GET /admin/account.json
t_is "timeout_rate=1: 504 after timeout_ms" "$ST" 504
ctl POST /_sim/faults '{"timeout_rate":0}'
ctl POST /_sim/faults '{"error_rate":2}'
t_is "bad fault value -> 422" "$ST" 422

# The request log counts what a client really sent.
ctl GET /_sim/state
N0=$(jb .requests)
api GET '/admin/products.json?per_page=50'
api PUT /admin/products/variants_group_update.json '{"variants":[]}'
ctl GET "/_sim/requests?since=$N0"
t_is "two new requests logged" "$(jb length)" 2
t_is "log has method, path, query, status" \
    "$(jb -c '[.[0].method, .[0].path, .[0].query, .[0].status, .[1].method]')" \
    '["GET","/admin/products.json","per_page=50",200,"PUT"]'
t_ok "seq increases" jq -e '.[0].seq < .[1].seq' "$BODY"

ctl POST /_sim/faults '{"error_rate":1}'
ctl POST /_sim/reset '{}'
api GET /admin/account.json
t_is "reset clears faults" "$ST" 200
ctl GET /_sim/nothing
t_is "unknown control endpoint -> 404" "$ST" 404

# Graceful SIGTERM.
kill -TERM "$SIM_PID"
for i in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SIM_PID"
t_is "SIGTERM -> exit 0" "$?" 0

# Bad flags exit 2 with a message.
"$STORE_SIM_BIN" --login a --password b --limit-status 404 2>"$T_DIR/err"
t_is "bad --limit-status -> exit 2" "$?" 2
t_ok "message names the flag" grep -q -- '--limit-status' "$T_DIR/err"
"$STORE_SIM_BIN" --password b 2>/dev/null
t_is "missing --login -> exit 2" "$?" 2
"$STORE_SIM_BIN" --login a --password b --bogus 2>/dev/null
t_is "unknown flag -> exit 2" "$?" 2
"$STORE_SIM_BIN" --help >"$T_DIR/help"
t_ok "--help lists the flags" grep -q -- '--group-update-delay-ms' "$T_DIR/help"

t_done
