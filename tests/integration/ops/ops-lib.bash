# shellcheck shell=bash
# tests/integration/ops/ops-lib.bash — helpers of the ops scripts (not a
# test itself: tests/run.sh runs only files that start with a digit).
#
#   ops_port NAME                 the port NAME's log says its ops endpoint
#                                 listens on (the last "http listening on
#                                 HOST:PORT (/healthz /readyz /metrics)")
#   ops_wait_port NAME            wait until NAME logged it; sets OPS_PORT
#   ops_get PORT PATH             GET 127.0.0.1:PORT/PATH (body on stdout)
#   ops_code PORT PATH            its HTTP status
#   ops_scrape PORT FILE          /metrics into FILE (1 when it failed)
#   ops_promtool FILE             `promtool check metrics` on FILE
#   ops_sum FILE NAME [MATCH]     the sum of NAME's samples whose labels
#                                 contain every comma-separated MATCH
#                                 (e.g. 'topic="omnisync.stock.v1"'); 0
#                                 when there is none
#   ops_count FILE NAME [MATCH]   how many such samples there are
#   ops_no_confwarn NAME...       ok when no log of NAME... has CONFWARN
#   ops_shoppers PORT N DELAY OUT SKU...
#                                 N store orders of 2 SKUs (1-2 each) on the
#                                 store-sim at PORT, DELAY seconds apart;
#                                 the orders as JSON lines in OUT, the
#                                 number placed on stdout

ops_port() {
    sed -n 's/.*http listening on [^ ]*:\([0-9][0-9]*\) (\/healthz .*/\1/p' \
        "$T_TMP/$1.log" 2>/dev/null | tail -1
}

ops_wait_port() {
    local name=$1 i
    OPS_PORT=
    for ((i = 0; i < 300; i++)); do
        OPS_PORT=$(ops_port "$name")
        [ -n "$OPS_PORT" ] && return 0
        sleep 0.1
    done
    return 1
}

ops_get() { curl -s --max-time 10 "http://127.0.0.1:$1$2"; }

ops_code() {
    curl -s -o /dev/null --max-time 10 -w '%{http_code}' "http://127.0.0.1:$1$2"
}

ops_scrape() {
    curl -sf --max-time 10 "http://127.0.0.1:$1/metrics" >"$2"
}

ops_promtool() { promtool check metrics <"$1" 2>&1; }

# _ops_select FILE NAME [MATCH]: the values of NAME's matching samples.
_ops_select() {
    awk -v name="$2" -v match_="${3:-}" '
        /^#/ { next }
        {
            split($1, a, "{")
            if (a[1] != name) next
            n = split(match_, m, ",")
            for (i = 1; i <= n; i++)
                if (m[i] != "" && index($1, m[i]) == 0) next
            print $2
        }' "$1"
}

ops_sum() {
    _ops_select "$@" | awk '{ s += $1 } END { printf "%.6f\n", s + 0 }'
}

ops_count() { _ops_select "$@" | wc -l | tr -d ' '; }

# ops_gt A B: A > B as numbers.
ops_gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

ops_no_confwarn() {
    local n bad=
    for n in "$@"; do
        if grep -q CONFWARN "$T_TMP/$n.log"; then
            bad="$bad $n"
            grep -m 3 CONFWARN "$T_TMP/$n.log"
        fi
    done
    [ -z "$bad" ] || {
        echo "CONFWARN in:$bad"
        return 1
    }
}

ops_shoppers() {
    python3 - "$@" <<'PY'
import http.client, json, random, sys, time
port, n, delay, out, skus = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5:]
rnd = random.Random(n)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
placed = 0
with open(out, "w") as f:
    for i in range(n):
        order = {"lines": [{"sku": s, "quantity": rnd.randint(1, 2)} for s in rnd.sample(skus, 2)],
                 "delivery_title": "Courier", "delivery_price": "300.0",
                 "client": {"name": "Shopper %d" % i}}
        conn.request("POST", "/_sim/orders", json.dumps(order), {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        if r.status == 201:
            placed += 1
            f.write(body.decode() + "\n")
            f.flush()
        time.sleep(delay)
print(placed)
PY
}
