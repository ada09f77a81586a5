#!/bin/sh
#
# layers.sh — checks that appliance/ stacks as its layers say: base, then the
# HTTP server, then the domain, then the handlers, then routes and main
# (tools/layers.txt names the files of each layer). The call graph between
# files comes from the object files (nm: which file defines a symbol, which
# file uses it), so it sees every call, table entry and global variable the
# compiler kept, whatever the headers say. Errors, each naming the files and
# symbols:
#   - an upward edge: a file uses a symbol of a file in a higher layer;
#   - a circle between files that goes through a handler file;
#   - a file of appliance/ that tools/layers.txt does not place.
# Files named in tools/layers.txt that do not exist are ignored, and an
# object file whose source is gone is not read.
#
# usage: tools/layers.sh [-v] [-o OBJDIR] [-l LAYERS] [-s SRCDIR]
#   -v         also print the graph, one line per edge with its symbols
#   -o OBJDIR  the objects of appliance/ (default build/obj/appliance)
#   -l LAYERS  the layer file (default tools/layers.txt)
#   -s SRCDIR  the folder of the sources (default appliance)
# Exit status: 0 when the tree keeps its layers, 1 when it does not, 2 when
# it cannot tell (no objects: run `make all` first).

cd "$(dirname "$0")/.." || exit 2
exec python3 - "$@" <<'EOF'
import getopt
import os
import signal
import subprocess
import sys

SRCDIR = "appliance"
HANDLERS = "handlers"


def usage():
    sys.stderr.write("usage: tools/layers.sh [-v] [-o OBJDIR] [-l LAYERS] "
                     "[-s SRCDIR]\n")
    sys.exit(2)


def read_layers(path):
    """Layer names lowest first, and each file's layer index."""
    names, rank = [], {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if ":" not in line:
                sys.exit("%s:%d: expected \"layer: file ...\"" % (path, n))
            layer, files = line.split(":", 1)
            layer = layer.strip()
            if layer not in names:
                names.append(layer)
            for name in files.split():
                if name in rank:
                    sys.exit("%s:%d: %s is placed twice" % (path, n, name))
                rank[name] = names.index(layer)
    return names, rank


def symbols(obj):
    """The global symbols an object file defines and those it uses."""
    out = subprocess.run(["nm", "-P", obj], check=True,
                         capture_output=True, text=True).stdout
    defs, uses = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        sym, kind = f[0], f[1]
        if kind in ("U", "w", "v"):
            uses.add(sym)
        elif kind.isupper():
            defs.add(sym)
    return defs, uses


def shortest_path(start, goal, edges, within):
    """The shortest path start -> ... -> goal inside `within`, or None."""
    prev, queue, seen = {}, [start], {start}
    while queue:
        nxt = []
        for a in queue:
            if a == goal:
                path = [a]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return list(reversed(path))
            for b in sorted(edges.get(a, {})):
                if b in within and b not in seen:
                    seen.add(b)
                    prev[b] = a
                    nxt.append(b)
        queue = nxt
    return None


def components(nodes, edges):
    """Strongly connected components (Tarjan), as sets."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        opts, args = getopt.getopt(sys.argv[1:], "vo:l:s:")
    except getopt.GetoptError:
        usage()
    if args:
        usage()
    global SRCDIR
    verbose, objdir, layerfile, SRCDIR = False, None, "tools/layers.txt", \
        "appliance"
    for o, v in opts:
        if o == "-v":
            verbose = True
        elif o == "-o":
            objdir = v
        elif o == "-l":
            layerfile = v
        elif o == "-s":
            SRCDIR = v.rstrip("/")
    if objdir is None:
        objdir = "build/obj/" + SRCDIR
    names, rank = read_layers(layerfile)
    if HANDLERS not in names:
        sys.exit("%s: no layer named %s" % (layerfile, HANDLERS))

    files = sorted(f[:-2] for f in os.listdir(SRCDIR) if f.endswith(".c"))
    errors = []
    defined, uses = {}, {}
    for name in files:
        obj = os.path.join(objdir, name + ".o")
        if not os.path.exists(obj):
            sys.stderr.write("layers: no %s for %s/%s.c: run `make all` "
                             "first\n" % (obj, SRCDIR, name))
            sys.exit(2)
        if os.path.getmtime(obj) < os.path.getmtime(
                os.path.join(SRCDIR, name + ".c")):
            sys.stderr.write("layers: warning: %s is older than its "
                             "source\n" % obj)
        d, u = symbols(obj)
        uses[name] = u
        for sym in d:
            defined.setdefault(sym, name)
        if name not in rank:
            errors.append("%s/%s.c: in no layer (give it one in %s)"
                          % (SRCDIR, name, layerfile))

    # edges[a][b]: the symbols of b that a uses
    edges = {}
    for a in files:
        for sym in uses[a]:
            b = defined.get(sym)
            if b is not None and b != a:
                edges.setdefault(a, {}).setdefault(b, set()).add(sym)

    def layer(f):
        return names[rank[f]] if f in rank else "?"

    def label(f):
        return "%s/%s.c" % (SRCDIR, f)

    if verbose:
        print("# appliance/ call graph from the object files: "
              "file (layer) -> file (layer): symbols")
        order = sorted(files, key=lambda f: (rank.get(f, len(names)), f))
        for a in order:
            for b in sorted(edges.get(a, {}),
                            key=lambda f: (rank.get(f, len(names)), f)):
                up = ""
                if a in rank and b in rank and rank[b] > rank[a]:
                    up = "  UPWARD"
                print("%s (%s) -> %s (%s): %s%s" % (a, layer(a), b,
                      layer(b), " ".join(sorted(edges[a][b])), up))
        print()

    for a in sorted(edges):
        for b in sorted(edges[a]):
            if a in rank and b in rank and rank[b] > rank[a]:
                errors.append("%s (%s) uses %s (%s), a higher layer: %s"
                              % (label(a), layer(a), label(b), layer(b),
                                 ", ".join(sorted(edges[a][b]))))

    hrank = names.index(HANDLERS)
    seen = set()
    for comp in components(files, edges):
        if len(comp) < 2:
            continue
        for h in sorted(f for f in comp if rank.get(f) == hrank):
            # one circle for each way out of the handler
            for b in sorted(f for f in edges.get(h, {}) if f in comp):
                back = shortest_path(b, h, edges, comp)
                if back is None:
                    continue
                path = [h] + back
                key = frozenset(zip(path, path[1:]))
                if key in seen:
                    continue
                seen.add(key)
                steps = []
                for a, c in zip(path, path[1:]):
                    steps.append("%s -> %s (%s)" % (a, c,
                                 ", ".join(sorted(edges[a][c]))))
                errors.append("circle through handler %s: %s"
                              % (label(h), "; ".join(steps)))
        if verbose:
            print("# circle: " + " ".join(sorted(comp)))

    for e in errors:
        print("layers: " + e)
    if errors:
        print("layers: %d error(s); the layers are in %s"
              % (len(errors), layerfile))
        return 1
    if verbose:
        print("layers: ok (%d files, %d edges)" % (len(files),
              sum(len(v) for v in edges.values())))
    return 0


sys.exit(main())
EOF
