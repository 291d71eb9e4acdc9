#!/bin/sh
#
# expr-limits.sh -- hostile expressions against a real borad with a
# small time limit and a huge instruction budget: each ends in ERROR
# within the limit, with the limit named in its state_info, while an
# execution of sleeps keeps moving and finishes SUCCESS meanwhile; an
# execution whose every evaluation runs long is cancelled at once; and
# a hostile execution resumed after kill -9 fails instead of freezing
# the new daemon.

. "$(dirname "$0")/lib.sh"

LIMIT_MS=300
# Start a hostile execution every this long (engine time it may take).
PACE=0.3

# now_ms: monotonic-enough milliseconds for durations.
now_ms()
{
	python3 -c 'import time; print(int(time.monotonic() * 1000))'
}

# start WF: print the new execution's id.
start()
{
	curl -s -H 'Content-Type: application/json' \
	    -d "{\"workflow_name\": \"$1\"}" "$URL/v2/executions" | jq -r .id
}

# state ID: the execution's state.
state()
{
	curl -s "$URL/v2/executions/$1" | jq -r .state
}

# hostile NAME EXPR: a workflow whose only task's input is EXPR.
hostile()
{
	cat >"$TMP/workflows/$1.yaml" <<YAML
---
version: '2.0'
$1:
  tasks:
    t1:
      action: std.noop
      input:
        x: "<% $2 %>"
YAML
	HOSTILE="$HOSTILE $1"
}

cp "$SRCDIR"/lua/*.lua "$TMP/lua/"
HOSTILE=
hostile h_xpcall "xpcall(function() error('x') end, function() while true do end end)"
hostile h_move "table.move({1}, 1, 2^40, 2)"
hostile h_rep "(function() for i = 1, 3000 do local s = string.rep('x', 2^23) end end)()"
hostile h_rep2 "string.rep('x', 2^20):rep(2^20)"
hostile h_upper "(function() local s = string.rep('x', 2^22) for i = 1, 1e6 do s = s:upper():lower() end end)()"
hostile h_reverse "(function() local s = string.rep('x', 2^22) for i = 1, 1e6 do s = s:reverse() end end)()"
hostile h_concat "table.concat(setmetatable({}, {__len = function() return 2^40 end, __index = function() return 'x' end}))"
hostile h_compare "(function() local a, b = string.rep('x', 2^23), string.rep('x', 2^23 - 1) .. 'x' while a == b do end end)()"
hostile h_gsub "string.rep('x', 1e5):gsub('', string.rep('%0', 1e4))"
hostile h_shared "(function() local t = {} for i = 1, 60 do t = {t, t} end return t end)()"
hostile h_loop "(function() while true do end end)()"

cat >"$TMP/workflows/steady.yaml" <<'YAML'
---
version: '2.0'
steady:
  tasks:
    s1:
      action: std.sleep seconds=0.2
      on-success: s2
    s2:
      action: std.sleep seconds=0.2
      on-success: s3
    s3:
      action: std.sleep seconds=0.2
      on-success: s4
    s4:
      action: std.sleep seconds=0.2
      on-success: s5
    s5:
      action: std.sleep seconds=0.2
      on-success: s6
    s6:
      action: std.echo output=done
YAML

# Each item's input takes 50 ms of evaluation (by the clock of now()),
# under the limit: a long run of long evaluations.
cat >"$TMP/workflows/spinner.yaml" <<'YAML'
---
version: '2.0'
spinner:
  tasks:
    spin:
      with-items: i in <% range(1, 1000) %>
      concurrency: 1
      action: std.sleep
      input:
        seconds: "<% (function() local function ms() local s = now() return (s:sub(12, 13) * 3600 + s:sub(15, 16) * 60 + s:sub(18, 19)) * 1000 + s:sub(21, 23) end local t = ms() while (ms() - t) % 86400000 < 50 do end return 0 end)() %>"
YAML

cat >"$TMP/workflows/resumed.yaml" <<'YAML'
---
version: '2.0'
resumed:
  tasks:
    t0:
      action: std.sleep seconds=2
      safe-rerun: true
      on-success: t1
    t1:
      action: std.noop
      input:
        x: "<% xpcall(function() error('x') end, function() while true do end end) %>"
YAML

borad_start --lease 60s --expr-max-time ${LIMIT_MS}ms \
    --expr-max-instructions 10000000000 || { not_ok "borad starts"; finish; }
ok "borad starts"

# The steady execution starts first; hostile ones follow at the pace
# of one per limit, about three seconds' worth, so the engine spends
# most of that time in hostile evaluations.
STEADY=$(start steady)
t0=$(now_ms)
IDS=
for round in 1 2; do
	for wf in $HOSTILE; do
		IDS="$IDS $wf:$(start "$wf")"
		sleep $PACE
		if [ -z "${STEADY_MS:-}" ] && [ "$(state "$STEADY")" = SUCCESS ]; then
			STEADY_MS=$(($(now_ms) - t0))
		fi
	done
done
HOSTILE_MS=$(($(now_ms) - t0))
for pair in $IDS; do
	wait_state "${pair#*:}" ERROR SUCCESS >/dev/null
done
LAST_MS=$(($(now_ms) - t0 - HOSTILE_MS))
if [ -z "${STEADY_MS:-}" ] && wait_state "$STEADY" SUCCESS; then
	STEADY_MS=$(($(now_ms) - t0))
fi
check "the steady execution finished SUCCESS" test "$(state "$STEADY")" = SUCCESS
check "... while hostile ones were still being started (${STEADY_MS:-never} ms < $HOSTILE_MS ms)" \
    test "${STEADY_MS:-999999}" -lt "$HOSTILE_MS"

# Every hostile execution ended in ERROR naming a limit.
for pair in $IDS; do
	wf=${pair%%:*}
	id=${pair#*:}
	if ! wait_state "$id" ERROR SUCCESS; then
		not_ok "$wf ends" "$(state "$id")"
		continue
	fi
	api GET "/v2/executions/$id"
	expect "$wf ends in ERROR, naming the limit" 200 \
	    '.state == "ERROR" and (.state_info | test("exceeded the (time|instruction) limit|larger than the memory limit|memory limit"))'
done
# The ones that only time can stop were stopped by time, within it.
for wf in h_xpcall h_loop h_compare h_upper h_reverse; do
	id=$(echo "$IDS" | tr ' ' '\n' | sed -n "s/^$wf://p" | head -1)
	api GET "/v2/executions/$id"
	expect "$wf: stopped by the time limit (${LIMIT_MS} ms)" 200 \
	    ".state_info | contains(\"expression exceeded the time limit (${LIMIT_MS} ms)\")"
done
# Each evaluation held the engine about LIMIT_MS at most: the stream
# had ended soon after the last one was started.
check "all had ended $LAST_MS ms after the last start" \
    test "$LAST_MS" -le $((LIMIT_MS + 8000))

# A run of long evaluations is cancelled at once.
SPIN=$(start spinner)
sleep 1
check "the spinner runs" test "$(state "$SPIN")" = RUNNING
api_json PUT "/v2/executions/$SPIN" '{"state": "CANCELLED"}'
expect "cancel is accepted" 200
t1=$(now_ms)
if wait_state "$SPIN" CANCELLED; then
	ok "the spinner is CANCELLED ($(($(now_ms) - t1)) ms)"
else
	not_ok "the spinner is CANCELLED" "$(state "$SPIN")"
fi
api GET "/v2/executions/$SPIN/tasks"
TASK=$(jb '.tasks[0].id')
api GET "/v2/tasks/$TASK/action_executions"
before=$(jb '.action_executions | length')
sleep 1
api GET "/v2/tasks/$TASK/action_executions"
after=$(jb '.action_executions | length')
check "no item starts after the cancel ($before, then $after)" \
    test "$before" -eq "$after"
check "it had not run its 1000 items ($after)" test "$after" -lt 500

# kill -9 while a hostile execution waits before its hostile task: the
# next daemon resumes it, fails it, and keeps serving.
RES=$(start resumed)
sleep 0.5
kill -KILL "$BORAD_PID"
wait "$BORAD_PID" 2>/dev/null
BORAD_PID=
borad_start --lease 60s --expr-max-time ${LIMIT_MS}ms \
    --expr-max-instructions 10000000000 || { not_ok "borad restarts"; finish; }
ok "borad restarts"
if wait_state "$RES" ERROR SUCCESS; then
	api GET "/v2/executions/$RES"
	expect "the resumed execution ends in ERROR at the time limit" 200 \
	    '.state == "ERROR" and (.state_info | contains("time limit"))'
else
	not_ok "the resumed execution ends" "$(state "$RES")"
fi
S2=$(start steady)
if wait_state "$S2" SUCCESS; then
	ok "the restarted daemon runs other executions"
else
	not_ok "the restarted daemon runs other executions" "$(state "$S2")"
fi
finish
