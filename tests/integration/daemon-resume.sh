#!/bin/sh
#
# daemon-resume.sh -- borad killed with SIGKILL in the middle of an
# execution: the next borad on the same store continues it at start (it
# takes over the lease of the dead process at once, without waiting for
# it to expire), runs the interrupted pure action again and finishes.

. "$(dirname "$0")/lib.sh"

cat >"$TMP/workflows/slow.yaml" <<'YAML'
---
version: '2.0'
slow:
  tasks:
    t1:
      action: std.noop
      on-success: t2
    t2:
      action: std.sleep seconds=2
      on-success: t3
    t3:
      action: std.echo output=done
      publish:
        out: <% task().result %>
  output:
    out: <% _.out %>
YAML

borad_start --lease 60s || { not_ok "borad starts"; finish; }
ok "borad starts"
api_json POST /v2/executions '{"workflow_name": "slow"}'
expect "execution created" 201 '.state == "RUNNING"'
ID=$(jb .id)

# Wait until t2 runs, then kill the daemon without a chance to clean up.
i=0
while [ $i -lt 50 ]; do
	api GET "/v2/executions/$ID/tasks"
	[ "$(jb '[.tasks[] | select(.name == "t2" and .state == "RUNNING")] | length')" = 1 ] && break
	sleep 0.1
	i=$((i + 1))
done
check "t2 is running before the kill" test $i -lt 50
kill -KILL "$BORAD_PID"
wait "$BORAD_PID" 2>/dev/null
BORAD_PID=

# A new daemon on the same store finishes it long before the 60 s lease
# of the dead one would expire.
start=$(date +%s)
borad_start --lease 60s || { not_ok "borad restarts"; finish; }
ok "borad restarts"
if wait_state "$ID" SUCCESS ERROR; then
	ok "the execution ends after the restart"
else
	not_ok "the execution ends after the restart"
fi
took=$(($(date +%s) - start))
check "it ended within 10 s of the restart, not after the lease ($took s)" \
    test "$took" -le 10
api GET "/v2/executions/$ID"
expect "the execution succeeded with its output" 200 \
    '.state == "SUCCESS" and (.output | fromjson | .out == "done")'
api GET "/v2/executions/$ID/tasks"
expect "each task ran once" 200 \
    '[.tasks[].name] | sort == ["t1", "t2", "t3"]'
T2=$(jb '.tasks[] | select(.name == "t2") | .id')
api GET "/v2/tasks/$T2/action_executions"
expect "t2's sleep ran twice: interrupted, then again" 200 \
    '[.action_executions[].state] | sort == ["CANCELLED", "SUCCESS"]'
finish
