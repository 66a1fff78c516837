#!/usr/bin/env bash
# tests/integration/import/gen-catalog.bash — write a large catalog CSV the
# way a Russian-locale spreadsheet exports it (not a test itself:
# tests/run.sh runs only *.sh).
#
#   gen-catalog.bash DIR NPRODUCTS NVARIANTS [EXPECT_FILE]
#
# Writes DIR/catalog.csv (UTF-8 with BOM, ';'-separated, CRLF line ends,
# decimal commas, "1 234,50" thousands, quoted fields holding ';', '""' and
# line breaks, Cyrillic group paths and option values) and DIR/photos/ (the
# fixture photos).  Product p (1-based) has article ART-%05d, variants
# ART-%05d-%d; its first row carries its description "Описание товара
# ART-%05d;" + a second line; every 5th product has photos.
#
# GEN_OMIT=ART-00777 in the environment leaves that product out;
# GEN_FILE=name.csv writes DIR/name.csv instead of DIR/catalog.csv.
#
# With EXPECT_FILE, three bad rows are added (a price that is not a number
# after product NPRODUCTS/25, a duplicate SKU after product NPRODUCTS/2, a
# missing photo after the last product but one), and their
# "LINE:COLUMN" positions are written to EXPECT_FILE, one per line in file
# order; the generator counts physical lines itself, quoted line breaks
# included.
set -euo pipefail

dir=$1
np=$2
nv=$3
expect=${4:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

mkdir -p "$dir/photos"
cp "$root"/tests/fixtures/catalog/photos/*.jpg \
    "$root"/tests/fixtures/catalog/photos/*.png "$dir/photos/"

out=$dir/${GEN_FILE:-catalog.csv}
printf '\357\273\277' >"$out"
LC_ALL=C awk -v np="$np" -v nv="$nv" -v bad="${expect:+1}" \
    -v expect="${expect:-/dev/null}" -v omit="${GEN_OMIT:-}" '
function out(s,    n, t) {
    # Print one record (CRLF), count its physical lines.
    printf "%s\r\n", s
    t = s
    n = gsub(/\n/, "", t)
    line += n + 1
}
BEGIN {
    groups[0] = "Одежда/Мужская/Рубашки"
    groups[1] = "Одежда/Женская/Платья"
    groups[2] = "Одежда/Детская"
    groups[3] = "Обувь/Кроссовки"
    groups[4] = "Аксессуары"
    colors[0] = "красный"; colors[1] = "синий"
    colors[2] = "зелёный"; colors[3] = "чёрный"
    sizes[0] = "S"; sizes[1] = "M"; sizes[2] = "L"; sizes[3] = "XL"
    line = 1
    out("Group;Article;Name;Description;SKU;Barcode;Color;Size;" \
        "option:Материал;Price;Old_Price;Photos")
    q = "\""
    for (p = 1; p <= np; p++) {
        art = sprintf("ART-%05d", p)
        for (v = 1; v <= nv && art != omit; v++) {
            grp = ""; name = ""; desc = ""; photos = ""; old = ""
            if (v == 1 || v == 2) {
                grp = groups[p % 5]
                if (p % 4 == 0)
                    name = q "Рубашка; модель " p q
                else
                    name = "Товар " p
            }
            if (v == 1) {
                desc = q "Описание товара " art ";\nвторая строка с " \
                       q q "кавычками" q q q
                if (p % 5 == 0)
                    photos = "photos/grey.jpg|photos/red.png"
                old = (p % 2) ? "" : (p * 10 + 500) ",00"
            }
            price = p * 10 + v
            if (price >= 1000)
                price = q int(price / 1000) " " sprintf("%03d", price % 1000) ",50" q
            else
                price = price ",50"
            mat = (v % 2) ? "хлопок" : ""
            out(grp ";" art ";" name ";" desc ";" art "-" v ";" \
                sprintf("46%011d", p * 10 + v) ";" colors[v % 4] ";" \
                sizes[(v - 1) % 4] ";" mat ";" price ";" old ";" photos)
        }
        if (bad && p == int(np / 25)) {
            # A price that is not a number; every field before it ASCII.
            pre = ";BAD-1;Bad one;;BAD-1-1;;;;;"
            printf "%d:%d\n", line, length(pre) + 1 >expect
            out(pre "12,x;;")
        }
        if (bad && p == int(np / 2)) {
            pre = ";BAD-2;Bad two;;"
            printf "%d:%d\n", line, length(pre) + 1 >expect
            out(pre "ART-00001-1;;;;;1,00;;")
        }
        if (bad && p == np - 1) {
            pre = ";BAD-3;Bad three;;BAD-3-1;;;;;1,00;;"
            printf "%d:%d\n", line, length(pre) + 1 >expect
            out(pre "photos/nope.jpg")
        }
    }
}' >>"$out"
