#!/bin/sh
#
# style.sh — checks the rules of docs/style.md that a machine can check
# reliably, over the project's C files (or the files given), and prints one
# FILE:LINE: rule: message per fault. It is the judge of the style;
# .clang-format only helps to get there (make style-fix). Rules:
#   long-line        over 80 columns, tabs counted to the next multiple of 8
#   trailing-space   blanks at the end of a line
#   space-indent     indentation of 8 or more spaces where tabs belong
#   space-tab        a space followed by a tab
#   return-type      a function definition's return type not on its own
#                    line, or its name not at the start of the next one
#   function-brace   a function's { not alone at the start of its own line
#   file-comment     the file does not begin with a comment saying what it
#                    is for
#   cxx-comment      a // comment
#
# usage: tools/style.sh [FILE...]
# Without files: every .c and .h under appliance db images pxe tests/unit
# tests/fuzz tools. Exit status 0 when clean, 1 with faults.

cd "$(dirname "$0")/.." || exit 2
exec python3 - "$@" <<'EOF'
import os
import re
import signal
import sys

DIRS = ["appliance", "db", "images", "pxe", "tests/unit", "tests/fuzz",
        "tools"]
# Generated files are not checked (none live in the tree today; build/gen
# is outside the folders above).
EXCLUDE = []
COLUMNS = 80
TAB = 8

CODE, BLOCK, LINE, STR, CHR = range(5)


def scrub(text):
    """The lines with comments and literals blanked (same columns), and
    the numbers of lines holding a // comment."""
    out, buf, cxx = [], [], []
    state, i, n, line = CODE, 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            out.append("".join(buf))
            buf = []
            line += 1
            if state == LINE:
                state = CODE
            elif state in (STR, CHR) and not (i > 0 and text[i - 1] == "\\"):
                state = CODE		# unterminated: #error, a stray '
            i += 1
            continue
        if state == CODE:
            if text.startswith("/*", i):
                state = BLOCK
                buf.append("  ")
                i += 2
            elif text.startswith("//", i):
                cxx.append(line)
                state = LINE
                buf.append("  ")
                i += 2
            else:
                if c == '"':
                    state = STR
                elif c == "'":
                    state = CHR
                buf.append(c)
                i += 1
        elif state == BLOCK:
            if text.startswith("*/", i):
                state = CODE
                buf.append("  ")
                i += 2
            else:
                buf.append("\t" if c == "\t" else " ")
                i += 1
        elif state == LINE:
            buf.append("\t" if c == "\t" else " ")
            i += 1
        else:
            quote = '"' if state == STR else "'"
            if c == "\\" and i + 1 < n and text[i + 1] != "\n":
                buf.append("  ")
                i += 2
                continue
            if c == quote:
                state = CODE
                buf.append(c)
            else:
                buf.append(" ")
            i += 1
    out.append("".join(buf))
    return out, cxx


def width(s):
    col = 0
    for c in s:
        col = (col // TAB + 1) * TAB if c == "\t" else col + 1
    return col


IDENT = re.compile(r"[A-Za-z_]\w*$")


def function_name(chars):
    """Where the name of a function definition's header starts: the
    identifier before its last top-level parenthesised group, as an index
    into chars (a list of (line, column, char)), or None."""
    text = "".join(ch for _, _, ch in chars).rstrip()
    if not text.endswith(")") or "=" in text:
        return None
    depth, i = 0, len(text) - 1
    while i >= 0:
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                break
        i -= 1
    if i <= 0:
        return None
    j = i
    while j > 0 and text[j - 1] in " \t\n":
        j -= 1
    m = IDENT.search(text[:j])
    if m is None or m.group(0) in ("if", "while", "for", "switch",
                                   "return", "sizeof", "__attribute__"):
        return None
    return m.start()


def functions(code):
    """(name line, name column, header's first line, brace line, brace
    column) of every function definition at file scope."""
    found, depth, header, pp = [], 0, [], False
    for ln, s in enumerate(code, 1):
        if pp or s.lstrip().startswith("#"):
            pp = s.rstrip().endswith("\\")
            continue
        for col, ch in enumerate(s):
            if ch == "{":
                if depth == 0:
                    k = function_name(header)
                    if k is not None:
                        nl, nc, _ = header[k]
                        first = next(l for l, _, c in header
                                     if not c.isspace())
                        found.append((nl, nc, first, ln, col))
                    header = []
                depth += 1
            elif ch == "}":
                depth = max(depth - 1, 0)
                if depth == 0:
                    header = []
            elif depth == 0:
                if ch == ";":
                    header = []
                else:
                    header.append((ln, col, ch))
        if depth == 0:
            header.append((ln, len(s), "\n"))
    return found


def check(path):
    faults = []

    def fault(ln, rule, msg):
        faults.append((ln, rule, msg))

    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = next((l for l in lines if l.strip()), "")
    if not first.lstrip().startswith("/*"):
        fault(1, "file-comment", "begin with a comment saying what the "
              "file is for and why")
    for ln, s in enumerate(lines, 1):
        w = width(s)
        if w > COLUMNS:
            fault(ln, "long-line", "%d columns (tabs at %d), over %d"
                  % (w, TAB, COLUMNS))
        if s != s.rstrip():
            fault(ln, "trailing-space", "blanks at the end of the line")
        lead = s[:len(s) - len(s.lstrip(" \t"))]
        if " \t" in s:
            fault(ln, "space-tab", "a space before a tab")
        elif re.search(r" {%d}" % TAB, lead) and s.strip():
            fault(ln, "space-indent", "indent with tabs (continuation "
                  "lines: tabs, then 4 spaces)")
    code, cxx = scrub(text)
    for ln in cxx:
        fault(ln, "cxx-comment", "use /* */ comments")
    for nl, nc, first, bl, bc in functions(code):
        if nc != 0 or first == nl:
            fault(nl, "return-type", "the return type goes on its own "
                  "line, the function's name at the start of the next")
        if bc != 0 or code[bl - 1].strip() != "{":
            fault(bl, "function-brace", "a function's { goes alone on "
                  "its own line")
    return sorted(faults)


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    files = sys.argv[1:]
    if not files:
        for d in DIRS:
            for root, _, names in os.walk(d):
                files += [os.path.join(root, n) for n in names
                          if n.endswith((".c", ".h"))]
        files = sorted(f for f in files if f not in EXCLUDE)
    bad = 0
    for path in files:
        faults = check(path)
        for ln, rule, msg in faults:
            print("%s:%d: %s: %s" % (path, ln, rule, msg))
        bad += len(faults)
    if bad:
        print("style: %d fault(s); docs/style.md says the rules"
              % bad, file=sys.stderr)
        return 1
    return 0


sys.exit(main())
EOF
