#!/bin/sh
#
# waiting.sh -- executions that only wait leave the engine's memory
# (parked: their lease given back, claimed again when work of them is
# due), so that one borad holds any number of them: a timer (wait-before)
# fires and its execution ends; an inline action that ends later keeps
# its execution in memory; an async action's callback, before and
# after a kill -9 of borad, ends its execution; and more executions wait
# at once than an engine holds in memory (4,096), every one of them
# begun.  bench/waiting.sh gives the figures at 100,000.

. "$(dirname "$0")/lib.sh"
need sqlite3

cat >"$TMP/workflows/waiting.yaml" <<'YAML'
---
version: '2.0'
wait_timer:
  input:
    - delay
  tasks:
    wait:
      wait-before: <% $.delay %>
      action: std.echo output=fired
      publish:
        out: <% task().result %>
  output:
    out: <% _.out %>
wait_echo:
  tasks:
    fan:
      with-items: n in <% {1, 2, 3, 4, 5, 6} %>
      concurrency: 2
      action: std.echo output=<% _.n %> delay=0.3
      publish:
        out: <% task().result %>
  output:
    out: <% _.out %>
wait_async:
  tasks:
    wait:
      action: std.async_noop
      publish:
        out: <% task().result %>
  output:
    out: <% _.out %>
YAML

DB=$TMP/bora.db
# sql QUERY: one value from the store (read-only).
sql()
{
	sqlite3 "file:$DB?mode=ro" "$1"
}

borad_start || { not_ok "borad starts"; finish; }
ok "borad starts"

# A timer 3 s away: parked while it waits, then it fires.
api_json POST /v2/executions '{"workflow_name": "wait_timer",
    "input": {"delay": 3}}'
expect "timer execution created" 201
T=$(jb .id)
check "a waiting timer's execution is parked (no owner)" \
    yields 5 "RUNNING_DELAYED|" sql "SELECT t.state || '|' || \
    coalesce(x.owner, '') FROM tasks t JOIN executions x ON \
    x.id = t.execution_id WHERE x.id = '$T'"
if wait_state "$T" SUCCESS ERROR; then
	api GET "/v2/executions/$T"
	expect "the timer fired and the execution ended" 200 \
	    '.state == "SUCCESS" and (.output | fromjson | .out) == "fired"'
else
	not_ok "the timer fired and the execution ended"
fi

# An inline action that ends later (std.echo with a delay) is in flight:
# its execution stays in memory until it comes back.
api_json POST /v2/executions '{"workflow_name": "wait_echo"}'
expect "execution of delayed echoes created" 201
E=$(jb .id)
if wait_state "$E" SUCCESS ERROR; then
	api GET "/v2/executions/$E"
	expect "every delayed echo came back and the execution ended" 200 \
	    '.state == "SUCCESS" and (.output | fromjson | .out) == [1,2,3,4,5,6]'
else
	not_ok "every delayed echo came back and the execution ended"
fi

# An async action: parked while it waits for its callback.
api_json POST /v2/executions '{"workflow_name": "wait_async"}'
expect "async execution created" 201
A=$(jb .id)
aid()
{
	sql "SELECT a.id FROM action_executions a JOIN executions x ON \
	    x.id = a.execution_id WHERE x.id = '$1' AND a.state = 'RUNNING' \
	    AND x.owner IS NULL"
}
# parked EXEC_ID: its action runs and it has no owner.
parked()
{
	[ -n "$(aid "$1")" ]
}
check "an execution waiting for a callback is parked" \
    wait_until 5 parked "$A"
api_json PUT "/v2/action_executions/$(aid "$A")" \
    '{"state": "SUCCESS", "output": "{\"v\": 1}"}'
expect "callback accepted" 200
if wait_state "$A" SUCCESS ERROR; then
	api GET "/v2/executions/$A"
	expect "the callback ended the parked execution" 200 \
	    '.state == "SUCCESS" and (.output | fromjson | .out | fromjson | .v) == 1'
else
	not_ok "the callback ended the parked execution"
fi

# The same after a kill -9 of borad while it waits.
api_json POST /v2/executions '{"workflow_name": "wait_async"}'
expect "second async execution created" 201
B=$(jb .id)
wait_until 5 parked "$B"
kill -KILL "$BORAD_PID"
wait "$BORAD_PID" 2>/dev/null
BORAD_PID=
borad_start || { not_ok "borad restarts"; finish; }
ok "borad restarts"
B_ACT=$(aid "$B")
check "the waiting execution is still parked after the restart" \
    test -n "$B_ACT"
api_json PUT "/v2/action_executions/$B_ACT" \
    '{"state": "SUCCESS", "output": "{\"v\": 2}"}'
expect "callback after the restart accepted" 200
if wait_state "$B" SUCCESS ERROR; then
	api GET "/v2/executions/$B"
	expect "the callback after the restart ended it" 200 \
	    '.state == "SUCCESS" and (.output | fromjson | .out | fromjson | .v) == 2'
else
	not_ok "the callback after the restart ended it"
fi

# More executions than an engine holds in memory wait at once: every
# one begins (its timer row written), none stays unbegun behind the
# others' waits.
N=4300
python3 - "$URL" "$N" <<'EOF' || not_ok "posting $N executions"
import http.client, json, sys, threading
url, n = sys.argv[1], int(sys.argv[2])
host, port = url[len("http://"):].split(":")
body = json.dumps({"workflow_name": "wait_timer", "input": {"delay": 3600}})
left, lock, bad = [n], threading.Lock(), [0]
def post():
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
        c.request("POST", "/v2/executions", body,
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 201:
            bad[0] += 1
ts = [threading.Thread(target=post) for _ in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
sys.exit(1 if bad[0] else 0)
EOF
check "$N executions wait on their timers at once, every one begun" \
    yields 120 "$N" sql "SELECT count(*) FROM tasks WHERE state = \
    'RUNNING_DELAYED'"
check "the engine holds none of them in memory" \
    yields 30 0 sql "SELECT count(*) FROM executions WHERE owner IS NOT \
    NULL AND state = 'RUNNING'"

finish
