#!/bin/sh
#
# pg.sh -- bora's benchmark on PostgreSQL with durable commits (fsync on,
# synchronous_commit on).  Not a test: it prints figures, it never fails
# on them.
#
#  1. The comparison shapes of bench/run.sh (bora run processes) with
#     every case on the PostgreSQL store.
#  2. Sustained throughput through borad's REST API: EXECS (default
#     1000) executions of a 5-task chain (bench/seq5.yaml) posted at
#     once by CLIENTS (default 16) HTTP clients to ENGINES (default 1)
#     borad processes, until every one is final.  Task transitions are
#     counted from the store: two per task (started, finished).
#  3. Starts through the API: wrk posting executions of a one-task
#     workflow (bench/noop1.yaml) over CLIENTS connections for
#     STARTS_SECONDS (default 5) to the first borad, when wrk is there.
#
# Targets (the issue): the 50-task chain <= 50 ms; >= 10,000 task
# transitions per second sustained; >= 5,000 starts/s through the API.
#
# Environment: BORA, BORAD (default ./src/bora, ./src/borad), N (reps of
# the shapes), EXECS, CLIENTS, ENGINES,
# BORA_TEST_PGURL (use that database instead of a throwaway cluster; it
# must be PostgreSQL and will be written to), SKIP_SHAPES=1,
# SKIP_THROUGHPUT=1, STARTS_SECONDS, SKIP_STARTS=1, BORAD_ARGS (more
# borad flags, e.g. "--http-threads 16").
#

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)
BORA=${BORA:-./src/bora}
BORAD=${BORAD:-./src/borad}
EXECS=${EXECS:-1000}
CLIENTS=${CLIENTS:-16}
ENGINES=${ENGINES:-1}

case $BORA in /*) ;; *) BORA=$(pwd)/$BORA ;; esac
case $BORAD in /*) ;; *) BORAD=$(pwd)/$BORAD ;; esac
for b in "$BORA" "$BORAD"; do
	if [ ! -x "$b" ]; then
		echo "bench: $b is not executable (set BORA, BORAD)" >&2
		exit 1
	fi
done
for t in python3 curl; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "bench: $t is needed" >&2
		exit 1
	fi
done

own_pg=
[ -z "${BORA_TEST_PGURL:-}" ] && own_pg=1
. "$SRCDIR/tests/pg-env.sh"
PSQL=$(command -v psql 2>/dev/null)
[ -z "$PSQL" ] && [ -n "${pg_env_bin:-}" ] && PSQL=$pg_env_bin/psql
if [ ! -x "$PSQL" ]; then
	echo "bench: psql is needed" >&2
	exit 1
fi

# sql QUERY: one value.
sql()
{
	"$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$BORA_TEST_PGURL" -c "$1"
}

echo "PostgreSQL: $(sql 'SHOW server_version'), fsync=$(sql 'SHOW fsync')," \
    "synchronous_commit=$(sql 'SHOW synchronous_commit')"
echo

# ---- 1. the shapes ------------------------------------------------------
if [ -z "${SKIP_SHAPES:-}" ]; then
	BORA=$BORA BORA_DB=$BORA_TEST_PGURL sh "$here/run.sh"
	echo "target on PostgreSQL: (a) 50-task chain <= 50 ms"
	echo
fi

[ -n "${SKIP_THROUGHPUT:-}" ] && exit 0

# ---- 2. sustained throughput through the API -----------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench-pg.XXXXXX") || exit 1
pids=
bench_stop()
{
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
	[ -n "$own_pg" ] && pg_env_stop
}
trap bench_stop EXIT
mkdir -p "$tmp/workflows" "$tmp/actions" "$tmp/lua"
cp "$here/seq5.yaml" "$here/noop1.yaml" "$tmp/workflows/"

urls=
i=1
while [ $i -le "$ENGINES" ]; do
	port=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	"$BORAD" -d --db "$BORA_TEST_PGURL" --listen "127.0.0.1:$port" \
	    --workflows "$tmp/workflows" --actions "$tmp/actions" \
	    --lua "$tmp/lua" ${BORAD_ARGS:-} \
	    >"$tmp/borad-$i.log" 2>&1 &
	pids="$pids $!"
	n=0
	until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
		n=$((n + 1))
		if [ $n -gt 150 ]; then
			echo "bench: borad $i not ready; log:" >&2
			cat "$tmp/borad-$i.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	urls="$urls http://127.0.0.1:$port"
	i=$((i + 1))
done

tag="bench-$$-$(date +%s)"
echo "sustained throughput: $EXECS executions of bench_seq5 (5 std.noop" \
    "tasks) posted by $CLIENTS clients to $ENGINES borad"
python3 - "$EXECS" "$CLIENTS" "$tag" $urls <<'EOF'
import http.client, json, sys, threading, time, urllib.parse

execs, clients, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
urls = sys.argv[4:]
lock = threading.Lock()
left = [execs]
bad = []

def client(k):
    u = urllib.parse.urlparse(urls[k % len(urls)])
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    body = json.dumps({"workflow_name": "bench_seq5",
        "description": tag})
    while True:
        with lock:
            if left[0] == 0:
                break
            left[0] -= 1
        try:
            c.request("POST", "/v2/executions", body,
                {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 201:
                bad.append(r.status)
        except OSError as e:
            bad.append(str(e))
            c.close()
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

t0 = time.monotonic()
ts = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
for t in ts:
    t.start()
for t in ts:
    t.join()
dt = time.monotonic() - t0
print("  posted %d executions in %.2f s (%.0f/s), %d refused %s" % (
    execs, dt, execs / dt, len(bad), sorted(set(map(str, bad)))[:3]))
EOF
t_posted=$(date +%s%N)
while :; do
	left=$(sql "SELECT count(*) FROM executions WHERE description = '$tag'
	    AND state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED')")
	[ "$left" = 0 ] && break
	if [ $(( ($(date +%s%N) - t_posted) / 1000000000 )) -gt 300 ]; then
		echo "  $left executions still not final after 300 s"
		break
	fi
	sleep 0.1
done
sql "SELECT
    '  executions: ' || count(DISTINCT e.id) || ' (' ||
    count(DISTINCT e.id) FILTER (WHERE e.state = 'SUCCESS') || ' SUCCESS), ' ||
    count(t.id) || ' tasks, ' || 2 * count(t.id) || ' task transitions' ||
    E'\n  first execution created to last task finished: ' ||
    (max(t.finished_at) - min(e.created_at)) || ' ms' ||
    E'\n  throughput: ' ||
    round(2 * count(t.id) * 1000.0 /
    greatest(max(t.finished_at) - min(e.created_at), 1)) ||
    ' task transitions/s, ' ||
    round(count(DISTINCT e.id) * 1000.0 /
    greatest(max(e.updated_at) - min(e.created_at), 1)) ||
    ' executions/s (target >= 10000 transitions/s)' ||
    E'\n  execution latency (created to final) ms: median ' ||
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x.updated_at -
     x.created_at) FROM executions x WHERE x.description = '$tag') ||
    ', p99 ' ||
    (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY x.updated_at -
     x.created_at) FROM executions x WHERE x.description = '$tag')
    FROM executions e LEFT JOIN tasks t ON t.execution_id = e.id
    WHERE e.description = '$tag'"

# ---- 3. starts through the API (wrk) ------------------------------------
[ -n "${SKIP_STARTS:-}" ] && exit 0
if ! command -v wrk >/dev/null 2>&1; then
	echo "starts: wrk is needed (apt-get install wrk); not measured"
	exit 0
fi
set -- $urls
n0=$(sql "SELECT count(*) FROM executions")
wrk -t 2 -c "$CLIENTS" -d "${STARTS_SECONDS:-5}s" --latency \
    -s "$here/post-noop1.lua" "$1/v2/executions" >"$tmp/wrk.out" 2>&1
n1=$(sql "SELECT count(*) FROM executions")
echo
echo "starts: wrk -c$CLIENTS -d${STARTS_SECONDS:-5}s, POST /v2/executions" \
    "(bench_noop1) to $1"
sed -n -e 's/^ *\(Requests\/sec\|Non-2xx\|Socket errors\)/  \1/p' \
    -e 's/^ *\(50%\|99%\)/  latency \1/p' "$tmp/wrk.out"
echo "  executions stored: $((n1 - n0)) (target >= 5000 starts/s)"
