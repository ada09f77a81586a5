#!/bin/sh
# tests/bench/run.sh — runs every benchmark of rackd, one after another,
# each bounded in time; `make bench` calls it after building. Exits
# non-zero if a benchmark fails to run (a missed goal is not a failure:
# benchmarks print GOAL MET / GOAL MISSED lines). Figures go to
# build/bench/.
#
# To add a benchmark, append one line at the end of the list below:
#   bench NAME MAX_SECONDS COMMAND [ARGS...]
set -u
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/bench || exit 1

failed=""
bench() {
	name=$1
	limit=$2
	shift 2
	echo "=== bench $name (at most ${limit}s): $*"
	start=$(date +%s)
	timeout -k 30 "$limit" "$@"
	rc=$?
	took=$(($(date +%s) - start))
	case $rc in
	0) echo "=== bench $name: done in ${took}s" ;;
	124 | 137) echo "=== bench $name: FAILED: over ${limit}s"
	     failed="$failed $name" ;;
	*) echo "=== bench $name: FAILED: exit status $rc after ${took}s"
	   failed="$failed $name" ;;
	esac
}

# ---- the benchmarks ------------------------------------------------------
bench chunks 1800 bash tests/bench/chunks.sh
bench dashboard 600 bash tests/bench/dashboard.sh
bench push 1800 bash tests/bench/push.sh
bench agent 1800 bash tests/bench/agent.sh
bench dhcp 900 bash tests/bench/dhcp.sh
bench diskless 3600 bash tests/bench/diskless.sh
bench pull 3600 bash tests/bench/pull.sh
bench consoles 900 bash tests/bench/consoles.sh
bench boot_paths 7200 bash tests/bench/boot_paths.sh
bench capture 1800 bash tests/bench/capture.sh
bench inventory 5400 bash tests/bench/inventory.sh
# ---- end of the list -----------------------------------------------------

if [ -n "$failed" ]; then
	echo "benchmarks that failed to run:$failed"
	exit 1
fi
echo "all benchmarks ran; figures in build/bench/"
