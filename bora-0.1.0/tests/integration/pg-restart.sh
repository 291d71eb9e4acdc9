#!/bin/sh
#
# pg-restart.sh -- PostgreSQL restarted under a running borad: executions
# keep being started while the server stops and comes back; every one of
# them must exist afterwards and end in SUCCESS, each task and action
# exactly once, and while the database is down the API answers 503 with
# Retry-After instead of hanging or failing otherwise.
#
# Starts its own throwaway cluster (tests/pg-env.sh).  Environment:
# BORAD, SRCDIR, BUILDDIR; N (executions, default 200).

. "$(dirname "$0")/multi-lib.sh"

N=${N:-200}
DOWN=2		# seconds the server stays down
FINAL="('SUCCESS', 'ERROR', 'CANCELLED')"

[ -n "${BORA_TEST_PG_STOP:-}" ] ||
    skip "BORA_TEST_PGURL is set: no server of our own to restart"

cp "$MULTI"/*.yaml "$TMP/workflows/"
http_start || { not_ok "HTTP server starts"; finish; }
engine_start 1 --lease 3s || { not_ok "borad starts"; finish; }
ok "borad on PostgreSQL is ready"

# Start executions continuously for about 4 s: fast ones, ones with
# sleeps and a safe-rerun HTTP call, ones with an HTTP call that is not
# safe-rerun (nothing is killed here, so those must succeed too).
nfast=$((N * 6 / 10))
nsleepy=$((N * 3 / 10))
nunsafe=$((N - nfast - nsleepy))
in_slow="{\"url\": \"$HTTP_URL/sleep/500\", \"nap\": 0.5}"
in_unsafe="{\"url\": \"$HTTP_URL/sleep/500\"}"
t0=$(date +%s%N)
START_PACE=$(awk "BEGIN { print 4 * 2 / $nfast }") \
    start_execs "$TMP/ids" multi_fanout '{}' "$nfast" 2 "$URL_1" \
    >"$TMP/s1" 2>&1 &
p1=$!
START_PACE=$(awk "BEGIN { print 4 / $nsleepy }") \
    start_execs "$TMP/ids" multi_sleepy "$in_slow" "$nsleepy" 1 "$URL_1" \
    >"$TMP/s2" 2>&1 &
p2=$!
START_PACE=$(awk "BEGIN { print 4 / $nunsafe }") \
    start_execs "$TMP/ids" multi_unsafe "$in_unsafe" "$nunsafe" 1 "$URL_1" \
    >"$TMP/s3" 2>&1 &
p3=$!

# Midway: stop the server, look at the API while it is down, start it.
sleep 1.5
before=$(sql "SELECT count(*) FROM executions")
echo "# $before executions in the database when PostgreSQL stops"
# Probe the API every 100 ms while the server is down, each probe giving
# up after 1 s: "STATUS RETRY-AFTER" lines in $TMP/probes.
probe()
{
	while [ ! -f "$TMP/probe.stop" ]; do
		_h=$(curl -s -o /dev/null -D - --max-time 1 \
		    -w 'status=%{http_code}\n' "$URL/v2/executions?limit=1" |
		    tr -d '\r')
		_st=$(echo "$_h" | sed -n 's/^status=//p')
		_ra=$(echo "$_h" | sed -n 's/^[Rr]etry-[Aa]fter: *//p')
		echo "$_st ${_ra:--}" >>"$TMP/probes"
		sleep 0.1
	done
}
t1=$(date +%s%N)
eval "$BORA_TEST_PG_STOP"
down_at=$(date +%s%N)
echo "# PostgreSQL stopped in $(( (down_at - t1) / 1000000 )) ms"
probe &
probe_pid=$!
sleep $DOWN
touch "$TMP/probe.stop"
wait $probe_pid
api GET /healthz --max-time 5
expect "/healthz stays 200 (the process is alive)" 200
t1=$(date +%s%N)
eval "$BORA_TEST_PG_START"
echo "# PostgreSQL started in $(( ($(date +%s%N) - t1) / 1000000 )) ms"
up_ms=$(( ($(date +%s%N) - down_at) / 1000000 ))
echo "# PostgreSQL was down for $up_ms ms"
echo "# API probes while it was down (status retry-after):" \
    $(sort "$TMP/probes" | uniq -c | tr '\n' ';')
answered=$(grep -vc '^000' "$TMP/probes")
if [ "$answered" -gt 0 ]; then
	bad=$(grep -v '^000' "$TMP/probes" | grep -vc '^503 [0-9]')
	if [ "$bad" -eq 0 ]; then
		ok "API answers 503 with Retry-After while the database is down ($answered probes)"
	else
		not_ok "API answers 503 with Retry-After while the database is down" \
		    "$bad of $answered answers were not"
	fi
else
	echo "# no probe was answered during the outage: 503 not checked"
fi

wait $p1; rc1=$?
wait $p2; rc2=$?
wait $p3; rc3=$?
cat "$TMP/s1" "$TMP/s2" "$TMP/s3"
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ]; then
	ok "all $N executions started (503s retried with the same id)"
else
	not_ok "all $N executions started"
fi
echo "# starting took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

if wait_final "$TMP/ids" 40; then
	ok "every execution final $WAITED_MS ms after the last start"
else
	not_ok "every execution final" "timeout"
	sql "SELECT e.id, e.workflow_name, e.state, e.owner,
	    (SELECT string_agg(t.name || ':' || t.state, ',') FROM tasks t
	     WHERE t.execution_id = e.id) FROM executions e
	    WHERE e.state NOT IN $FINAL LIMIT 5" | sed 's/^/# /'
fi
load_ids "$TMP/ids"

eq "no execution lost: every started id is in the database" \
    "SELECT count(*) FROM test_ids JOIN executions USING (id)" "$N"
eq "every execution SUCCESS" \
    "SELECT count(*) FROM test_ids JOIN executions e USING (id)
     WHERE e.state = 'SUCCESS'" "$N" \
    "SELECT e.id, e.workflow_name, e.state, e.state_info,
     (SELECT string_agg(t.name || ':' || t.state || ':' ||
      coalesce(t.state_info, ''), ' | ' ORDER BY t.seq) FROM tasks t
      WHERE t.execution_id = e.id) FROM test_ids JOIN executions e USING (id)
     WHERE e.state <> 'SUCCESS' LIMIT 5"
eq "each execution has all its tasks, each exactly once" \
    "SELECT count(*) FROM (SELECT e.id FROM test_ids i
     JOIN executions e USING (id) LEFT JOIN tasks t ON t.execution_id = e.id
     GROUP BY e.id, e.workflow_name
     HAVING count(*) <> CASE e.workflow_name WHEN 'multi_fanout' THEN 6
     WHEN 'multi_sleepy' THEN 7 ELSE 3 END OR
     count(DISTINCT t.name) <> count(*) OR bool_or(t.state <> 'SUCCESS')) x" 0 \
    "SELECT e.id, e.workflow_name, (SELECT string_agg(t.name || ':' ||
     t.state, ',' ORDER BY t.seq) FROM tasks t WHERE t.execution_id = e.id)
     FROM test_ids JOIN executions e USING (id) WHERE (SELECT count(*)
     FROM tasks t WHERE t.execution_id = e.id) <> CASE e.workflow_name
     WHEN 'multi_fanout' THEN 6 WHEN 'multi_sleepy' THEN 7 ELSE 3 END
     LIMIT 5"
eq "every action succeeded exactly once per task and item" \
    "SELECT count(*) FROM (SELECT t.id, a.item FROM test_ids i
     JOIN tasks t ON t.execution_id = i.id
     LEFT JOIN action_executions a ON a.task_id = t.id
     GROUP BY t.id, a.item
     HAVING count(*) FILTER (WHERE a.state = 'SUCCESS') <> 1) x" 0
eq "no failed or repeated action rows" \
    "SELECT count(*) FROM test_ids i JOIN action_executions a
     ON a.execution_id = i.id WHERE a.state <> 'SUCCESS'" 0 \
    "SELECT a.execution_id, t.name, a.item, a.state, a.state_info
     FROM test_ids i JOIN action_executions a ON a.execution_id = i.id
     JOIN tasks t ON t.id = a.task_id WHERE a.state <> 'SUCCESS' LIMIT 8"
eq "no work left" \
    "SELECT count(*) FROM test_ids i JOIN work w ON w.execution_id = i.id" 0

# The daemon is healthy again and runs new work.
api GET /readyz
expect "/readyz is 200 again" 200
api_json POST /v2/executions '{"workflow_name": "multi_fanout"}'
if expect "a new execution is accepted" 201; then
	id=$(jb .id)
	if wait_state "$id" SUCCESS; then
		ok "the new execution succeeds"
	else
		not_ok "the new execution succeeds"
	fi
fi

kill -TERM "$PID_1"
wait "$PID_1"
rc=$?
check "borad stops on SIGTERM with status 0 ($rc)" test "$rc" -eq 0
ENGINE_PIDS=
f=$TMP/borad-1.log
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
	not_ok "no sanitizer report in ${f##*/}" \
	    "$(grep -E -m 3 'Sanitizer|runtime error:' "$f")"
else
	ok "no sanitizer report in ${f##*/}"
fi
finish
