#!/usr/bin/env python3
"""readme-blocks.py README OUTDIR [ROOT] — split README.md for 01-readme.sh.

ROOT: the directory its relative links start from (default: README's).

Writes into OUTDIR:
  run-NN.sh      each ```sh block, in order (run by the test), with "run/"
                 at the start of a word read as "$OMNISYNC_RUN_DIR/"
  norun.txt      the command lines of the ```sh norun blocks (backslash
                 continuations joined), one a line, as "LINENO<TAB>LINE"
  bad-info.txt   "LINENO<TAB>INFO" of every fence whose info string is none
                 of sh, sh norun, text
  links.txt      "LINENO<TAB>TARGET" of every relative link (no scheme, not
                 a bare #anchor; the #anchor cut off)
  bad-anchors.txt  "LINENO<TAB>LINK" of every link FILE.md#ANCHOR whose file
                 exists but has no heading with that anchor
  words.txt      "LINENO<TAB>WORD" of every `omnisync WORD` in code (code
                 spans and fenced blocks)
  blocks.txt     "NN<TAB>LINENO<TAB>INFO" of every fenced block
The convention is described at the top of 01-readme.sh.
"""
import os
import re
import sys

readme, out = sys.argv[1], sys.argv[2]
root = sys.argv[3] if len(sys.argv) > 3 else os.path.dirname(readme)
os.makedirs(out, exist_ok=True)
lines = open(readme, encoding="utf-8").read().split("\n")

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*(.*?)\s*$")
RUN_DIR = re.compile(r"(^|[\s\"'=(])run/")
WORD = re.compile(r"(?:^|[\s;|&(`$])omnisync\s+([a-z][a-z-]*)")
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")

blocks = []  # (lineno, info, [lines])
prose = []  # (lineno, text) outside fences
i = 0
while i < len(lines):
    m = FENCE.match(lines[i])
    if not m:
        prose.append((i + 1, lines[i]))
        i += 1
        continue
    fence, info, start = m.group(2), m.group(3), i + 1
    body = []
    i += 1
    while i < len(lines) and not lines[i].strip().startswith(fence[:3]):
        body.append(lines[i])
        i += 1
    i += 1  # the closing fence
    blocks.append((start, info, body))


def joined(body, first):
    """Command lines of a block with continuations joined: (lineno, line)."""
    res, cur, at = [], "", None
    for n, l in enumerate(body):
        if at is None:
            at = first + 1 + n
        s = l.rstrip()
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        if cur.strip() and not cur.lstrip().startswith("#"):
            res.append((at, cur.strip()))
        cur, at = "", None
    return res


with open(os.path.join(out, "blocks.txt"), "w") as bl, \
        open(os.path.join(out, "norun.txt"), "w") as nr, \
        open(os.path.join(out, "bad-info.txt"), "w") as bad:
    n = 0
    for start, info, body in blocks:
        words = info.split()
        if words == ["sh"]:
            n += 1
            with open(os.path.join(out, "run-%02d.sh" % n), "w") as f:
                f.write("# README.md line %d\n" % start)
                for l in body:
                    f.write(RUN_DIR.sub(r'\1$OMNISYNC_RUN_DIR/', l) + "\n")
            bl.write("%02d\t%d\t%s\n" % (n, start, info))
        elif words == ["sh", "norun"]:
            for at, l in joined(body, start):
                nr.write("%d\t%s\n" % (at, l))
            bl.write("--\t%d\t%s\n" % (start, info))
        elif words == ["text"]:
            bl.write("--\t%d\t%s\n" % (start, info))
        else:
            bad.write("%d\t%s\n" % (start, info or "(none)"))

# The prose as one text (code spans and links may run over a line end),
# the fenced lines blanked and HTML comments (not shown) emptied, so that
# offsets still give line numbers.
text = [""] * len(lines)
for at, l in prose:
    text[at - 1] = l
text = re.sub(r"<!--.*?-->", lambda c: "\n" * c.group(0).count("\n"),
              "\n".join(text), flags=re.S)


def line_of(pos):
    return text.count("\n", 0, pos) + 1


def slugs(path):
    """GitHub's anchors of a markdown file's headings (outside fences)."""
    res, fence, seen = set(), None, {}
    for l in open(path, encoding="utf-8"):
        m = FENCE.match(l)
        if m:
            if fence is None:
                fence = m.group(2)[:3]
            elif l.strip().startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        h = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", l)
        if not h:
            continue
        a = re.sub(r"[^\w\- ]", "", h.group(1).lower()).replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        res.add(a if n == 0 else "%s-%d" % (a, n))
    return res


anchors = open(os.path.join(out, "bad-anchors.txt"), "w")
with open(os.path.join(out, "links.txt"), "w") as f:
    for m in LINK.finditer(text):
        t = m.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", t) or t.startswith("#"):
            continue
        f.write("%d\t%s\n" % (line_of(m.start()), t.split("#", 1)[0]))
        if "#" in t and t.split("#", 1)[0].endswith(".md"):
            path, frag = t.split("#", 1)
            full = os.path.join(root, path)
            if os.path.exists(full) and frag not in slugs(full):
                anchors.write("%d\t%s\n" % (line_of(m.start()), t))

anchors.close()

with open(os.path.join(out, "words.txt"), "w") as f:
    for m in re.finditer(r"`([^`]+)`", text):
        at = line_of(m.start())
        for w in WORD.findall(" " + m.group(1)):
            f.write("%d\t%s\n" % (at, w))
    for start, info, body in blocks:
        if info.split()[:1] != ["sh"]:
            continue
        for n, l in enumerate(body):
            for w in WORD.findall(l):
                f.write("%d\t%s\n" % (start + 1 + n, w))
