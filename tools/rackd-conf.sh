#!/bin/sh
# tools/rackd-conf.sh RACKD: print rackd.conf, the configuration file that
# `make install` and the rackd package put in /etc/rackd. It is made from
# `RACKD --help` (the option table), so that it lists every option a
# config file takes, each commented out with its help and its default as
# installed; it cannot drift from the program. Options of the command
# line only (-c, -d, -n) are left out. RACKD_EXEC, when set, is the
# command that runs RACKD (qemu-aarch64-static for a cross-built one).
set -eu
rackd=${1:?usage: rackd-conf.sh RACKD}
exec_with=${RACKD_EXEC:-}

cat <<'HEAD'
# /etc/rackd/rackd.conf: rackd's configuration (INI: name = value; see
# rackd(8)). Every option is listed, commented out, with its built-in
# default; uncomment a line to change it. The command line wins over this
# file. `systemctl reload rackd` (SIGHUP) rereads it: the options rackd(8)
# names under SIGHUP take effect at once, the others at the next start.
HEAD
# Read whole first: a rackd that cannot run fails here, not in a pipe.
usage=$($exec_with "$rackd" --help)
printf '%s\n' "$usage" | sed -n 's/^ *\(-., \)\{0,1\}--\([a-z-]*\)\(\[=yes|no\]\)\{0,1\}\( [A-Z0-9|:]*\)\{0,1\} *\(.*\)$/\2	\5/p' |
while IFS='	' read -r name rest; do
	case "$name" in help|version) continue ;; esac
	case "$rest" in *"(command line only)") continue ;; esac
	key=$(printf '%s' "$name" | tr - _)
	def=""
	help=$rest
	case "$rest" in
	*" (installed: "*")")
		def=${rest##*" (installed: "}
		def=${def%")"}
		help=${rest%" (installed: "*}
		help=${help%" ["*"]"} ;;
	*"]")
		def=${rest##*" ["}
		def=${def%"]"}
		help=${rest%" ["*"]"} ;;
	esac
	printf '\n'
	printf '%s\n' "$help" | fold -s -w 74 | sed 's/ *$//; s/^/# /'
	if [ -n "$def" ]; then
		printf '#%s = %s\n' "$key" "$def"
	else
		printf '#%s =\n' "$key"
	fi
done
