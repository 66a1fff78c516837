#!/usr/bin/env bash
# harness: fresh-kafka
# The monitoring files (deploy/monitoring, docs/monitoring.md) are valid
# and name only metrics the services really export: `promtool check
# config`, `check rules` and `test rules` pass; then the whole stack runs
# against store-sim, goes through catalog, photos, stock and orders, a
# malformed stock message (dead-lettered), a refused webhook, a store
# answering 500 (a retried flush) then 429 (a fleet pause), and every
# metric name the alert rules and the Grafana dashboard query appears as a
# sample in a live scrape of one of the five services (`up` is
# Prometheus's own).
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
. "$OMNISYNC_ROOT/tests/integration/ops/ops-lib.bash"

command -v promtool >/dev/null || t_bail "promtool missing (deploy/install-deps.sh)"
MON="$OMNISYNC_ROOT/deploy/monitoring"
RULES="$MON/alerts.yml"
DASH="$MON/grafana-dashboard.json"

# ---- the files on their own
t_ok "promtool check config prometheus.yml" promtool check config "$MON/prometheus.yml"
t_ok "promtool check rules alerts.yml" promtool check rules "$RULES"
t_ok "promtool test rules alerts_test.yml" promtool test rules "$MON/alerts_test.yml"
t_ok "the dashboard is JSON" jq -e '.panels | length > 0' "$DASH"
# tested ALERT: alerts_test.yml has cases where ALERT fires and where it
# does not.
tested() {
    awk -v a="$1" '
        /alertname:/ { cur = $2 }
        cur == a && /exp_alerts: \[\]/ { quiet = 1 }
        cur == a && /exp_labels:/ { fired = 1 }
        END { exit !(quiet && fired) }' "$MON/alerts_test.yml"
}
for a in $(sed -n 's/^ *- alert: *//p' "$RULES"); do
    t_ok "alerts_test.yml: $a fires and stays quiet" tested "$a"
done
t_nok "(the same for an alert it does not test)" tested OmnisyncNoSuchAlert

# metric_names RULES DASH [SCRAPE...]: the metric names the rules' and the
# dashboard's queries use, one "NAME<TAB>FILE" a line; with scrapes, those
# without a sample in any of them are printed "missing NAME (FILE)" and
# the status is 1.
metric_names() {
    python3 - "$@" <<'PY'
import json, re, sys, yaml

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset", "bool", "inf", "nan"}
BUILTIN = {"up"}  # written by Prometheus itself


def names(expr):
    e = re.sub(r'label_values\(\s*([^,()]*?)\s*,\s*\w+\s*\)', r'\1', expr)
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', e)
    e = re.sub(r'\{[^}]*\}', ' ', e)  # label matchers
    e = re.sub(r'\[[^\]]*\]', ' ', e)  # ranges, subqueries
    e = re.sub(r'\$\{?\w+\}?', ' ', e)  # Grafana variables
    e = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)',
               ' ', e)
    e = re.sub(r'(?<![\w:])[0-9][\w.]*', ' ', e)  # numbers, durations
    out = set()
    for m in re.finditer(r'[a-zA-Z_:][a-zA-Z0-9_:]*', e):
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or m.group(0).lower() in KEYWORDS:
            continue  # a function or an operator
        out.add(m.group(0))
    return out


def dash_exprs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "definition") and isinstance(v, str):
                yield v
            elif k == "query" and isinstance(v, str) and node.get("type") == "query":
                yield v
            else:
                yield from dash_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from dash_exprs(v)


rules, dash, scrapes = sys.argv[1], sys.argv[2], sys.argv[3:]
used = {}
with open(rules) as f:
    for g in yaml.safe_load(f)["groups"]:
        for r in g["rules"]:
            for n in names(r["expr"]):
                used.setdefault(n, set()).add(rules.rsplit("/", 1)[-1])
with open(dash) as f:
    for e in dash_exprs(json.load(f)):
        for n in names(e):
            used.setdefault(n, set()).add(dash.rsplit("/", 1)[-1])
live = set()
for s in scrapes:
    with open(s) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                live.add(re.split(r'[{ ]', line, 1)[0])
missing = 0
for n in sorted(used):
    where = ", ".join(sorted(used[n]))
    if scrapes and n not in live and n not in BUILTIN:
        print("missing %s (%s)" % (n, where))
        missing += 1
    elif not scrapes:
        print("%s\t%s" % (n, where))
sys.exit(1 if missing else 0)
PY
}

metric_names "$RULES" "$DASH" >"$T_TMP/names.txt" || t_bail "metric_names failed"
t_diag "$(wc -l <"$T_TMP/names.txt") metric names in the rules and the dashboard"
t_ok "at least 25 metric names found" [ "$(wc -l <"$T_TMP/names.txt")" -ge 25 ]
for n in up omnisync_ready_check omnisync_kafka_consumer_lag_messages \
    omnisync_store_api_calls_total omnisync_messages_dead_lettered_total \
    omnisync_ledger_to_store_seconds_bucket omnisync_budget_pause_end_time_seconds \
    omnisync_budget_limit_requests omnisync_orders_ingested_total; do
    t_ok "found $n" grep -q "^$n	" "$T_TMP/names.txt"
done
t_nok "no label, function or duration taken for a metric" \
    grep -Eq '^(store|topic|le|job|kind|rate|sum|histogram_quantile|time|m)	' "$T_TMP/names.txt"

# ---- the stack and its work
KOPTS="${HARNESS_KAFKA_OPTS:-} -o kafka.statistics.interval.ms=1000"
SVCS=(relay catpub imgup stockpub ingest)
CAT_IMGUP=1 cat_setup 4 2
# shellcheck disable=SC2086
t_bg stockpub stock-publisher -o log.level=info $KOPTS
ORD_PORT=$(free_port)
# shellcheck disable=SC2086
t_bg ingest order-ingestor -o log.level=info \
    -o intake.listen="127.0.0.1:$ORD_PORT" \
    -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
    -o poll.interval.ms=2000 -o stores.refresh.ms=2000 $KOPTS
declare -A PORT
for s in "${SVCS[@]}"; do
    ops_wait_port "$s" || t_bail "$s logged no 'http listening on'"
    PORT[$s]=$OPS_PORT
done
ready() { [ "$(ops_code "${PORT[$1]}" /readyz)" = 200 ]; }
for s in "${SVCS[@]}"; do
    t_ok "$s: /readyz 200" wait_for 60 ready "$s"
done

t_ok "sync initial: catalog and photos reach the store" \
    omnisync sync initial "$CAT_STORE" --timeout 180
mapfile -t SKUS < <(sql "SELECT sku FROM variant WHERE sku NOT LIKE 'ART-00001-%' ORDER BY sku")
for s in "${SKUS[@]}"; do
    omnisync stock receipt WH1 "$s" 20 --ref "m1-$s" >/dev/null || t_bail "receipt $s"
done
qty_is() { [ "$(sim_get "/_sim/state?skus=1" | jq -r --arg s "$1" '.variants_by_sku[$s].quantity')" = "$2" ]; }
t_ok "stock reaches the store" wait_for 60 qty_is "${SKUS[-1]}" 20
ops_shoppers "$CAT_SIM_PORT" 4 0 "$T_TMP/orders.jsonl" "${SKUS[@]}" >"$T_TMP/orders.out"
orders_in() { [ "$(sql "SELECT count(*) FROM customer_order")" -ge 4 ]; }
t_ok "the orders reach the ledger" wait_for 60 orders_in

# has SVC NAME: NAME has a sample in SVC's scrape.
has() {
    ops_scrape "${PORT[$1]}" "$T_TMP/$1.probe.prom" &&
        [ "$(ops_count "$T_TMP/$1.probe.prom" "$2")" -gt 0 ]
}
t_ok "webhook and poll both saw the orders (duplicates dropped)" \
    wait_for 30 has ingest omnisync_orders_duplicates_dropped_total
printf 'm:not json\n' | kcat -P -b "$OMNISYNC_KAFKA" -t omnisync.stock.v1 -K: ||
    t_bail "kcat produce"
t_ok "the malformed stock message is dead-lettered" \
    wait_for 60 has stockpub omnisync_messages_dead_lettered_total
t_is "a webhook with an unknown secret is refused" \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORD_PORT/hooks/x/orders")" 404
faults() {
    curl -sf -X POST -H 'Content-Type: application/json' -d "$1" \
        "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null || t_bail "faults $1"
}
# The store fails: stock-publisher's flush is retried (messages failed).
faults '{"error_rate":1,"error_status":500}'
omnisync stock receipt WH1 "${SKUS[0]}" 1 --ref m2 >/dev/null || t_bail "receipt"
t_ok "a store error makes stock-publisher retry (messages failed)" \
    wait_for 60 has stockpub omnisync_messages_failed_total
# The store answers 429: whichever service calls first pauses the store
# for the fleet (the order-ingestor polls every 2 s).
faults '{"error_rate":1,"error_status":429}'
pause_end() { # the latest pause end any service reports (0: none)
    local s m=0 v
    for s in "${SVCS[@]}"; do
        ops_scrape "${PORT[$s]}" "$T_TMP/$s.pause.prom" || continue
        [ "$(ops_count "$T_TMP/$s.pause.prom" omnisync_budget_pause_end_time_seconds)" -gt 0 ] || continue
        v=$(ops_sum "$T_TMP/$s.pause.prom" omnisync_budget_pause_end_time_seconds)
        ops_gt "$v" "$m" && m=$v
    done
    echo "$m"
}
paused() { ops_gt "$(pause_end)" 0; }
t_ok "a 429 pauses the store" wait_for 60 paused
t_ok "its end is now or later (the store keeps answering 429)" ops_gt "$(pause_end)" "$(($(date +%s) - 5))"
faults '{"error_rate":0}'

# ---- every name the files use, in a live scrape
sleep 6 # the relay's gauges refresh every 5 s
all_ready() { # FILE: omnisync_ready_check has series, all 1
    local n
    n=$(ops_count "$1" omnisync_ready_check)
    [ "$n" -gt 0 ] && [ "$n" = "$(grep -c '^omnisync_ready_check{.*} 1$' "$1")" ]
}
SCRAPES=()
for s in "${SVCS[@]}"; do
    ops_scrape "${PORT[$s]}" "$T_TMP/$s.prom" || t_bail "scrape $s"
    t_ok "$s: promtool check metrics" ops_promtool "$T_TMP/$s.prom"
    t_ok "$s: its readiness checks reported, all passing" all_ready "$T_TMP/$s.prom"
    SCRAPES+=("$T_TMP/$s.prom")
done
out=$(metric_names "$RULES" "$DASH" "${SCRAPES[@]}")
t_is "every metric of the rules and the dashboard is exported" "$?" 0 || t_diag "$out"
# The check can fail: a name nobody exports is reported.
sed 's/omnisync_outbox_oldest_age_seconds/omnisync_no_such_metric_seconds/' \
    "$RULES" >"$T_TMP/bad-alerts.yml"
out=$(metric_names "$T_TMP/bad-alerts.yml" "$DASH" "${SCRAPES[@]}")
t_is "a rule on an unknown metric fails the check" "$?" 1
t_like "and names it" "$out" '^missing omnisync_no_such_metric_seconds \(bad-alerts.yml\)$'
jq '.panels[1].targets[0].expr = "rate(omnisync_nope_total[5m])"' "$DASH" >"$T_TMP/bad-dash.json"
out=$(metric_names "$RULES" "$T_TMP/bad-dash.json" "${SCRAPES[@]}")
t_is "a panel on an unknown metric fails the check" "$?" 1
t_like "and names it" "$out" '^missing omnisync_nope_total \(bad-dash.json\)$'

for s in "${SVCS[@]}"; do
    t_kill "$s" TERM
done
t_done
