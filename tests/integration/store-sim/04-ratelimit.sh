#!/usr/bin/env bash
# store-sim: the fixed-window API limit (INSALES.md section 7).
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 20 --window 3

usage_ok=0
for i in $(seq 1 20); do
    api GET /admin/account.json
    [ "$ST" = 200 ] && [ "$(hdr API-Usage-Limit)" = "$i/20" ] && usage_ok=$((usage_ok + 1))
done
t_is "20 requests pass with API-Usage-Limit n/20" "$usage_ok" 20
T_START=$(date +%s.%N)
api GET /admin/account.json
t_is "21st request in the window -> 429" "$ST" 429
RA=$(hdr Retry-After)
t_ok "Retry-After is 1..3 seconds" test "$RA" -ge 1 -a "$RA" -le 3
t_is "API-Usage-Limit counts the rejected one" "$(hdr API-Usage-Limit)" "21/20"
api POST /admin/products.json '{"product":{"title":"x"}}'
t_is "writes are limited too" "$ST" 429
t_is "rejected requests count too" "$(hdr API-Usage-Limit)" "22/20"
ctl GET /_sim/state
t_is "state.rejected" "$(jb .rejected)" 2
t_is "status_counts has 429" "$(jb '.status_counts["429"]')" 2
t_is "control API is not limited" "$ST" 200
ST=$(curl -s -o /dev/null -w '%{http_code}' -u "$SIM_LOGIN:nope" "$SIM_URL/admin/account.json")
t_is "bad credentials still 401 while limited" "$ST" 401

# Wait for the window to end (Retry-After), then requests pass again.
sleep "$RA"
api GET /admin/account.json
t_is "after Retry-After the request passes" "$ST" 200
t_is "a new window starts at 1" "$(hdr API-Usage-Limit)" "1/20"
t_ok "waited no longer than the window" awk -v s="$T_START" -v e="$(date +%s.%N)" 'BEGIN{exit !(e - s <= 4.5)}'
sim_stop

# --limit-status 503.
sim_start --limit 2 --window 60 --limit-status 503
api GET /admin/account.json
api GET /admin/account.json
api GET /admin/account.json
t_is "--limit-status 503" "$ST" 503
RA=$(hdr Retry-After)
t_ok "Retry-After about 60 s" test "$RA" -ge 59 -a "$RA" -le 60
ctl POST /_sim/reset '{}'
api GET /admin/account.json
t_is "reset also clears the window" "$(hdr API-Usage-Limit)" "1/2"
sim_stop

# --limit 0 disables the limit (and the header).
sim_start --limit 0
for i in $(seq 1 30); do api GET /admin/account.json; done
t_is "--limit 0: request 30 passes" "$ST" 200
t_is "--limit 0: no API-Usage-Limit header" "$(hdr API-Usage-Limit)" ""

t_done
