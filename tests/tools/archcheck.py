#!/usr/bin/env python3
"""archcheck: check omnisync's architecture rules on a source tree.

Rules (each violation is printed as "file:line: rule: message"):

  layers          every #include "x/y.h" in services/ follows the one-way
                  rule: lib -> lib; events -> lib, events; ledger -> lib,
                  events, ledger; store and store/<platform> -> lib, events,
                  store (a platform's headers only from its own folder and
                  the registry services/store/platform.c); app -> lib,
                  events, ledger, store, app; a binary services/<svc>/ ->
                  any layer and its own folder, never another binary;
                  services/devtools/<tool>/ -> lib, events, its own folder.
                  A bare #include "x.h" names a header in the same folder.
  sql-owner       every table created in deploy/sql/*.sql has one owner in
                  docs/architecture.md (rows "| table | services/.../x.c |"
                  between <!-- table-owners:begin --> and
                  <!-- table-owners:end -->).  SQL is found in C string
                  literals (adjacent literals and continuation lines joined;
                  a literal run ends at anything else, e.g. a macro name).
                  Only code under services/ledger/ and the listed owners
                  may name a ledger table; there a statement that writes a
                  table (INSERT INTO, UPDATE, DELETE FROM, COPY, TRUNCATE,
                  LOCK) lives in that table's owner, and a read lives in
                  the owner of its first FROM table (joins may read other
                  tables; when no FROM names a ledger table, its first JOIN
                  counts).  A table without a valid owner row is reported
                  once, at its CREATE TABLE or its row.  Keywords are
                  matched in upper case, as the code writes SQL.  Every
                  GRANT or REVOKE ... ON ... (tables by name, ALL TABLES
                  IN SCHEMA, sequences, the database) lives in
                  services/ledger/roles.c, the one module that decides
                  who may touch which table.
  function-size   no function in services/ is longer than 120 lines (from
                  its first line through its closing brace: pmccabe's
                  column 5) or has a cyclomatic complexity over 25.  The
                  complexity is pmccabe's column 2, the traditional McCabe
                  number where each case of a switch counts: every case is
                  a path a test has to take, and a long switch is what a
                  table of operations (the platform seam) should replace.
  platform-names  no file under services/ names inSales (case-insensitive)
                  outside services/store/insales/ and
                  services/devtools/store-sim/, except, in the registry
                  services/store/platform.c, one #include "store/insales/..."
                  line and one table entry line ("&insales_platform,").

Hooks: --hook NAME=COMMAND runs COMMAND (sh -c, in the root) as one more
rule NAME (config-doc joins this way, see the Makefile's ARCHCHECK_HOOKS).
Its "file:line: message" output lines become "file:line: NAME: message"
violations; other output lines are printed prefixed "NAME: "; a non-zero
exit counts as a failure (one violation when it printed no file:line).

Exit status: 0 and a summary line when clean, 1 when anything is violated
(the summary follows the violations), 2 on a usage or tool error.

usage: archcheck.py [--root DIR] [--hook NAME=COMMAND]...
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LINES = 120
MAX_COMPLEXITY = 25
PLATFORM = "insales"
PLATFORM_HOMES = ("services/store/insales/", "services/devtools/store-sim/")
REGISTRY = "services/store/platform.c"
OWNERS_DOC = "docs/architecture.md"
OWNERS_BEGIN = "<!-- table-owners:begin -->"
OWNERS_END = "<!-- table-owners:end -->"
GRANTS_OWNER = "services/ledger/roles.c"
RULES = ("layers", "sql-owner", "function-size", "platform-names")

# What each layer may include (a binary: anything but another binary).
MAY_INCLUDE = {
    "lib": ("lib",),
    "events": ("lib", "events"),
    "ledger": ("lib", "events", "ledger"),
    "store": ("lib", "events", "store"),
    "app": ("lib", "events", "ledger", "store", "app"),
    "devtools": ("lib", "events"),
}
PLAIN_LAYERS = ("lib", "events", "ledger", "app")


class Report:
    """The violations found, by rule, and the numbers for the summary."""

    def __init__(self):
        self.found = []  # (rule index, file, line, rule, message)
        self.stats = {}

    def add(self, path, line, rule, msg):
        order = RULES.index(rule) if rule in RULES else len(RULES)
        self.found.append((order, path, line, rule, msg))

    def count(self, rule):
        return sum(1 for v in self.found if v[3] == rule)


def read_text(path):
    with open(path, "rb") as fp:
        return fp.read().decode("utf-8", errors="replace")


def source_files(root, exts=(".c", ".h")):
    """Paths (relative to root, sorted) of the files under services/."""
    out = []
    base = os.path.join(root, "services")
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in sorted(files):
            if exts is None or f.endswith(exts):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


# ---------------------------------------------------------------- layers


def folder_kind(folder):
    """(kind, platform) of a folder under services/ ("store/insales" ->
    ("store", "insales")); kind is a layer, "bin", "devtools" or None."""
    parts = folder.split("/")
    if len(parts) == 1 and parts[0] in PLAIN_LAYERS:
        return parts[0], None
    if parts[0] == "store" and len(parts) <= 2:
        return "store", (parts[1] if len(parts) == 2 else None)
    if parts[0] == "devtools":
        return ("devtools", None) if len(parts) == 2 else (None, None)
    if len(parts) == 1 and parts[0] and parts[0] not in (".", ".."):
        return "bin", None
    return None, None


def layer_name(folder):
    kind, plat = folder_kind(folder)
    if kind == "store" and plat:
        return "store/" + plat
    if kind in ("bin", "devtools"):
        return "binary " + folder
    return kind or folder


def include_problem(rel, src, dst, root):
    """Why src folder may not include a header of dst folder (None: ok)."""
    skind, splat = folder_kind(src)
    dkind, dplat = folder_kind(dst)
    if dkind is None or not os.path.isdir(os.path.join(root, "services", dst)):
        return "names no layer or binary folder under services/"
    if dst == src:
        return None
    who = layer_name(src)
    if skind == "bin":
        if dkind in ("bin", "devtools"):
            return "%s includes %s: a binary never includes another binary" % (
                who,
                layer_name(dst),
            )
        return None
    if skind == "store" and dkind == "store" and dplat:
        if splat and splat != dplat:
            return "%s includes %s: a platform includes only its own folder" % (
                who,
                layer_name(dst),
            )
        if not splat and rel != REGISTRY:
            return (
                "platform-neutral store code includes %s: only the registry "
                "%s may include a platform's header" % (layer_name(dst), REGISTRY)
            )
        return None
    allowed = MAY_INCLUDE.get(skind, ())
    if dkind in allowed:
        return None
    return "%s includes %s: %s may include %s%s" % (
        who,
        layer_name(dst),
        who,
        ", ".join(allowed),
        " and its own folder" if skind == "devtools" else "",
    )


INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]*)"')


def check_layers(root, rep):
    n = 0
    for rel in source_files(root):
        src = os.path.dirname(rel)[len("services/") :]
        if folder_kind(src)[0] is None:
            continue
        for no, text in enumerate(read_text(os.path.join(root, rel)).split("\n"), 1):
            m = INCLUDE_RE.match(text)
            if not m:
                continue
            n += 1
            inc = m.group(1)
            if "/" not in inc:
                if not os.path.isfile(os.path.join(root, "services", src, inc)):
                    rep.add(
                        rel,
                        no,
                        "layers",
                        '#include "%s" names no header in services/%s/: '
                        "a bare include is for the same folder; name the "
                        'layer ("layer/%s")' % (inc, src, inc),
                    )
                continue
            why = include_problem(rel, src, os.path.dirname(inc), root)
            if why:
                rep.add(rel, no, "layers", '#include "%s": %s' % (inc, why))
    rep.stats["includes"] = n


# ------------------------------------------------------------- sql-owner

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def string_runs(text):
    """(line, value) of every run of adjacent C string literals: only
    blanks, comments and backslash-newlines may separate them."""
    runs, cur = [], None
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\\" and text.startswith("\n", i + 1):
            i, line = i + 2, line + 1
        elif c == "\n":
            i, line = i + 1, line + 1
        elif c in " \t\r\f\v":
            i += 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == '"':
            start, buf, i = line, [], i + 1
            while i < n and text[i] != '"' and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n:
                    if text[i + 1] == "\n":
                        line += 1
                    else:
                        buf.append(ESCAPES.get(text[i + 1], text[i + 1]))
                    i += 2
                else:
                    buf.append(text[i])
                    i += 1
            i += 1
            if cur is None:
                cur = [start, ""]
                runs.append(cur)
            cur[1] += "".join(buf)
        elif c == "'":
            i += 1
            while i < n and text[i] not in "'\n":
                i += 2 if text[i] == "\\" else 1
            i += 1
            cur = None
        else:
            i += 1
            cur = None
    return [(r[0], r[1]) for r in runs]


SQL_KEYWORD_RE = re.compile(
    r"\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY|TRUNCATE|LOCK|JOIN|FROM"
    r"|GRANT|REVOKE)\b"
)
SQL_TOKEN_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|"[^"]*"|\S')
# Words that end a FROM item (so are not an alias).
SQL_CLAUSE = set(
    """WHERE JOIN LEFT RIGHT INNER OUTER FULL CROSS NATURAL ON USING GROUP
    ORDER LIMIT OFFSET FOR WINDOW HAVING UNION EXCEPT INTERSECT RETURNING
    SET LATERAL TABLESAMPLE WITH AND OR IN NOWAIT SKIP FETCH VALUES SELECT
    DO INTO STDIN STDOUT TO""".split()
)


def sql_tables(sql, tables, grants=None):
    """(writes, reads) of one SQL text: lists of (verb, table) naming
    ledger tables, in order; reads are ("FROM"|"JOIN", table).  The
    tables a GRANT or REVOKE names are appended to @grants (when given)
    as ("GRANT"|"REVOKE", table)."""
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    tok = SQL_TOKEN_RE.findall(sql)
    writes, reads = [], []

    def at(k):
        return tok[k] if 0 <= k < len(tok) else ""

    def name_at(k, reading):
        """(table or None, index after it); in a FROM item "name(" is a
        function call, after INSERT INTO a column list."""
        while at(k) in ("ONLY", "TABLE"):
            k += 1
        if at(k) == "public" and at(k + 1) == ".":
            k += 2
        word = at(k).strip('"')
        if not re.match(r"[A-Za-z_]\w*$", word) or at(k + 1) == ".":
            return None, k + 1
        if reading and at(k + 1) == "(":
            return None, k + 1
        word = word.lower()
        return (word if word in tables else None), k + 1

    def name_list(k, verb, out, aliases):
        while True:
            t, k = name_at(k, aliases)
            if t:
                out.append((verb, t))
            if aliases:
                if at(k) == "AS":
                    k += 1
                if re.match(r"[a-z_]\w*$", at(k)) and at(k).upper() not in SQL_CLAUSE:
                    k += 1
            if at(k) != ",":
                return
            k += 1

    skip = set()
    for k, w in enumerate(tok):
        if k in skip:
            continue
        if w in ("GRANT", "REVOKE") and grants is not None:
            # The privileges up to ON (column lists, DELETE, ... are no
            # statements); ALL TABLES IN SCHEMA names no table.
            j = k + 1
            while j < len(tok) and at(j) not in ("ON", "TO", "FROM", ";"):
                skip.add(j)
                j += 1
            if at(j) == "ON":
                n0 = len(grants)
                name_list(j + 1, w, grants, False)
                if len(grants) == n0:
                    # ALL TABLES IN SCHEMA, a sequence, a database: no
                    # ledger table by name, still a grant.
                    e = j + 1
                    while e < len(tok) and at(e) not in ("TO", "FROM", ";"):
                        e += 1
                    grants.append((w, " ".join(tok[j + 1 : e])))
        elif w == "INSERT" and at(k + 1) == "INTO":
            name_list(k + 2, "INSERT INTO", writes, False)
        elif w == "UPDATE" and at(k - 1) not in ("FOR", "DO", "KEY", "ON"):
            name_list(k + 1, w, writes, False)
        elif w == "DELETE" and at(k + 1) == "FROM":
            skip.add(k + 1)
            name_list(k + 2, "DELETE FROM", writes, False)
        elif w in ("COPY", "TRUNCATE", "LOCK"):
            name_list(k + 1, w, writes, False)
        elif w == "FROM" and not (at(k - 1) == "DISTINCT" and at(k - 2) == "IS"):
            name_list(k + 1, "FROM", reads, True)
        elif w == "JOIN":
            name_list(k + 2 if at(k + 1) == "LATERAL" else k + 1, "JOIN", reads, True)
    return writes, reads


CREATE_RE = re.compile(
    r"\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r'(?:public\.)?"?([A-Za-z_]\w*)',
    re.I,
)


def ledger_tables(root):
    """{table: "deploy/sql/F.sql:LINE"} from the migrations."""
    out = {}
    d = os.path.join(root, "deploy", "sql")
    if not os.path.isdir(d):
        return out
    for f in sorted(os.listdir(d)):
        if not f.endswith(".sql"):
            continue
        rel = "deploy/sql/" + f
        for no, text in enumerate(read_text(os.path.join(d, f)).split("\n"), 1):
            for m in CREATE_RE.finditer(text):
                out.setdefault(m.group(1).lower(), (rel, no))
    return out


def table_owners(root, tables, rep):
    """{table: owner path} from docs/architecture.md, or None when the
    block is missing (violations reported)."""
    path = os.path.join(root, OWNERS_DOC)
    lines = read_text(path).split("\n") if os.path.isfile(path) else []
    try:
        b = next(i for i, t in enumerate(lines) if t.strip() == OWNERS_BEGIN)
        e = next(i for i, t in enumerate(lines) if t.strip() == OWNERS_END and i > b)
    except StopIteration:
        rep.add(
            OWNERS_DOC,
            1,
            "sql-owner",
            "no table-owners block (%s ... %s) naming each ledger table's owner"
            % (OWNERS_BEGIN, OWNERS_END),
        )
        return None
    owners, rowed = {}, set()
    for no in range(b + 2, e + 1):
        text = lines[no - 1].strip()
        if not text.startswith("|"):
            continue
        cells = [c.strip().strip("`") for c in text.strip("|").split("|")]
        if len(cells) < 2 or cells[0].lower() == "table" or not cells[0].strip("-: "):
            continue
        t, owner = cells[0], cells[1]
        rowed.add(t)
        if t not in tables:
            rep.add(OWNERS_DOC, no, "sql-owner", "%s is not a table of deploy/sql" % t)
        elif t in owners:
            rep.add(OWNERS_DOC, no, "sql-owner", "%s has a second owner row" % t)
        elif not re.match(r"services/[\w./-]+\.c$", owner) or not os.path.isfile(
            os.path.join(root, owner)
        ):
            rep.add(
                OWNERS_DOC,
                no,
                "sql-owner",
                "owner of %s is %s: no such .c file under services/" % (t, owner),
            )
        else:
            owners[t] = owner
    for t, (rel, no) in sorted(tables.items()):
        if t not in owners and t not in rowed:
            rep.add(rel, no, "sql-owner", "table %s has no owner in %s" % (t, OWNERS_DOC))
    return owners


def check_sql(root, rep):
    tables = ledger_tables(root)
    owners = table_owners(root, tables, rep)
    rep.stats["tables"] = len(tables)
    nsql = 0
    if owners is None:
        rep.stats["sql"] = 0
        return
    speakers = set(owners.values())
    for rel in source_files(root):
        for no, s in string_runs(read_text(os.path.join(root, rel))):
            if not SQL_KEYWORD_RE.search(s):
                continue
            grants = []
            writes, reads = sql_tables(s, tables, grants)
            if grants and rel != GRANTS_OWNER:
                nsql += 1
                named = sorted(set(t for _, t in grants))
                rep.add(
                    rel,
                    no,
                    "sql-owner",
                    "%s on %s: grants live in %s (omnisync db roles)"
                    % (grants[0][0], ", ".join(named), GRANTS_OWNER),
                )
                continue
            if not writes and not reads:
                nsql += 1 if grants else 0
                continue
            nsql += 1
            if not rel.startswith("services/ledger/") and rel not in speakers:
                named = []
                for _, t in writes + reads:
                    if t not in named:
                        named.append(t)
                rep.add(
                    rel,
                    no,
                    "sql-owner",
                    "SQL naming ledger table%s %s outside services/ledger/: "
                    "call the owner (%s)"
                    % (
                        "s" if len(named) > 1 else "",
                        ", ".join(named),
                        ", ".join("%s: %s" % (t, owners.get(t, "none")) for t in named),
                    ),
                )
                continue
            if writes:
                done = set()
                for verb, t in writes:
                    # A table without a valid owner is reported once, above.
                    if t in done or owners.get(t) in (None, rel):
                        continue
                    done.add(t)
                    rep.add(
                        rel,
                        no,
                        "sql-owner",
                        "%s %s: a statement that writes %s lives in its owner %s"
                        % (verb, t, t, owners[t]),
                    )
                continue
            froms = [t for v, t in reads if v == "FROM"] or [t for _, t in reads]
            first = froms[0]
            if owners.get(first) not in (None, rel):
                rep.add(
                    rel,
                    no,
                    "sql-owner",
                    "reads FROM %s first: a read lives in the owner of its "
                    "first FROM table, %s (joins may read other tables)"
                    % (first, owners[first]),
                )
    rep.stats["sql"] = nsql


# --------------------------------------------------------- function-size

PMCCABE_RE = re.compile(r"^(\d+)\t(\d+)\t(\d+)\t(\d+)\t(\d+)\t(.*)\((\d+)\): (.*)$")


def check_functions(root, rep):
    files = source_files(root)
    rep.stats["functions"] = 0
    if not files:
        return
    if not shutil.which("pmccabe"):
        sys.exit(
            "archcheck: pmccabe not found (Debian package pmccabe; "
            "deploy/install-deps.sh installs it)"
        )
    p = subprocess.run(
        ["pmccabe"] + files, cwd=root, capture_output=True, text=True, errors="replace"
    )
    longest, hardest = None, None
    for text in p.stdout.splitlines():
        m = PMCCABE_RE.match(text)
        if not m:
            continue
        cc, nlines = int(m.group(2)), int(m.group(5))
        rel, no, fn = m.group(6), int(m.group(7)), m.group(8)
        rep.stats["functions"] += 1
        if longest is None or nlines > longest[0]:
            longest = (nlines, fn, rel, no)
        if hardest is None or cc > hardest[0]:
            hardest = (cc, fn, rel, no)
        if nlines > MAX_LINES:
            rep.add(
                rel,
                no,
                "function-size",
                "%s is %d lines long (max %d): split it into named steps"
                % (fn, nlines, MAX_LINES),
            )
        if cc > MAX_COMPLEXITY:
            rep.add(
                rel,
                no,
                "function-size",
                "%s has cyclomatic complexity %d (max %d; McCabe, each case "
                "counts): split it into named steps" % (fn, cc, MAX_COMPLEXITY),
            )
    for text in p.stderr.splitlines():
        m = re.match(r"^(services/[^:(\s]+)[:(]\s*(\d+)\)?:?\s*(.*)$", text)
        if m:
            rep.add(m.group(1), int(m.group(2)), "function-size", "pmccabe: " + m.group(3))
        elif text.strip():
            rep.add("services", 0, "function-size", "pmccabe: " + text.strip())
    rep.stats["longest"] = longest
    rep.stats["hardest"] = hardest


# -------------------------------------------------------- platform-names

REG_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"store/%s/[\w.-]+\.h"\s*$' % PLATFORM)
REG_ENTRY_RE = re.compile(r"^\s*&\s*%s_\w+\s*,\s*$" % PLATFORM)


def check_platform_names(root, rep):
    n = 0
    for rel in source_files(root, None):
        if rel.startswith(PLATFORM_HOMES):
            continue
        if PLATFORM in rel[len("services/") :].lower():
            rep.add(
                rel,
                1,
                "platform-names",
                "file name names the %s platform outside %s"
                % (PLATFORM, " and ".join(PLATFORM_HOMES)),
            )
        seen = set()
        for no, text in enumerate(read_text(os.path.join(root, rel)).split("\n"), 1):
            if PLATFORM not in text.lower():
                continue
            n += 1
            if rel == REGISTRY:
                kind = (
                    "include"
                    if REG_INCLUDE_RE.match(text)
                    else "entry" if REG_ENTRY_RE.match(text) else None
                )
                if kind and kind not in seen:
                    seen.add(kind)
                    continue
                rep.add(
                    rel,
                    no,
                    "platform-names",
                    "the registry names %s only in its #include line and its "
                    "table entry line" % PLATFORM,
                )
                continue
            rep.add(
                rel,
                no,
                "platform-names",
                "names %s outside %s: go through the platform seam "
                "(store/platform.h)" % (PLATFORM, " and ".join(PLATFORM_HOMES)),
            )
    rep.stats["platform_lines"] = n


# ------------------------------------------------------------------ hooks

HOOK_LINE_RE = re.compile(r"^([^\s:][^:]*):(\d+):\s*(.*)$")


def run_hook(root, name, command, rep):
    p = subprocess.run(
        ["sh", "-c", command],
        cwd=root,
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
    )
    found = 0
    for text in (p.stdout + p.stderr).splitlines():
        m = HOOK_LINE_RE.match(text)
        if m:
            msg = m.group(3)
            if msg.startswith(name + ": "):
                msg = msg[len(name) + 2 :]
            rep.add(m.group(1), int(m.group(2)), name, msg)
            found += 1
        elif text.strip():
            print("%s: %s" % (name, text))
    if p.returncode != 0 and not found:
        rep.add(
            "(hook)", 0, name, "%s exited %d without naming a file" % (command, p.returncode)
        )


# ------------------------------------------------------------------- main


def summary(rep, nfiles, hooks):
    s = rep.stats
    parts = ["%d files" % nfiles, "%d includes" % s.get("includes", 0)]
    parts.append("%d SQL strings on %d tables" % (s.get("sql", 0), s.get("tables", 0)))
    parts.append("%d functions" % s.get("functions", 0))
    if s.get("longest"):
        parts.append("longest %s (%s:%d) %d lines" % (s["longest"][1:] + s["longest"][:1]))
    if s.get("hardest"):
        parts.append(
            "highest complexity %d %s (%s:%d)" % ((s["hardest"][0],) + s["hardest"][1:])
        )
    n = len(rep.found)
    rules = list(RULES) + [h for h, _ in hooks]
    if n:
        counts = ", ".join("%s %d" % (r, rep.count(r)) for r in rules if rep.count(r))
        return "archcheck: %d violation%s (%s); %s" % (
            n,
            "" if n == 1 else "s",
            counts,
            "; ".join(parts),
        )
    return "archcheck: clean (%s); %s" % (", ".join(rules), "; ".join(parts))


def main():
    ap = argparse.ArgumentParser(
        description="Check omnisync's architecture rules (see the module doc)."
    )
    ap.add_argument(
        "--root",
        default=os.path.normpath(os.path.join(HERE, "..", "..")),
        help="the tree to check (default: this checkout)",
    )
    ap.add_argument(
        "--hook",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="run COMMAND as one more rule NAME",
    )
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    if not os.path.isdir(os.path.join(root, "services")):
        ap.error("%s has no services/ folder" % root)
    hooks = []
    for h in a.hook:
        name, sep, cmd = h.partition("=")
        if not sep or not re.match(r"[a-z][\w-]*$", name) or not cmd:
            ap.error("--hook wants NAME=COMMAND, got %r" % h)
        hooks.append((name, cmd))

    rep = Report()
    check_layers(root, rep)
    check_sql(root, rep)
    check_functions(root, rep)
    check_platform_names(root, rep)
    for name, cmd in hooks:
        run_hook(root, name, cmd, rep)

    for _, path, line, rule, msg in sorted(rep.found):
        print("%s:%d: %s: %s" % (path, line, rule, msg))
    print(summary(rep, len(source_files(root)), hooks))
    return 1 if rep.found else 0


if __name__ == "__main__":
    sys.exit(main())
