#!/bin/sh
#
# messages-pg.sh -- what users are told, with two real borad processes
# on one PostgreSQL database: both reap expired messages and old
# finished executions at once, with a batch size of 2, and each row is
# deleted once (their metrics add up to what went), nothing deadlocks,
# and what must stay stays; each notification is delivered by one of
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
--execution-reap-batch-size 2"
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
