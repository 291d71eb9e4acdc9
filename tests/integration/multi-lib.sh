# multi-lib.sh -- shared by the PostgreSQL integration tests
# (two-engines.sh, pg-restart.sh): a throwaway cluster (tests/pg-env.sh),
# several real borad processes on it, a slow HTTP server for actions that
# take a while, a client that starts executions with its own ids
# (retrying the same id while the API is unavailable), and psql.
#
# Sourced after lib.sh's environment (BORAD, SRCDIR, BUILDDIR).  A missing
# tool skips (77), or fails under CI=true.

: "${BUILDDIR:=$(pwd)}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BORAD:=$BUILDDIR/src/borad}"

. "$SRCDIR/tests/pg-env.sh"
. "$SRCDIR/tests/integration/lib.sh"

MULTI=$SRCDIR/tests/data/multi
PSQL=$(command -v psql 2>/dev/null)
if [ -z "$PSQL" ] && [ -n "${pg_env_bin:-}" ]; then
	PSQL=$pg_env_bin/psql
fi
[ -x "$PSQL" ] || skip "psql is not installed"

ENGINE_PIDS=
HTTP_PID=

# Stop every borad (SIGKILL: nothing to drain), the HTTP server, then
# the cluster.
multi_cleanup()
{
	for _p in $ENGINE_PIDS $HTTP_PID; do
		kill -KILL "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	cleanup
	pg_env_stop
}
trap multi_cleanup EXIT

# sql QUERY: one query, unaligned output without headers.
sql()
{
	"$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$BORA_TEST_PGURL" -c "$1"
}

# engine_start N [ARGS...]: start borad number N on the cluster; sets
# PID_N, URL_N (and PORT, URL) and waits for /readyz.  Logs go to
# $TMP/borad-N.log.  With ENGINE_PORT set, it listens on that port (a
# restart where its clients expect it).
engine_start()
{
	_n=$1
	shift
	PORT=${ENGINE_PORT:-$(free_port)}
	URL=http://127.0.0.1:$PORT
	"$BORAD" -d --db "$BORA_TEST_PGURL" --listen "127.0.0.1:$PORT" \
	    --workflows "$TMP/workflows" --actions "$TMP/actions" \
	    --lua "$TMP/lua" --grace 2s "$@" >>"$TMP/borad-$_n.log" 2>&1 &
	eval "PID_$_n=$!"
	eval "URL_$_n=$URL"
	ENGINE_PIDS="$ENGINE_PIDS $!"
	_i=0
	while [ $_i -lt 150 ]; do
		curl -sf -o /dev/null "$URL/readyz" && return 0
		if ! kill -0 "$(eval echo \$PID_$_n)" 2>/dev/null; then
			echo "# borad $_n exited; log:"
			sed 's/^/# /' "$TMP/borad-$_n.log"
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "# borad $_n not ready after 15 s"
	return 1
}

# engines_stop N...: SIGTERM borad number N, each of them, which must
# still run and exit 0; then no sanitizer report in any borad log.
engines_stop()
{
	for _n in "$@"; do
		eval "_pid=\$PID_$_n"
		if kill -0 "$_pid" 2>/dev/null; then
			kill -TERM "$_pid"
			wait "$_pid"
			_rc=$?
			check "borad $_n stops on SIGTERM with status 0 ($_rc)" \
			    test "$_rc" -eq 0
		else
			not_ok "borad $_n still running"
		fi
	done
	ENGINE_PIDS=
	for _f in "$TMP"/borad-*.log; do
		sanitizer_check "$_f"
	done
}

# http_start: a local HTTP server whose GET /sleep/MS answers after MS
# milliseconds; sets HTTP_URL.
http_start()
{
	_port=$(free_port)
	HTTP_URL=http://127.0.0.1:$_port
	python3 - "$_port" >"$TMP/http.log" 2>&1 <<'EOF' &
import http.server, socketserver, sys, time

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ms = 0
        if self.path.startswith("/sleep/"):
            ms = int(self.path[7:])
        time.sleep(ms / 1000.0)
        body = b'{"slept": %d}' % ms
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass
    def log_message(self, *a):
        pass

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256

S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
	HTTP_PID=$!
	_i=0
	while [ $_i -lt 50 ]; do
		curl -sf -o /dev/null "$HTTP_URL/sleep/0" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# start_execs OUT WORKFLOW INPUT COUNT PARALLEL URL...: start COUNT
# executions of WORKFLOW with INPUT (a JSON object), each with an id of
# its own, spread round robin over the URLs, PARALLEL at a time.  A 503
# or a refused connection is retried with the same id (idempotent) for
# up to 60 s.  With START_PACE (seconds), each client waits that long
# between two executions.  Appends "id url status" lines to OUT; prints
# a summary.
start_execs()
{
	python3 - "$@" <<'EOF'
import json, os, sys, threading, time, uuid, urllib.request, urllib.error

out, wf, inp, count, par = sys.argv[1], sys.argv[2], sys.argv[3], \
    int(sys.argv[4]), int(sys.argv[5])
urls = sys.argv[6:]
pace = float(os.environ.get("START_PACE") or 0)
lock = threading.Lock()
jobs = list(range(count))
lines = []
retried = [0]
codes = {}

def post(url, body):
    req = urllib.request.Request(url + "/v2/executions", data=body,
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, ""
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")[:300]
    except OSError as e:
        return 0, str(e)

# The whole run ends by this deadline, even against a hung server.
deadline = time.time() + float(os.environ.get("START_DEADLINE") or 120)

def worker():
    while True:
        with lock:
            if not jobs or time.time() > deadline:
                return
            i = jobs.pop(0)
        url = urls[i % len(urls)]
        eid = str(uuid.uuid4())
        body = json.dumps({"id": eid, "workflow_name": wf,
            "input": inp}).encode()
        end = min(time.time() + 60, deadline)
        while True:
            st, why = post(url, body)
            if st == 201 or time.time() > end or st not in (0, 500, 502, 503):
                break
            with lock:
                retried[0] += 1
                codes[st] = codes.get(st, 0) + 1
            time.sleep(0.2)
        with lock:
            lines.append("%s %s %d\n" % (eid, url, st))
            if st != 201:
                print("# %s: %d %s" % (eid, st, why.replace("\n", " ")))
        if pace > 0:
            time.sleep(pace)

ts = [threading.Thread(target=worker) for _ in range(par)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "a") as f:
    f.writelines(lines)
bad = [l for l in lines if not l.endswith(" 201\n")]
if bad:
    print("# not started: " + " ".join(l.split()[0] for l in bad[:5]))
print("# started %d/%d %s executions (%d retries %s)" % (len(lines) -
    len(bad), count, wf, retried[0], json.dumps(codes)))
if len(lines) < count:
    print("# deadline passed: %d executions never posted" %
        (count - len(lines)))
sys.exit(1 if bad or len(lines) < count else 0)
EOF
}

# count_not_final IDS-FILE: how many of the executions listed are not in
# a final state (missing ones count too).
count_not_final()
{
	awk '{print $1}' "$1" | "$PSQL" -X -q -A -t -d "$BORA_TEST_PGURL" \
	    -c "CREATE TEMP TABLE ids (id text)" \
	    -c "COPY ids FROM STDIN" \
	    -c "SELECT count(*) FROM ids LEFT JOIN executions e USING (id)
		WHERE e.state IS NULL OR e.state NOT IN
		('SUCCESS', 'ERROR', 'CANCELLED')"
}

# wait_final IDS-FILE SECONDS: poll until every listed execution is
# final; returns 1 on timeout.  Sets WAITED_MS.
wait_final()
{
	_t0=$(date +%s%N)
	_end=$(( $(date +%s) + $2 ))
	while :; do
		_left=$(count_not_final "$1")
		[ "$_left" = 0 ] && break
		if [ "$(date +%s)" -ge "$_end" ]; then
			WAITED_MS=$(( ($(date +%s%N) - _t0) / 1000000 ))
			echo "# $_left executions still not final after $2 s"
			return 1
		fi
		sleep 0.2
	done
	WAITED_MS=$(( ($(date +%s%N) - _t0) / 1000000 ))
	return 0
}

# eq NAME QUERY WANT [DIAG-QUERY]: the query's single value is WANT; when
# not, the rows of DIAG-QUERY (if any) are shown as comments.
eq()
{
	_got=$(sql "$2" 2>&1)
	if [ "$_got" = "$3" ]; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "got '$(echo "$_got" | head -n 5 | tr '\n' ' ')', expected '$3'"
	if [ -n "${4:-}" ]; then
		sql "$4" 2>&1 | head -n 20 | sed 's/^/#   /'
	fi
	return 1
}

# load_ids IDS-FILE: the listed ids into the table test_ids (kept in the
# database for the checks' queries).
load_ids()
{
	awk '{print $1}' "$1" | "$PSQL" -X -q -A -t -d "$BORA_TEST_PGURL" \
	    -c "SET client_min_messages TO warning" \
	    -c "DROP TABLE IF EXISTS test_ids" \
	    -c "CREATE TABLE test_ids (id text PRIMARY KEY)" \
	    -c "COPY test_ids FROM STDIN"
}
