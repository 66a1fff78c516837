#!/usr/bin/env bash
# Migration 0005 on a ledger from before it: the photo rows hold only host
# paths, so `omnisync db migrate` applies the SQL and then stores the bytes
# of every readable photo from its recorded path (checked as the import
# checks it), naming each one it cannot store; a second run after the file
# is back stores the rest.
set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
export PATH=$OMNISYNC_ROOT/bin:$PATH
# shellcheck source=../../harness/tap.sh
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
FIX=$OMNISYNC_ROOT/tests/fixtures/catalog/photos
sql() { psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -c "$1"; }
hash() { sha256sum <"$1" | cut -d' ' -f1; }
run() {
    RC=0
    OUT=$("$@" 2>"$T_TMP/run.err") || RC=$?
    ERR=$(cat "$T_TMP/run.err")
}

# The ledger as 0004 left it.
old=$T_TMP/sql-0004
mkdir -p "$old"
cp "$OMNISYNC_ROOT"/deploy/sql/000[1-4]_*.sql "$old/"
run omnisync -o sql.dir="$old" db migrate
t_is "migrations 0001-0004 apply" "$RC" 0
t_diag "$ERR"

p=$T_TMP/photos
mkdir -p "$p"
cp "$FIX/red.png" "$FIX/grey.jpg" "$FIX/blue.png" "$p/"
cp "$FIX/red.png" "$p/red-again.png"
printf 'not an image\n' >"$p/notes.jpg"
sql "INSERT INTO product (article, name) VALUES ('A', 'A'), ('B', 'B')" >/dev/null
row() { # ARTICLE POSITION PATH SHA256
    sql "INSERT INTO product_photo (product_id, position, path, sha256)
         SELECT id, $2, '$3', '$4' FROM product WHERE article = '$1'" >/dev/null
}
row A 1 "$p/red.png" "$(hash "$p/red.png")"
row A 2 "$p/grey.jpg" "$(hash "$p/grey.jpg")"
row A 3 "$p/gone.png" "$(hash "$FIX/dark.jpg")"         # the file is missing
row B 1 "$p/red-again.png" "$(hash "$p/red-again.png")" # same content as A 1
row B 2 "$p/notes.jpg" "$(hash "$p/notes.jpg")"         # not an image
row B 3 "$p/blue.png" "$(printf 'older content' | sha256sum | cut -d' ' -f1)"

run omnisync db migrate
t_is "db migrate exits 0 (the schema is migrated)" "$RC" 0
t_diag "$OUT" "$ERR"
t_like "0005 applied" "$OUT" "0005_photo_blobs.sql"
t_like "a summary of the backfill" "$OUT" \
    "photos: 6 without bytes in the ledger, 3 stored from their recorded paths, 3 still missing"
t_like "a missing file is named with the row" "$ERR" \
    "photo $p/gone.png \\(product_photo [0-9]+\\): cannot read: No such file or directory"
t_like "a file that is not an image" "$ERR" \
    "photo $p/notes.jpg \\(product_photo [0-9]+\\): not a JPEG, PNG, GIF or WebP \\(magic bytes\\)"
t_like "a file changed since its import" "$ERR" \
    "photo $p/blue.png \\(product_photo [0-9]+\\): content changed since import"
t_like "what is left, and what to do" "$ERR" \
    "3 photo\\(s\\) still have no bytes in the ledger"
t_is "red and grey stored: 2 blobs (red once for two rows)" \
    "$(sql "SELECT count(*) FROM photo_blob")" 2
t_is "the stored bytes are the files'" \
    "$(sql "SELECT string_agg(content_type || ':' || size, ' ' ORDER BY content_type) FROM photo_blob WHERE encode(sha256(bytes), 'hex') = sha256")" \
    "image/jpeg:$(stat -c %s "$p/grey.jpg") image/png:$(stat -c %s "$p/red.png")"
t_is "the old rows keep their paths" \
    "$(sql "SELECT count(*) FROM product_photo WHERE path LIKE '$p/%'")" 6

# The file comes back: a second run stores it and applies nothing new.
cp "$FIX/dark.jpg" "$p/gone.png"
run omnisync db migrate
t_is "second run exits 0" "$RC" 0
t_like "only the backfill ran" "$OUT" \
    "photos: 3 without bytes in the ledger, 1 stored from their recorded paths, 2 still missing"
t_is "3 blobs now" "$(sql "SELECT count(*) FROM photo_blob")" 3
t_is "photos still without bytes: the two bad ones" \
    "$(sql "SELECT string_agg(pp.path, ' ' ORDER BY pp.id) FROM product_photo pp WHERE NOT EXISTS (SELECT 1 FROM photo_blob b WHERE b.sha256 = pp.sha256)")" \
    "$p/notes.jpg $p/blue.png"

# Nothing left to do: no backfill line.
sql "DELETE FROM product_photo WHERE path IN ('$p/notes.jpg', '$p/blue.png')" >/dev/null
run omnisync db migrate
t_is "third run exits 0" "$RC" 0
t_unlike "nothing to backfill: no photos line" "$OUT" "photos:"
t_is "and no warning" "$ERR" ""
t_done
