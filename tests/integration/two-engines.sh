#!/bin/sh
#
# two-engines.sh -- two real borad processes on one PostgreSQL database.
#
# Round 1: 500 executions of a workflow with fan-out, with-items and a
# join (tests/data/multi/fanout.yaml), started through both APIs: all
# SUCCESS, every task exactly once per execution, every action exactly
# once per task and item, no work left behind.
#
# Round 2: 500 more, some with actions that take a while (std.sleep, an
# HTTP call), and one borad is killed with SIGKILL midway: the other
# finishes everything within the lease plus 5 s.  An interrupted action
# without side effects, or of a safe-rerun task, runs again; an
# interrupted HTTP call of a task that is not safe-rerun is not run
# again and fails its task with a clear reason.
#
# Starts its own throwaway cluster (tests/pg-env.sh).  Environment:
# BORAD, SRCDIR, BUILDDIR; N (executions per round, default 500).

. "$(dirname "$0")/multi-lib.sh"

N=${N:-500}
LEASE=3
FINAL="('SUCCESS', 'ERROR', 'CANCELLED')"

cp "$MULTI"/*.yaml "$TMP/workflows/"
http_start || { not_ok "HTTP server starts"; finish; }
engine_start 1 --lease ${LEASE}s || { not_ok "borad 1 starts"; finish; }
engine_start 2 --lease ${LEASE}s || { not_ok "borad 2 starts"; finish; }
ok "two borad processes on one database (lease ${LEASE} s)"
for wf in multi_fanout multi_sleepy multi_unsafe; do
	api GET "/v2/workflows/$wf"
	expect "workflow $wf is loaded" 200 || {
		sed 's/^/# /' "$TMP/borad-2.log"
		finish
	}
done

# ---- round 1: 500 fast executions through both APIs ---------------------
if start_execs "$TMP/r1" multi_fanout '{}' "$N" 8 "$URL_1" "$URL_2"; then
	ok "$N executions started through both APIs"
else
	not_ok "$N executions started through both APIs"
fi
if wait_final "$TMP/r1" 60; then
	ok "round 1: all final after $WAITED_MS ms"
else
	not_ok "round 1: all final" "timeout"
fi
load_ids "$TMP/r1"

eq "round 1: every execution SUCCESS" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.state = 'SUCCESS'" "$N"
eq "round 1: output of the join is right" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.output::jsonb = '{\"n\": 10, \"m\": \"m\"}'::jsonb" "$N"
eq "round 1: six tasks per execution, each name exactly once" \
    "SELECT count(*) FROM (SELECT i.id FROM test_ids i
     LEFT JOIN tasks t ON t.execution_id = i.id GROUP BY i.id
     HAVING count(*) <> 6 OR count(DISTINCT t.name) <> 6 OR
     bool_or(t.name NOT IN ('start', 'left', 'mid', 'right', 'join',
     'done') OR t.state <> 'SUCCESS')) x" 0
eq "round 1: twelve actions per execution, all SUCCESS" \
    "SELECT count(*) FILTER (WHERE a.state = 'SUCCESS') || ' ' || count(*)
     FROM test_ids i JOIN action_executions a ON a.execution_id = i.id" \
    "$((N * 12)) $((N * 12))"
eq "round 1: every action exactly once per task and item" \
    "SELECT count(*) FROM (SELECT a.task_id, a.item FROM test_ids i
     JOIN action_executions a ON a.execution_id = i.id
     GROUP BY a.task_id, a.item HAVING count(*) <> 1) x" 0
eq "round 1: with-items tasks ran items 0..3 once each" \
    "SELECT count(*) FROM (SELECT t.id FROM test_ids i
     JOIN tasks t ON t.execution_id = i.id AND t.name IN ('left', 'right')
     JOIN action_executions a ON a.task_id = t.id GROUP BY t.id
     HAVING array_agg(a.item ORDER BY a.item) <> '{0,1,2,3}') x" 0
eq "round 1: no work left" \
    "SELECT count(*) FROM test_ids i JOIN work w ON w.execution_id = i.id" 0
n1=$(grep -c " $URL_1 201" "$TMP/r1")
n2=$(grep -c " $URL_2 201" "$TMP/r1")
if [ "$n1" -gt 0 ] && [ "$n2" -gt 0 ]; then
	ok "both APIs started executions ($n1 + $n2)"
else
	not_ok "both APIs started executions" "$n1 + $n2"
fi

# ---- round 2: 500 more, one engine killed midway ------------------------
# Per ten: seven fast, two with sleeps and a safe-rerun HTTP call of 1 s,
# one with an HTTP call of 1 s in a task that is not safe-rerun.
nfast=$((N * 7 / 10))
nsleepy=$((N * 2 / 10))
nunsafe=$((N - nfast - nsleepy))
in_slow="{\"url\": \"$HTTP_URL/sleep/1000\", \"nap\": 0.3}"
in_unsafe="{\"url\": \"$HTTP_URL/sleep/1000\"}"
in_held="{\"url\": \"$HTTP_URL/sleep/2000\", \"nap\": 0.3}"
nheld=10
# The slow ones are started last, so that the engines still hold them,
# with their HTTP calls in flight, when the last start has returned;
# the last few through borad 1 alone and slower still, so that borad 1
# holds some however slow the starts were on a loaded machine.
start_execs "$TMP/r2" multi_fanout '{}' "$nfast" 4 \
    "$URL_1" "$URL_2" >"$TMP/s3" 2>&1
rc3=$?
start_execs "$TMP/r2" multi_sleepy "$in_slow" $((nsleepy - nheld)) 4 \
    "$URL_1" "$URL_2" >"$TMP/s1" 2>&1 &
p1=$!
start_execs "$TMP/r2" multi_unsafe "$in_unsafe" "$nunsafe" 2 \
    "$URL_1" "$URL_2" >"$TMP/s2" 2>&1 &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
start_execs "$TMP/r2" multi_sleepy "$in_held" "$nheld" 2 \
    "$URL_1" >"$TMP/s4" 2>&1
rc4=$?
cat "$TMP/s1" "$TMP/s2" "$TMP/s3" "$TMP/s4"
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] && [ $rc4 -eq 0 ]
then
	ok "round 2: $N executions started through both APIs"
else
	not_ok "round 2: $N executions started through both APIs"
fi

# Kill borad 1 once it owns work: wait (at most 30 s) until the store
# shows it holding a live lease on an unfinished execution with an
# action running, then kill it at once.
owner1="%:$PID_1:%"
held=0
i=0
while [ $i -lt 600 ]; do
	held=$(sql "SELECT count(*) FROM executions e
	    WHERE e.owner LIKE '$owner1' AND e.state NOT IN $FINAL
	    AND e.lease_until > bora_now_ms() AND EXISTS (SELECT 1
	    FROM action_executions a WHERE a.execution_id = e.id
	    AND a.state = 'RUNNING')")
	[ "${held:-0}" -gt 0 ] && break
	sleep 0.05
	i=$((i + 1))
done
kill -KILL "$PID_1"
running=$(sql "SELECT count(*) FROM action_executions a
    JOIN executions e ON e.id = a.execution_id
    WHERE a.state = 'RUNNING' AND e.owner LIKE '$owner1'")
owned=$(sql "SELECT count(*) FROM executions WHERE owner LIKE '$owner1'
    AND state NOT IN $FINAL")
wait "$PID_1" 2>/dev/null
echo "# borad 1 killed owning $owned unfinished executions," \
    "$running actions running"
if [ "${held:-0}" -gt 0 ] && [ "$owned" -gt 0 ]; then
	ok "borad 1 killed while it held leases on executions with actions running ($held)"
else
	not_ok "borad 1 killed while it held leases on executions with actions running" \
	    "it held none within 30 s"
fi

limit=$((LEASE + 5))
if wait_final "$TMP/r2" 60; then
	if [ "$WAITED_MS" -le $((limit * 1000)) ]; then
		ok "round 2: borad 2 finished everything $WAITED_MS ms after the kill (<= ${limit} s)"
	else
		not_ok "round 2: borad 2 finished everything within ${limit} s" \
		    "took $WAITED_MS ms"
	fi
else
	not_ok "round 2: borad 2 finished everything" "timeout after 60 s"
	sql "SELECT e.workflow_name, e.state, e.owner,
	    e.lease_until - bora_now_ms() AS lease_left_ms,
	    (SELECT string_agg(t.name || ':' || t.state, ',') FROM tasks t
	     WHERE t.execution_id = e.id) FROM executions e
	    WHERE e.state NOT IN $FINAL LIMIT 5" | sed 's/^/# /'
fi
load_ids "$TMP/r2"

eq "round 2: fan-out and sleepy executions all SUCCESS" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.workflow_name IN ('multi_fanout', 'multi_sleepy')
     AND e.state <> 'SUCCESS'" 0
eq "round 2: unsafe executions SUCCESS, or ERROR for an interrupted call" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.workflow_name = 'multi_unsafe' AND NOT (e.state = 'SUCCESS' OR
     (e.state = 'ERROR' AND EXISTS (SELECT 1 FROM tasks t
      WHERE t.execution_id = e.id AND t.name = 'call' AND t.state = 'ERROR'
      AND t.state_info LIKE '%interrupted by an engine stop and the task is not safe-rerun%')))" 0
eq "round 2: an interrupted unsafe call was not run again" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     JOIN tasks t ON t.execution_id = e.id AND t.name = 'call'
     WHERE e.state = 'ERROR' AND ((SELECT count(*) FROM action_executions a
     WHERE a.task_id = t.id) <> 1 OR (SELECT count(*) FROM tasks d
     WHERE d.execution_id = e.id AND d.name = 'done') <> 0)" 0
eq "round 2: each task name at most once per execution" \
    "SELECT count(*) FROM (SELECT t.execution_id, t.name FROM test_ids i
     JOIN tasks t ON t.execution_id = i.id GROUP BY 1, 2
     HAVING count(*) <> 1) x" 0
eq "round 2: successful executions have all their tasks" \
    "SELECT count(*) FROM (SELECT e.id FROM test_ids i
     JOIN executions e USING (id) JOIN tasks t ON t.execution_id = e.id
     WHERE e.state = 'SUCCESS' GROUP BY e.id, e.workflow_name
     HAVING count(*) <> CASE e.workflow_name WHEN 'multi_fanout' THEN 6
     WHEN 'multi_sleepy' THEN 7 ELSE 3 END OR
     bool_or(t.state <> 'SUCCESS')) x" 0
eq "round 2: every action succeeded exactly once per task and item" \
    "SELECT count(*) FROM (SELECT a.task_id, a.item FROM test_ids i
     JOIN executions e USING (id)
     JOIN action_executions a ON a.execution_id = e.id
     WHERE e.state = 'SUCCESS' GROUP BY a.task_id, a.item
     HAVING count(*) FILTER (WHERE a.state = 'SUCCESS') <> 1) x" 0
eq "round 2: extra action rows are only interrupted ones" \
    "SELECT count(*) FROM test_ids i JOIN action_executions a
     ON a.execution_id = i.id WHERE a.state <> 'SUCCESS' AND
     coalesce(a.state_info, '') NOT LIKE 'interrupted by an engine stop%'" 0
eq "round 2: nothing is left to the killed engine" \
    "SELECT count(*) FROM executions WHERE owner LIKE '$owner1'
     AND state NOT IN $FINAL" 0
eq "round 2: no work left" \
    "SELECT count(*) FROM test_ids i JOIN work w ON w.execution_id = i.id" 0
echo "# $(sql "SELECT count(*) FILTER (WHERE a.state_info LIKE '%run again')
    || ' actions run again, ' ||
    count(*) FILTER (WHERE a.state_info = 'interrupted by an engine stop')
    || ' interrupted and not run again' FROM test_ids i
    JOIN action_executions a ON a.execution_id = i.id")"
echo "# $(sql "SELECT string_agg(workflow_name || ' ' || state || ' ' || n, ', ')
    FROM (SELECT e.workflow_name, e.state, count(*) n FROM test_ids
    JOIN executions e USING (id) GROUP BY 1, 2 ORDER BY 1, 2) x")"
if kill -0 "$PID_2" 2>/dev/null; then
	ok "borad 2 still running"
	kill -TERM "$PID_2"
	wait "$PID_2"
	rc=$?
	check "borad 2 stops on SIGTERM with status 0 ($rc)" test "$rc" -eq 0
	ENGINE_PIDS=
else
	not_ok "borad 2 still running"
fi
for f in "$TMP"/borad-*.log; do
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
		not_ok "no sanitizer report in ${f##*/}" \
		    "$(grep -E -m 3 'Sanitizer|runtime error:' "$f")"
	else
		ok "no sanitizer report in ${f##*/}"
	fi
done
finish
