#!/bin/bash
# The documentation keeps up with the programs: every option that --help
# lists is in the program's man page, and the README names every program.
source "$(dirname "$0")/../lib.sh"

# man_has PAGE OPTION: the option as troff writes it (\-\-name\-with\-dashes).
man_has() {
	local esc=${2//-/\\-}
	grep -qF -- "$esc" "$1"
}

check_options() {	# PROGRAM PAGE
	local prog=$1 page=$2 opts o missing=0
	opts=$("$prog" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
	[ -n "$opts" ] || { fail "$prog --help lists no options"; return; }
	for o in $opts; do
		if ! man_has "$page" "$o"; then
			fail "$(basename "$page"): $o is not documented"
			missing=1
		fi
	done
	[ $missing -eq 0 ] && ok "$(basename "$page") documents every option of $(basename "$prog") --help"
}

check_options "$RACKD" "$TOP/man/rackd.8"
[ -x "$BUILD_DIR/rack-agent" ] && check_options "$BUILD_DIR/rack-agent" "$TOP/man/rack-agent.8"
[ -x "$BUILD_DIR/rack-diskless" ] && check_options "$BUILD_DIR/rack-diskless" "$TOP/man/rack-diskless.8"
if [ -x "$RACKCTL" ]; then
	for cmd in $("$RACKCTL" --help 2>&1 | awk '/^Commands:/ {on=1; next} /^$/ {on=0} on && /^  [a-z]/ {print $1}'); do
		man_has "$TOP/man/rackctl.1" "$cmd" &&
			ok "rackctl.1 has $cmd" || fail "rackctl.1 lacks the command $cmd"
	done
fi
for word in "make demo" "make test" "rackd" "rackctl" "rack-agent" "make pxe" "make bench"; do
	grep -qF "$word" "$TOP/README.md" && ok "README names $word" || fail "README does not name $word"
done
# Every relative link of the README and of docs/ names a file that exists,
# and the design is in the project (not only in a folder beside it).
[ -f "$TOP/docs/design.md" ] && ok "docs/design.md exists" || fail "no docs/design.md"
grep -q '\.\./shared' "$TOP/README.md" "$TOP"/docs/*.md "$TOP"/docs/*/*.md &&
	fail "a document points outside the project (../shared)" ||
	ok "no document points outside the project"
for doc in "$TOP/README.md" "$TOP"/docs/*.md "$TOP"/docs/*/*.md; do
	dir=$(dirname "$doc")
	for link in $(grep -oE '\]\([^)#]+' "$doc" | sed 's/^](//' | grep -v '^[a-z]*:'); do
		[ -e "$dir/$link" ] && ok "$(basename "$doc") links $link" ||
			fail "$(basename "$doc") links $link, which does not exist"
	done
done
finish
