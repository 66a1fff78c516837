#!/usr/bin/env bash
# store-sim: updated_since + from_id paging returns every change exactly
# once, in (updated_at, id) order, while products change underneath.
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0 --group-update sync

uri() { jq -rn --arg s "$1" '$s|@uri'; }

# 60 products made in one operation share one updated_at: the pages must
# be split by from_id inside that millisecond.
ctl POST /_sim/products "$(jq -nc '{products: [range(0; 60) | {title: "P\(.)", variants_attributes: [{sku: "S\(.)", price: 10, quantity: 5}]}]}')"
t_is "60 products pre-filled" "$(jb .created)" 60
mapfile -t IDS < <(jb '.ids[]')
api GET '/admin/products.json?per_page=250'
t_is "they share one updated_at" "$(jb '[.[].updated_at] | unique | length')" 1

SEEN=$T_DIR/seen
: >"$SEEN"
since="2000-01-01T00:00:00.000+03:00"
from=0
pages=0
changed=0
for i in $(seq 1 200); do
    api GET "/admin/products.json?per_page=10&updated_since=$(uri "$since")&from_id=$from"
    [ "$ST" = 200 ] || break
    n=$(jb length)
    [ "$n" = 0 ] && break
    pages=$((pages + 1))
    jb '.[] | "\(.id) \(.updated_at)"' >>"$SEEN"
    since=$(jb '.[-1].updated_at')
    from=$(jb '.[-1].id')
    # Change products underneath: one already returned, one not yet.
    if [ "$i" -le 8 ]; then
        # A product changed after it was returned must come back once more;
        # one changed before it was reached is returned once, changed.
        for x in "${IDS[$((i * 3))]}" "${IDS[$((59 - i))]}"; do
            grep -q "^$x " "$SEEN" && changed=$((changed + 1))
        done
        api PUT "/admin/products/${IDS[$((i * 3))]}.json" "{\"product\":{\"title\":\"changed $i\"}}"
        api PUT "/admin/products/${IDS[$((59 - i))]}/variants/$(curl -s -u "$SIM_LOGIN:$SIM_PASSWORD" "$SIM_URL/admin/products/${IDS[$((59 - i))]}.json" | jq '.variants[0].id').json" '{"variant":{"quantity":1}}'
    fi
done
t_ok "loop ended on an empty page" test "$n" = 0
t_ok "some products changed after they were returned" test "$changed" -gt 0
t_ok "more than 6 pages were needed" test "$pages" -gt 6
t_is "no (id, updated_at) pair returned twice" "$(sort "$SEEN" | uniq -d | wc -l)" 0
t_ok "pages come in (updated_at, id) order" sort -c -t' ' -k2,2 -k1,1n "$SEEN"
t_is "every product seen" "$(cut -d' ' -f1 "$SEEN" | sort -u | wc -l)" 60
api GET '/admin/products.json?per_page=250'
jb '.[] | "\(.id) \(.updated_at)"' | sort >"$T_DIR/final"
t_is "every product's final version was returned" \
    "$(sort "$SEEN" | comm -13 - "$T_DIR/final" | wc -l)" 0
t_is "each version seen exactly once (60 + re-changed)" "$(wc -l <"$SEEN")" $((60 + changed))

# A group update touches 25 products in one millisecond; paging from the
# last cursor returns exactly those 25 across three pages.
since=$(sort -t' ' -k2,2 -k1,1n "$SEEN" | tail -1 | cut -d' ' -f2)
from=$(sort -t' ' -k2,2 -k1,1n "$SEEN" | tail -1 | cut -d' ' -f1)
BODYJ=$(curl -s -u "$SIM_LOGIN:$SIM_PASSWORD" "$SIM_URL/admin/products.json?per_page=250" |
    jq -c '{variants: [.[0:25][] | {id: .variants[0].id, quantity: 42}]}')
api PUT /admin/products/variants_group_update.json "$BODYJ"
t_is "group update (sync) -> 200" "$ST" 200
: >"$SEEN"
for i in $(seq 1 10); do
    api GET "/admin/products.json?per_page=10&updated_since=$(uri "$since")&from_id=$from"
    n=$(jb length)
    [ "$n" = 0 ] && break
    jb '.[] | "\(.id) \(.updated_at)"' >>"$SEEN"
    since=$(jb '.[-1].updated_at')
    from=$(jb '.[-1].id')
done
t_is "25 products after the cursor" "$(wc -l <"$SEEN")" 25
t_is "25 distinct" "$(cut -d' ' -f1 "$SEEN" | sort -u | wc -l)" 25
t_is "all in one millisecond" "$(cut -d' ' -f2 "$SEEN" | sort -u | wc -l)" 1

# from_id is ignored without updated_since.
api GET "/admin/products.json?per_page=250&from_id=${IDS[50]}"
t_is "from_id alone is ignored" "$(jb length)" 60

# updated_since with an unescaped '+' (decoded to a space) still works.
ST=$(curl -s -o "$BODY" -w '%{http_code}' -u "$SIM_LOGIN:$SIM_PASSWORD" \
    "$SIM_URL/admin/products/count.json?updated_since=2000-01-01T00:00:00.000+03:00")
t_is "unescaped offset accepted" "$(jb .count)" 60
api GET "/admin/products/count.json?updated_since=$(uri "$since")"
t_is "updated_since is inclusive (>=)" "$(jb .count)" 25

t_done
