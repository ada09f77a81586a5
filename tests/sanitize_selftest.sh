#!/bin/sh
# tests/sanitize_selftest.sh CC FLAGS...: shows that tests/sanitize.sh fails
# a test whose only fault is in a child that dropped root and whose stderr
# goes nowhere (as rackd's are), and passes the same test without it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/rackd-sanitize-selftest.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cat >"$dir/child.c" <<'C'
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		char *p = malloc(4);

		dup2(open("/dev/null", O_WRONLY), 2);
		if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		memset(p, 0, argc > 1 ? 5 : 4);	/* one byte too far */
		st = p[0];
		free(p);
		_exit(st);
	}
	waitpid(pid, &st, 0);
	return 0;	/* the parent does not look */
}
C
"$@" -o "$dir/child" "$dir/child.c" || exit 1
fails=0
out=$(sh "$top/tests/sanitize.sh" "$dir/child" overflow 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q heap-buffer-overflow; then
	echo "ok - a report of a child without root and stderr fails the test"
else
	echo "FAIL - the child's report was lost: $out"
	fails=1
fi
if sh "$top/tests/sanitize.sh" "$dir/child" >/dev/null 2>&1; then
	echo "ok - the same test without the fault passes"
else
	echo "FAIL - the test fails without the fault"
	fails=1
fi
exit "$fails"
