#!/bin/sh
#
# messages-pg.sh -- what users are told, with two real borad processes
# on one PostgreSQL database: both reap expired messages and old
# finished executions at once, with a batch size of 2, and each row is
# deleted once (their metrics add up to what went), nothing deadlocks,
# and what must stay stays; a storm of alarms sent to both at once
# makes one BORA-ALM-002 message, and both purge old alarms at once,
# each once; each notification is delivered by one of
# them, in order per execution; with PostgreSQL stopped, the messages
# and notifications APIs answer 503 with Retry-After at once.
#
# Starts its own throwaway cluster (tests/pg-env.sh).  Environment:
# BORAD, BORA, SRCDIR, BUILDDIR.

. "$(dirname "$0")/multi-lib.sh"
: "${BORA:=$BUILDDIR/src/bora}"
[ -x "$BORA" ] || skip "$BORA is not built"
unset BORA_URL BORA_TOKEN

RECEIVER=$SRCDIR/tests/integration/notify-receiver.py
RPORT=$(free_port)
RURL=http://127.0.0.1:$RPORT
RLOG=$TMP/received.jsonl
: >"$RLOG"

cat >"$TMP/workflows/pg.yaml" <<'EOF'
version: '2.0'
chain:
  tasks:
    a:
      action: std.noop
      on-success: [b]
    b:
      action: std.noop
waits:
  tasks:
    ext:
      action: std.async_noop
EOF

cat >"$TMP/workflows/alm.yaml" <<'EOF'
version: '2.0'
name: alm
workflows:
  noop:
    tasks:
      t: {action: std.noop}
triggers:
  storm:
    source: generic
    workflow: noop
    limit: {count: 1, window: 10m}
EOF

# expired N: N messages that expired a minute ago.
expired()
{
	sql "INSERT INTO messages (id, event_id, message, level,
	    resource_type, created_at, expires_at, project_id)
	    SELECT md5(random()::text || g), 'TEST-EXPIRED', 'x', 'ERROR',
	    'execution', bora_now_ms() - 120000, bora_now_ms() - 60000, 'p'
	    FROM generate_series(1, $1) g" >/dev/null
}

# reaped URL KIND: what one engine's reapers deleted of KIND.
reaped()
{
	curl -s "$1/metrics" | sed -n \
	    "s/^bora_reaped_rows_total{kind=\"$2\"} \([0-9]*\)$/\1/p"
}

# ---- two engines reaping at once ---------------------------------

REAP="--message-reap-interval 100ms --message-reap-batch-size 2 \
--execution-retention 1h --execution-reap-interval 100ms \
--execution-reap-batch-size 2 --alarm-retention 1h \
--alarm-reap-interval 100ms --alarm-reap-batch-size 2"
engine_start 1 $REAP || { not_ok "borad 1 starts"; finish; }
engine_start 2 $REAP || { not_ok "borad 2 starts"; finish; }
ok "two borad processes reap on one database"
sql "INSERT INTO messages (id, event_id, message, level, resource_type,
    created_at, expires_at) SELECT md5(random()::text || g), 'TEST-KEPT',
    'x', 'ERROR', 'execution', bora_now_ms(), bora_now_ms() + 3600000
    FROM generate_series(1, 10) g" >/dev/null
# Messages expire while both reap.
for w in 1 2 3 4 5 6; do
	expired 20
	sleep 0.2
done
yields 15 0 sql "SELECT count(*) FROM messages
    WHERE event_id = 'TEST-EXPIRED'"
eq "every expired message is reaped" \
    "SELECT count(*) FROM messages WHERE event_id = 'TEST-EXPIRED'" 0
eq "the others stay" \
    "SELECT count(*) FROM messages WHERE event_id = 'TEST-KEPT'" 10
R1=$(reaped "$URL_1" messages)
R2=$(reaped "$URL_2" messages)
check "each message deleted once: $R1 + $R2 = 120" test \
    "$((R1 + R2))" = 120

# Old finished executions: ten go, a running one and a recent one stay.
: >"$TMP/old"
for n in 1 2 3 4 5 6 7 8 9 10; do
	URL=$([ $((n % 2)) = 0 ] && echo "$URL_1" || echo "$URL_2")
	api_json POST /v2/executions '{"workflow_name": "chain"}'
	jb .id >>"$TMP/old"
done
api_json POST /v2/executions '{"workflow_name": "waits"}'
RUNNING=$(jb .id)
for x in $(cat "$TMP/old"); do
	wait_state "$x" SUCCESS
done
api_json POST /v2/executions '{"workflow_name": "chain"}'
RECENT=$(jb .id)
wait_state "$RECENT" SUCCESS
load_ids "$TMP/old"
sql "UPDATE executions SET updated_at = updated_at - 86400000
    WHERE id IN (SELECT id FROM test_ids) OR id = '$RUNNING'" >/dev/null
yields 15 0 sql "SELECT count(*) FROM executions JOIN test_ids USING (id)"
eq "old finished executions are purged" \
    "SELECT count(*) FROM executions JOIN test_ids USING (id)" 0
eq "with their tasks" \
    "SELECT count(*) FROM tasks JOIN test_ids ON test_ids.id =
     tasks.execution_id" 0
eq "and their action executions" \
    "SELECT count(*) FROM action_executions JOIN test_ids ON test_ids.id =
     action_executions.execution_id" 0
eq "and their events" \
    "SELECT count(*) FROM events JOIN test_ids ON test_ids.id =
     events.execution_id" 0
eq "a running one stays, however old" \
    "SELECT state FROM executions WHERE id = '$RUNNING'" RUNNING
eq "a recent one stays" \
    "SELECT state FROM executions WHERE id = '$RECENT'" SUCCESS
E1=$(reaped "$URL_1" executions)
E2=$(reaped "$URL_2" executions)
check "each execution purged once: $E1 + $E2 = 10" test \
    "$((E1 + E2))" = 10
T1=$(reaped "$URL_1" tasks)
T2=$(reaped "$URL_2" tasks)
check "their 20 tasks counted once: $T1 + $T2" test "$((T1 + T2))" = 20
for n in 1 2; do
	check "borad $n logs no deadlock" sh -c \
	    "! grep -qi 'deadlock' '$TMP/borad-$n.log'"
	check "borad $n logs no reaper error" sh -c \
	    "! grep -q 'reaper reap-' '$TMP/borad-$n.log'"
done
check "PostgreSQL logs no deadlock" sh -c \
    "! grep -qi 'deadlock detected' '$BORA_TEST_PGDIR/log'"

# ---- alarms: a storm on both engines, one message; reaped once ---

python3 - "$URL_1" "$URL_2" "$TMP/storm" <<'EOF'
import json, sys, threading, urllib.request
u1, u2, out = sys.argv[1], sys.argv[2], sys.argv[3]
bar = threading.Barrier(2)
verdicts = []
lock = threading.Lock()
def client(url, n):
    for i in range(10):
        body = json.dumps({"key": "storm-%d-%d" % (n, i)}).encode()
        req = urllib.request.Request(url + "/v1/alarms/generic", data=body,
            headers={"Content-Type": "application/json"}, method="POST")
        bar.wait()
        with urllib.request.urlopen(req, timeout=10) as r:
            v = json.load(r)["events"][0]["verdicts"][0]["verdict"]
        with lock:
            verdicts.append(v)
ts = [threading.Thread(target=client, args=(u, n))
    for n, u in enumerate((u1, u2))]
for t in ts: t.start()
for t in ts: t.join()
open(out, "w").write("\n".join(sorted(verdicts)) + "\n")
EOF
check "a storm of 20 alarms on two engines: 1 started, 19 limited" test \
    "$(grep -c limited "$TMP/storm") $(grep -c started "$TMP/storm")" = \
    "19 1"
eq "one BORA-ALM-002 message for the storm, from either engine" \
    "SELECT count(*) FROM messages WHERE event_id = 'BORA-ALM-002' AND
     resource_uuid = 'alm.storm'" 1
# Thirty alarms of a day ago with an event each, in one transaction.
sql "INSERT INTO alarms (id, source, route, state, received_at)
    SELECT 'old-' || g, 'generic', '/v1/alarms/generic', 'decided',
    bora_now_ms() - 86400000 FROM generate_series(1, 30) g;
    INSERT INTO alarm_events (id, alarm_id, seq, source, key, status,
    created_at) SELECT 'old-' || g || '/0', 'old-' || g, 0, 'generic',
    'k', 'firing', 0 FROM generate_series(1, 30) g" >/dev/null
yields 15 0 sql "SELECT count(*) FROM alarms WHERE id LIKE 'old-%'"
eq "old alarms are purged by the two engines" \
    "SELECT count(*) FROM alarms WHERE id LIKE 'old-%'" 0
eq "with their events" \
    "SELECT count(*) FROM alarm_events WHERE alarm_id LIKE 'old-%'" 0
eq "the storm's alarms stay" \
    "SELECT count(*) FROM alarms WHERE id NOT LIKE 'old-%'" 20
A1=$(reaped "$URL_1" alarms)
A2=$(reaped "$URL_2" alarms)
check "each alarm purged once: $A1 + $A2 = 30" test "$((A1 + A2))" = 30
V1=$(reaped "$URL_1" alarm_events)
V2=$(reaped "$URL_2" alarm_events)
check "their events counted once: $V1 + $V2 = 30" test "$((V1 + V2))" = 30
check "no reaper error" sh -c "! grep -q 'reaper reap-alarms' \
    '$TMP/borad-1.log' '$TMP/borad-2.log'"

# ---- notifications: each delivered by one engine, in order -------

python3 "$RECEIVER" "$RPORT" "$RLOG" >>"$TMP/receiver.log" 2>&1 &
HTTP_PID=$!
wait_until 5 curl -s -o /dev/null -X POST -d '{}' "$RURL/ping"
: >"$TMP/told"
for n in $(seq 1 20); do
	URL=$([ $((n % 2)) = 0 ] && echo "$URL_1" || echo "$URL_2")
	api_json POST /v2/executions "{\"workflow_name\": \"chain\",
	    \"params\": {\"notify\": [{\"url\": \"$RURL/hook\"}]}}"
	jb .id >>"$TMP/told"
done
load_ids "$TMP/told"
yields 30 120 sql "SELECT count(*) FROM outbox o JOIN test_ids t ON
    t.id = o.execution_id WHERE o.state = 'SENT'"
eq "all 120 events of 20 executions sent" \
    "SELECT count(*) FROM outbox o JOIN test_ids t ON t.id =
     o.execution_id WHERE o.state = 'SENT'" 120
check "each delivered once, in order per execution" python3 -c '
import json, sys
got = [json.loads(l) for l in open(sys.argv[1]) if "\"/hook\"" in l]
ids = set(open(sys.argv[2]).read().split())
keys = [g["key"] for g in got]
assert len(keys) == len(set(keys)) == 120, (len(keys), len(set(keys)))
chain = ["WORKFLOW_LAUNCHED", "TASK_LAUNCHED", "TASK_SUCCEEDED",
    "TASK_LAUNCHED", "TASK_SUCCEEDED", "WORKFLOW_SUCCEEDED"]
for x in ids:
    assert [g["event"] for g in got if g["execution"] == x] == chain, x
' "$RLOG" "$TMP/told"

# ---- the store down: 503 with Retry-After, at once ----------------

eval "$BORA_TEST_PG_STOP"
for path in "/v2/messages" "/v2/messages/x" "/v2/notifications"; do
	T0=$(date +%s%N)
	STATUS=$(curl -s --max-time 15 -o "$TMP/body" -D "$TMP/headers" \
	    -w '%{http_code}' "$URL_1$path")
	MS=$((($(date +%s%N) - T0) / 1000000))
	check "GET $path with the store down: 503 ($STATUS) in $MS ms" \
	    test "$STATUS" = 503 -a "$MS" -lt 10000
	check "GET $path with the store down: Retry-After" grep -qi \
	    '^Retry-After: [0-9]' "$TMP/headers"
done
"$BORA" --url "$URL_2" message list >"$TMP/out" 2>&1
RC=$?
check "bora message list with the store down exits 1, saying why" \
    sh -c "test $RC -eq 1 && grep -qi 'unavailable' '$TMP/out'"
eval "$BORA_TEST_PG_START"
wait_until 20 curl -sf -o /dev/null "$URL_1/v2/messages"
api GET /v2/messages?event_id=TEST-KEPT
expect "back once the store is" 200 '.messages | length == 10'

for n in 1 2; do
	sanitizer_check "$TMP/borad-$n.log"
done
echo "# $NAME: $NCHECK checks, $FAILED failed"
[ "$FAILED" -eq 0 ]
