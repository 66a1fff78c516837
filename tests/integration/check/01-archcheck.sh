#!/usr/bin/env bash
# tests/tools/archcheck.py (make arch-check): the fixture tree
# tests/fixtures/archcheck passes; each planted violation (an include the
# wrong way, SQL outside its owner, a function one line or one branch over
# the limit, an inSales name outside its folder, ...) fails with exit 1 and
# names its file:line and rule.  Needs no servers.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

FIXTURE=$OMNISYNC_ROOT/tests/fixtures/archcheck
CHECKER=$OMNISYNC_ROOT/tests/tools/archcheck.py
N=0

# fresh: a new copy of the clean fixture in $TREE.
fresh() {
    N=$((N + 1))
    TREE=$T_TMP/tree-$N
    rm -rf "$TREE"
    cp -r "$FIXTURE" "$TREE"
}

# check [ARGS...]: run the checker on $TREE; sets OUT and RC.
check() {
    RC=0
    OUT=$(python3 "$CHECKER" --root "$TREE" "$@" 2>&1) || RC=$?
    printf '%s\n' "$OUT" >"$T_TMP/out-$N"
}

# plant FILE TEXT: append a line to $TREE/FILE; LINE is its number.
plant() {
    printf '%s\n' "$2" >>"$TREE/$1"
    LINE=$(wc -l <"$TREE/$1")
}

# has_line PREFIX: the last output has a line starting with PREFIX.
has_line() {
    awk -v p="$1" 'index($0, p) == 1 { f = 1 } END { exit !f }' "$T_TMP/out-$N"
}

# fails_with NAME FILE:LINE RULE: exit 1, exactly one violation, and it is
# "FILE:LINE: RULE: ...".
fails_with() {
    check
    t_is "$1: exit 1" "$RC" 1
    t_ok "$1: names $2 and rule $3" has_line "$2: $3: " || t_diag "$OUT"
    t_like "$1: only that" "$OUT" 'archcheck: 1 violation \('
}

# ---- the clean fixture
fresh
check
t_is "the clean fixture passes" "$RC" 0
t_like "a clean run prints one summary line" "$OUT" \
    '^archcheck: clean \(layers, sql-owner, function-size, platform-names\); [0-9]+ files'
t_is "the summary is all it prints" "$(printf '%s\n' "$OUT" | wc -l)" 1
t_like "the summary names the longest function and its length" "$OUT" \
    'longest sizes_long \(services/lib/sizes\.c:5\) 120 lines'
t_like "the summary names the highest complexity (each case counts)" "$OUT" \
    'highest complexity 25 sizes_branchy \(services/lib/sizes\.c:127\)'
t_like "it counts the SQL naming ledger tables" "$OUT" '8 SQL strings on 4 tables'

# ---- layers
fresh
plant services/ledger/items.c '#include "store/client.h"'
fails_with "ledger includes store" "services/ledger/items.c:$LINE" layers
t_like "the message says what ledger may include" "$OUT" \
    'ledger includes store: ledger may include lib, events, ledger'

fresh
plant services/lib/log.c '#include "ledger/items.h"'
fails_with "lib includes ledger" "services/lib/log.c:$LINE" layers

fresh
plant services/events/outbox.c '#include "ledger/stock.h"'
fails_with "events includes ledger" "services/events/outbox.c:$LINE" layers

fresh
plant services/store/client.c '#include "items.h"'
fails_with "a bare include of another folder's header" \
    "services/store/client.c:$LINE" layers
t_like "it says a bare include is for the same folder" "$OUT" \
    'names no header in services/store/'

fresh
plant services/tool/tool.c '#include "other/other.h"'
fails_with "a binary includes another binary" "services/tool/tool.c:$LINE" layers

fresh
plant services/devtools/store-sim/main.c '#include "ledger/items.h"'
fails_with "a devtool includes the ledger" \
    "services/devtools/store-sim/main.c:$LINE" layers

fresh
plant services/store/client.c '#include "store/insales/insales.h"'
check
t_is "neutral store code including a platform header: exit 1" "$RC" 1
t_ok "  it breaks layers (only the registry may)" \
    has_line "services/store/client.c:$LINE: layers: "
t_ok "  and names the platform outside its folder" \
    has_line "services/store/client.c:$LINE: platform-names: "

# ---- sql-owner
fresh
plant services/ledger/shops.c 'static const char *const q = "UPDATE item SET name = $1";'
fails_with "a write outside its table's owner" "services/ledger/shops.c:$LINE" sql-owner
t_like "it names the table and its owner" "$OUT" \
    'UPDATE item: a statement that writes item lives in its owner services/ledger/items.c'

fresh
plant services/ledger/items.c \
    'static const char *const q = "GRANT SELECT, UPDATE (id) ON TABLE item, shop TO %1$I";'
fails_with "a GRANT outside services/ledger/roles.c, even in the owner" \
    "services/ledger/items.c:$LINE" sql-owner
t_like "it names the tables and where grants live" "$OUT" \
    'GRANT on item, shop: grants live in services/ledger/roles.c'
fresh
plant services/ledger/items.c \
    'static const char *const q = "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %1$I";'
fails_with "a GRANT on all tables too" "services/ledger/items.c:$LINE" sql-owner
t_like "it says what it grants on" "$OUT" \
    'GRANT on ALL TABLES IN SCHEMA public: grants live in'

fresh
plant services/ledger/stock.c \
    'static const char *const q = "SELECT s.id FROM shop s JOIN item_stock x ON x.shop_id = s.id";'
fails_with "a SELECT outside the owner of its first FROM table" \
    "services/ledger/stock.c:$LINE" sql-owner
t_like "it says joins may read other tables" "$OUT" \
    'reads FROM shop first: .*services/ledger/shops\.c \(joins may read other tables\)'

fresh
plant services/tool/tool.c 'static const char *const q = "SELECT count(*) FROM item";'
fails_with "SQL in a binary" "services/tool/tool.c:$LINE" sql-owner
t_like "it says outside services/ledger/" "$OUT" \
    'SQL naming ledger table item outside services/ledger/'

fresh
plant services/app/shopset.c '#define SHOPSET_SQL \'
plant services/app/shopset.c '    "DELETE " \'
line=$LINE
plant services/app/shopset.c '    "FROM item_stock WHERE qty = 0"'
fails_with "SQL split over continuation lines, found at its first literal" \
    "services/app/shopset.c:$line" sql-owner

fresh
plant deploy/sql/0001_fixture.sql 'CREATE TABLE orphan (id bigint);'
fails_with "a table without an owner" "deploy/sql/0001_fixture.sql:$LINE" sql-owner

fresh
sed -i 's#| shop | services/ledger/shops.c |#| shop | services/ledger/nowhere.c |#' \
    "$TREE/docs/architecture.md"
line=$(grep -n 'nowhere' "$TREE/docs/architecture.md" | cut -d: -f1)
fails_with "an owner that is no file" "docs/architecture.md:$line" sql-owner

# ---- function-size
fresh
sed -i '/^int sizes_long(/,/^}/ s/^    return x;/    x = x - 1;\n    return x;/' \
    "$TREE/services/lib/sizes.c"
fails_with "a function of 121 lines" "services/lib/sizes.c:5" function-size
t_like "it gives the length and the limit" "$OUT" 'sizes_long is 121 lines long \(max 120\)'

fresh
sed -i '/^int sizes_branchy(/,/^}/ s/^    return x;/    if (x == 99)\n        x--;\n    return x;/' \
    "$TREE/services/lib/sizes.c"
fails_with "a function of complexity 26" "services/lib/sizes.c:127" function-size
t_like "it gives the complexity and the limit" "$OUT" \
    'sizes_branchy has cyclomatic complexity 26 \(max 25'

# ---- platform-names
fresh
plant services/app/shopset.c '/* inSales wants the payload compact. */'
fails_with "an inSales name outside the platform folder" \
    "services/app/shopset.c:$LINE" platform-names

fresh
plant services/store/platform.c '/* insales is the default platform. */'
fails_with "an extra insales line in the registry" \
    "services/store/platform.c:$LINE" platform-names

fresh
plant services/store/platform.c '#include "store/insales/insales.h"'
check
t_is "a second registry include line: exit 1" "$RC" 1
t_ok "  it is the extra platform-names line" \
    has_line "services/store/platform.c:$LINE: platform-names: "

# ---- hooks (how config-doc joins)
fresh
check --hook 'demo=true'
t_is "a passing hook keeps the tree clean" "$RC" 0
t_like "  and is named in the summary" "$OUT" 'platform-names, demo\)'
fresh
check --hook 'demo=echo "docs/x.md:3: stale"; exit 1'
t_is "a failing hook fails the check" "$RC" 1
t_ok "  its file:line output is labelled with the hook's rule" \
    has_line "docs/x.md:3: demo: stale"
fresh
check --hook 'demo=exit 3'
t_is "a hook failing silently still fails" "$RC" 1
t_like "  naming the hook" "$OUT" 'demo: exit 3 exited 3'

# ---- usage
fresh
RC=0
python3 "$CHECKER" --root "$T_TMP/no-such-tree" >/dev/null 2>&1 || RC=$?
t_is "a root without services/ is a usage error (exit 2)" "$RC" 2

t_done
