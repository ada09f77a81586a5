#!/bin/sh
# tools/webui-vendor.sh — the dashboard's third-party files: npm ci in
# webui-vendor/ (its package-lock.json pins each version and its hash)
# when node_modules/ is missing or older than the lock file, then the files
# the dashboard serves are copied into webui/vendor/ (not committed; made
# by `make all`). Nothing is loaded from outside the board.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/webui-vendor
out=$top/webui/vendor

if [ ! -f "$src/node_modules/.package-lock.json" ] ||
    [ "$src/package-lock.json" -nt "$src/node_modules/.package-lock.json" ]; then
	command -v npm >/dev/null 2>&1 ||
		{ echo "webui-vendor: npm missing (sh tools/deps.sh build)" >&2; exit 1; }
	(cd "$src" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "webui-vendor: npm ci failed in webui-vendor/" >&2; exit 1; }
fi
x=$src/node_modules/@xterm/xterm
mkdir -p "$out/xterm"
cp "$x/lib/xterm.js" "$out/xterm/xterm.js.tmp"
cp "$x/css/xterm.css" "$out/xterm/xterm.css.tmp"
cp "$x/LICENSE" "$out/xterm/LICENSE.tmp"
for f in xterm.js xterm.css LICENSE; do
	mv "$out/xterm/$f.tmp" "$out/xterm/$f"
done
