#!/bin/sh
#
# waiting.sh -- scale of waiting work: N (default 100,000) executions in
# one borad, each waiting on a timer or on an async action's callback.
# Not a test: it prints figures (bench/waiting.py does the work):
#
#  - borad's RSS once all of them wait (goal <= 1 GB);
#  - start-up after kill -9 and a start: time until the API answers and
#    until the engine has taken its work over (goal <= 10 s);
#  - timers: whether they still fire on time, lateness p50/p99/max of
#    when each waiting task ended against its start (when its timer was
#    set) plus the delay, and against its execution's POST plus the
#    delay (which adds the time to begin it); async: the callbacks' rate
#    and time until all are final.
#
# KIND: timer (wait-before: a timer row in the store; default), sleep
# (std.sleep: a timer in borad's memory, run again after a restart) or
# async (std.async_noop, completed by PUT /v2/action_executions/ID).
# STORES: "sqlite" (default), "pg" or "sqlite pg" (PostgreSQL: a
# throwaway cluster, tests/pg-env.sh, unless BORA_TEST_PGURL is set).
#
# Environment: BORAD (default ./src/borad; use an optimised build without
# sanitizers), N, KIND, STORES, CLIENTS (posting clients, default 8),
# DELAY (the timers' seconds; default long enough to outlast posting and
# the restart: max(120, N / 200 + 60)), KEEP=1 (keep the files).
#

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)
BORAD=${BORAD:-./src/borad}
N=${N:-100000}
KIND=${KIND:-timer}
STORES=${STORES:-sqlite}
CLIENTS=${CLIENTS:-8}
DELAY=${DELAY:-0}

case $BORAD in /*) ;; *) BORAD=$(pwd)/$BORAD ;; esac
if [ ! -x "$BORAD" ]; then
	echo "bench: $BORAD is not executable (set BORAD)" >&2
	exit 1
fi
command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is needed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench-waiting.XXXXXX") || exit 1
mkdir -p "$tmp/workflows"
cat >"$tmp/workflows/waiting.yaml" <<'EOF'
---
version: '2.0'

bench_wait_timer:
  type: direct
  input:
    - delay
  tasks:
    wait:
      wait-before: <% $.delay %>
      action: std.noop

bench_wait_sleep:
  type: direct
  input:
    - delay
  tasks:
    wait:
      action: std.sleep seconds=<% $.delay %>

bench_wait_async:
  type: direct
  input:
    - delay
  tasks:
    wait:
      action: std.async_noop
EOF

echo "# bench/waiting.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
    "load: $(uptime | sed 's/.*load/load/')"
for s in $STORES; do
	case $s in
	sqlite)	db=sqlite:$tmp/bora.db
		psql=psql ;;
	pg)	if [ -z "${BORA_TEST_PGURL:-}" ]; then
			. "$SRCDIR/tests/pg-env.sh"
		fi
		db=$BORA_TEST_PGURL
		psql=$(command -v psql 2>/dev/null)
		[ -z "$psql" ] && psql=${pg_env_bin:-}/psql ;;
	*)	echo "bench: unknown store $s" >&2
		exit 1 ;;
	esac
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	echo "=== $s"
	python3 "$here/waiting.py" --borad "$BORAD" --db "$db" --psql "$psql" \
	    --workflows "$tmp/workflows" --log "$tmp/borad-$s.log" \
	    --port "$port" --n "$N" --kind "$KIND" --delay "$DELAY" \
	    --clients "$CLIENTS" || echo "bench: $s: failed; see $tmp/borad-$s.log"
done
if [ -n "${KEEP:-}" ]; then
	echo "files kept in $tmp"
else
	rm -rf "$tmp"
fi
