#!/usr/bin/env bash
# omnisync store add|list|show: settings stored, source order, validation
# (exit 2), and the API password encrypted and never printed.
. "$(dirname "$0")/cli-lib.bash"

cli_chain || t_bail "setting up the chain failed"
PW='pw-Zq7#secret'

run cli_store S1 WEB1 WH2,WH1,WH2 --safety-stock 2 --api-limit 400 --api-window 120
t_is "store add exits 0" "$RC" 0
t_like "store add says so" "$OUT" '^added store S1 \(3 source locations'

t_is "sources: online location first, then as given, deduplicated" \
    "$(sql "SELECT string_agg(l.code || '@' || ss.position, ',' ORDER BY ss.position)
            FROM store_source ss JOIN store s ON s.id = ss.store_id
            JOIN location l ON l.id = ss.location_id WHERE s.name = 'S1'")" \
    "WEB1@0,WH2@1,WH1@2"
WH=$(omnisync store show S1 --webhook-secret --json | jq -r .webhook_secret)
t_like "webhook secret: 32 hex chars" "$WH" '^[0-9a-f]{32}$'
t_is "webhook secret sealed: no plain column, a 48-byte box, its SHA-256" \
    "$(sql "SELECT webhook_secret IS NULL, length(webhook_box), length(webhook_nonce),
                   encode(webhook_hash, 'hex') = encode(sha256('$WH'::bytea), 'hex')
            FROM store WHERE name = 'S1'")" "t|48|24|t"
t_is "no column of the row holds the webhook secret" \
    "$(sql "SELECT count(*) FROM store s WHERE s::text LIKE '%$WH%'")" 0

# ---- the password: encrypted in the database, never printed
t_is "the password column is not the plaintext" \
    "$(sql "SELECT count(*) FROM store WHERE position(convert_to('$PW', 'UTF8') in password_box) > 0
              OR position(convert_to('$PW', 'UTF8') in password_nonce) > 0")" 0
t_is "nor any text column holds it" \
    "$(sql "SELECT count(*) FROM store s WHERE s::text LIKE '%Zq7#secret%'")" 0
t_is "password box = plaintext + 16-byte MAC" \
    "$(sql "SELECT length(password_box) FROM store WHERE name = 'S1'")" $((${#PW} + 16))
t_is "24-byte nonce" "$(sql "SELECT length(password_nonce) FROM store WHERE name = 'S1'")" 24

printf '%s\n' "other-PW-file" >"$T_TMP/pw"
run omnisync store add S2 --platform insales --url http://127.0.0.1:8080/ --login l2 \
    --password-file "$T_TMP/pw" --online-location WEB2 --source-locations WH1 \
    --price-list ONLINE --delivery-sku DELIVERY
t_is "store add with --password-file" "$RC" 0
t_is "each store has its own nonce" \
    "$(sql "SELECT count(DISTINCT password_nonce) FROM store")" 2
t_is "the file's trailing newline is not part of the password" \
    "$(sql "SELECT length(password_box) FROM store WHERE name = 'S2'")" $((13 + 16))

run omnisync store list
t_is "store list exits 0" "$RC" 0
t_is "store list table" "$OUT" "$(printf '%s\n' \
    'name  platform  url                     login     online_location  source_locations  price_list  delivery_sku  return_location  safety_stock  api_limit  api_window' \
    'S1    insales   https://shop.example    api-user  WEB1             WH2,WH1           ONLINE      DELIVERY      WEB1             2             400        120' \
    'S2    insales   http://127.0.0.1:8080/  l2        WEB2             WH1               ONLINE      DELIVERY      WEB2             0             500        300')"
run omnisync store list --json
t_is "store list --json" "$(printf '%s' "$OUT" | jq -c '.[0]')" \
    '{"name":"S1","platform":"insales","url":"https://shop.example","login":"api-user","online_location":"WEB1","source_locations":["WH2","WH1"],"price_list":"ONLINE","delivery_sku":"DELIVERY","return_location":"WEB1","safety_stock":2,"api_limit":400,"api_window":120}'
all="$(omnisync store list) $(omnisync store list --json) $(omnisync store show S1) $(omnisync store show S1 --json)"
t_unlike "no password in list/show output" "$all" 'Zq7#secret|other-PW-file'
t_unlike "no webhook secret in list/show by default" "$all" "$WH"
run omnisync store show S1 --webhook-secret
t_like "store show --webhook-secret" "$OUT" "webhook_secret +$WH"
OMNISYNC_SECRET_KEY= run omnisync store show S1 --webhook-secret
t_is "store show --webhook-secret without the key: exit 2" "$RC" 2
t_unlike "... and no secret printed" "$OUT $ERR" "$WH"
run omnisync store show NOPE
t_is "store show unknown: exit 2" "$RC" 2

# ---- validation: exit 2, a clear message, nothing stored, no password
base=(--platform insales --url https://x.example --login l --password-env CLI_PW
    --online-location WEB2 --source-locations WH1 --price-list ONLINE --delivery-sku DELIVERY)
check() { # NAME REGEX ARGS...
    local name=$1 re=$2
    shift 2
    CLI_PW="$PW" run omnisync store add "$@"
    t_is "$name: exit 2" "$RC" 2
    t_like "$name: message" "$ERR" "$re"
    t_unlike "$name: no password in the message" "$OUT $ERR" 'Zq7#secret'
}
sql "DELETE FROM outbox; DELETE FROM store_source WHERE store_id = (SELECT id FROM store WHERE name = 'S2'); DELETE FROM store WHERE name = 'S2'"
check "duplicate name" "store 'S1' already exists" S1 "${base[@]}"
check "online location taken" "online location 'WEB1' already belongs to store 'S1'" \
    S3 "${base[@]}" --online-location WEB1
check "online location not online" "'WH2' is a warehouse, not an online location" \
    S3 "${base[@]}" --online-location WH2
check "unknown online location" "unknown online location 'NOPE'" S3 "${base[@]}" --online-location NOPE
check "unknown source location" "unknown source location 'WH9'" S3 "${base[@]}" --source-locations WH1,WH9
check "bad source list" "bad --source-locations" S3 "${base[@]}" --source-locations WH1,
check "unknown price list" "unknown price list 'NOPE'" S3 "${base[@]}" --price-list NOPE
check "unknown delivery SKU" "unknown delivery SKU 'NOPE'" S3 "${base[@]}" --delivery-sku NOPE
check "platform" "--platform must be 'insales'" S3 "${base[@]}" --platform shopify
check "url scheme" "bad --url 'ftp://x'" S3 "${base[@]}" --url ftp://x
check "url without host" "bad --url" S3 "${base[@]}" --url https://
check "safety stock" "bad --safety-stock '-1'" S3 "${base[@]}" --safety-stock -1
check "api limit" "bad --api-limit '0'" S3 "${base[@]}" --api-limit 0
check "api window" "bad --api-window 'x'" S3 "${base[@]}" --api-window x
check "both password sources" "exactly one of --password-env" S3 "${base[@]}" --password-file "$T_TMP/pw"
check "unset password variable" "environment variable NO_SUCH_VAR is not set" \
    S3 "${base[@]}" --password-env NO_SUCH_VAR
check "missing password file" "cannot read --password-file" \
    S3 "${base[@]/--password-env/--password-file}"
: >"$T_TMP/empty"
check "empty password file" "first line is empty" \
    S3 --platform insales --url https://x.example --login l --password-file "$T_TMP/empty" \
    --online-location WEB2 --source-locations WH1 --price-list ONLINE --delivery-sku DELIVERY
check "bad name" "bad store name" "S 3" "${base[@]}"
check "missing --login" "--login is required" S3 --platform insales --url https://x.example \
    --password-env CLI_PW --online-location WEB2 --source-locations WH1 --price-list ONLINE \
    --delivery-sku DELIVERY
OMNISYNC_SECRET_KEY= check "no secret key" "OMNISYNC_SECRET_KEY is not set" S3 "${base[@]}"
OMNISYNC_SECRET_KEY=0123abcd check "short secret key" "OMNISYNC_SECRET_KEY\): key must be 64 hex" S3 "${base[@]}"
t_unlike "the bad key is not echoed" "$ERR" "0123abcd"
OMNISYNC_SECRET_KEY=$(printf '%064d' 0) check "all-zero secret key" \
    "secret.key \(OMNISYNC_SECRET_KEY\): key is weak" S3 "${base[@]}"
t_unlike "the weak key is not echoed" "$ERR" "00000000"
OMNISYNC_SECRET_KEY=$(printf 'deadbeef%.0s' 1 2 3 4 5 6 7 8) check "a repeated pattern as key" \
    "key is weak \(only 4 distinct bytes" S3 "${base[@]}"
t_is "no store added by the failures" "$(sql "SELECT string_agg(name, ',') FROM store")" "S1"
t_is "no event from the failures" "$(sql "SELECT count(*) FROM outbox")" 0
t_done
