#!/bin/sh
#
# torture.sh -- executions while engines are killed -9 at random and
# PostgreSQL is restarted: not a test, it prints figures.
#
#  1. SQLite: one borad, SQLITE_EXECS executions (default 500) of
#     bench/torture.yaml posted by a few clients, and the borad killed
#     -9 SQLITE_KILLS times (default 10) at random moments, restarted
#     on its port each time (it takes its dead predecessor's executions
#     over at once).
#  2. PostgreSQL: two borad processes on one throwaway cluster,
#     PG_EXECS executions (default 500), one of the two (chosen at
#     random) killed -9 PG_KILLS times (default 10) and restarted, and
#     PostgreSQL itself restarted with -m immediate PG_RESTARTS times
#     (default 3) in between.
#
# Each execution makes five HTTP calls to a counting server (one per
# task and item: /hit/EXECUTION/TASK/ITEM) among inline tasks, a sleep,
# with-items and a join.  Then, for each part:
#   lost        executions accepted (201, or 200 for an id posted
#               again) that are not in the store, and side effects of
#               succeeded actions that never reached the server;
#   stuck       executions not final 120 s after the last start;
#   failed      executions final but not SUCCESS;
#   duplicated  side effects seen more often than the runs interrupted
#               and run again explain (the calls are safe-rerun), task
#               names twice in one execution, and items with more than
#               one succeeded action.
# The goal is 0 of each.
#
# Environment: BORAD (default ./src/borad), SQLITE_EXECS, SQLITE_KILLS,
# PG_EXECS, PG_KILLS, PG_RESTARTS, SEED (of the random kill times; the
# one used is printed), SKIP_SQLITE=1, SKIP_PG=1, KEEP=1 (keep the
# files).  Needs python3, curl, sqlite3 and PostgreSQL (initdb, pg_ctl).
#

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)
BORAD=${BORAD:-./src/borad}
SQLITE_EXECS=${SQLITE_EXECS:-500}
SQLITE_KILLS=${SQLITE_KILLS:-10}
PG_EXECS=${PG_EXECS:-500}
PG_KILLS=${PG_KILLS:-10}
PG_RESTARTS=${PG_RESTARTS:-3}
SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
FINAL_WAIT=120

case $BORAD in /*) ;; *) BORAD=$(pwd)/$BORAD ;; esac
if [ ! -x "$BORAD" ]; then
	echo "torture: $BORAD is not executable (set BORAD)" >&2
	exit 1
fi
for t in python3 curl sqlite3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "torture: $t is needed" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-torture.XXXXXX") || exit 1
mkdir -p "$tmp/workflows" "$tmp/actions" "$tmp/lua"
cp "$here/torture.yaml" "$tmp/workflows/"
ENGINE_PIDS=
HITS_PID=

# Stop what this script started, by process id.
torture_stop()
{
	for p in $ENGINE_PIDS $HITS_PID; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ENGINE_PIDS=
	HITS_PID=
}
torture_exit()
{
	torture_stop
	if [ -n "${KEEP:-}" ]; then
		echo "files kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap torture_exit EXIT
trap 'exit 130' INT TERM

free_port()
{
	python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# hits_start FILE: the counting server; every hit appends a line
# "EXECUTION TASK ITEM" to FILE before it is answered.  Sets HITS_URL.
hits_start()
{
	_port=$(free_port)
	HITS_URL=http://127.0.0.1:$_port
	python3 - "$_port" "$1" >"$tmp/hits-server.log" 2>&1 <<'EOF' &
import http.server, socketserver, sys, threading, time

lock = threading.Lock()
out = open(sys.argv[2], "a")

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        parts = self.path.split("/")
        if len(parts) == 5 and parts[1] == "hit":
            with lock:
                out.write("%s %s %s\n" % (parts[2], parts[3], parts[4]))
                out.flush()
            time.sleep(0.02)	# a call in flight for a while
        body = b'{"ok": true}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass
    do_GET = do_POST = answer
    def log_message(self, *a):
        pass

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 512

S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
	HITS_PID=$!
	_i=0
	while [ $_i -lt 50 ]; do
		curl -sf -o /dev/null "$HITS_URL/" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "torture: the counting server did not start" >&2
	exit 1
}

# engine_up N DB PORT: start borad number N on DB at PORT, wait until
# it answers /healthz; its pid into PID_N.
engine_up()
{
	"$BORAD" -d --db "$2" --listen "127.0.0.1:$3" --lease 3s \
	    --workflows "$tmp/workflows" --actions "$tmp/actions" \
	    --lua "$tmp/lua" --grace 1s >>"$tmp/borad-$PART-$1.log" 2>&1 &
	eval "PID_$1=$!"
	ENGINE_PIDS="$ENGINE_PIDS $!"
	_i=0
	while [ $_i -lt 200 ]; do
		curl -sf -o /dev/null "http://127.0.0.1:$3/healthz" && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "torture: borad $1 did not start; log:" >&2
	tail -n 20 "$tmp/borad-$PART-$1.log" >&2
	return 1
}

# starter OUT EXECS SPAN URL...: post EXECS executions of torture over
# about SPAN seconds, from four clients, each with an id of its own,
# to a random engine; a refused connection or a 5xx is posted again,
# same id, to a random engine, for up to 120 s.  "ID STATUS" lines into
# OUT.
starter()
{
	python3 - "$HITS_URL" "$@" <<'EOF'
import json, random, sys, threading, time, uuid
import urllib.request, urllib.error

hits, out, count, span = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
urls = sys.argv[5:]
pace = span * 4 / count
lock = threading.Lock()
jobs = list(range(count))
lines = []

def post(url, body):
    req = urllib.request.Request(url + "/v2/executions", data=body,
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0

def worker():
    while True:
        with lock:
            if not jobs:
                return
            jobs.pop()
        eid = str(uuid.uuid4())
        body = json.dumps({"id": eid, "workflow_name": "torture",
            "input": {"url": hits}}).encode()
        end = time.time() + 120
        while True:
            st = post(random.choice(urls), body)
            if st in (200, 201) or time.time() > end or \
                (st != 0 and st < 500):
                break
            time.sleep(0.1)
        with lock:
            lines.append("%s %d\n" % (eid, st))
        time.sleep(pace)

ts = [threading.Thread(target=worker) for _ in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "w") as f:
    f.writelines(lines)
EOF
}

# q SQL: one query on the part's store, "|"-separated rows.
q()
{
	if [ "$BACKEND" = sqlite ]; then
		sqlite3 -cmd ".timeout 10000" "$DBFILE" "$1"
	else
		"$PSQL" -X -q -A -t -d "$BORA_TEST_PGURL" -c "$1"
	fi
}

# not_final: executions not final (missing ones do not count here).
not_final()
{
	q "SELECT count(*) FROM executions WHERE parent_task_id IS NULL
	    AND state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED')"
}

# report: the part's figures from the store, the hits and the starts.
report()
{
	q "SELECT id, state FROM executions WHERE parent_task_id IS NULL" \
	    >"$tmp/$PART.execs"
	q "SELECT execution_id, name, state FROM tasks" >"$tmp/$PART.tasks"
	q "SELECT a.execution_id, t.name, a.item, a.state,
	    CASE WHEN a.state_info LIKE 'interrupted by an engine stop%'
	    THEN 'interrupted' ELSE '-' END, a.name
	    FROM action_executions a JOIN tasks t ON t.id = a.task_id" \
	    >"$tmp/$PART.actions"
	python3 - "$tmp/$PART" "$tmp/hits-$PART" <<'EOF'
import collections, sys

base, hitsf = sys.argv[1], sys.argv[2]
def rows(ext):
    with open(base + "." + ext) as f:
        return [l.rstrip("\n").split("|") for l in f if l.strip()]

accepted = set()
with open(base + ".starts") as f:
    for l in f:
        i, st = l.split()
        if st in ("200", "201"):
            accepted.add(i)
execs = dict((r[0], r[1]) for r in rows("execs"))
hits = collections.Counter()
with open(hitsf) as f:
    for l in f:
        e, t, i = l.split()
        hits[(e, t, int(i))] += 1
interrupted = collections.Counter()
succeeded = collections.Counter()
for e, t, i, st, why, name in rows("actions"):
    key = (e, t, max(int(i), 0))
    if why == "interrupted":
        interrupted[key] += 1
    if st == "SUCCESS":
        succeeded[key] += 1
names = collections.Counter((r[0], r[1]) for r in rows("tasks"))

lost_execs = [i for i in accepted if i not in execs]
stuck = [i for i in accepted if execs.get(i) not in
    (None, "SUCCESS", "ERROR", "CANCELLED")]
failed = [i for i in accepted if execs.get(i) in ("ERROR", "CANCELLED")]
effects = [(e, t, i) for e in accepted if execs.get(e) == "SUCCESS"
    for t, i in (("first", 0), ("fan", 0), ("fan", 1), ("fan", 2),
    ("join", 0))]
lost_effects = [k for k in effects if hits[k] == 0 or succeeded[k] == 0]
dup_effects = [k for k, n in hits.items() if n > 1 + interrupted[k]]
rerun_effects = sum(n - 1 for k, n in hits.items() if n > 1) - \
    sum(n - 1 - interrupted[k] for k in dup_effects for n in [hits[k]])
dup_tasks = [k for k, n in names.items() if n > 1]
dup_success = [k for k, n in succeeded.items() if n > 1]
strays = [k for k in hits if k[0] not in accepted]
lost = len(lost_execs) + len(lost_effects)
dup = len(dup_effects) + len(dup_tasks) + len(dup_success) + len(strays)
print("  %d executions accepted, %d in the store" % (len(accepted),
    len(execs)))
print("  lost %d, stuck %d, failed %d, duplicated %d" % (lost, len(stuck),
    len(failed), dup))
print("  (%d runs interrupted and run again; %d side effects sent again "
      "by them)" % (sum(interrupted.values()), rerun_effects))
for what, l in (("lost executions", lost_execs),
                ("lost side effects", lost_effects),
                ("stuck", stuck), ("failed", failed),
                ("duplicated side effects", dup_effects),
                ("task names twice", dup_tasks),
                ("items succeeded twice", dup_success),
                ("side effects of executions never accepted", strays)):
    if l:
        print("  %s: %s" % (what, " ".join(str(x) for x in l[:5])))
with open(base + ".figures", "w") as f:
    f.write("%d %d %d %d %d\n" % (len(accepted), lost, len(stuck),
        len(failed), dup))
EOF
	# A few words on what went wrong, from the store.
	if [ -n "$(q "SELECT 1 FROM executions WHERE state = 'ERROR' LIMIT 1")" ]; then
		echo "  why executions failed (first 3):"
		q "SELECT '    ' || substr(state_info, 1, 200) FROM executions
		    WHERE state = 'ERROR' LIMIT 3"
	fi
	_san=$(cat "$tmp"/borad-"$PART"-*.log |
	    grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:')
	[ "$_san" -gt 0 ] && echo "  sanitizer reports in the logs: $_san"
}

# torture_part NENGINES EXECS KILLS RESTARTS DB: run one part.
torture_part()
{
	_ne=$1 _execs=$2 _kills=$3 _restarts=$4 _db=$5
	: >"$tmp/hits-$PART"
	hits_start "$tmp/hits-$PART"
	_urls=
	_n=1
	while [ $_n -le "$_ne" ]; do
		_p=$(free_port)
		eval "PORT_$_n=$_p"
		_urls="$_urls http://127.0.0.1:$_p"
		engine_up $_n "$_db" "$_p" || exit 1
		_n=$((_n + 1))
	done
	_span=$(awk "BEGIN { print $_kills * 1.5 }")
	_t0=$(date +%s%N)
	starter "$tmp/$PART.starts" "$_execs" "$_span" $_urls \
	    >"$tmp/$PART.starter.log" 2>&1 &
	_sp=$!
	# Kill times: 0.5 to 2 s apart; PostgreSQL restarts spread among
	# them (after kill k * KILLS / (RESTARTS + 1)).
	awk -v seed="$SEED" -v n="$_kills" -v ne="$_ne" 'BEGIN { srand(seed);
	    for (i = 0; i < n; i++)
		printf "%.2f %d\n", 0.5 + rand() * 1.5, 1 + int(rand() * ne) }' \
	    >"$tmp/$PART.kills"
	_k=0
	_r=0
	while read -r _pause _which; do
		sleep "$_pause"
		eval "_pid=\$PID_$_which"
		eval "_port=\$PORT_$_which"
		kill -KILL "$_pid"
		wait "$_pid" 2>/dev/null
		_k=$((_k + 1))
		engine_up "$_which" "$_db" "$_port" || exit 1
		if [ "$_r" -lt "$_restarts" ] &&
		    [ $((_k * (_restarts + 1) / _kills)) -gt "$_r" ]; then
			eval "$BORA_TEST_PG_RESTART" ||
			    echo "  PostgreSQL restart failed"
			_r=$((_r + 1))
		fi
	done <"$tmp/$PART.kills"
	wait $_sp
	_started=$(date +%s)
	while [ "$(not_final)" != 0 ] &&
	    [ $(( $(date +%s) - _started )) -lt $FINAL_WAIT ]; do
		sleep 0.5
	done
	_ms=$(( ($(date +%s%N) - _t0) / 1000000 ))
	for _n in $(seq 1 "$_ne"); do
		eval "_pid=\$PID_$_n"
		kill -TERM "$_pid" 2>/dev/null
		wait "$_pid" 2>/dev/null
	done
	torture_stop
	echo "$PART: $_execs executions on $_ne engine(s), $_k kills," \
	    "$_r PostgreSQL restarts, $_ms ms"
	report
}

echo "seed $SEED"
if [ -z "${SKIP_SQLITE:-}" ]; then
	PART=sqlite BACKEND=sqlite DBFILE=$tmp/bora.db
	torture_part 1 "$SQLITE_EXECS" "$SQLITE_KILLS" 0 "sqlite:$DBFILE"
fi
if [ -z "${SKIP_PG:-}" ]; then
	(
		. "$SRCDIR/tests/pg-env.sh"
		PSQL=$(command -v psql 2>/dev/null)
		[ -z "$PSQL" ] && PSQL=$pg_env_bin/psql
		PART=postgresql BACKEND=postgresql
		torture_part 2 "$PG_EXECS" "$PG_KILLS" "$PG_RESTARTS" \
		    "$BORA_TEST_PGURL"
	)
fi
if [ -f "$tmp/sqlite.figures" ] || [ -f "$tmp/postgresql.figures" ]; then
	cat "$tmp"/*.figures | awk '{ a += $1; l += $2; s += $3; f += $4;
	    d += $5 } END { printf "total: %d executions: lost %d, stuck %d, " \
	    "failed %d, duplicated %d (goal: 0 of each)\n", a, l, s, f, d }'
fi
