#!/bin/sh
#
# alarms-am.sh -- the real Prometheus Alertmanager (Debian's
# prometheus-alertmanager) drives borad end to end over its webhook,
# with its bearer token and fast timers (group_wait 0s, group_interval
# 1s, repeat_interval 2s): a fired alert starts exactly one execution
# per trigger; the repeats of the group and the message regrouping a
# second alert of the same host start none; the resolution starts none,
# and cancels the running recovery of the trigger with on-resolved:
# cancel.  Every message Alertmanager sent is stored and answered 2xx.
#
# Environment: see lib.sh; AM (the Alertmanager binary).

. "$(dirname "$0")/lib.sh"
: "${AM:=prometheus-alertmanager}"
need "$AM"

cp "$SRCDIR"/lua/*.lua "$TMP/lua/"
cat >"$TMP/workflows/am.yaml" <<'EOF'
version: '2.0'
name: am
workflows:
  evacuate:
    input: [host]
    tasks:
      wait: {action: std.sleep seconds=60}
  notify:
    input: [host]
    tasks:
      send: {action: std.noop}
triggers:
  evacuate:
    source: alertmanager
    when: <% alert.name == 'HostDown' %>
    workflow: evacuate
    input: {host: <% alert.resource.host %>}
    key: <% alert.resource.host %>
    until-resolved: true
    on-resolved: cancel
  notify:
    source: alertmanager
    when: <% alert.name == 'HostDown' %>
    workflow: notify
    input: {host: <% alert.resource.host %>}
    key: <% alert.resource.host %>
    until-resolved: true
EOF
cat >"$TMP/borad.conf" <<'EOF'
alarm-auth:
  - alertmanager bearer token=am-e2e-token
EOF
borad_start -f "$TMP/borad.conf" || exit 1

AMPORT=$(free_port)
AMURL=http://127.0.0.1:$AMPORT
mkdir -p "$TMP/am"
cat >"$TMP/am/alertmanager.yml" <<EOF
route:
  receiver: bora
  group_by: ['alertname', 'instance']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: bora
    webhook_configs:
      - url: $URL/v1/alarms/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: am-e2e-token
EOF
"$AM" --config.file="$TMP/am/alertmanager.yml" \
    --storage.path="$TMP/am/data" --web.listen-address="127.0.0.1:$AMPORT" \
    --cluster.listen-address= --log.level=debug >"$TMP/am/am.log" 2>&1 &
AM_PID=$!
am_stop()
{
	if [ -n "$AM_PID" ]; then
		kill "$AM_PID" 2>/dev/null
		wait "$AM_PID" 2>/dev/null
		AM_PID=
	fi
}
trap 'am_stop; cleanup' EXIT
i=0
until curl -sf -o /dev/null "$AMURL/-/ready"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$AM_PID" 2>/dev/null; then
		not_ok "Alertmanager starts" "$(tail -5 "$TMP/am/am.log")"
		finish
	fi
	sleep 0.1
done
ok "Alertmanager $("$AM" --version 2>&1 | head -1 | awk '{print $3}') ready"

# am_post LABELS-JSON ENDS: post an alert as Prometheus does.
am_post()
{
	_now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
	curl -sf -o /dev/null -XPOST -H 'Content-Type: application/json' \
	    "$AMURL/api/v2/alerts" --data-binary "[{\"labels\": $1, \
\"annotations\": {\"summary\": \"down\"}, \"startsAt\": \"$_now\", \
\"endsAt\": \"$2\", \"generatorURL\": \"http://prometheus.example/graph\"}]"
}
later=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%S.000Z)

# alarms: how many alarms borad stored from Alertmanager.
alarms()
{
	curl -s "$URL/v1/alarms?source=alertmanager&limit=1000" |
	    jq '.alarms | length'
}
# wait_for WHAT COMMAND: poll the command for up to 15 s.
wait_for()
{
	_i=0
	while [ $_i -lt 150 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
executions()
{
	curl -s "$URL/v2/executions" | jq '[.executions[] |
	    select(.alarm_id != null)] | length'
}

# --- fire ----------------------------------------------------------------
A1='{"alertname": "HostDown", "instance": "compute-1", "host": "compute-1", "job": "node", "severity": "critical"}'
am_post "$A1" "$later"
check "the fired alert reaches borad" wait_for sh -c \
    "[ \$(curl -s '$URL/v1/alarms?verdict=started' | jq '.alarms | length') -ge 1 ]"
api GET "/v1/alarms?verdict=started"
id=$(jb '.alarms[0].id')
api GET "/v1/alarms/$id"
expect "one message, one event, both triggers started" 200 \
    '(.events | length) == 1 and .events[0].key != null and
    ([.events[0].verdicts[].verdict] == ["started", "started"]) and
    (.headers["User-Agent"] | startswith("Alertmanager/"))'
ev=$(jb '.events[0].verdicts[] | select(.trigger == "am.evacuate") |
    .execution_id')
check "exactly one execution per trigger" test "$(executions)" -eq 2

# --- repeats (repeat_interval 2s) ------------------------------------------
n0=$(alarms)
check "the group is sent again (repeats)" wait_for sh -c \
    "[ \$(curl -s '$URL/v1/alarms?source=alertmanager&limit=1000' | jq '.alarms | length') -ge $((n0 + 2)) ]"
check "repeats start nothing" test "$(executions)" -eq 2
api GET "/v1/alarms?source=alertmanager&verdict=duplicate"
expect "repeats are recorded as duplicates of the first" 200 \
    '(.alarms | length) >= 2'

# --- a second alert of the same host joins the group -------------------
A2='{"alertname": "HostDown", "instance": "compute-1", "host": "compute-1", "job": "ipmi", "severity": "warning"}'
am_post "$A2" "$later"
check "a regrouped message with both alerts arrives" wait_for sh -c \
    "curl -s '$URL/v1/alarms?source=alertmanager&limit=1000' | jq -e \
    '[.alarms[] | select(.event_count == 2)] | length >= 1'"
api GET "/v1/alarms?source=alertmanager&limit=1000"
rid=$(jb '[.alarms[] | select(.event_count == 2)][0].id')
api GET "/v1/alarms/$rid"
expect "regrouped: both alerts duplicates of the host's executions" 200 \
    '[.events[].verdicts[].verdict] | all(. == "duplicate")'
check "regrouped messages start nothing" test "$(executions)" -eq 2

# --- resolve --------------------------------------------------------------
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
am_post "$A1" "$now"
am_post "$A2" "$now"
check "the resolution arrives" wait_for sh -c "curl -s \
    '$URL/v1/alarms?source=alertmanager&status=resolved' | jq -e \
    '.alarms | length >= 1'"
api GET "/v1/alarms?source=alertmanager&status=resolved"
rs=$(jb '.alarms[-1].id')
api GET "/v1/alarms/$rs"
expect "resolved: the evacuation cancelled, the notification ignored" 200 \
    '([.events[].verdicts[] | select(.trigger == "am.evacuate") |
    .verdict] | index("cancelled")) and
    all(.events[].verdicts[] | select(.trigger == "am.notify");
    .verdict == "resolved_ignored")'
check "the running evacuation ends CANCELLED" wait_for sh -c \
    "[ \"\$(curl -s '$URL/v2/executions/$ev' | jq -r .state)\" = CANCELLED ]"
check "the resolution starts nothing" test "$(executions)" -eq 2

# --- every message stored and answered 2xx ------------------------------
sleep 1.5
am_stop
sent=$(grep -c 'Notify success' "$TMP/am/am.log")
failed=$(grep -c 'Notify for alerts failed\|Notify attempt failed' \
    "$TMP/am/am.log")
check "Alertmanager sent its messages without a failure ($sent sent)" \
    test "$failed" -eq 0 -a "$sent" -ge 5
check "every message Alertmanager sent is stored ($sent)" \
    test "$(alarms)" -eq "$sent"
api GET /metrics
check "every one answered 202" sh -c "! grep -q \
    'route=\"/v1/alarms/{source}\",code=\"[45]' '$TMP/body'"

finish
