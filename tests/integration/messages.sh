#!/bin/sh
#
# messages.sh -- what users are told, against a real borad on SQLite:
# a failing workflow and an unhandled task failure each make exactly one
# message with the catalog's text (and a deployer's text when the
# messages file replaces it); GET /v2/messages filters on every field,
# with time ranges, sorts and pages; GET and DELETE one; the bora
# message commands in every format; messages expire and are reaped in
# batches (message-ttl, message-reap-interval, message-reap-batch-size)
# while others stay; and finished executions older than
# execution-retention go with their tasks and events while running and
# recent ones stay.
#
# Environment: BORAD, BORA, SRCDIR, BUILDDIR (see lib.sh).

. "${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
: "${BORA:=$BUILDDIR/src/bora}"
[ -x "$BORA" ] || skip "$BORA is not built"
unset BORA_URL BORA_TOKEN

cat >"$TMP/workflows/msgs.yaml" <<'EOF'
version: '2.0'
failing:
  tasks:
    prepare:
      action: std.noop
      on-success: [boom]
    boom:
      action: std.fail
      input:
        error_data: 'disk full on /var (password=hunter2)'
handled:
  tasks:
    boom:
      action: std.fail
      on-error: [cleanup]
    cleanup:
      action: std.noop
ended:
  tasks:
    stop:
      action: std.noop
      on-success: [fail]
waits:
  tasks:
    ext:
      action: std.async_noop
EOF

# The deployer's texts: one entry replaced.
cat >"$TMP/texts.yaml" <<'EOF'
BORA-EXE-002:
  message: "Le workflow {workflow} s'est arrêté : {reason}."
  action: "Voyez l'astreinte."
EOF

# start WF [REQUEST-ID]: start an execution; its id in $EX.
start()
{
	api POST /v2/executions -H 'Content-Type: application/json' \
	    -H "X-Request-Id: ${2:-req-$1}" \
	    --data-binary "{\"workflow_name\": \"$1\"}"
	EX=$(jb .id)
}

# nmsg QUERY: how many messages GET /v2/messages?QUERY lists.
nmsg()
{
	curl -s "$URL/v2/messages?$1" | jq '.messages | length'
}

borad_start --messages-file "$TMP/texts.yaml" --message-ttl 1h
check "borad is up" test -n "$BORAD_PID"

# ---- exactly one message per failure, with the catalog's text -----

start failing req-failing-1
FAILING=$EX
check "the failing workflow ends in ERROR" wait_state "$FAILING" ERROR
api GET "/v2/messages?resource_uuid=$FAILING"
expect "one message about the failed execution" 200 \
    '.messages | length == 1'
expect "it is BORA-EXE-001, an ERROR about an execution" 200 \
    '.messages[0] | .event_id == "BORA-EXE-001" and
     .message_level == "ERROR" and .resource_type == "execution"'
TEXT=$(jb '.messages[0].user_message')
WANT="Workflow failing failed in task boom: disk full on /var \
(password=***). Fix the cause, then re-run the failed task with \
\`bora execution rerun TASK_ID\` (its id is in \
\`bora execution tasks $FAILING\`)."
check "it is the catalog's text: the failed task, why, what to do" \
    test "$TEXT" = "$WANT"
[ "$TEXT" = "$WANT" ] || echo "# got: $TEXT"
expect "it carries the request id of the call that started the work" \
    200 '.messages[0].request_id == "req-failing-1"'
expect "it carries the project and its expiry" 200 \
    '.messages[0] | .project_id == "<default-project>" and
     .expires_at > .created_at'
MSG_EXE=$(jb '.messages[0].id')

TASK=$(curl -s "$URL/v2/executions/$FAILING/tasks" |
    jq -r '.tasks[] | select(.name == "boom") | .id')
api GET "/v2/messages?event_id=BORA-TSK-001&resource_uuid=$TASK"
expect "one message about the task nothing handles" 200 \
    '.messages | length == 1'
TEXT=$(jb '.messages[0].user_message')
WANT="Task boom of workflow failing failed and nothing handles it: disk \
full on /var (password=***). The workflow ends in ERROR once its other \
tasks are done; re-run the task with \`bora execution rerun $TASK\`, \
or give it an on-error handler."
check "it is the catalog's text, with the task's id to re-run it" \
    test "$TEXT" = "$WANT"
[ "$TEXT" = "$WANT" ] || echo "# got: $TEXT"
expect "it is about the task" 200 '.messages[0].resource_type == "task"'
check "two messages in all for the failing workflow" test \
    "$(nmsg "request_id=req-failing-1")" = 2

start handled
check "a handled failure ends in SUCCESS" wait_state "$EX" SUCCESS
check "a handled failure tells nothing" test \
    "$(nmsg "request_id=req-handled")" = 0

start ended req-ended
ENDED=$EX
check "a fail command ends in ERROR" wait_state "$ENDED" ERROR
api GET "/v2/messages?resource_uuid=$ENDED"
expect "one message for a workflow a fail command ended" 200 \
    '.messages | length == 1 and .[0].event_id == "BORA-EXE-002"'
TEXT=$(jb '.messages[0].user_message')
check "the deployer's text replaces the catalog's" test "$TEXT" = \
    "Le workflow ended s'est arrêté : workflow failed by the 'fail' \
command of task 'stop'. Voyez l'astreinte."
# Two more failures, for lists.
start failing req-failing-2
check "a second failure" wait_state "$EX" ERROR
start failing req-failing-3
check "a third failure" wait_state "$EX" ERROR
TOTAL=$(nmsg "limit=0")
check "seven messages in all ($TOTAL)" test "$TOTAL" = 7

# ---- filters on every field, time ranges --------------------------

check "filter event_id" test "$(nmsg event_id=BORA-EXE-001)" = 3
check "filter message_level" test "$(nmsg message_level=ERROR)" = 7
check "filter resource_type" test "$(nmsg resource_type=task)" = 3
check "filter resource_uuid" test "$(nmsg resource_uuid=$TASK)" = 1
check "filter request_id" test "$(nmsg request_id=req-failing-2)" = 2
check "filter id" test "$(nmsg id=$MSG_EXE)" = 1
check "filter project_id" test \
    "$(nmsg project_id=%3Cdefault-project%3E)" = 7
check "filter project_id (another project)" test \
    "$(nmsg project_id=other)" = 0
check "filter user_message with has:" test \
    "$(nmsg user_message=has:nothing%20handles)" = 3
check "filter with in:" test \
    "$(nmsg event_id=in:BORA-EXE-002,BORA-TSK-001)" = 4
FIRST=$(curl -s "$URL/v2/messages?id=$MSG_EXE" | jq -r '.messages[0].created_at')
LAST=$(curl -s "$URL/v2/messages?sort_keys=created_at&sort_dirs=desc&limit=1" |
    jq -r '.messages[0].created_at')
# Times have seconds: the range ends a second after the last.
UNTIL=$(python3 -c 'import datetime, sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S")
print((t + datetime.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S"))' \
    "$LAST")
Q1=$(printf '%s' "$FIRST" | sed 's/ /%20/')
Q2=$(printf '%s' "$UNTIL" | sed 's/ /%20/')
check "a time range: created_at gte and lt" test \
    "$(nmsg "created_at=gte:$Q1&created_at=lt:$Q2")" = 7
check "a time range that ends before the first" test \
    "$(nmsg "created_at=lt:$Q1")" = 0
check "expires_at ranges" test "$(nmsg "expires_at=gt:$Q1")" = 7
api GET "/v2/messages?colour=red"
expect "an unknown filter is 400, naming it" 400 \
    '.faultstring | contains("colour")'
api GET "/v2/messages?created_at=gte:yesterday"
expect "a time that does not parse is 400" 400

# ---- sort and pages ------------------------------------------------

api GET "/v2/messages?sort_keys=event_id,created_at&sort_dirs=asc"
expect "sorted by event id" 200 \
    '[.messages[].event_id] == ([.messages[].event_id] | sort)'
api GET "/v2/messages"
expect "newest first by default" 200 \
    '[.messages[].created_at] == ([.messages[].created_at] | sort | reverse)'
api GET "/v2/messages?sort_keys=colour"
expect "an unknown sort key is 400" 400

# Follow next links two by two, with a filter that must stay.
: >"$TMP/pages"
NEXT="$URL/v2/messages?limit=2&message_level=ERROR&sort_keys=created_at&sort_dirs=asc"
PAGES=0
while [ -n "$NEXT" ] && [ "$PAGES" -lt 10 ]; do
	curl -s "$NEXT" >"$TMP/page"
	jq -r '.messages[].id' "$TMP/page" >>"$TMP/pages"
	NEXT=$(jq -r '.next // empty' "$TMP/page")
	PAGES=$((PAGES + 1))
done
check "pages of two: four pages for seven" test "$PAGES" = 4
check "every message once over the pages" test \
    "$(sort -u "$TMP/pages" | wc -l)" = 7
check "no message twice over the pages" test \
    "$(wc -l <"$TMP/pages")" = 7
api GET "/v2/messages?limit=2&marker=no-such-message"
expect "an unknown marker is 404" 404

# ---- get and delete ------------------------------------------------

api GET "/v2/messages/$MSG_EXE"
expect "GET one message" 200 ".id == \"$MSG_EXE\" and
    .event_id == \"BORA-EXE-001\""
api GET /v2/messages/no-such-message
expect "GET an unknown message is 404" 404 \
    '.faultstring | contains("Message not found")'
DEL=$(curl -s "$URL/v2/messages?request_id=req-failing-3&event_id=BORA-EXE-001" |
    jq -r '.messages[0].id')
api DELETE "/v2/messages/$DEL"
expect "DELETE a message" 204
api DELETE "/v2/messages/$DEL"
expect "DELETE it again is 404" 404
check "it is gone from the list" test "$(nmsg id=$DEL)" = 0

# ---- the CLI -------------------------------------------------------

"$BORA" --url "$URL" message list >"$TMP/out" 2>&1
check "bora message list: a table with a header" grep -Eq \
    '^ID +EVENT ID +RESOURCE TYPE' "$TMP/out"
check "bora message list: the messages" grep -q "BORA-TSK-001" "$TMP/out"
"$BORA" --url "$URL" message list -f json --event BORA-EXE-001 >"$TMP/out"
check "bora message list -f json --event" jq -e \
    'length == 2 and all(.[]; .event_id == "BORA-EXE-001")' "$TMP/out"
"$BORA" --url "$URL" message list -f yaml --type task --limit 1 \
    >"$TMP/out"
check "bora message list -f yaml --type --limit" grep -q \
    '^- id: ' "$TMP/out"
check "only one with --limit 1" test "$(grep -c '^- id: ' "$TMP/out")" = 1
"$BORA" --url "$URL" message list -q --request req-failing-1 >"$TMP/out"
check "bora message list -q --request: the ids" test \
    "$(wc -l <"$TMP/out")" = 2
"$BORA" --url "$URL" message list -f json --since "$FIRST" \
    --until "$UNTIL" --level ERROR >"$TMP/out"
check "bora message list --since --until --level" jq -e 'length == 6' \
    "$TMP/out"
"$BORA" --url "$URL" message get "$MSG_EXE" -f json >"$TMP/out"
check "bora message get -f json" jq -e ".id == \"$MSG_EXE\"" "$TMP/out"
"$BORA" --url "$URL" message get "$MSG_EXE" >"$TMP/out"
check "bora message get: a record" grep -q "user_message" "$TMP/out"
"$BORA" --url "$URL" message delete "$MSG_EXE" >"$TMP/out"
check "bora message delete" grep -q "Deleted message $MSG_EXE" "$TMP/out"
"$BORA" --url "$URL" message get "$MSG_EXE" >"$TMP/out" 2>&1
check "bora message get of a deleted one exits 1" test $? -eq 1
"$BORA" --url "$URL" message list --colour red >"$TMP/out" 2>&1
check "bora message list with a bad option exits 2" test $? -eq 2
borad_stop
sanitizer_check "$TMP/borad.log"

# ---- TTL and reaping: expired ones go, batch by batch ------------

KEEP_N=$(python3 - "$TMP/bora.db" <<'EOF'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM messages").fetchone()[0])
EOF
)
borad_start --message-ttl 2s --message-reap-interval 500ms \
    --message-reap-batch-size 2
for r in 1 2 3 4; do
	start failing "req-short-$r"
	wait_state "$EX" ERROR
done
check "eight short-lived messages made" test \
    "$(nmsg request_id=has:req-short)" = 8
check "expired messages are reaped" yields 20 0 nmsg request_id=has:req-short
check "the others stay ($KEEP_N)" test "$(nmsg limit=0)" = "$KEEP_N"
curl -s "$URL/metrics" >"$TMP/metrics"
check "metrics: eight messages reaped" grep -q \
    '^bora_reaped_rows_total{kind="messages"} 8$' "$TMP/metrics"
check "no reaper error logged" sh -c \
    "! grep -q 'reaper reap-' '$TMP/borad.log'"
borad_stop

# ---- retention: old finished executions go, with their rows ------

start_n()
{
	api_json POST /v2/executions "{\"workflow_name\": \"$1\"}"
	jb .id
}
borad_start --message-reap-interval -1 --execution-retention 1h \
    --execution-reap-interval 1h
OLD1=$(start_n failing)
OLD2=$(start_n handled)
RUNNING=$(start_n waits)
RECENT=$(start_n handled)
wait_state "$OLD1" ERROR
wait_state "$OLD2" SUCCESS
wait_state "$RECENT" SUCCESS
wait_state "$RUNNING" RUNNING
borad_stop
# Make three of them a day old (the running one too: it must stay).
python3 - "$TMP/bora.db" "$OLD1" "$OLD2" "$RUNNING" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for i in sys.argv[2:]:
    db.execute("UPDATE executions SET updated_at = updated_at - 86400000 "
        "WHERE id = ?", (i,))
db.commit()
EOF
borad_start --message-reap-interval -1 --execution-retention 1h \
    --execution-reap-interval 300ms --execution-reap-batch-size 1
# status PATH: the status of GET PATH.
status()
{
	curl -s -o /dev/null -w '%{http_code}' "$URL$1"
}
yields 10 404 status "/v2/executions/$OLD1"
yields 10 404 status "/v2/executions/$OLD2"
api GET "/v2/executions/$OLD1"
expect "an old failed execution is purged" 404
api GET "/v2/executions/$OLD2"
expect "an old successful execution is purged" 404
api GET "/v2/tasks?workflow_execution_id=$OLD1"
expect "its tasks went with it" 200 '.tasks | length == 0'
api GET "/v2/executions/$OLD1/events"
expect "its events went with it" 404
api GET "/v2/action_executions?workflow_execution_id=$OLD1"
expect "its action executions went with it" 200 \
    '.action_executions | length == 0'
api GET "/v2/executions/$RUNNING"
expect "a running one stays, however old" 200 '.state == "RUNNING"'
api GET "/v2/executions/$RECENT"
expect "a recent finished one stays" 200 '.state == "SUCCESS"'
check "the messages stay: they have their own TTL" test \
    "$(nmsg resource_uuid=$OLD1)" = 1
curl -s "$URL/metrics" >"$TMP/metrics"
check "metrics: two executions reaped" grep -q \
    '^bora_reaped_rows_total{kind="executions"} 2$' "$TMP/metrics"
check "metrics: their tasks reaped" grep -q \
    '^bora_reaped_rows_total{kind="tasks"} 4$' "$TMP/metrics"
check "metrics: their events reaped" grep -Eq \
    '^bora_reaped_rows_total\{kind="events"\} [1-9][0-9]*$' "$TMP/metrics"

finish
