#!/bin/sh
#
# console.sh -- the web console's figures, in headless Chromium
# (Debian's chromium, playwright-core from tests/console/node_modules):
# the layout time of 500-, 1000- and 2000-task workflow graphs (the
# console's own layered layout, measured in the page, best and median
# of RUNS), the page of a with-items execution over 10,000 items (time
# to its counter), the delay from a task's transition to the page, and
# borad's threads and memory with 200 open event streams.  It builds
# nothing and is never run by make check.
#
# Environment:
#   BORAD     the daemon (default ./src/borad)
#   SRCDIR    the source tree (default: this script's parent)
#   RUNS      layouts per graph (default 5)

here=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(dirname "$here")}"
: "${BORAD:=./src/borad}"
: "${RUNS:=5}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench-console.XXXXXX")
pid=
cleanup()
{
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$tmp/wf"
for n in 500 1000 2000; do
	sh "$SRCDIR/tests/data/console/gen-big.sh" $n |
	    sed "s/^big:/big$n:/" >"$tmp/wf/big$n.yaml"
done
cp "$SRCDIR/tests/data/console/live.yaml" "$tmp/wf/"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$BORAD" -d --db "sqlite:$tmp/bora.db" --listen "127.0.0.1:$port" \
    --workflows "$tmp/wf" >"$tmp/borad.log" 2>&1 &
pid=$!
i=0
until curl -sf -o /dev/null "$url/readyz"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "borad did not start"; cat "$tmp/borad.log"; exit 1; }
	sleep 0.1
done

echo "== borad with 200 open event streams"
ps -o nlwp=,rss= -p "$pid" | awk '{printf "before: %d threads, RSS %d kB\n", $1, $2}'
pids=
i=0
while [ $i -lt 200 ]; do
	curl -sN --max-time 30 "$url/v2/stream" >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 3
ps -o nlwp=,rss= -p "$pid" | awk '{printf "with 200 streams: %d threads, RSS %d kB\n", $1, $2}'
c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
sleep 5
c2=$(awk '{print $14 + $15}' "/proc/$pid/stat")
echo "CPU while 200 streams wait, 5 s: $((c2 - c1)) ticks"
kill $pids 2>/dev/null
wait $pids 2>/dev/null

BORA_URL=$url RUNS=$RUNS BORA_TESTS_DIR=$SRCDIR/tests/console \
    node "$here/console.mjs"
