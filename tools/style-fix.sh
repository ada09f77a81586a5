#!/bin/sh
#
# style-fix.sh — reformats C files towards docs/style.md: clang-format with
# the committed .clang-format, then the few KNF habits clang-format has no
# option for, then tools/style.sh on the files to say what is left to fix
# by hand. Only blanks and line breaks change, never a token. The passes
# after clang-format:
#   - a statement broken in two only to make room for its trailing comment
#     is joined again, and the comment goes on the line above;
#   - a `? a` line followed by its `: b` line is joined into `? a : b`, and
#     onto the condition's line, when that fits in 80 columns;
#   - in headers, each prototype at file scope is written as rackd.h
#     writes them: the type, a tab, a space or the `*` of a pointer return,
#     the name, and continuation lines of a tab and 4 spaces;
#   - in headers, each run of object-like #defines gets its values aligned
#     with tabs at one tab stop, and a trailing comment a tab after.
#
# usage: tools/style-fix.sh FILE...   (make style-fix FILES="...")

[ $# -gt 0 ] || { echo "usage: tools/style-fix.sh FILE..." >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
clang-format -i --style=file:"$top/.clang-format" "$@" || exit 1
python3 - "$@" <<'EOF' || exit 1
import re
import sys

COLUMNS = 80


def width(s):
    col = 0
    for c in s:
        col = (col // 8 + 1) * 8 if c == "\t" else col + 1
    return col


def lead(s):
    return s[:len(s) - len(s.lstrip(" \t"))]


def lift_comments(lines):
    """A statement clang-format broke in two only to make room for its
    trailing comment: the statement back on one line, the comment on the
    line above it."""
    out, i = [], 0
    while i < len(lines):
        a = lines[i]
        b = lines[i + 1] if i + 1 < len(lines) else ""
        m = re.match(r"^(.*\S)\s*(/\*[^*]*(\*[^/][^*]*)*\*/)\s*$", b)
        if (m and a.rstrip().endswith(("=", "(", ",")) and
                lead(b) == lead(a) + "    " and "/*" not in a and
                "/*" not in m.group(1) and "//" not in a):
            code = m.group(1).strip()
            joined = a.rstrip() + ("" if a.rstrip().endswith("(") else " ") \
                + code
            if width(joined) <= COLUMNS:
                out.append(lead(a) + m.group(2))
                out.append(joined)
                i += 2
                continue
        out.append(a)
        i += 1
    return out


def join_ternaries(lines):
    out = []
    i = 0
    while i < len(lines):
        a = lines[i]
        b = lines[i + 1] if i + 1 < len(lines) else None
        if (b is not None and a.lstrip().startswith("? ") and
                b.lstrip().startswith(": ") and lead(a) == lead(b) and
                "/*" not in a and "/*" not in b and
                a.count("(") == a.count(")") and "?" not in a[len(lead(a)) + 1:]):
            joined = a.rstrip() + " " + b.strip()
            if width(joined) <= COLUMNS:
                a = joined
                i += 1
        if (out and a.lstrip().startswith("? ") and "/*" not in out[-1] and
                ":" in a and not out[-1].rstrip().endswith(("{", ";"))):
            up = out[-1].rstrip() + " " + a.strip()
            if width(up) <= COLUMNS:
                out[-1] = up
                i += 1
                continue
        out.append(a)
        i += 1
    return out


def wrap(words, first):
    """first (ending in "(") and words, wrapped greedily at 80 columns;
    continuation lines are a tab and 4 spaces."""
    lines, cur = [], first
    for w in words:
        fresh = cur.endswith("(") or cur == "\t    "
        cand = cur + ("" if fresh else " ") + w
        if width(cand) > COLUMNS and not fresh:
            lines.append(cur)
            cur = "\t    " + w
        else:
            cur = cand
    lines.append(cur)
    return lines


def params(rest):
    """rest split after each top-level comma: the pieces a prototype may
    be broken between."""
    out, depth, cur = [], 0, ""
    for c in rest:
        cur += c
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
    out.append(cur.strip())
    split = []
    for w in out:
        k = w.find(") __attribute__")
        if k > 0:
            split += [w[:k + 1], w[k + 2:]]
        else:
            split.append(w)
    return [w for w in split if w]


PROTO = re.compile(r"^(?P<type>[A-Za-z_][\w \t]*?[\w*][ \t*]*?)"
                   r"(?P<stars>\**)(?P<name>[A-Za-z_]\w*)\((?P<rest>.*)$")
SKIP = ("typedef", "extern", "static", "return", "#", "}", "{", "/*", " *")


def align_prototypes(lines):
    out, i = [], 0
    while i < len(lines):
        s = lines[i]
        if not s or s[0] in " \t" or s.startswith(SKIP) or "{" in s:
            out.append(s)
            i += 1
            continue
        j, text = i, s
        while not re.search(r";\s*(/\*.*\*/)?\s*$", lines[j]) and \
                j + 1 < len(lines) and lines[j + 1][:1] in (" ", "\t"):
            j += 1
            text += " " + lines[j].strip()
        m = re.match(r"^(.*\));\s*(/\*.*\*/)?\s*$", text)
        if ("/*" in text and (m is None or "/*" in m.group(1))) or \
                m is None or not PROTO.match(m.group(1)):
            out.append(s)
            i += 1
            continue
        p = PROTO.match(re.sub(r"\s+", " ", m.group(1)))
        typ = p.group("type").rstrip()
        stars = p.group("stars")
        if typ.endswith("*"):
            stars = typ[len(typ.rstrip("* ")):].replace(" ", "") + stars
            typ = typ.rstrip("* ")
        head = typ + ("\t" + (stars or " ") if len(typ) < 8 else
                      " " + stars)
        first = head + p.group("name") + "("
        words = params(p.group("rest") + ";")
        new = wrap(words, first)
        comment = m.group(2)
        if comment:
            if width(new[-1] + "\t" + comment) <= COLUMNS:
                new[-1] += "\t" + comment
            else:
                new.insert(0, comment)
        out.extend(new)
        i = j + 1
    return out


DEFINE = re.compile(r"^#define ([A-Za-z_]\w*)[ \t]+(.*?)[ \t]*"
                    r"(/\*.*\*/)?[ \t]*$")


def join_defines(lines):
    """Undo clang-format's `#define NAME \\` + value line for a value
    that is one line."""
    out, i = [], 0
    while i < len(lines):
        s = lines[i]
        if (re.match(r"^#define [A-Za-z_]\w*[ \t]*\\$", s) and
                i + 1 < len(lines) and
                not lines[i + 1].rstrip().endswith("\\")):
            out.append(s.rstrip("\\ \t") + " " + lines[i + 1].strip())
            i += 2
            continue
        out.append(s)
        i += 1
    return out


def align_defines(lines):
    lines = join_defines(lines)
    out, i = [], 0
    while i < len(lines):
        run = []
        while i < len(lines) and DEFINE.match(lines[i]) and \
                not lines[i].rstrip().endswith("\\") and \
                DEFINE.match(lines[i]).group(2):
            run.append(DEFINE.match(lines[i]))
            i += 1
        if not run:
            out.append(lines[i])
            i += 1
            continue
        col = max(len("#define " + m.group(1)) for m in run) // 8 * 8 + 8
        for m in run:
            s = "#define " + m.group(1)
            while width(s) < col:
                s += "\t"
            s += m.group(2)
            if m.group(3):
                c = s + "\t" + m.group(3)
                if width(c) > COLUMNS:
                    c = s + " " + m.group(3)
                if width(c) > COLUMNS:
                    out.append(m.group(3))
                    c = s
                s = c
            out.append(s)
    return out


for path in sys.argv[1:]:
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")
    lines = join_ternaries(lift_comments(lines))
    if path.endswith(".h"):
        lines = align_defines(align_prototypes(lines))
    new = "\n".join(lines)
    if new != text:
        with open(path, "w") as f:
            f.write(new)
EOF
sh "$top/tools/style.sh" "$@"
