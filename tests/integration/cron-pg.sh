#!/bin/sh
#
# cron-pg.sh -- two real borad processes on one PostgreSQL database,
# driven by the real OpenStack client:
#
#  - a definition created through one engine is usable through the
#    other as soon as the create call returned (no "Workflow not found"
#    window behind a load balancer), updates and deletes too;
#  - a cron trigger firing every second fires once per tick, never
#    twice, across both engines, for as long as they run; a tick is
#    fired by whichever engine is first, and one engine killed does not
#    stop the trigger.
#
# Starts its own throwaway cluster (tests/pg-env.sh).

. "$(dirname "$0")/multi-lib.sh"

need mistral
unset OS_AUTH_URL OS_PASSWORD OS_AUTH_TOKEN OS_USERNAME OS_PROJECT_NAME \
    OS_CLOUD OS_MISTRAL_URL
MD=$SRCDIR/tests/data/mistral

engine_start 1 --lease 3s || { not_ok "borad 1 starts"; finish; }
engine_start 2 --lease 3s || { not_ok "borad 2 starts"; finish; }
ok "two borad processes on one database"

# M N ARGS...: the client against engine N; output in $TMP/out.
M()
{
	_u=$(eval echo "\$URL_$1")
	shift
	mistral --os-mistral-url "$_u/v2" "$@" >"$TMP/out" 2>&1
}

# ---- 11: a definition is usable on every engine at once --------------

bad=0
i=0
while [ $i -lt 10 ]; do
	sed "s/^tick_wf:/tick_wf_$i:/" "$MD/tick.yaml" >"$TMP/wf_$i.yaml"
	if ! M 1 workflow-create "$TMP/wf_$i.yaml"; then
		bad=$((bad + 1))
		echo "# create: $(head -c 200 "$TMP/out")"
	elif ! M 2 execution-create "tick_wf_$i" -f json; then
		bad=$((bad + 1))
		echo "# start on engine 2: $(head -c 200 "$TMP/out")"
	fi
	i=$((i + 1))
done
check "10 workflows created on engine 1 start at once on engine 2" \
    test "$bad" -eq 0
M 1 environment-create "$MD/env.yaml"
if M 2 environment-get cloud_north; then
	ok "an environment created on engine 1 is read on engine 2"
else
	not_ok "an environment created on engine 1 is read on engine 2" \
	    "$(head -c 200 "$TMP/out")"
fi
M 1 workflow-create "$MD/env_wf.yaml"
if M 2 execution-create env_wf '{}' '{"env": "cloud_north"}' -f json; then
	ok "started on engine 2 at once with engine 1's environment"
else
	not_ok "started on engine 2 with engine 1's environment" \
	    "$(head -c 200 "$TMP/out")"
fi
M 1 workflow-delete tick_wf_0
if ! M 2 execution-create tick_wf_0 && grep -q "Workflow not found" \
    "$TMP/out"; then
	ok "a workflow deleted on engine 1 is gone on engine 2 at once"
else
	not_ok "a workflow deleted on engine 1 is gone on engine 2 at once" \
	    "$(head -c 200 "$TMP/out")"
fi

# ---- cron triggers: once per tick across engines ---------------------

M 1 workflow-create "$MD/tick.yaml"
if M 2 cron-trigger-create every tick_wf '{"who": "pg"}' \
    --pattern "* * * * * *" -f json; then
	ok "cron-trigger-create every second through engine 2"
else
	not_ok "cron-trigger-create every second" "$(head -c 300 "$TMP/out")"
fi
if M 1 cron-trigger-list -f value -c Name && grep -qx every "$TMP/out"; then
	ok "cron-trigger-list through engine 1 shows it"
else
	not_ok "cron-trigger-list through engine 1 shows it"
fi
sleep 8

TICKS="SELECT (e.description::jsonb)->'triggered_by'->>'tick' FROM
    executions e WHERE e.workflow_name = 'tick_wf' AND
    (e.description::jsonb)->'triggered_by'->>'name' = 'every'"
eq "each tick fired at most once across both engines" \
    "SELECT count(*) FROM ($TICKS GROUP BY 1 HAVING count(*) > 1) x" 0 \
    "$TICKS"
n=$(sql "SELECT count(*) FROM ($TICKS) x")
check "about one firing a second for 8 s ($n)" test "$n" -ge 6
# The ticks follow each other while both run (a tick may only be
# skipped when every engine was late by more than a second).
eq "no tick skipped by more than one" "SELECT count(*) FROM (SELECT
    t::timestamp - lag(t::timestamp) OVER (ORDER BY t) AS d FROM ($TICKS)
    x(t)) y WHERE d > interval '2 seconds'" 0
eq "every execution the trigger started succeeds" "SELECT count(*) FROM
    executions e WHERE e.workflow_name = 'tick_wf' AND e.state <>
    'SUCCESS' AND e.updated_at < bora_now_ms() - 3000" 0

# One engine killed: the other goes on firing, once per tick.
kill -KILL "$PID_1"
wait "$PID_1" 2>/dev/null
ENGINE_PIDS=$PID_2
before=$(sql "SELECT count(*) FROM ($TICKS) x")
sleep 4
after=$(sql "SELECT count(*) FROM ($TICKS) x")
check "engine 2 alone fires on ($before -> $after)" \
    test "$after" -ge "$((before + 3))"
eq "still at most once per tick" \
    "SELECT count(*) FROM ($TICKS GROUP BY 1 HAVING count(*) > 1) x" 0
if M 2 cron-trigger-delete every; then
	ok "cron-trigger-delete"
else
	not_ok "cron-trigger-delete" "$(head -c 200 "$TMP/out")"
fi
n1=$(sql "SELECT count(*) FROM ($TICKS) x")
sleep 2
n2=$(sql "SELECT count(*) FROM ($TICKS) x")
check "a deleted trigger fires no more ($n1, $n2)" test "$n1" -eq "$n2"

kill -TERM "$PID_2"
wait "$PID_2"
rc=$?
check "borad 2 stops on SIGTERM with status 0 ($rc)" test "$rc" -eq 0
ENGINE_PIDS=
for f in "$TMP"/borad-*.log; do
	sanitizer_check "$f"
done
finish
