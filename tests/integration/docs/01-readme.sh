#!/usr/bin/env bash
# README.md tells the truth: its commands run, its links lead somewhere,
# every `omnisync WORD` it names is a command.
#
# The convention for README.md's fenced blocks (docs/development.md, "The
# README's commands"), by info string:
#   ```sh          run by this test: every such block, in order, in one bash
#                  session (set -eE, pipefail), from the repository root, on
#                  a stack of its own — OMNISYNC_RUN_DIR is a temporary
#                  directory, and "run/" at the start of a word is read as
#                  "$OMNISYNC_RUN_DIR/" (so `make up`, `. run/env`,
#                  `make down` work as written).  The harness's servers are
#                  not used: OMNISYNC_PG/_KAFKA/_REDIS are unset first, so a
#                  command that forgets `. run/env` fails.
#   ```sh norun    shown only (make demo, make test, a real store's
#                  commands): each `omnisync CMD [SUB] ...` line must answer
#                  `omnisync CMD [SUB] --help` with exit 0 and every --option
#                  on the line must appear in that help; each `make TARGET`
#                  must be a Makefile target; a `bash FILE` or `dir/FILE`
#                  command must exist.
#   ```text        output and diagrams: not looked at.
# Any other info string (none, bash, console, ...) fails: a new block is
# either run or marked.  Also: every relative link (outside HTML comments)
# names an existing file or directory, and its #anchor, for a .md file, a
# heading of that file (GitHub's anchors); every `omnisync WORD` in code spans
# and sh blocks is a command of `omnisync --help`.
#
# README_FILE=PATH checks another file instead, its links read from the
# repository root (to see this test fail on a broken copy).  `make demo` itself is tests/integration/demo/01-demo-small.sh.
set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

README=${README_FILE:-$OMNISYNC_ROOT/README.md}
OMNI=$OMNISYNC_ROOT/bin/omnisync
for b in omnisync store-sim devkafka outbox-relay catalog-publisher \
    stock-publisher image-uploader order-ingestor; do
    [ -x "$OMNISYNC_ROOT/bin/$b" ] || t_bail "bin/$b is not built (make -j2)"
done
# Links added by branches not merged yet: skipped (not failed) while the
# file is missing.  TODO lead: dlq/compose — empty this list once
# docs/deploy.md is on main.
PENDING_LINKS=" "

B=$T_TMP/blocks
python3 "$OMNISYNC_ROOT/tests/integration/docs/readme-blocks.py" "$README" "$B" "$OMNISYNC_ROOT" ||
    t_bail "cannot split $README"

# ------------------------------------------------------------ the blocks
t_is "every fenced block is sh, sh norun or text" "$(cat "$B/bad-info.txt")" ""
t_ok "README.md has blocks the test runs" test -e "$B/run-01.sh"
cut -f2 "$B/norun.txt" >"$T_TMP/norun-lines"
t_ok "the two commands are there: make demo" grep -qx 'make demo' "$T_TMP/norun-lines"
t_ok "... and make test (.ci/run relies on it)" grep -qx 'make test' "$T_TMP/norun-lines"

# ------------------------------------------------------------- the links
while IFS=$'\t' read -r at target; do
    [ -n "$target" ] || continue
    if [ -e "$OMNISYNC_ROOT/$target" ]; then
        t_pass "line $at: link $target exists"
    elif [[ "$PENDING_LINKS" == *" $target "* ]]; then
        t_skip "line $at: link $target" "pending: added by another branch"
    else
        t_fail "line $at: link $target exists (README.md:$at)"
    fi
done <"$B/links.txt"

t_is "every FILE.md#ANCHOR link names a heading of FILE.md" \
    "$(cat "$B/bad-anchors.txt")" ""

# ------------------------------------------------- omnisync WORD mentioned
commands=$("$OMNI" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
t_ok "omnisync --help lists commands" test -n "$commands"
while IFS=$'\t' read -r at word; do
    if grep -qx "$word" <<<"$commands"; then
        t_pass "omnisync $word (line $at) is a command"
    else
        t_fail "omnisync $word (README.md:$at) is a command" \
            "commands: $(tr '\n' ' ' <<<"$commands")"
    fi
done < <(sort -u -t$'\t' -k2,2 "$B/words.txt")

# ---------------------------------------------------- the norun commands
# Makefile targets: rule heads of the Makefile (no recipe is run).
targets=$(sed -nE 's/^([A-Za-z0-9_.-]+( [A-Za-z0-9_.-]+)*):([^=]|$).*/\1/p' \
    "$OMNISYNC_ROOT/Makefile" | tr ' ' '\n' | sort -u)
check_omnisync() { # LINE: `omnisync CMD [SUB] ...`
    local -a w
    local cmd sub help rc=0 opt bad=""
    read -r -a w <<<"$1"
    cmd=${w[1]:-}
    sub=${w[2]:-}
    case "$sub" in [a-z]*) ;; *) sub= ;; esac
    help=$("$OMNI" "$cmd" ${sub:+"$sub"} --help 2>&1) || rc=$?
    [ $rc -eq 0 ] || {
        echo "omnisync $cmd $sub --help: exit $rc"
        return 1
    }
    for opt in $(grep -oE '(^| )--[a-z][a-z-]*' <<<"$1"); do
        grep -qe "$opt" <<<"$help" || bad="$bad $opt"
    done
    [ -z "$bad" ] || {
        echo "not in omnisync $cmd $sub --help:$bad"
        return 1
    }
}
while IFS=$'\t' read -r at line; do
    read -r first second _ <<<"$line"
    case "$first" in
    omnisync)
        t_ok "line $at: $line" check_omnisync "$line"
        ;;
    make)
        t_ok "line $at: make $second is a Makefile target" \
            grep -qx -- "${second%%=*}" <<<"$targets"
        ;;
    bash)
        t_ok "line $at: $second exists" test -e "$OMNISYNC_ROOT/$second"
        ;;
    */*)
        t_ok "line $at: $first exists" test -e "$OMNISYNC_ROOT/$first"
        ;;
    *)
        t_pass "line $at: $first ... (shown only)"
        ;;
    esac
done <"$B/norun.txt"

# --------------------------------------------------------- the sh blocks
# `omnisync lag` needs a real broker, which `make up` runs with Java >= 17
# and the Kafka jars (cached, or fetched by mvn), as in CI.
if ! harness_java_ok || ! { harness_kafka_jars_ok || command -v mvn >/dev/null 2>&1; }; then
    while IFS=$'\t' read -r n at info; do
        [ "$n" = "--" ] ||
            t_skip "README.md:$at: the sh block runs" "no Java >= 17 or Kafka jars: make up would run the mock broker"
    done <"$B/blocks.txt"
    t_done
fi
RUN=$(mktemp -d /tmp/omnisync-readme.XXXXXX)
chmod 755 "$RUN" # the postgres user (initdb refuses root) must reach it
cleanup() {
    OMNISYNC_RUN_DIR=$RUN "$OMNISYNC_ROOT/deploy/stack.sh" down >/dev/null 2>&1
    [ "$T_FAIL" -gt 0 ] && cp -r "$RUN/log" "$T_TMP/stack-log" 2>/dev/null
    rm -rf "$RUN"
}
t_cleanup_add cleanup

# The driver sources the blocks in order in one shell; ERR names the
# command that failed.  "== block NN done" marks each finished block.
{
    echo 'set -eE -o pipefail'
    echo 'trap '\''rc=$?; echo "== block $BLOCK FAILED (exit $rc): $BASH_COMMAND"; exit 1'\'' ERR'
    for f in "$B"/run-*.sh; do
        n=${f##*/run-}
        n=${n%.sh}
        echo "BLOCK=$n"
        echo "echo \"== block $n: \$(sed -n 1p '$f')\""
        echo "set -x"
        echo ". '$f'"
        echo "{ set +x; } 2>/dev/null"
        echo "echo '== block $n done'"
    done
} >"$T_TMP/driver.sh"

(
    unset OMNISYNC_PG OMNISYNC_KAFKA OMNISYNC_REDIS OMNISYNC_SECRET_KEY \
        MAKEFLAGS MFLAGS MAKELEVEL
    export OMNISYNC_RUN_DIR=$RUN
    cd "$OMNISYNC_ROOT" && bash "$T_TMP/driver.sh"
) </dev/null >"$T_TMP/blocks.out" 2>&1
rc=$?
failed=
while IFS=$'\t' read -r n at info; do
    [ "$n" != "--" ] || continue
    if grep -qx "== block $n done" "$T_TMP/blocks.out"; then
        t_pass "README.md:$at: the sh block runs"
    elif [ -z "$failed" ]; then
        failed=$n
        t_fail "README.md:$at: the sh block runs" \
            "$(grep -m1 "== block $n FAILED" "$T_TMP/blocks.out")" \
            "$(sed -n "/^== block $n: /,\$p" "$T_TMP/blocks.out" | tail -30)"
    else
        t_fail "README.md:$at: the sh block runs (not run: block $failed failed)"
    fi
done <"$B/blocks.txt"
t_is "the blocks' session exits 0" "$rc" 0 || t_diag "$(tail -15 "$T_TMP/blocks.out")"
t_done
