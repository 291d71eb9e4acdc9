#!/bin/sh
#
# notify.sh -- Mistral's notify through the durable outbox, against a
# real borad on SQLite and a local receiver (notify-receiver.py): a
# receiver that is down for a while, then up, gets every event, in
# order per execution, each once with its Idempotency-Key and a valid
# HMAC signature; the default receiver of borad.conf gets what it asked
# for; borad killed -9 in the middle of deliveries loses nothing; a
# receiver that keeps failing ends DEAD, visible in the API, the CLI,
# the metrics and a user message, and goes again when asked.
#
# Environment: BORAD, BORA, SRCDIR, BUILDDIR (see lib.sh).

. "${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
: "${BORA:=$BUILDDIR/src/bora}"
[ -x "$BORA" ] || skip "$BORA is not built"
unset BORA_URL BORA_TOKEN

RECEIVER=$SRCDIR/tests/integration/notify-receiver.py
RPORT=$(free_port)
RURL=http://127.0.0.1:$RPORT
RLOG=$TMP/received.jsonl
RPID=
SECRET=s3cr3t-key
: >"$RLOG"

cat >"$TMP/workflows/chain.yaml" <<'EOF'
version: '2.0'
chain:
  tasks:
    a:
      action: std.noop
      on-success: [b]
    b:
      action: std.echo output=2
      on-success: [c]
    c:
      action: std.noop
EOF

# What a receiver of every event of chain hears, in order.
CHAIN="WORKFLOW_LAUNCHED TASK_LAUNCHED TASK_SUCCEEDED TASK_LAUNCHED \
TASK_SUCCEEDED TASK_LAUNCHED TASK_SUCCEEDED WORKFLOW_SUCCEEDED"

recv_start()
{
	python3 "$RECEIVER" "$RPORT" "$RLOG" "$SECRET" \
	    >>"$TMP/receiver.log" 2>&1 &
	RPID=$!
	wait_until 5 curl -s -o /dev/null -X POST -d '{}' "$RURL/ping"
}

recv_stop()
{
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	RPID=
}

notify_cleanup()
{
	recv_stop
	cleanup
}
trap notify_cleanup EXIT

OPTS="--notify-backoff 200ms --notify-backoff-max 1s --notify-timeout 5s \
--notify-secret $SECRET"
DEFAULT="$RURL/default events=WORKFLOW_SUCCEEDED,WORKFLOW_FAILED \
header=X-Custom:yes"

# start_chain N IDS-FILE [TARGET]: start N executions of chain that
# notify TARGET (default $RURL/hook); their ids appended to IDS-FILE.
start_chain()
{
	_n=0
	while [ $_n -lt "$1" ]; do
		api_json POST /v2/executions "{\"workflow_name\": \"chain\",
		    \"params\": {\"notify\": [{\"type\": \"webhook\",
		    \"url\": \"${3:-$RURL/hook}\"}]}}"
		jb .id >>"$2"
		_n=$((_n + 1))
	done
}

# count STATE [QUERY]: notifications in STATE.
count()
{
	curl -s "$URL/v2/notifications?state=$1&limit=0${2:+&$2}" |
	    jq '.notifications | length'
}

# wait_sent SECONDS: until none is PENDING.
wait_sent()
{
	yields "$1" 0 count PENDING
}

# delivered IDS-FILE: every notification of the executions listed
# reached the receiver (each key at least once), in order per execution
# (first arrivals), with a valid signature; prints what is wrong.
delivered()
{
	curl -s "$URL/v2/notifications?limit=0&fields=execution_id,event,state,body" \
	    >"$TMP/api.json"
	python3 - "$1" "$RLOG" "$TMP/api.json" "$CHAIN" <<'EOF'
import json, sys
ids = set(open(sys.argv[1]).read().split())
got = [json.loads(l) for l in open(sys.argv[2])]
api = json.load(open(sys.argv[3]))["notifications"]
chain = sys.argv[4].split()
bad = []
mine = [n for n in api if n["execution_id"] in ids]
keys = {}
for g in got:
    keys.setdefault(g["key"], []).append(g)
for n in mine:
    if n["state"] != "SENT":
        bad.append("%s is %s" % (n["id"], n["state"]))
    if n["id"] not in keys:
        bad.append("%s (%s) never arrived" % (n["id"], n["event"]))
        continue
    for g in keys[n["id"]]:
        if g["verified"] is not True:
            bad.append("%s: bad signature" % n["id"])
        if g["event"] != n["event"] or g["body"]["event"] != n["event"]:
            bad.append("%s: event %s" % (n["id"], g["event"]))
for x in ids:
    seen, order = set(), []
    for g in got:
        if g["path"] == "/hook" and g["execution"] == x and \
                g["key"] not in seen:
            seen.add(g["key"])
            order.append(g["event"])
    if order != chain:
        bad.append("execution %s heard %s" % (x, order))
    n = [m for m in mine if m["execution_id"] == x]
    if len(n) != len(chain) + 1:
        bad.append("execution %s has %d notifications" % (x, len(n)))
print("\n".join(bad[:10]))
sys.exit(1 if bad else 0)
EOF
}

# ---- a receiver down, then up: nothing lost, in order -----------

borad_start $OPTS --notify "$DEFAULT"
: >"$TMP/ids1"
start_chain 4 "$TMP/ids1"
for x in $(cat "$TMP/ids1"); do
	wait_state "$x" SUCCESS
done
check "4 executions end while the receiver is down" test \
    "$(wc -l <"$TMP/ids1")" = 4
sleep 1.5
check "their 36 events wait in the outbox" test "$(count PENDING)" = 36
api GET "/v2/notifications?state=PENDING&attempts=gte:2"
expect "each stream's first was tried again and again" 200 \
    '.notifications | length >= 4 and
     all(.[]; (.event == "WORKFLOW_LAUNCHED" or
     (.target | endswith("/default"))) and (.last_error | test("onnect")))'
check "the others wait for their stream's first" test \
    "$(count PENDING attempts=0)" -ge 28
curl -s "$URL/metrics" >"$TMP/metrics"
check "metrics: attempts to be retried" grep -Eq \
    '^bora_notification_attempts_total\{outcome="retried"\} [1-9]' \
    "$TMP/metrics"
check "metrics: notifications pending" grep -q \
    '^bora_notifications{state="PENDING"} 36$' "$TMP/metrics"

recv_start
check "the receiver is up" test -n "$RPID"
check "once it is up, every event is sent" wait_sent 30
check "36 sent" test "$(count SENT)" = 36
if delivered "$TMP/ids1" >"$TMP/why"; then
	ok "every event arrived, in order per execution, signed"
else
	not_ok "every event arrived, in order per execution, signed" \
	    "$(head -5 "$TMP/why")"
fi
check "the default receiver got each end, with its header" python3 -c '
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
ids = set(open(sys.argv[2]).read().split())
d = [g for g in got if g["path"] == "/default"]
assert {g["execution"] for g in d} == ids, d
assert all(g["event"] == "WORKFLOW_SUCCEEDED" and g["custom"] == "yes" and
    g["body"]["state"] == "SUCCESS" and g["body"]["workflow_name"] ==
    "chain" for g in d)
' "$RLOG" "$TMP/ids1"
check "a body says what Mistral's says" python3 -c '
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
t = [g["body"] for g in got if g["event"] == "TASK_SUCCEEDED"][0]
assert t["name"] in ("a", "b", "c") and t["state"] == "SUCCESS" and \
    t["workflow_name"] == "chain" and t["workflow_execution_id"] and \
    t["type"] == "ACTION" and t["event"] == "TASK_SUCCEEDED", t
w = [g["body"] for g in got if g["event"] == "WORKFLOW_LAUNCHED"][0]
assert w["workflow_name"] == "chain" and w["state"] == "RUNNING", w
' "$RLOG"
api GET "/v2/notifications?state=SENT&limit=1"
expect "a notification shows its receiver's header names, not values" \
    200 '.notifications[0] | has("header_names") and (has("body") | not)'
ID1=$(jb '.notifications[0].id')
api GET "/v2/notifications/$ID1"
expect "GET one notification, with its body" 200 \
    ".id == \"$ID1\" and .body.event == .event and .attempts >= 1"
api_json POST /v2/executions '{"workflow_name": "chain", "params":
    {"notify": [{"type": "webhook", "url": "ftp://x/"}]}}'
expect "a bad receiver is refused at start" 400 \
    '.faultstring | contains("notify[0].url")'
api_json POST /v2/executions '{"workflow_name": "chain", "params":
    {"notify": [{"url": "http://x/", "event_types": ["TASK_BLEW_UP"]}]}}'
expect "an unknown event is refused at start" 400 \
    '.faultstring | contains("unknown event")'

# ---- borad killed -9 mid-delivery: nothing lost ----------------

echo 0.4 >"$RLOG.slow"
BEFORE=$(wc -l <"$RLOG")
: >"$TMP/ids2"
start_chain 6 "$TMP/ids2"
# received_more N: the receiver took N more since BEFORE.
received_more()
{
	[ $(($(wc -l <"$RLOG") - BEFORE)) -ge "$1" ]
}
wait_until 10 received_more 6
kill -KILL "$BORAD_PID"
wait "$BORAD_PID" 2>/dev/null
BORAD_PID=
check "borad was killed in the middle of deliveries" test \
    $(($(wc -l <"$RLOG") - BEFORE)) -lt 54
rm -f "$RLOG.slow"
sleep 0.5
borad_start $OPTS --notify "$DEFAULT"
for x in $(cat "$TMP/ids2"); do
	wait_state "$x" SUCCESS
done
check "after the restart, every event is sent" wait_sent 40
if delivered "$TMP/ids2" >"$TMP/why"; then
	ok "after kill -9: every event arrived, in order per execution"
else
	not_ok "after kill -9: every event arrived, in order per execution" \
	    "$(head -5 "$TMP/why")"
fi
check "repeats, if any, carry the same key" python3 -c '
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for g in got:
    if g["key"]:
        by.setdefault(g["key"], set()).add((g["event"], g["execution"]))
assert all(len(v) == 1 for v in by.values())
' "$RLOG"
borad_stop
sanitizer_check "$TMP/borad.log"

# ---- a receiver that keeps failing: DEAD, told, sent again -------

borad_start --notify-backoff 100ms --notify-backoff-max 200ms \
    --notify-max-attempts 3
api_json POST /v2/executions "{\"workflow_name\": \"chain\", \"params\":
    {\"notify\": [{\"url\": \"$RURL/fail\",
    \"events\": [\"WORKFLOW_SUCCEEDED\"]}]}}"
DX=$(jb .id)
wait_state "$DX" SUCCESS
yields 10 1 count DEAD "execution_id=$DX"
api GET "/v2/notifications?state=DEAD&execution_id=$DX"
expect "after 3 attempts it is given up" 200 \
    '.notifications | length == 1 and .[0].attempts == 3 and
     .[0].last_error == "HTTP 500"'
DEAD=$(jb '.notifications[0].id')
api GET "/v2/messages?event_id=BORA-NTF-001&resource_uuid=$DEAD"
expect "the user is told that it was given up" 200 \
    '.messages | length == 1 and .[0].resource_type == "notification"'
TEXT=$(jb '.messages[0].user_message')
WANT="The WORKFLOW_SUCCEEDED notification of execution $DX could not be \
delivered to $RURL/fail after 3 attempts: HTTP 500. Once the receiver \
works, send it again with \`bora notification retry $DEAD\`."
check "with the catalog's text" test "$TEXT" = "$WANT"
[ "$TEXT" = "$WANT" ] || echo "# got: $TEXT"
curl -s "$URL/metrics" >"$TMP/metrics"
check "metrics: one given up" grep -q \
    '^bora_notification_attempts_total{outcome="dead"} 1$' "$TMP/metrics"
check "metrics: one DEAD" grep -q '^bora_notifications{state="DEAD"} 1$' \
    "$TMP/metrics"
"$BORA" --url "$URL" notification list --state DEAD -f json >"$TMP/out"
check "bora notification list --state DEAD" jq -e \
    "length == 1 and .[0].id == \"$DEAD\"" "$TMP/out"
"$BORA" --url "$URL" notification list --execution "$DX" >"$TMP/out"
check "bora notification list --execution: a table" grep -q \
    "WORKFLOW_SUCCEEDED.*DEAD" "$TMP/out"
"$BORA" --url "$URL" notification get "$DEAD" -f yaml >"$TMP/out"
check "bora notification get -f yaml: its body" grep -q \
    'event: WORKFLOW_SUCCEEDED' "$TMP/out"
touch "$RLOG.heal"
"$BORA" --url "$URL" notification retry "$DEAD" >"$TMP/out"
check "bora notification retry" grep -q "Notification $DEAD" "$TMP/out"
check "sent again, it arrives" yields 10 1 count SENT "execution_id=$DX"
api_json PUT "/v2/notifications/$DEAD" '{"state": "PENDING"}'
expect "only a DEAD one goes again" 409
api_json PUT "/v2/notifications/$DEAD" '{"state": "SENT"}'
expect "a state other than PENDING is 400" 400
api GET /v2/notifications/no-such-one
expect "an unknown notification is 404" 404

finish
