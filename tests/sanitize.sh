#!/bin/sh
# tests/sanitize.sh COMMAND...: runs one test of `make asan` (run-all.sh's
# TEST_WRAP). AddressSanitizer and UBSan stop a process at its first report
# (halt_on_error, exit code 86); their reports are written to files, one
# per process, in a folder every user may write to, so that none is lost:
# not those of rackd's privileged helper, of rackd once it has become its
# user, of a daemon whose stderr nobody reads, or reports at exit (leaks).
# Any report fails the test and is printed into its log.
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/rackd-sanitize.XXXXXX") || exit 1
chmod 1777 "$dir"
common="halt_on_error=1:exitcode=86:print_stacktrace=1"
export ASAN_OPTIONS="$common:detect_leaks=1:log_path=$dir/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="$common:log_path=$dir/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
"$@"
rc=$?
for f in "$dir"/*; do
	[ -e "$f" ] || continue
	echo "--- sanitizer report $(basename "$f")"
	cat "$f"
	rc=1
done
# The gist of each report last, where a reader of the log's tail looks.
for f in "$dir"/*; do
	[ -e "$f" ] || continue
	echo "--- $(basename "$f"):"
	grep -E 'ERROR:|runtime error:|^ *#[0-3] ' "$f" | head -n 6
done
rm -rf "$dir"
[ "$rc" -eq 0 ] || echo "exit status $rc"
exit "$rc"
