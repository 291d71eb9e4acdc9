#!/bin/sh
#
# takeovers.sh -- executions taken over again and again: two real borad
# processes on one PostgreSQL, and one of them killed with SIGKILL at
# random moments, ten times, restarted on its port after each kill,
# while executions of a chain of sleeps with with-items run
# (tests/data/multi/chain.yaml).  An execution may be taken over several
# times in a row, by the restarted engine (at once: its predecessor's
# process is gone) or by the other one (when the lease expires), and
# std.sleep having no side effects, every interrupted run is run again:
# every execution ends SUCCESS, every task once, every action succeeded
# exactly once per task and item, and the only other action rows are
# runs CANCELLED to be run again.
#
# Starts its own throwaway cluster (tests/pg-env.sh).  Environment:
# BORAD, SRCDIR, BUILDDIR; N (executions, default 300), KILLS (default
# 10), SEED (of the random kill times; printed, to replay a run).

. "$(dirname "$0")/multi-lib.sh"

N=${N:-300}
KILLS=${KILLS:-10}
SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
LEASE=2
FINAL="('SUCCESS', 'ERROR', 'CANCELLED')"

echo "# seed $SEED"
cp "$MULTI"/chain.yaml "$TMP/workflows/"
engine_start 1 --lease ${LEASE}s || { not_ok "borad 1 starts"; finish; }
PORT_1=$PORT
engine_start 2 --lease ${LEASE}s || { not_ok "borad 2 starts"; finish; }
ok "two borad processes on one database (lease ${LEASE} s)"
api GET /v2/workflows/multi_chain
expect "workflow multi_chain is loaded" 200 || finish

# Start the executions through borad 2 (never killed) over about 12 s,
# so that the kills find work at every stage of the chain.
START_PACE=$(awk "BEGIN { print 12 * 4 / $N }") \
    start_execs "$TMP/ids" multi_chain '{"nap": 0.2}' "$N" 4 "$URL_2" \
    >"$TMP/starts" 2>&1 &
starter=$!

# Kill borad 1 at random moments (0.3 to 1.5 s apart), each time once it
# holds running work, and restart it on its port at once.
awk -v seed="$SEED" -v n="$KILLS" 'BEGIN { srand(seed);
    for (i = 0; i < n; i++) printf "%.2f\n", 0.3 + rand() * 1.2 }' \
    >"$TMP/pauses"
killed=0
held_total=0
while read -r pause; do
	sleep "$pause"
	held=$(sql "SELECT count(*) FROM executions
	    WHERE owner LIKE '%:$PID_1:%' AND state NOT IN $FINAL")
	kill -KILL "$PID_1"
	wait "$PID_1" 2>/dev/null
	killed=$((killed + 1))
	held_total=$((held_total + held))
	ENGINE_PORT=$PORT_1 engine_start 1 --lease ${LEASE}s ||
	    { not_ok "borad 1 restarts after kill $killed"; finish; }
done <"$TMP/pauses"
echo "# borad 1 killed $killed times, holding $held_total unfinished executions in all"
check "borad 1 was killed $KILLS times" test "$killed" -eq "$KILLS"
if [ "$held_total" -gt 0 ]; then
	ok "the kills found executions held by borad 1 ($held_total)"
else
	not_ok "the kills found executions held by borad 1" "none"
fi
wait $starter
rc=$?
cat "$TMP/starts"
check "all $N executions started" test "$rc" -eq 0

if wait_final "$TMP/ids" 60; then
	ok "every execution final $WAITED_MS ms after the last kill"
else
	not_ok "every execution final" "timeout"
fi
load_ids "$TMP/ids"

eq "every execution SUCCESS" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.state = 'SUCCESS'" "$N" \
    "SELECT e.id, e.state, e.state_info FROM test_ids
     JOIN executions e USING (id) WHERE e.state <> 'SUCCESS' LIMIT 5"
eq "four tasks per execution, each exactly once and SUCCESS" \
    "SELECT count(*) FROM (SELECT i.id FROM test_ids i
     LEFT JOIN tasks t ON t.execution_id = i.id GROUP BY i.id
     HAVING count(*) <> 4 OR count(DISTINCT t.name) <> 4 OR
     bool_or(t.state <> 'SUCCESS')) x" 0
eq "every action succeeded exactly once per task and item" \
    "SELECT count(*) FROM (SELECT t.id, a.item FROM test_ids i
     JOIN tasks t ON t.execution_id = i.id
     LEFT JOIN action_executions a ON a.task_id = t.id
     GROUP BY t.id, a.item
     HAVING count(*) FILTER (WHERE a.state = 'SUCCESS') <> 1) x" 0
eq "the other action rows are runs cancelled to be run again" \
    "SELECT count(*) FROM test_ids i JOIN action_executions a
     ON a.execution_id = i.id WHERE a.state <> 'SUCCESS' AND NOT
     (a.state = 'CANCELLED' AND
      a.state_info = 'interrupted by an engine stop; run again')" 0 \
    "SELECT a.execution_id, a.name, a.item, a.state, a.state_info
     FROM test_ids i JOIN action_executions a ON a.execution_id = i.id
     WHERE a.state <> 'SUCCESS' LIMIT 8"
eq "the output is the last task's" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.output::jsonb = '{\"last\": \"done\"}'::jsonb" "$N"
eq "no work left" \
    "SELECT count(*) FROM test_ids i JOIN work w ON w.execution_id = i.id" 0
runs=$(sql "SELECT count(*) FROM test_ids i JOIN action_executions a
    ON a.execution_id = i.id WHERE a.state = 'CANCELLED'")
twice=$(sql "SELECT count(*) FROM (SELECT a.task_id, a.item FROM test_ids i
    JOIN action_executions a ON a.execution_id = i.id
    WHERE a.state = 'CANCELLED' GROUP BY 1, 2 HAVING count(*) > 1) x")
echo "# $runs runs interrupted and run again; $twice items interrupted more than once"
if [ "$runs" -gt 0 ]; then
	ok "interrupted runs were run again ($runs)"
else
	not_ok "interrupted runs were run again" "the kills interrupted none"
fi
engines_stop 1 2
finish
