#!/bin/sh
#
# api.sh -- the REST API's benchmark: wrk against GET of one execution
# and against POST of executions (a one-task std.noop workflow), on the
# embedded store, and borad's resident memory when idle with the shipped
# workflows loaded (VmRSS, and PSS and private memory, which do not
# count the shared library pages other processes also map) and again
# after the load.  Prints the figures next to the targets (>= 20,000
# GET/s, >= 2,000 started executions/s, idle RSS <= 10 MB).  Use an
# optimised build without sanitizers; it builds nothing and is never run
# by make check.
#
# Environment:
#   BORAD        the daemon (default ./src/borad)
#   SRCDIR       the source tree (default: this script's parent)
#   DURATION     seconds of each wrk run (default 10)
#   CONNECTIONS  wrk connections (default 64)
#   THREADS      wrk threads (default 2)
#   BORAD_ARGS   more borad flags, e.g. "--http-threads 8"
#   BENCH_LOG    where borad's log goes (default: discarded)
#

here=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(dirname "$here")}"
: "${BORAD:=./src/borad}"
: "${DURATION:=10}"
: "${CONNECTIONS:=64}"
: "${THREADS:=2}"
: "${BORAD_ARGS:=}"
: "${BENCH_LOG:=/dev/null}"

for t in wrk curl jq python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "bench: $t is needed (apt-get install $t)" >&2
		exit 1
	fi
done
if [ ! -x "$BORAD" ]; then
	echo "bench: $BORAD is not executable (set BORAD)" >&2
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench-api.XXXXXX")
PID=
cleanup()
{
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The shipped workflows, plus the benchmark's one-task workflow.
mkdir -p "$TMP/workflows" "$TMP/actions"
cp -R "$SRCDIR/workflows/." "$TMP/workflows/"
cp "$here/noop1.yaml" "$TMP/workflows/"
[ -d "$SRCDIR/actions" ] && cp -R "$SRCDIR/actions/." "$TMP/actions/"

PORT=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL=http://127.0.0.1:$PORT

# shellcheck disable=SC2086
"$BORAD" -d --db "sqlite:$TMP/bora.db" --listen "127.0.0.1:$PORT" \
    --workflows "$TMP/workflows" --actions "$TMP/actions" \
    --lua "$SRCDIR/lua" $BORAD_ARGS >"$BENCH_LOG" 2>&1 &
PID=$!
i=0
until curl -sf -o /dev/null "$URL/readyz"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
		echo "bench: borad did not start (BENCH_LOG=file to see why)" >&2
		exit 1
	fi
	sleep 0.1
done

# rss: borad's resident set in kB.
rss()
{
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PID/status"
}

# pss / uss: borad's proportional set (shared library pages divided
# among the processes mapping them) and private set, in kB.
pss()
{
	sed -n 's/^Pss:[[:space:]]*\([0-9]*\) kB/\1/p' \
	    "/proc/$PID/smaps_rollup"
}
uss()
{
	awk '/^Private_(Clean|Dirty):/ { n += $2 } END { print n }' \
	    "/proc/$PID/smaps_rollup"
}

# rate WRK-OUTPUT: requests per second, as an integer.
rate()
{
	sed -n 's/^Requests\/sec:[[:space:]]*\([0-9]*\).*/\1/p' "$1"
}

# verdict VALUE TARGET [le]: "ok" or "MISSED".
verdict()
{
	if [ "${3:-ge}" = le ]; then
		[ "$1" -le "$2" ] && echo ok || echo MISSED
	else
		[ "$1" -ge "$2" ] && echo ok || echo MISSED
	fi
}

sleep 1
IDLE=$(rss)
IDLE_PSS=$(pss)
IDLE_USS=$(uss)
NWF=$(curl -s "$URL/v2/workflows" | jq '.workflows | length')

ID=$(curl -s -H 'Content-Type: application/json' \
    -d '{"workflow_name": "bench_noop1"}' "$URL/v2/executions" | jq -r .id)
if [ -z "$ID" ] || [ "$ID" = null ]; then
	echo "bench: cannot start bench_noop1" >&2
	exit 1
fi
sleep 0.5


wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --latency \
    "$URL/v2/executions/$ID" >"$TMP/get.out" 2>&1
GET=$(rate "$TMP/get.out")
BEFORE=$(curl -s "$URL/v2/executions?limit=1000000&fields=id" |
    jq '.executions | length')
wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --latency \
    -s "$here/post-noop1.lua" "$URL/v2/executions" >"$TMP/post.out" 2>&1
POST=$(rate "$TMP/post.out")
AFTER=$(curl -s "$URL/v2/executions?limit=1000000&fields=id" |
    jq '.executions | length')
BUSY=$(rss)

# How long the engine takes to finish the backlog the POSTs left.
T0=$(date +%s)
while :; do
	LEFT=$(curl -s "$URL/v2/executions?state=RUNNING&limit=1000000&fields=id" |
	    jq '.executions | length')
	[ "${LEFT:-0}" -eq 0 ] && break
	[ $(($(date +%s) - T0)) -ge 120 ] && break
	sleep 0.5
done
DRAIN=$(($(date +%s) - T0))

echo "bora REST API benchmark ($(nproc) CPUs, wrk -t$THREADS" \
    "-c$CONNECTIONS -d${DURATION}s, SQLite store)"
echo
echo "== GET /v2/executions/ID"
sed -n '/Latency\|50%\|99%\|Requests\/sec\|Non-2xx\|Socket errors/p' \
    "$TMP/get.out"
echo
echo "== POST /v2/executions (bench_noop1)"
sed -n '/Latency\|50%\|99%\|Requests\/sec\|Non-2xx\|Socket errors/p' \
    "$TMP/post.out"
echo "  executions stored: $((AFTER - BEFORE)); still RUNNING" \
    "${DRAIN} s later: ${LEFT:-?}"
echo
printf '%-34s %12s %12s  %s\n' "figure" "bora" "target" ""
printf '%-34s %12s %12s  %s\n' "GET one execution (req/s)" "$GET" \
    ">= 20000" "$(verdict "${GET:-0}" 20000)"
printf '%-34s %12s %12s  %s\n' "started executions (req/s)" "$POST" \
    ">= 2000" "$(verdict "${POST:-0}" 2000)"
printf '%-34s %12s %12s  %s\n' "idle RSS, $NWF workflows (kB)" "$IDLE" \
    "<= 10240" "$(verdict "${IDLE:-999999}" 10240 le)"
printf '%-34s %12s\n' "idle PSS (kB)" "$IDLE_PSS"
printf '%-34s %12s\n' "idle private memory (kB)" "$IDLE_USS"
printf '%-34s %12s\n' "RSS after the load (kB)" "$BUSY"
