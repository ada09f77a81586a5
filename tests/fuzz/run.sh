#!/bin/sh
# tests/fuzz/run.sh BUILD NAME...: runs each libFuzzer driver BUILD/bin/NAME
# for FUZZ_TIME seconds (60 by default) from its seed corpus
# tests/fuzz/corpus/NAME (FUZZ_CORPUS names another folder of seed folders;
# not written to: what a run finds goes into
# BUILD/corpus/NAME, kept between runs). Prints one line per driver with
# its executions from libFuzzer's final stats. A crash, a sanitizer
# report, a leak, an input slower than FUZZ_TIMEOUT seconds or more than
# FUZZ_RSS MiB fails the driver; its input is kept as
# BUILD/crashes/NAME/<kind>-<sha1> and its log as BUILD/logs/NAME.log.
# Exit status 1 if any driver failed.
set -u
build=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
time=${FUZZ_TIME:-60}
tmo=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS:-2048}
failed=""
mkdir -p "$build/logs"

for name in "$@"; do
	bin=$build/bin/$name
	seeds=${FUZZ_CORPUS:-$top/tests/fuzz/corpus}/${name#fuzz_}
	work=$build/corpus/$name
	crashes=$build/crashes/$name
	log=$build/logs/$name.log
	mkdir -p "$work" "$crashes"
	touch "$build/logs/$name.start"	# inputs kept by this run are newer
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "FAIL $name: no driver $bin or no seeds $seeds"
		failed="$failed $name"
		continue
	fi
	# a bound on the whole run too, should libFuzzer itself hang
	timeout -k 10 $((time + tmo + 120)) "$bin" -max_total_time="$time" \
	    -timeout="$tmo" -rss_limit_mb="$rss" -print_final_stats=1 \
	    -artifact_prefix="$crashes/" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	inputs=$(ls "$work" | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "ok   $name: ${execs:-?} execs in ${secs:-?} s, corpus $inputs inputs"
	else
		failed="$failed $name"
		echo "FAIL $name: exit status $rc after ${execs:-?} execs; log $log"
		grep -E '^==[0-9]+==ERROR|^SUMMARY|broken promise|runtime error|ALARM|out-of-memory' "$log" |
		    head -n 5 | sed 's/^/    /'
		find "$crashes" -type f -newer "$build/logs/$name.start" |
		    sed 's/^/    kept input: /'
		echo "    again: $bin $crashes/<input>"
	fi
done

[ -z "$failed" ] || { echo "fuzz: failed:$failed"; exit 1; }
echo "fuzz: $# drivers, no crash"
