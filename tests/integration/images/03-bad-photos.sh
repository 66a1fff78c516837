#!/usr/bin/env bash
# harness: fresh-kafka
# Bad photos end in the DLQ with their path and reason, and their products
# are still published: stored bytes that are not an image (a damaged
# ledger), a photo whose bytes the ledger does not hold (imported before
# migration 0005 and not backfilled), and a photo the store refuses (422:
# bigger than its limit).  Read back with kcat: Kafka-Connect-style
# headers.
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
CAT_SIM_EXTRA="--image-processing-ms 0 --max-image-bytes 4000"
IMG_BIG=ART-00003
export IMG_BIG
img_setup 10 20 30
corrupt=$(sql "SELECT path FROM product_photo pp JOIN product p ON p.id = pp.product_id
                WHERE p.article = 'ART-00005' AND pp.position = 1")
missing=$(sql "SELECT path FROM product_photo pp JOIN product p ON p.id = pp.product_id
                WHERE p.article = 'ART-00007' AND pp.position = 2")
big=$(sql "SELECT path FROM product_photo pp JOIN product p ON p.id = pp.product_id
            WHERE p.article = 'ART-00003' AND pp.position = 1")
# image-uploader reads the ledger, not the files: damage the stored bytes
# (the size check follows them), and drop one photo's bytes as a ledger
# from before 0005 lacks them (replica mode skips the foreign key).
sql "UPDATE photo_blob SET bytes = 'this is not an image', size = 20
      WHERE sha256 = (SELECT sha256 FROM product_photo WHERE path = '$corrupt')" >/dev/null
sql "SET session_replication_role = replica;
     DELETE FROM photo_blob WHERE sha256 = (SELECT sha256 FROM product_photo WHERE path = '$missing')" >/dev/null
t_is "one photo without bytes" "$(sql "SELECT count(*) FROM product_photo pp
      WHERE NOT EXISTS (SELECT 1 FROM photo_blob b WHERE b.sha256 = pp.sha256)")" 1

out=$(omnisync sync initial "$CAT_STORE" --timeout 120 2>&1)
t_is "sync initial exits 1: something was dead-lettered" "$?" 1
t_like "it ends with every product and the good photos synced" "$out" \
    "products 10/10 variants 20/20 photos 27/30 failed 0/3"
t_like "and says where to look" "$out" "3 photo\(s\) dead-lettered"
t_ok "every product is published anyway" cat_compare
t_diag "$(cat_compare)"
t_is "27 images in the store" "$(sim_get /_sim/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["images"])')" 27

kcat -C -b "$OMNISYNC_KAFKA" -t omnisync.dlq.v1 -o beginning -e -q \
    -f '%k|%h\n' 2>/dev/null | grep "store $CAT_STORE:" >"$T_TMP/dlq.txt"
t_is "three DLQ records for this store" "$(wc -l <"$T_TMP/dlq.txt")" 3
t_diag "$(cat "$T_TMP/dlq.txt")"
c=$(grep -F "$corrupt" "$T_TMP/dlq.txt")
t_like "corrupt photo: path and reason" "$c" "photo $corrupt: not a JPEG, PNG, GIF or WebP \(magic bytes\)"
t_like "corrupt photo: key is the product id" "$c" '^[0-9]+\|'
t_like "origin headers (Kafka Connect names)" "$c" \
    '__connect.errors.topic=omnisync.images.v1,__connect.errors.partition=[0-9]+,__connect.errors.offset=[0-9]+'
t_like "timestamp and service headers" "$c" \
    '__connect.errors.timestamp=[0-9]{13},omnisync.errors.service=image-uploader'
t_like "photo without bytes: path and reason" "$(grep -F "$missing" "$T_TMP/dlq.txt")" \
    "photo $missing: no bytes in the ledger for sha256 [0-9a-f]{64} \\(imported before migration 0005: run omnisync db migrate where the file is, or import the catalog again\\)"
t_like "refused photo: the store's 422 and its message" "$(grep -F 'image_create' "$T_TMP/dlq.txt")" \
    'photo [^,]*ART-00003-1.png: image_create: HTTP 422: .*\{"image":'
t_is "the ledger counts 3 dead-lettered photos for the store" \
    "$(sql "SELECT count(*) FROM dlq_record d JOIN store s ON s.id = d.store_id
             WHERE s.name = '$CAT_STORE' AND d.entity = 'image' AND d.service = 'image-uploader'")" 3

st=$(omnisync status --json | jq -c --arg s "$CAT_STORE" '.store_sync[] | select(.store == $s)')
t_diag "$st"
t_is "status: synced of total, queued, failed" \
    "$(printf '%s' "$st" | jq -c '{products, variants, photos, queued, failed}')" \
    '{"products":{"synced":10,"total":10},"variants":{"synced":20,"total":20},"photos":{"synced":27,"total":30},"queued":{"outbox":0,"image_jobs":0},"failed":3}'
t_like "status: budget used this window" "$(printf "%s" "$st" | jq -c ".budget | [(.used | type), .limit]")" "^\\[\"number\",500\\]$"
t_is "status: nothing left, ETA 0" "$(printf '%s' "$st" | jq '.eta_s')" 0
t_is "status: failing, for the dead letters" "$(printf '%s' "$st" | jq -c '[.state, .dead_letter.service]')" \
    '["failing","image-uploader"]'
t_like "... the reason names them" "$(printf '%s' "$st" | jq -r '.reason')" '^3 dead letters; the newest \(image-uploader, '
t_is "... and status exits 1" "$(omnisync status >/dev/null 2>&1; echo $?)" 1
t_like "status table: per-store lines" "$(omnisync status)" "store $CAT_STORE:.*photos synced +27/30.*failed \(DLQ\) +3"

t_kill imgup TERM
t_is "image-uploader exits 0 on SIGTERM" "$?" 0
t_kill catpub TERM
t_done
