#!/bin/sh
#
# api-pg.sh -- borad on PostgreSQL while the database goes away: with the
# server stopped (pg_ctl stop -m fast) the API answers 503 with a
# Retry-After header, /readyz says the store is down and /healthz stays
# 200; once the server is back the same daemon answers 200 again without
# a restart, and an execution started before the stop finishes.
#
# Uses tests/pg-env.sh for a throwaway cluster; without PostgreSQL the
# test is skipped (77), or fails under CI=true.

. "$(dirname "$0")/lib.sh"

# pg-env.sh takes the EXIT trap; chain both cleanups.
. "$SRCDIR/tests/pg-env.sh"
trap 'cleanup; pg_env_stop' EXIT
if [ -z "${BORA_TEST_PG_STOP:-}" ]; then
	skip "BORA_TEST_PGURL is an outside server this test cannot stop"
fi
BORAD_DB=$BORA_TEST_PGURL

# retry_after: the last answer carried "Retry-After: SECONDS".
retry_after()
{
	grep -Eqi '^Retry-After: [0-9]+' "$TMP/headers"
}

# expect_503 NAME: the last answer was 503 with Retry-After and a
# faultstring.
expect_503()
{
	if expect "$1" 503 && ! retry_after; then
		not_ok "$1 has Retry-After" "$(tr -d '\r' <"$TMP/headers")"
	fi
}

# wait_ready SECONDS: poll /readyz until it answers 200.
wait_ready()
{
	_i=0
	while [ $_i -lt $(($1 * 10)) ]; do
		curl -sf -o /dev/null "$URL/readyz" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# all_ok N PATH: poll PATH until N answers in a row are 200, for as long
# as the Retry-After of the last 503 (plus a second).
all_ok()
{
	_wait=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/ip' "$TMP/headers" |
	    head -1)
	_until=$(($(date +%s) + ${_wait:-5} + 1))
	_n=0
	while [ "$(date +%s)" -le "$_until" ]; do
		if curl -sf -o /dev/null "$URL$2"; then
			_n=$((_n + 1))
			[ "$_n" -ge "$1" ] && return 0
		else
			_n=0
			sleep 0.1
		fi
	done
	return 1
}

cp "$DATA/hello.yaml" "$DATA/sleep_wf.yaml" "$TMP/workflows/"
borad_start || { not_ok "borad starts on PostgreSQL"; finish; }
ok "borad starts on PostgreSQL"

api GET /readyz
expect "/readyz: the store is PostgreSQL" 200 '.backend == "postgresql"'
api_json POST /v2/executions '{"workflow_name": "hello"}'
expect "an execution starts" 201
H=$(jb .id)
check "the execution succeeds" wait_state "$H" SUCCESS

# An execution that runs across the outage.
api_json POST /v2/executions '{"workflow_name": "sleep_wf",
    "input": "{\"seconds\": 3}"}'
expect "a 3 s execution starts before the stop" 201
S=$(jb .id)
sleep 0.5

# ---- the database goes away ---------------------------------------------
if ! sh -c "$BORA_TEST_PG_STOP"; then
	not_ok "pg_ctl stop"
	finish
fi
ok "PostgreSQL stopped"

api GET "/v2/executions/$H"
expect_503 "GET an execution: 503"
check "the 503 says the store is unavailable" \
    jq -e '.faultstring | test("unavailable")' "$TMP/body"
api GET /v2/executions
expect_503 "list executions: 503"
api GET /v2/workbooks
expect_503 "list workbooks: 503"
api_json POST /v2/executions '{"workflow_name": "hello"}'
expect_503 "start an execution: 503"
api GET "/v2/executions/$H/tasks"
expect_503 "list tasks: 503"
api GET /readyz
expect_503 "/readyz: 503 while the store is down"
check "/readyz names the store as the cause" \
    jq -e '.store == "unavailable"' "$TMP/body"
api GET /healthz
expect "/healthz stays 200" 200 '.status == "ok"'
api GET /nosuchroute
expect "an unknown route is still 404" 404
check "borad is still running" kill -0 "$BORAD_PID"

# The 3 s action ends while the database is down; its result must wait.
sleep 3
api GET "/v2/executions/$S"
expect_503 "still 503 after 3 s"

# ---- and comes back -------------------------------------------------------
if ! sh -c "$BORA_TEST_PG_START"; then
	not_ok "pg_ctl start"
	finish
fi
ok "PostgreSQL started again"
check "/readyz is 200 again within 15 s" wait_ready 15
# Each HTTP thread has its own connection, and one that failed to
# reconnect waits out its backoff (at most Retry-After): within that,
# every thread answers again.
check "20 reads in a row are 200 within Retry-After" all_ok 20 \
    "/v2/executions/$H"
api GET "/v2/executions/$H"
expect "GET an execution: 200 again" 200 ".state == \"SUCCESS\""
api GET /v2/workflows
expect "list workflows: 200 again" 200 \
    '[.workflows[].name] | index("hello") != null'
# The engine may have to wait for its own lease (15 s) to take the
# execution back: allow 40 s.
T0=$(date +%s)
_i=0
while [ $_i -lt 400 ]; do
	_s=$(curl -s "$URL/v2/executions/$S" | jq -r .state)
	[ "$_s" = SUCCESS ] || [ "$_s" = ERROR ] && break
	sleep 0.1
	_i=$((_i + 1))
done
T=$(($(date +%s) - T0))
check "the execution started before the stop finishes ($_s, $T s)" \
    test "$_s" = SUCCESS
api GET "/v2/executions/$S/tasks"
NAP=$(jq -r '.tasks[] | select(.name == "nap") | .id' "$TMP/body")
api GET "/v2/tasks/$NAP/action_executions"
echo "# the 3 s action ran $(jb '.action_executions | length') time(s)"
api GET "/v2/executions/$S"
expect "... and it succeeded with its output" 200 \
    '.state == "SUCCESS" and (.output | fromjson | .msg == "woke")'
api_json POST /v2/executions '{"workflow_name": "hello"}'
expect "a new execution starts after the outage" 201
N=$(jb .id)
check "... and succeeds" wait_state "$N" SUCCESS
check "borad is the same process" kill -0 "$BORAD_PID"

finish
