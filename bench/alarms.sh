#!/bin/sh
#
# alarms.sh -- the alarm intake's benchmark, on the embedded SQLite store
# and on PostgreSQL (a throwaway cluster, tests/pg-env.sh), printing the
# figures next to the targets:
#   - webhook received -> first action started, p50 and p99: an alarm is
#     posted (one kept-alive connection, one at a time) and its workflow's
#     first action is an HTTP call back to the client, which notes when
#     it arrives (targets: p99 <= 2 ms SQLite, <= 5 ms PostgreSQL);
#   - sustained alarms/s, half of them duplicates (wrk, CONNECTIONS
#     clients for DURATION seconds), then a check that every one is
#     stored with its verdicts (targets: >= 5,000/s SQLite, >= 3,000/s
#     PostgreSQL);
#   - a storm of 1,000 alerts for one host from 16 clients at once: the
#     executions it starts (target: one) and how long it takes.
# Use an optimised build without sanitizers; it builds nothing and is
# never run by make check.
#
# Environment:
#   BORAD        the daemon (default ./src/borad)
#   SRCDIR       the source tree (default: this script's parent)
#   N            alarms timed for the latency (default 1000)
#   DURATION     seconds of the sustained run (default 10)
#   CONNECTIONS  wrk connections (default 32)
#   THREADS      wrk threads (default 2)
#   BACKENDS     "sqlite pg" (default), or one of them
#   BORAD_ARGS   more borad flags, e.g. "--http-threads 8"
#   BENCH_LOG    where borad's log goes (default: discarded)
#

here=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(dirname "$here")}"
: "${BORAD:=./src/borad}"
: "${N:=1000}"
: "${DURATION:=10}"
: "${CONNECTIONS:=32}"
: "${THREADS:=2}"
: "${BACKENDS:=sqlite pg}"
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
BORAD=$(cd "$(dirname "$BORAD")" && pwd)/$(basename "$BORAD")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench-alarms.XXXXXX")
PID=
stop()
{
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		PID=
	fi
}
trap 'stop; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

mkdir -p "$TMP/workflows"
cat >"$TMP/workflows/bench.yaml" <<'EOF'
version: '2.0'
name: bench
workflows:
  call:
    input: [url]
    tasks:
      call: {action: std.http url=<% _.url %>}
  noop:
    input: [host]
    tasks:
      t: {action: std.noop}
triggers:
  latency:
    source: generic
    when: <% alert.name == 'Latency' %>
    workflow: call
    input: {url: <% alert.annotations.url %>}
  sustained:
    source: generic
    when: <% alert.name == 'Load' %>
    workflow: noop
    input: {host: <% alert.resource.host %>}
    until-resolved: true
  storm:
    source: generic
    when: <% alert.name == 'Storm' %>
    workflow: noop
    input: {host: <% alert.resource.host %>}
    key: <% alert.resource.host %>
    until-resolved: true
EOF

# start DB: borad on the store DB, wait for /readyz.
start()
{
	PORT=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	URL=http://127.0.0.1:$PORT
	# shellcheck disable=SC2086
	"$BORAD" -d --db "$1" --listen "127.0.0.1:$PORT" \
	    --workflows "$TMP/workflows" --lua "$SRCDIR/lua" $BORAD_ARGS \
	    >>"$BENCH_LOG" 2>&1 &
	PID=$!
	i=0
	until curl -sf -o /dev/null "$URL/readyz"; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! kill -0 "$PID" 2>/dev/null; then
			echo "bench: borad did not start (BENCH_LOG=file)" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# verdict VALUE TARGET le|ge: "ok" or "MISSED" (VALUE may be a decimal).
verdict()
{
	if awk -v v="$1" -v t="$2" -v o="$3" \
	    'BEGIN { if (o == "le") exit !(v <= t); exit !(v >= t) }'; then
		echo ok
	else
		echo MISSED
	fi
}

# latency: N alarms one after another; prints "p50 p99 ap50 ap99" (ms):
# to the first action, and to the intake's answer.
latency()
{
	python3 - "$URL" "$N" <<'EOF'
import http.client, http.server, json, statistics, sys, threading, time
url, n = sys.argv[1], int(sys.argv[2])
host, port = url[len("http://"):].split(":")
hits, cond = {}, threading.Condition()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        t = time.perf_counter()
        with cond:
            hits[self.path] = t
            cond.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
cb = "http://127.0.0.1:%d" % srv.server_address[1]
c = http.client.HTTPConnection(host, int(port))
lat, ans = [], []
for i in range(n + 50):
    path = "/hit/%d" % i
    body = json.dumps({"key": "lat-%d" % i, "name": "Latency",
        "annotations": {"url": cb + path}})
    t0 = time.perf_counter()
    c.request("POST", "/v1/alarms/generic", body,
        {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    t1 = time.perf_counter()
    if r.status != 202:
        sys.exit("bench: alarm answered %d" % r.status)
    with cond:
        if not cond.wait_for(lambda: path in hits, timeout=10):
            sys.exit("bench: the action of alarm %d never came" % i)
    if i >= 50:			# warm-up
        lat.append((hits[path] - t0) * 1000)
        ans.append((t1 - t0) * 1000)
def p(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
print("%.3f %.3f %.3f %.3f" % (p(lat, .5), p(lat, .99), p(ans, .5),
    p(ans, .99)))
EOF
}

# sustained: wrk posting alarms, half of them repeats of held keys;
# prints "rate requests non2xx".
sustained()
{
	cat >"$TMP/post.lua" <<'EOF'
local counter = 0
local tid = 0
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
	counter = counter + 1
	local key
	if counter % 2 == 0 then
		key = "dup-" .. tid .. "-" .. (counter % 64)
	else
		key = "new-" .. tid .. "-" .. counter
	end
	return wrk.format(nil, "/v1/alarms/generic", nil,
	    '{"key": "' .. key .. '", "name": "Load", "resource": ' ..
	    '{"host": "' .. key .. '"}}')
end
EOF
	wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" \
	    -s "$TMP/post.lua" "$URL" >"$TMP/wrk.out" 2>&1
	rate=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9]*\).*/\1/p' \
	    "$TMP/wrk.out")
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TMP/wrk.out")
	non=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' \
	    "$TMP/wrk.out")
	echo "${rate:-0} ${reqs:-0} ${non:-0}"
}

# storm: 1,000 alerts for one host from 16 clients; prints "ms started".
storm()
{
	python3 - "$URL" <<'EOF'
import http.client, json, sys, threading, time
url = sys.argv[1]
host, port = url[len("http://"):].split(":")
started, lock = [0], threading.Lock()
def client(k):
    c = http.client.HTTPConnection(host, int(port))
    for i in range(k * 1000 // 16, (k + 1) * 1000 // 16):
        c.request("POST", "/v1/alarms/generic", json.dumps({"key":
            "storm-%d" % i, "name": "Storm", "resource": {"host":
            "compute-storm"}}), {"Content-Type": "application/json"})
        r = c.getresponse()
        a = json.load(r)
        for v in a["events"][0]["verdicts"]:
            if v["trigger"] == "bench.storm" and v["verdict"] == "started":
                with lock:
                    started[0] += 1
t0 = time.perf_counter()
ts = [threading.Thread(target=client, args=(k,)) for k in range(16)]
for t in ts: t.start()
for t in ts: t.join()
print("%.0f %d" % ((time.perf_counter() - t0) * 1000, started[0]))
EOF
}

# count SQL: one number from the store.
count()
{
	case $DB in
	sqlite:*)
		sqlite3 "${DB#sqlite:}" "$1" ;;
	*)
		"$PSQL" -X -q -A -t -d "$DB" -c "$1" ;;
	esac
}

# run NAME DB P99-TARGET RATE-TARGET: every figure on one store.
run()
{
	NAME=$1
	DB=$2
	start "$DB"
	set -- $(latency)
	p50=$1 p99=$2 ap50=$3 ap99=$4
	echo "$NAME: webhook -> first action: p50 $p50 ms, p99 $p99 ms" \
	    "(target p99 <= $P99 ms: $(verdict "$p99" "$P99" le));" \
	    "answer p50 $ap50 ms, p99 $ap99 ms ($N alarms)"
	before=$(count "SELECT count(*) FROM alarms")
	set -- $(sustained)
	rate=$1 reqs=$2 non=$3
	sleep 2
	stored=$(count "SELECT count(*) FROM alarms WHERE state = 'decided' \
	    AND (verdicts LIKE '% started %' OR verdicts LIKE '% duplicate %')")
	total=$(count "SELECT count(*) FROM alarms")
	dups=$(count "SELECT count(*) FROM alarm_decisions WHERE trigger_name \
	    = 'bench.sustained' AND verdict = 'duplicate'")
	echo "$NAME: sustained: $rate alarms/s (target >= $RATE:" \
	    "$(verdict "$rate" "$RATE" ge)), $reqs requests, $non not 2xx;" \
	    "stored $((total - before)), decided with verdicts" \
	    "$((stored - before)), duplicates $dups"
	set -- $(storm)
	echo "$NAME: storm of 1,000 alerts for one host: $2 execution(s)" \
	    "started (target 1: $( [ "$2" -eq 1 ] && echo ok ||
	    echo MISSED)), $1 ms"
	stop
}

for b in $BACKENDS; do
	case $b in
	sqlite)
		P99=2 RATE=5000 run SQLite "sqlite:$TMP/bora.db"
		;;
	pg)
		(
			. "$SRCDIR/tests/pg-env.sh"
			PSQL=$(command -v psql || echo "$pg_env_bin/psql")
			P99=5 RATE=3000 run PostgreSQL "$BORA_TEST_PGURL"
		)
		;;
	esac
done
