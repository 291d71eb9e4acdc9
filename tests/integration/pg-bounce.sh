#!/bin/sh
#
# pg-bounce.sh -- PostgreSQL restarted with `pg_ctl restart -m immediate`
# (every backend killed, crash recovery) while clients hammer the API:
# every answer, during the restart and right after it, is a success or
# 503 with Retry-After; never 400 or 500 for a connection the server
# closed.  Reads are retried once on a fresh connection, so the answers
# after the restart are successes; executions accepted meanwhile all
# exist and end in SUCCESS, and those refused with 503 are accepted when
# posted again with the same id.
#
# Starts its own throwaway cluster (tests/pg-env.sh).  Environment:
# BORAD, SRCDIR, BUILDDIR; ROUNDS (restarts, default 3).

. "$(dirname "$0")/multi-lib.sh"

ROUNDS=${ROUNDS:-3}

[ -n "${BORA_TEST_PG_RESTART:-}" ] ||
    skip "BORA_TEST_PGURL is set: no server of our own to restart"

cp "$MULTI"/fanout.yaml "$TMP/workflows/"
engine_start 1 || { not_ok "borad starts"; finish; }
ok "borad on PostgreSQL is ready"

# Some rows for the routes to read.
start_execs "$TMP/seed" multi_fanout '{}' 10 2 "$URL_1"
wait_final "$TMP/seed" 30 || not_ok "seed executions final" "timeout"
EXEC=$(head -n 1 "$TMP/seed" | awk '{print $1}')
TASK=$(sql "SELECT id FROM tasks WHERE execution_id = '$EXEC' LIMIT 1")
ACTION=$(sql "SELECT id FROM action_executions
    WHERE execution_id = '$EXEC' LIMIT 1")
[ -n "$TASK" ] && [ -n "$ACTION" ] || { not_ok "seed rows"; finish; }

# hammer SECONDS OUT: six clients, each on routes of its own, one
# request after another (a new connection each time, and one that keeps
# its connection), for SECONDS; "METHOD PATH STATUS RETRY-AFTER" lines
# into OUT; the ids of executions posted, with their last status, into
# OUT.posted.
hammer()
{
	python3 - "$URL_1" "$1" "$2" "$EXEC" "$TASK" "$ACTION" <<'PY'
import http.client, json, sys, threading, time, uuid

url, secs, out, ex, task, act = sys.argv[1], float(sys.argv[2]), \
    sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
host, port = url[len("http://"):].split(":")
routes = [
    [("GET", "/v2/executions?limit=5"), ("GET", "/v2/executions/" + ex)],
    [("GET", "/v2/tasks?limit=5"), ("GET", "/v2/tasks/" + task),
     ("GET", "/v2/executions/%s/tasks" % ex)],
    [("GET", "/v2/action_executions?limit=5"),
     ("GET", "/v2/action_executions/" + act),
     ("GET", "/v2/executions/%s/events" % ex)],
    [("GET", "/v2/workbooks"), ("GET", "/v2/executions/%s/report" % ex),
     ("GET", "/metrics")],
    [("POST", "/v2/executions")],
    [("GET", "/v2/executions?limit=5"), ("GET", "/v2/tasks?limit=5"),
     ("GET", "/v2/action_executions?limit=5")],
]
lock = threading.Lock()
lines, posted = [], {}
end = time.time() + secs

def one(conn, method, path, body=None):
    hdr = {"Content-Type": "application/json"} if body else {}
    conn.request(method, path, body=body, headers=hdr)
    r = conn.getresponse()
    text = r.read()
    return r.status, r.getheader("Retry-After") or "-", text

def client(n, keep):
    conn = None
    i = 0
    while time.time() < end:
        method, path = routes[n][i % len(routes[n])]
        i += 1
        body = None
        if method == "POST":
            eid = str(uuid.uuid4())
            body = json.dumps({"id": eid, "workflow_name": "multi_fanout"})
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port),
                    timeout=10)
            st, ra, text = one(conn, method, path, body)
            if not keep:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            st, ra, text = 0, "-", str(e).encode()
            conn = None
        with lock:
            why = "" if st in (200, 201) else " ".join(
                text[:200].decode("utf-8", "replace").split())
            lines.append("%s %s %d %s %s\n" % (method, path.split("?")[0],
                st, ra, why))
            if body is not None:
                posted[eid] = st
        time.sleep(0.01)

ts = [threading.Thread(target=client, args=(n, n == 5))
      for n in range(len(routes))]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "a") as f:
    f.writelines(lines)
with open(out + ".posted", "a") as f:
    f.writelines("%s x %d\n" % kv for kv in posted.items())
PY
}

r=1
while [ $r -le "$ROUNDS" ]; do
	hammer 6 "$TMP/answers" &
	hp=$!
	sleep 1.5
	t1=$(date +%s%N)
	eval "$BORA_TEST_PG_RESTART" || not_ok "restart $r of PostgreSQL"
	echo "# restart $r of PostgreSQL took $(( ($(date +%s%N) - t1) / 1000000 )) ms"
	wait $hp
	r=$((r + 1))
done
total=$(wc -l <"$TMP/answers")
echo "# $total answers:" $(awk '{print $3}' "$TMP/answers" | sort | uniq -c |
    tr '\n' ';')
bad=$(awk '$3 != 200 && $3 != 201 && !($3 == 503 && $4 ~ /^[0-9]+$/)' \
    "$TMP/answers")
if [ -z "$bad" ]; then
	ok "every answer is a success or 503 with Retry-After ($total)"
else
	not_ok "every answer is a success or 503 with Retry-After" \
	    "$(echo "$bad" | wc -l) of $total were not"
	echo "$bad" | sort | uniq -c | sort -rn | head -n 12 | sed 's/^/#   /'
fi
n503=$(awk '$3 == 503' "$TMP/answers" | wc -l)
echo "# $n503 answers were 503"

# The routes answer again: a read on each, one after the other.
for p in "/v2/executions?limit=5" "/v2/executions/$EXEC" "/v2/tasks/$TASK" \
    "/v2/action_executions/$ACTION" "/v2/executions/$EXEC/events"; do
	api GET "$p"
	expect "GET ${p%%\?*} is 200 after the restarts" 200
done

# Executions accepted all exist and succeed; refused ones are accepted
# when posted again with their id.
awk '$3 == 201 {print $1}' "$TMP/answers.posted" >"$TMP/accepted"
awk '$3 != 201 {print $1}' "$TMP/answers.posted" >"$TMP/refused"
echo "# $(wc -l <"$TMP/accepted") executions accepted," \
    "$(wc -l <"$TMP/refused") refused during the restarts"
reposted=0
while read -r id; do
	api_json POST /v2/executions \
	    "{\"id\": \"$id\", \"workflow_name\": \"multi_fanout\"}"
	case $STATUS in
	200|201) reposted=$((reposted + 1)) ;;
	*) not_ok "execution $id accepted when posted again" "$STATUS" ;;
	esac
done <"$TMP/refused"
cat "$TMP/accepted" "$TMP/refused" | sed 's/$/ x 201/' >"$TMP/ids"
if wait_final "$TMP/ids" 60; then
	ok "every execution posted is final $WAITED_MS ms later"
else
	not_ok "every execution posted is final" "timeout"
fi
load_ids "$TMP/ids"
eq "every execution posted exists and is SUCCESS" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.state = 'SUCCESS'" "$(wc -l <"$TMP/ids" | tr -d ' ')" \
    "SELECT i.id, e.state, e.state_info FROM test_ids i
     LEFT JOIN executions e USING (id)
     WHERE e.state IS DISTINCT FROM 'SUCCESS' LIMIT 5"
eq "six tasks each, each once" \
    "SELECT count(*) FROM (SELECT i.id FROM test_ids i
     LEFT JOIN tasks t ON t.execution_id = i.id GROUP BY i.id
     HAVING count(*) <> 6 OR count(DISTINCT t.name) <> 6) x" 0

engines_stop 1
finish
