#!/usr/bin/env bash
# omnisync import catalog stores photos by content: each photo is read once,
# checked (a regular file, at most import.photo_max_bytes, a JPEG, PNG, GIF
# or WebP by magic bytes) and its bytes stored in photo_blob under their
# SHA-256; a bad photo is FILE:LINE:COL: photo PATH: REASON and nothing is
# applied; identical photos are stored once.
. "$(dirname "$0")/import-lib.bash"

d=$T_TMP/cat
mkdir -p "$d/photos"
cp "$FIX"/photos/*.png "$FIX"/photos/*.jpg "$d/photos/"
cp "$d/photos/red.png" "$d/photos/red-copy.png" # same bytes, another name
printf 'GIF89a\001\000\001\000\000\000\000;' >"$d/photos/dot.gif"
printf 'RIFF\024\000\000\000WEBPVP8L\010\000\000\000/\000\000\000\000\000\000\000' >"$d/photos/dot.webp"
cat >"$d/ok.csv" <<'CSV'
article,name,sku,photos
P-1,One,P-1-A,photos/red.png|photos/grey.jpg
P-2,Two,P-2-A,photos/red-copy.png|photos/dot.gif
P-3,Three,P-3-A,photos/dot.webp|photos/red.png
CSV
sum0=$(ledger_sum)

# A bad photo of each kind, each on its own line; nothing is applied.
printf 'this is not an image\n' >"$d/photos/notes.jpg"
{ printf '\211PNG\r\n\032\n'; head -c 3000 /dev/zero; } >"$d/photos/big.png"
mkfifo "$d/photos/pipe.png"
mkdir "$d/photos/dir.png"
cat >"$d/bad.csv" <<'CSV'
article,name,sku,photos
P-1,One,P-1-A,photos/red.png|photos/notes.jpg
P-2,Two,P-2-A,photos/big.png
P-3,Three,P-3-A,photos/pipe.png
P-4,Four,P-4-A,photos/dir.png
CSV
RC=0
OUT=$(timeout 20 omnisync -o import.photo_max_bytes=2000 import catalog "$d/bad.csv" 2>"$T_TMP/run.err") || RC=$?
ERR=$(cat "$T_TMP/run.err")
t_diag "$ERR"
t_is "bad photos: exit 2 (a FIFO does not block the import)" "$RC" 2
t_like "not an image: FILE:LINE, path, reason" "$ERR" \
    "bad.csv:2:[0-9]+: photo \"photos/notes.jpg\": not a JPEG, PNG, GIF or WebP \\(magic bytes\\) \\($d/photos/notes.jpg\\)"
t_like "too big: the limit and its key" "$ERR" \
    "bad.csv:3:[0-9]+: photo \"photos/big.png\": too big: 3008 bytes > import.photo_max_bytes 2000"
t_like "a FIFO is not a regular file" "$ERR" \
    "bad.csv:4:[0-9]+: photo \"photos/pipe.png\": not a regular file"
t_like "a directory is not a regular file" "$ERR" \
    "bad.csv:5:[0-9]+: photo \"photos/dir.png\": not a regular file"
t_like "nothing applied" "$ERR" "4 bad row\\(s\\) in .*bad.csv; nothing applied"
t_is "the ledger is unchanged (no product, no photo bytes)" "$(ledger_sum)" "$sum0"
t_is "no photo stored" "$(sql "SELECT count(*) FROM photo_blob")" 0

# The default limit is 10 MiB: the 3008-byte PNG passes that check (and
# the FIFO is still refused).
run omnisync import catalog "$d/bad.csv"
t_unlike "default limit: big.png is not too big" "$ERR" "big.png.*too big"
t_like "default limit: the FIFO still refused" "$ERR" "pipe.png\": not a regular file"

# Good photos: stored once by content, the rows reference them.
run omnisync import catalog "$d/ok.csv"
t_is "import exits 0" "$RC" 0
t_diag "$ERR"
t_is "6 photo rows" "$(sql "SELECT count(*) FROM product_photo")" 6
t_is "4 distinct contents stored (red.png named 3 times, once as a copy)" \
    "$(sql "SELECT count(*) FROM photo_blob")" 4
red=$(sha256sum <"$d/photos/red.png" | cut -d' ' -f1)
t_is "red.png stored once, referenced by 3 rows" \
    "$(sql "SELECT count(*) || ' ' || (SELECT count(*) FROM photo_blob WHERE sha256 = '$red') FROM product_photo WHERE sha256 = '$red'")" "3 1"
t_is "the stored bytes are the file's" \
    "$(sql "SELECT encode(sha256(bytes), 'hex') || ' ' || size || ' ' || content_type FROM photo_blob WHERE sha256 = '$red'")" \
    "$red $(stat -c %s "$d/photos/red.png") image/png"
t_is "content types by magic bytes" \
    "$(sql "SELECT string_agg(content_type, ' ' ORDER BY content_type) FROM photo_blob")" \
    "image/gif image/jpeg image/png image/webp"
t_is "every stored blob hashes to its key" \
    "$(sql "SELECT count(*) FROM photo_blob WHERE encode(sha256(bytes), 'hex') <> sha256 OR size <> length(bytes)")" 0

# Re-import: nothing changes, nothing stored again.
sum=$(ledger_sum)
run omnisync import catalog "$d/ok.csv"
t_is "re-import exits 0" "$RC" 0
t_is "re-import changes nothing" "$(ledger_sum)" "$sum"

# A dry run with a new photo stores nothing.
cp "$FIX/photos/blue.png" "$d/photos/blue.png"
sed 's#photos/dot.gif#photos/blue.png#' "$d/ok.csv" >"$d/blue.csv"
run omnisync import catalog "$d/blue.csv" --dry-run
t_is "dry run exits 0" "$RC" 0
t_is "dry run stored no photo" "$(sql "SELECT count(*) FROM photo_blob")" 4
run omnisync import catalog "$d/blue.csv"
t_is "the real run stores it" "$(sql "SELECT count(*) FROM photo_blob")" 5

# A photo row cannot reference bytes the ledger does not hold.
run sql "UPDATE product_photo SET sha256 = repeat('0', 64) WHERE position = 1"
t_ok "the foreign key refuses a photo without bytes" test "$RC" -ne 0
t_like "named" "$ERR" "product_photo_blob_fk"
t_done
