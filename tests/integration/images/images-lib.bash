# shellcheck shell=bash
# tests/integration/images/images-lib.bash — helpers of the image-uploader
# scripts (not a test itself: tests/run.sh runs only *.sh).
#
#   . "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
#   img_setup NP NV NPH     # catalog of NP products, NV variants in all,
#                           # NPH photos in all (distinct contents), then
#                           # cat_setup (store-sim, relay, publisher) and
#                           # one image-uploader "imgup"
#   img_uploader_start NAME # another image-uploader
#   img_compare             # every product's photos in store-sim (count
#                           # and SHA-256 per position) equal the ledger's,
#                           # no duplicate image; needs cat_compare first
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_IMGUP=1 # photos are part of a sync

# A lean store for a big sync: 500 calls per 5 s instead of 5 minutes,
# images ready at once.
CAT_LIMIT=${CAT_LIMIT:-500}
CAT_WINDOW=${CAT_WINDOW:-5}
CAT_SIM_EXTRA=${CAT_SIM_EXTRA:---image-processing-ms 0}

# cat_gen DIR NP NV: NP products, NV variants in all (spread evenly),
# IMG_NPH photos in all (spread evenly, PNG and JPEG alternating, each one
# distinct: a PNG tEXt chunk or a JPEG comment carries its name).
cat_gen() {
    python3 - "$1" "$2" "$3" "${IMG_NPH:-0}" \
        "$OMNISYNC_ROOT/tests/fixtures/catalog/photos" <<'PY'
import os, struct, sys, zlib
d, np_, nv, nph, fix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
os.makedirs(d + "/photos", exist_ok=True)
png = open(fix + "/red.png", "rb").read()
jpg = open(fix + "/grey.jpg", "rb").read()
def mk_png(text):
    body = b"tEXt" + b"Comment\0" + text.encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)
    return png[:33] + chunk + png[33:]  # after the signature and IHDR
def mk_jpg(text):
    t = text.encode()
    return jpg[:2] + b"\xff\xfe" + struct.pack(">H", len(t) + 2) + t + jpg[2:]
groups = ["Одежда/Мужская/Рубашки", "Одежда/Женская/Платья", "Одежда/Детская",
          "Обувь/Кроссовки", "Аксессуары"]
colors = ["красный", "синий", "зелёный", "чёрный"]
sizes = ["S", "M", "L", "XL", "XXL", "3XL"]
rows = ["Group;Article;Name;Description;SKU;Barcode;Color;Size;Price;Old_Price;Photos"]
k = 0
for p in range(1, np_ + 1):
    art = "ART-%05d" % p
    nvp = nv // np_ + (1 if p <= nv % np_ else 0)
    nphp = nph // np_ + (1 if p <= nph % np_ else 0)
    photos = []
    for i in range(1, nphp + 1):
        k += 1
        name = "photos/%s-%d.%s" % (art, i, "png" if k % 2 else "jpg")
        text = "%s photo %d" % (art, i)
        if art == os.environ.get("IMG_BIG", "") and i == 1:
            text += " " + "x" * 6000  # bigger than the store accepts
        data = (mk_png if k % 2 else mk_jpg)(text)
        open(d + "/" + name, "wb").write(data)
        photos.append(name)
    for v in range(1, nvp + 1):
        first = v == 1
        rows.append(";".join([
            groups[p % 5] if first else "", art,
            "Товар %d" % p if first else "",
            ("Описание товара %s" % art) if first else "",
            "%s-%d" % (art, v), "46%011d" % (p * 10 + v),
            colors[v % 4], sizes[(v - 1) % 6],
            "%d,50" % (p * 10 + v), ("%d,00" % (p * 10 + 900)) if first and p % 2 == 0 else "",
            "|".join(photos) if first else ""]))
open(d + "/catalog.csv", "w").write("\r\n".join(rows) + "\r\n")
PY
}

img_uploader_start() {
    t_bg "${1:-imgup}" image-uploader -o log.level=info \
        -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500 \
        "${@:2}"
}

img_setup() {
    IMG_NPH=$3
    cat_setup "$1" "$2" # starts image-uploader "imgup" too
}

# img_count_photos: photos in the ledger (active products).
img_count_photos() {
    sql "SELECT count(*) FROM product_photo pp JOIN product p ON p.id = pp.product_id WHERE NOT p.archived"
}

img_compare() {
    sql "SELECT json_object_agg(v.sku, x.photos) FROM (
           SELECT p.id, json_agg(json_build_array(pp.position, pp.sha256)
                                 ORDER BY pp.position) AS photos
             FROM product p JOIN product_photo pp ON pp.product_id = p.id
            WHERE NOT p.archived GROUP BY p.id) x
         JOIN LATERAL (SELECT sku FROM variant WHERE product_id = x.id
                        AND NOT archived ORDER BY position, id LIMIT 1) v ON true" \
        >"$T_TMP/ledger-photos.json"
    python3 - "$T_TMP" "http://127.0.0.1:$CAT_SIM_PORT" <<'PY'
import json, sys, urllib.request
d, base = sys.argv[1], sys.argv[2]
ledger = json.load(open(d + "/ledger-photos.json")) or {}
prods = [json.loads(l) for l in open(d + "/products.jsonl")]
by_sku = {v["sku"]: p for p in prods for v in p["variants"]}
bad, nimg, dups = [], 0, 0
for sku, photos in ledger.items():
    p = by_sku.get(sku)
    if not p: bad.append(sku + ": product missing"); continue
    imgs = json.load(urllib.request.urlopen("%s/_sim/products/%d/images" % (base, p["id"])))
    nimg += len(imgs)
    hashes = [i["sha256"] for i in imgs]
    want = [h for _, h in photos]
    # identical content twice in the ledger is two images (not a duplicate)
    dups += (len(hashes) - len(set(hashes))) - (len(want) - len(set(want)))
    if sorted(hashes) != sorted(want):
        bad.append("%s: store %d images, ledger %d photos (hashes differ)" % (sku, len(hashes), len(want)))
        continue
    got = [i["sha256"] for i in sorted(imgs, key=lambda i: i["position"])]
    if got != want: bad.append(sku + ": positions differ")
    for i in imgs:
        if not i["filename"].startswith(i["sha256"][:16] + "."):
            bad.append("%s: filename %s" % (sku, i["filename"]))
print("ledger photos=%d store images=%d duplicates=%d mismatches=%d"
      % (sum(len(v) for v in ledger.values()), nimg, dups, len(bad)))
for b in bad[:10]: print("  " + b)
sys.exit(1 if bad or dups else 0)
PY
}

# img_wait_all: until every photo is recorded in remote_map (TIMEOUT s).
img_all_recorded() {
    [ "$(sql "SELECT count(*) FROM product_photo pp JOIN product p ON p.id = pp.product_id
               LEFT JOIN remote_map rm ON rm.entity = 'image' AND rm.local_id = pp.id
                AND rm.payload_hash = pp.sha256 AND rm.remote_id > 0
              WHERE NOT p.archived AND rm.local_id IS NULL")" = 0 ]
}
