#!/bin/sh
#
# alarms.sh -- the alarm intake of a real borad over real HTTP (SQLite):
# every captured sample of tests/data/alarms/samples posted to its route
# with its source's credentials, twice, giving the events of
# tests/data/alarms/expected and the verdicts of
# tests/data/alarms/http-verdicts; the executions they start carry the
# alarm; the decision log (list, filters, pages, one alarm), replay,
# on-resolved cancel, until-resolved release, limits, an alarm stored
# but never decided (decided at start), the CLI, the metrics; Vitrage's
# Mistral call to POST /v2/executions.
#
# Environment: see lib.sh.

. "$(dirname "$0")/lib.sh"
need sqlite3

DATA_AL=$SRCDIR/tests/data/alarms
TOKEN=api-secret-token
export BORA_TOKEN=$TOKEN

cp "$DATA_AL/triggers.yaml" "$TMP/workflows/triggers.yaml"
cp "$SRCDIR"/lua/*.lua "$TMP/lua/"
cat >"$TMP/workflows/vitrage.yaml" <<'EOF'
version: '2.0'
evacuate_host:
  input: [host_name, retries: 1]
  tasks:
    evacuate: {action: std.noop}
EOF
# A slow recovery that a resolved alarm cancels, and a storm breaker.
cat >"$TMP/workflows/ops.yaml" <<'EOF'
version: '2.0'
name: ops
workflows:
  drain:
    input: [host]
    tasks:
      wait:
        action: std.sleep seconds=30
triggers:
  disk:
    source: generic
    when: <% alert.name == 'DiskFailing' %>
    workflow: drain
    input: {host: <% alert.resource.host %>}
    until-resolved: true
    on-resolved: cancel
  storm:
    source: generic
    when: <% alert.name == 'Storm' %>
    workflow: drain
    input: {host: <% alert.resource.host %>}
    limit: {count: 2, window: 10m, by: <% alert.resource.host %>}
EOF
cat >"$TMP/borad.conf" <<EOF
api-token: $TOKEN
http-max-body: 8388608
alarm-auth:
  - alertmanager bearer token=test-bearer-token-123
  - vitrage bearer header=X-Auth-Token token=static-shared-secret
  - zabbix basic user=zabbix password=zbx-pass
  - grafana bearer token=grafana-token
  - aodh none
EOF
borad_start -f "$TMP/borad.conf" || exit 1
AUTH="Authorization: Bearer $TOKEN"

# wait_exec ID STATE: poll (with the token) until the execution is in
# STATE (10 s).
wait_exec()
{
	_i=0
	while [ $_i -lt 100 ]; do
		[ "$(curl -s -H "$AUTH" "$URL/v2/executions/$1" |
		    jq -r .state)" = "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# body SAMPLE: the sample's body, byte for byte when it was captured.
body()
{
	jq -j 'if .body_raw then .body_raw else (.body | tojson) end' "$1"
}

# post_sample FILE: post a sample to its route with its own headers
# (without the captured credentials and framing) and its source's
# credentials; STATUS and $TMP/body as api() leaves them.
post_sample()
{
	_f=$1
	_path=$(jq -r '.http.path' "$_f")
	body "$_f" >"$TMP/payload"
	jq -r '.http.headers[] | select(.[0] | ascii_downcase | IN("host",
	    "content-length", "authorization", "x-auth-token", "connection",
	    "accept-encoding") | not) | "\(.[0]): \(.[1])"' "$_f" \
	    >"$TMP/hdrs"
	case $_path in
	/v1/alarms/alertmanager*)
		echo "Authorization: Bearer test-bearer-token-123" ;;
	/v1/alarms/vitrage*)
		echo "X-Auth-Token: static-shared-secret" ;;
	/v1/alarms/zabbix*)
		echo "Authorization: Basic $(printf zabbix:zbx-pass |
		    base64)" ;;
	/v1/alarms/grafana*)
		echo "Authorization: Bearer grafana-token" ;;
	/v1/alarms/aodh*) ;;
	*)
		echo "$AUTH" ;;
	esac >>"$TMP/hdrs"
	api POST "$_path" -H @"$TMP/hdrs" --data-binary @"$TMP/payload"
}

# --- every sample, twice -----------------------------------------------
: >"$TMP/verdicts"
for pass in 1 2; do
	for f in "$DATA_AL"/samples/*.json; do
		name=$(basename "$f" .json)
		case $(jq -r '.http.path // ""' "$f") in
		/v1/alarms/*) ;;
		*) continue ;;
		esac
		post_sample "$f"
		if [ "$STATUS" != 202 ]; then
			not_ok "pass $pass: $name answered 202" \
			    "$STATUS $(head -c 300 "$TMP/body")"
			continue
		fi
		id=$(jb .alarm_id)
		jq -r --arg p "$pass" --arg n "$name" '.events | to_entries[] |
		    .key as $i | .value.verdicts[] |
		    "\($p) \($n) \($i + 1) \(.trigger) \(.verdict)"' \
		    "$TMP/body" >>"$TMP/verdicts"
		[ "$pass" = 1 ] || continue
		# The events as stored, against the adapter's expected ones.
		api GET "/v1/alarms/$id" -H "$AUTH"
		jq -S '[.events[] | {source, key, status, name, severity,
		    resource, labels, annotations, starts_at}]' "$TMP/body" \
		    >"$TMP/got"
		jq -S '[.events[] | {source, key, status, name, severity,
		    resource, labels, annotations, starts_at}]' \
		    "$DATA_AL/expected/$name.json" >"$TMP/want"
		if cmp -s "$TMP/got" "$TMP/want"; then
			ok "$name: the stored events are the expected ones"
		else
			not_ok "$name: the stored events are the expected ones" \
			    "$(diff "$TMP/want" "$TMP/got" | head -20)"
		fi
		# The request as sent, without its credentials.
		if jq -e '.state == "decided" and (.body | length) > 0 and
		    ([.headers | keys[] | ascii_downcase] | index(
		    "authorization") == null and index("x-auth-token") ==
		    null)' "$TMP/body" >/dev/null; then
			ok "$name: stored as sent, without its credentials"
		else
			not_ok "$name: stored as sent, without its credentials" \
			    "$(jq -c '{state, headers}' "$TMP/body")"
		fi
	done
done
if diff -u "$DATA_AL/http-verdicts" "$TMP/verdicts" >"$TMP/vdiff"; then
	ok "every sample, twice, gives the verdicts of http-verdicts"
else
	not_ok "every sample, twice, gives the verdicts of http-verdicts" \
	    "$(cat "$TMP/vdiff")"
fi

# Each started execution carries its alarm and ran.
api GET "/v1/alarms?verdict=started&limit=100" -H "$AUTH"
nstarted=0
for id in $(jb '.alarms[].id'); do
	api GET "/v1/alarms/$id" -H "$AUTH"
	for x in $(jb '.events[].verdicts[] | select(.verdict ==
	    "started") | .execution_id'); do
		nstarted=$((nstarted + 1))
		api GET "/v2/executions/$x" -H "$AUTH"
		if [ "$(jb .alarm_id)" != "$id" ] ||
		    [ "$(jb '.params | fromjson | .alarm.id')" != "$id" ]; then
			not_ok "execution $x names alarm $id" \
			    "$(head -c 300 "$TMP/body")"
		fi
	done
done
want=$(grep -c ' started$' "$DATA_AL/http-verdicts")
check "the $want started verdicts each started an execution naming the \
alarm ($nstarted)" test "$nstarted" -eq "$want"

# --- Vitrage's Mistral notifier: POST /v2/executions as before ----------
post_sample "$DATA_AL/samples/vitrage_execute_mistral.json"
expect "Vitrage's execute_mistral starts evacuate_host (201)" 201 \
    '.workflow_name == "evacuate_host" and (.input | fromjson |
    .host_name == "compute-1")'

# --- the decision log -----------------------------------------------------
api GET "/v1/alarms?source=vitrage" -H "$AUTH"
expect "filter by source" 200 '(.alarms | length) == 6 and
    all(.alarms[]; .source == "vitrage")'
api GET "/v1/alarms?status=resolved" -H "$AUTH"
expect "filter by status" 200 '(.alarms | length) > 0 and
    all(.alarms[]; .status == "resolved")'
api GET "/v1/alarms?verdict=duplicate" -H "$AUTH"
expect "filter by verdict" 200 '(.alarms | length) == 4 and
    all(.alarms[]; .verdicts | index("duplicate"))'
api GET "/v1/alarms?created_at=gte:2000-01-01T00:00:00Z&created_at=lt:2000-01-02" \
    -H "$AUTH"
expect "filter by time range (none in 2000)" 200 '.alarms == []'
api GET "/v1/alarms?created_at=gte:2000-01-01T00:00:00Z" -H "$AUTH"
expect "filter by time range (all since 2000)" 200 \
    '(.alarms | length) >= 20'
api GET "/v1/alarms?verdict=nonsense:x" -H "$AUTH"
expect "a filter value is data, not an operator" 200 '.alarms == []'
api GET "/v1/alarms?colour=red" -H "$AUTH"
expect "unknown filter field: 400 naming it" 400 \
    '.faultstring | test("colour")'
# Pages: limit, marker, next.
api GET "/v1/alarms?limit=5&sort_keys=created_at&sort_dirs=asc" -H "$AUTH"
p1=$(jb '[.alarms[].id] | join(" ")')
next=$(jb '.next')
expect "first page of 5, with next" 200 '(.alarms | length) == 5 and
    (.next | test("marker="))'
api GET "${next#"$URL"}" -H "$AUTH"
p2=$(jb '[.alarms[].id] | join(" ")')
api GET "/v1/alarms?limit=10&sort_keys=created_at&sort_dirs=asc" -H "$AUTH"
check "the pages follow each other" test "$p1 $p2" = \
    "$(jb '[.alarms[].id] | join(" ")')"
api GET "/v1/alarms/no-such-alarm" -H "$AUTH"
expect "an unknown alarm is 404" 404 '.faultstring | test("not found")'

# --- on-resolved cancel, until-resolved release ---------------------------
disk()
{
	api POST /v1/alarms/generic -H "$AUTH" --data-binary "{\"key\": \
\"disk-9\", \"status\": \"$1\", \"name\": \"DiskFailing\", \"resource\": \
{\"host\": \"compute-9\"}}"
}
disk firing
expect "a firing disk alarm starts drain" 202 \
    '.events[0].verdicts[] | select(.trigger == "ops.disk") |
    .verdict == "started"'
x1=$(jb '.events[0].verdicts[] | select(.trigger == "ops.disk") |
    .execution_id')
disk firing
expect "again: a duplicate held until resolved" 202 \
    '.events[0].verdicts[] | select(.trigger == "ops.disk") |
    .verdict == "duplicate" and .until == "resolved" and
    .execution_id == "'"$x1"'"'
disk resolved
expect "resolved: cancels the running drain" 202 \
    '.events[0].verdicts[] | select(.trigger == "ops.disk") |
    .verdict == "cancelled" and .execution_id == "'"$x1"'"'
check "the drain execution ends CANCELLED" wait_exec "$x1" CANCELLED
disk firing
expect "firing after the resolution starts a new drain" 202 \
    '.events[0].verdicts[] | select(.trigger == "ops.disk") |
    .verdict == "started" and .execution_id != "'"$x1"'"'
x2=$(jb '.events[0].verdicts[] | select(.trigger == "ops.disk") |
    .execution_id')
api PUT "/v2/executions/$x2" -H "$AUTH" -H 'Content-Type: application/json' \
    --data-binary '{"state": "CANCELLED"}'
wait_exec "$x2" CANCELLED
disk resolved
expect "resolved when it already ended: nothing to cancel" 202 \
    '.events[0].verdicts[] | select(.trigger == "ops.disk") |
    .verdict == "resolved_ignored" and (.reason | test("already ended"))'

# --- a storm: at most 2 per host per window ---------------------------------
: >"$TMP/storm"
for i in 1 2 3 4 5; do
	api POST /v1/alarms/generic -H "$AUTH" --data-binary "{\"key\": \
\"storm-$i\", \"name\": \"Storm\", \"resource\": {\"host\": \"compute-7\"}}"
	jb '.events[0].verdicts[] | select(.trigger == "ops.storm") |
	    .verdict' >>"$TMP/storm"
done
check "a storm of 5 on one host: 2 started, 3 limited" test \
    "$(tr '\n' ' ' <"$TMP/storm")" = \
    "started started limited limited limited "
api POST /v1/alarms/generic -H "$AUTH" --data-binary '{"key": "storm-6",
    "name": "Storm", "resource": {"host": "compute-8"}}'
expect "another host has a count of its own" 202 \
    '.events[0].verdicts[] | select(.trigger == "ops.storm") |
    .verdict == "started"'

# --- replay ---------------------------------------------------------------
api GET "/v1/alarms?source=alertmanager&limit=1&sort_dirs=asc" -H "$AUTH"
am=$(jb '.alarms[0].id')
nexec=$(curl -s -H "$AUTH" "$URL/v2/executions" | jq '.executions | length')
api POST "/v1/alarms/$am/replay" -H "$AUTH"
expect "replay: a dry run against today's triggers" 200 \
    '.applied == false and .alarm_id == "'"$am"'" and
    ([.events[].verdicts[].verdict] | index("duplicate"))'
check "a dry run starts nothing" test "$nexec" -eq \
    "$(curl -s -H "$AUTH" "$URL/v2/executions" | jq '.executions | length')"
api POST "/v1/alarms/$am/replay?apply=true" -H "$AUTH"
expect "replay --apply: a new alarm, replay of the first" 201 \
    '.applied == true and .replay_of == "'"$am"'" and
    .alarm_id != "'"$am"'"'
api GET "/v1/alarms?replay_of=$am" -H "$AUTH"
expect "the replay is in the log" 200 '(.alarms | length) == 1 and
    .alarms[0].state == "decided"'

# --- the CLI --------------------------------------------------------------
B="$BORA --url $URL"
body "$DATA_AL/samples/generic_alerts.json" >"$TMP/generic.json"
$B alarm send generic "$TMP/generic.json" >"$TMP/cli.out" 2>&1
check "bora alarm send: a table of verdicts" grep -Eq \
    '^1 .*generic_any +(started|duplicate) ' "$TMP/cli.out"
$B alarm send grafana "$TMP/generic.json" >"$TMP/cli.out" 2>&1
check "bora alarm send: the source's credentials are needed (exit 1)" \
    test $? -eq 1
check "bora alarm send: the refusal says why" grep -q \
    'Authentication failed for alarm source grafana' "$TMP/cli.out"
$B alarm send grafana "$TMP/generic.json" -H \
    'Authorization: Bearer grafana-token' >"$TMP/cli.out" 2>&1
check "bora alarm send -H: its own credentials, the payload refused \
(exit 1)" grep -q 'expected an object, got an array' "$TMP/cli.out"
$B alarm list --source generic --verdict limited >"$TMP/cli.out"
check "bora alarm list --source --verdict" test "$(grep -c limited \
    "$TMP/cli.out")" -eq 3
$B alarm get "$am" >"$TMP/cli.out"
check "bora alarm get: event, trigger, verdict, execution" grep -Eq \
    '^EVENT +TRIGGER +VERDICT +EXECUTION' "$TMP/cli.out"
check "bora alarm get: the executions started" grep -q \
    'executions started' "$TMP/cli.out"
$B alarm replay "$am" >"$TMP/cli.out"
check "bora alarm replay: a dry run" grep -q 'dry run' "$TMP/cli.out"
$B trigger list >"$TMP/cli.out"
check "bora trigger list" grep -Eq \
    '^ops.storm +generic +ops.drain +limit 2 per 600s' "$TMP/cli.out"
$B -f json trigger list >"$TMP/cli.out"
check "bora trigger list -f json" jq -e 'length == 9' "$TMP/cli.out"
$B trigger >"$TMP/cli.out" 2>&1
check "bora trigger alone lists test and list" grep -q 'trigger test' \
    "$TMP/cli.out"

# --- metrics ---------------------------------------------------------------
api GET /metrics -H "$AUTH"
check "metrics: alarms received by source and status" grep -q \
    '^bora_alarms_received_total{source="vitrage",status="resolved"} 2$' \
    "$TMP/body"
check "metrics: refused requests" grep -q \
    '^bora_alarms_received_total{source="grafana",status="denied"} 1$' \
    "$TMP/body"
nst=$(grep -c ' started$' "$DATA_AL/http-verdicts")
check "metrics: verdicts by kind" grep -Eq \
    '^bora_alarm_verdicts_total\{verdict="limited"\} [1-9]' "$TMP/body"
check "metrics: the intake latency histogram" grep -Eq \
    '^bora_alarm_intake_seconds_count [1-9]' "$TMP/body"

# --- an alarm stored but never decided is decided at start ---------------
borad_stop
now=$(($(date +%s) * 1000))
sqlite3 "$TMP/bora.db" "INSERT INTO alarms (id, source, route, headers,
    body, encoding, size, state, status, events, received_at) VALUES
    ('00000000-0000-4000-8000-000000000001', 'generic', '/v1/alarms/generic',
    '{}', '{\"key\": \"lost-1\", \"name\": \"Lost\"}', 'text', 34,
    'received', 'firing', 1, $((now - 60000)))"
borad_start -f "$TMP/borad.conf" || exit 1
i=0
while [ $i -lt 50 ]; do
	api GET /v1/alarms/00000000-0000-4000-8000-000000000001 -H "$AUTH"
	[ "$(jb .state)" = decided ] && break
	sleep 0.2
	i=$((i + 1))
done
expect "an alarm left undecided is decided when borad starts" 200 \
    '.state == "decided" and .events[0].key == "lost-1" and
    (.events[0].verdicts[] | select(.trigger == "recovery.generic_any") |
    .verdict == "started")'

finish
