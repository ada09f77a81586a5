#!/bin/bash
# The checkers of `make check` find what they are for: tools/style.sh
# reports each rule of docs/style.md at its line and passes a KNF file;
# tools/layers.sh, on a small tree of object files, reports an upward edge,
# a circle through a handler and a file in no layer, naming the files and
# symbols, and passes a tree that keeps its layers.
source "$(dirname "$0")/../lib.sh"

STYLE="$TOP/tools/style.sh"
LAYERS="$TOP/tools/layers.sh"

# A file in the style, with the things that only look like faults: // in
# a string and in a comment, a struct with a function pointer, a table.
cat >"$TMP/good.c" <<'EOF'
/*
 * good.c — a file in the project's style.
 */
#include <stdio.h>

struct ops {
	int	(*fn)(void);	/* see http://example.org/a//b */
};

static const struct ops table[] = {
	{ NULL },
};

#define TWICE(x)	do { (x); (x); } while (0)

static int
add(int a,
    int b)
{
	const char *url = "http://example.org//x";

	return a + b + (url != NULL) + (int)(sizeof(table) / sizeof(table[0]));
}
EOF
out=$(sh "$STYLE" "$TMP/good.c" 2>&1) && [ -z "$out" ] &&
	ok "style.sh passes a KNF file" || fail "style.sh on a KNF file: $out"

printf '%s\n' \
	'int x;' \
	'static int f(void) {' \
	'	return 0;' \
	'}' \
	'int' \
	'g(void)' \
	'{' \
	'        return 1; ' \
	'	 	return 2;' \
	'	// a C++ comment' \
	'	return 3 + 33333333 + 33333333 + 33333333 + 33333333 + 33333333 + 333333333;' \
	'}' >"$TMP/bad.c"
out=$(sh "$STYLE" "$TMP/bad.c" 2>/dev/null)
[ $? -eq 1 ] && ok "style.sh fails a file out of style" ||
	fail "style.sh exit status on a bad file"
for want in "1: file-comment" "2: return-type" "2: function-brace" \
    "8: space-indent" "8: trailing-space" "9: space-tab" "10: cxx-comment" \
    "11: long-line"; do
	grep -q "^$TMP/bad.c:$want" <<<"$out" && ok "style.sh reports bad.c:$want" ||
		fail "style.sh does not report bad.c:$want: $out"
done
n=$(wc -l <<<"$out")
[ "$n" -eq 8 ] && ok "style.sh reports nothing else" ||
	fail "style.sh reports $n faults, not 8: $out"

# layers.sh: base.c <- srv.c <- hnd.c, plus the faults of today's tree.
mkdir -p "$TMP/src" "$TMP/obj"
layers() { sh "$LAYERS" -s "$TMP/src" -o "$TMP/obj" -l "$TMP/layers.txt" "$@"; }
build() {
	local f
	rm -f "$TMP/obj"/*.o
	for f in "$TMP"/src/*.c; do
		cc -c -o "$TMP/obj/$(basename "$f" .c).o" "$f" || return 1
	done
}
printf 'base: base\nhttp: srv\nhandlers: hnd\ntop: main later\n' >"$TMP/layers.txt"
cat >"$TMP/src/base.c" <<'EOF'
int base_value(void);
int base_value(void) { return 1; }
EOF
cat >"$TMP/src/srv.c" <<'EOF'
int base_value(void);
int srv_run(int (*fn)(void));
int srv_run(int (*fn)(void)) { return fn() + base_value(); }
EOF
cat >"$TMP/src/hnd.c" <<'EOF'
int srv_run(int (*fn)(void));
int hnd_get(void);
int hnd_get(void) { return 2; }
int hnd_serve(void);
int hnd_serve(void) { return srv_run(hnd_get); }
EOF
cat >"$TMP/src/main.c" <<'EOF'
int hnd_serve(void);
int main(void) { return hnd_serve(); }
EOF
build || fail "cannot compile the layer test files"
out=$(layers 2>&1) && ok "layers.sh passes a tree that keeps its layers" ||
	fail "layers.sh on a good tree: $out"
out=$(layers -v 2>&1)
grep -q "^hnd (handlers) -> srv (http): srv_run$" <<<"$out" &&
	ok "layers.sh -v prints the graph" || fail "layers.sh -v: $out"

# The server names a handler (a route table) and the handler reads a
# variable of main.c: an upward edge each, and a circle.
cat >"$TMP/src/srv.c" <<'EOF'
int base_value(void);
int hnd_get(void);
int srv_run(int (*fn)(void));
int srv_run(int (*fn)(void)) { return fn() + base_value() + hnd_get(); }
EOF
cat >"$TMP/src/main.c" <<'EOF'
int hnd_serve(void);
int conf = 1;
int main(void) { return hnd_serve(); }
EOF
sed -i 's/return 2;/extern int conf; return conf;/' "$TMP/src/hnd.c"
printf 'int stray(void);\nint stray(void) { return 0; }\n' >"$TMP/src/stray.c"
build || fail "cannot compile the layer test files"
out=$(layers 2>&1)
[ $? -eq 1 ] && ok "layers.sh fails a tree that breaks its layers" ||
	fail "layers.sh exit status on a bad tree: $out"
grep -q "srv.c (http) uses .*hnd.c (handlers), a higher layer: hnd_get$" <<<"$out" &&
	ok "layers.sh names the upward edge and its symbol" ||
	fail "layers.sh misses srv -> hnd: $out"
grep -q "hnd.c (handlers) uses .*main.c (top), a higher layer: conf$" <<<"$out" &&
	ok "layers.sh names a variable used from below" ||
	fail "layers.sh misses hnd -> main: $out"
grep -q "circle through handler .*hnd.c: hnd -> srv (srv_run); srv -> hnd (hnd_get)" <<<"$out" &&
	ok "layers.sh names the circle through the handler" ||
	fail "layers.sh misses the circle: $out"
grep -q "stray.c: in no layer" <<<"$out" && ok "layers.sh names a file in no layer" ||
	fail "layers.sh misses stray.c: $out"

rm -f "$TMP/obj/stray.o"
out=$(layers 2>&1)
[ $? -eq 2 ] && grep -q "run \`make all\` first" <<<"$out" &&
	ok "layers.sh says when objects are missing" ||
	fail "layers.sh without stray.o: $out"
finish
