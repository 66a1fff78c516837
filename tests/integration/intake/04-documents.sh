#!/usr/bin/env bash
# Documents: supplier receipts, returns to suppliers, transfers and
# write-offs with a number, date, counterparty, location(s) and lines;
# each line a movement referencing its document.  `omnisync doc import`
# (one document, or several), `doc list`, `doc show`; ledger-api's POST
# /v1/documents.  The same number with the same content is a no-op, with
# other content an error; a bad document applies nothing.
. "$(dirname "$0")/intake-lib.bash"

st_ledger 1 3 # STK-0001-01..03
omnisync location add R001 --kind outlet >/dev/null || t_bail "location"
run() { RC=0; OUT=$("$@" 2>"$T_TMP/run.err") || RC=$?; ERR=$(cat "$T_TMP/run.err"); }

cat >"$T_TMP/docs.json" <<'J'
{"documents": [
 {"number": "PR-0001", "kind": "supplier_receipt", "date": "2026-12-01",
  "counterparty": "ООО Поставщик", "location": "WH1",
  "lines": [{"sku": "STK-0001-01", "qty": 10}, {"sku": "STK-0001-02", "qty": 5}]},
 {"number": "TR-0001", "kind": "transfer", "date": "2026-12-02",
  "location": "WH1", "to_location": "R001",
  "lines": [{"sku": "STK-0001-01", "qty": 4}]},
 {"number": "RS-0001", "kind": "supplier_return", "date": "2026-12-02",
  "counterparty": "ООО Поставщик", "location": "WH1",
  "lines": [{"sku": "STK-0001-02", "qty": 1}]},
 {"number": "WO-0001", "kind": "writeoff", "date": "2026-12-03",
  "location": "R001", "lines": [{"sku": "STK-0001-01", "qty": 1}]}
]}
J
run omnisync doc import "$T_TMP/docs.json"
t_is "doc import: exit 0" "$RC" 0
t_like "four applied" "$OUT" 'doc import: 4 documents, 4 applied, 0 unchanged, 0 refused'
t_is "WH1 STK-0001-01 = 10 - 4" "$(onhand WH1 STK-0001-01)" 6
t_is "R001 STK-0001-01 = 4 - 1" "$(onhand R001 STK-0001-01)" 3
t_is "WH1 STK-0001-02 = 5 - 1" "$(onhand WH1 STK-0001-02)" 4
t_is "each line a movement referencing its document" \
    "$(sql "SELECT string_agg(d.number || ':' || m.kind, ',' ORDER BY m.id) FROM stock_movement m JOIN document d ON d.id = m.document_id")" \
    "PR-0001:receipt,PR-0001:receipt,TR-0001:transfer,RS-0001:writeoff,WO-0001:writeoff"

n=$(sql "SELECT count(*) FROM stock_movement")
run omnisync doc import "$T_TMP/docs.json"
t_is "the same file again: exit 0" "$RC" 0
t_like "all unchanged" "$OUT" '4 documents, 0 applied, 4 unchanged, 0 refused'
t_is "no movement added" "$(sql "SELECT count(*) FROM stock_movement")" "$n"

sed 's/"qty": 10/"qty": 11/' "$T_TMP/docs.json" >"$T_TMP/changed.json"
run omnisync doc import "$T_TMP/changed.json"
t_is "same number, other content: exit 2" "$RC" 2
t_like "named" "$ERR" 'document 1: number PR-0001 exists with other content'
t_is "nothing changed" "$(onhand WH1 STK-0001-01)" 6

printf '{"number":"PR-0002","kind":"supplier_receipt","date":"2026-13-01","location":"WH1","lines":[{"sku":"STK-0001-03","qty":1},{"sku":"NOPE","qty":2},{"sku":"STK-0001-03","qty":0}]}' >"$T_TMP/bad.json"
run omnisync doc import "$T_TMP/bad.json"
t_is "a bad date: exit 2" "$RC" 2
t_like "the date named" "$ERR" 'document 1 \(PR-0002\): date: not a date YYYY-MM-DD'
sed -i 's/2026-13-01/2026-12-05/' "$T_TMP/bad.json"
run omnisync doc import "$T_TMP/bad.json"
t_is "bad lines: exit 2" "$RC" 2
t_like "the unknown SKU named" "$ERR" 'lines\[1\]\.sku: unknown SKU "NOPE"'
t_like "the zero quantity named" "$ERR" 'lines\[2\]\.qty: a positive integer'
t_is "a bad document is not stored" "$(sql "SELECT count(*) FROM document WHERE number = 'PR-0002'")" 0
t_is "nor its good line" "$(onhand WH1 STK-0001-03)" 0
printf '{"number": 1,' >"$T_TMP/broken.json"
run omnisync doc import "$T_TMP/broken.json"
t_like "broken JSON: FILE:LINE:COLUMN" "$ERR" 'broken.json:1:'

run omnisync doc list
t_like "doc list" "$OUT" 'PR-0001 +supplier_receipt +2026-12-01 +ООО Поставщик +WH1 +2'
run omnisync doc list --kind transfer --json
t_is "doc list --kind --json" "$(jq -c '[.[] | [.number, .location, .to_location, .lines]]' <<<"$OUT")" '[["TR-0001","WH1","R001",1]]'
run omnisync doc show TR-0001
t_like "doc show" "$OUT" 'TR-0001 transfer 2026-12-02 - at WH1 -> R001, 1 lines'
t_like "doc show: its movement" "$OUT" 'movement [0-9]+ transfer R001 STK-0001-01 4'
run omnisync doc show NOPE
t_is "unknown document: exit 2" "$RC" 2

# The API.
la_start api -o kafka.bootstrap=
TOK=$(la_token docs documents:write)
api POST /v1/documents "$TOK" '{"number":"PR-0003","kind":"supplier_receipt","date":"2026-12-06","counterparty":"Supplier","location":"WH1","lines":[{"sku":"STK-0001-03","qty":7}]}'
t_is "POST /v1/documents: 200 applied" "$CODE $(jq -r .result <<<"$BODY_OUT")" "200 applied"
t_is "its line applied" "$(onhand WH1 STK-0001-03)" 7
api POST /v1/documents "$TOK" '{"number":"PR-0003","kind":"supplier_receipt","date":"2026-12-06","counterparty":"Supplier","location":"WH1","lines":[{"sku":"STK-0001-03","qty":7}]}'
t_is "again: 200 unchanged" "$CODE $(jq -r .result <<<"$BODY_OUT")" "200 unchanged"
api POST /v1/documents "$TOK" '{"number":"PR-0003","kind":"supplier_receipt","date":"2026-12-06","location":"WH1","lines":[{"sku":"STK-0001-03","qty":8}]}'
t_is "other content: 409" "$CODE" 409
api POST /v1/documents "$TOK" '{"number":"PR-0004","kind":"transfer","date":"2026-12-06","location":"WH1","lines":[{"sku":"STK-0001-03","qty":1}]}'
t_is "a transfer without to_location: 422" "$CODE $(jq -c '[.errors[].field]' <<<"$BODY_OUT")" '422 ["to_location"]'
t_is "still 7" "$(onhand WH1 STK-0001-03)" 7
out=$(la_openapi 2>&1)
t_ok "the exchanges match proto/ledger-api.openapi.yaml" test $? = 0
t_diag "$out"
t_ok "ledger-api stops on SIGTERM" t_kill api
t_done
