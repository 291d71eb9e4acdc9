#!/bin/sh
#
# alarms-hostile.sh -- what a real borad does with hostile alarm
# requests over real HTTP: a 50 MB body (with and without a length),
# 10,000-deep JSON, invalid UTF-8, wrong types, an Alertmanager group of
# 10,000 alerts, no JSON at all: 400 or 413 naming what is wrong, each
# request stored as invalid (its body only when it was read), and the
# daemon healthy after.  Credentials: HMAC-SHA256 with a timestamp
# (right, wrong, absent, replayed, stale), HMAC without one, bearer,
# basic, the API token for a source without an entry: 401 with the
# method's challenge, recorded without the body, nothing started.
#
# Environment: see lib.sh.

. "$(dirname "$0")/lib.sh"
need openssl base64 head

TOKEN=hostile-api-token
AUTH="Authorization: Bearer $TOKEN"
cp "$SRCDIR"/lua/*.lua "$TMP/lua/"
cat >"$TMP/workflows/any.yaml" <<'EOF'
version: '2.0'
name: any
workflows:
  note:
    input: [what]
    tasks:
      t: {action: std.noop}
triggers:
  everything:
    source: [alertmanager, grafana, zabbix, aodh, generic]
    workflow: note
    input: {what: <% alert.key %>}
EOF
cat >"$TMP/borad.conf" <<EOF
api-token: $TOKEN
http-max-body: 8388608
alarm-max-events: 1000
alarm-auth:
  - grafana hmac secret=grafana-key header=X-Grafana-Alerting-Signature timestamp-header=X-Grafana-Alerting-Signature-Timestamp tolerance=60s
  - zabbix hmac secret=zabbix-key prefix=sha256= header=X-Signature encoding=base64
  - alertmanager bearer token=am-token
  - aodh basic user=aodh password=aodh-pass
EOF
borad_start -f "$TMP/borad.conf" || exit 1

# healthy: the daemon answers and still takes a valid alarm.
healthy()
{
	api GET /healthz
	[ "$STATUS" = 200 ] || return 1
	api POST /v1/alarms/generic -H "$AUTH" --data-binary \
	    '{"key": "still-alive", "name": "Check"}'
	[ "$STATUS" = 202 ]
}

# stored_invalid NAME: the last answer's alarm is stored as invalid with
# the error it was answered, and JQ-TEST holds on it.
stored_invalid()
{
	_id=$(jb .alarm_id)
	_err=$(jb .faultstring)
	api GET "/v1/alarms/$_id" -H "$AUTH"
	expect "$1: stored as invalid with its error" 200 '.state ==
	    "invalid" and .error == '"$(printf '%s' "$_err" | jq -R .)"' and
	    .events == [] and .executions == [] and '"$2"
}

# --- sizes -----------------------------------------------------------------
head -c 52428800 /dev/zero | tr '\0' 'x' >"$TMP/50mb"
api POST /v1/alarms/alertmanager -H 'Authorization: Bearer am-token' \
    -H 'Content-Type: application/json' --data-binary @"$TMP/50mb"
expect "50 MB with a Content-Length: 413 naming the limit" 413 \
    '.faultstring == "body of 52428800 bytes is larger than the limit of 8388608 bytes (http-max-body)"'
stored_invalid "50 MB" '.size == 52428800 and .body == null'
api POST /v1/alarms/alertmanager -H 'Authorization: Bearer am-token' \
    -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/50mb"
expect "50 MB chunked: 413" 413 \
    '.faultstring == "body is larger than the limit of 8388608 bytes (http-max-body)"'
stored_invalid "50 MB chunked" '.body == null'
rm -f "$TMP/50mb"
check "healthy after 50 MB bodies" healthy

python3 -c 'print("[" * 10000 + "]" * 10000)' >"$TMP/deep"
api POST /v1/alarms/generic -H "$AUTH" --data-binary @"$TMP/deep"
expect "10,000-deep JSON: 400 at the byte where the limit passes" 400 \
    '.faultstring == "JSON nested deeper than 32 levels at byte 32 (limit alarm-max-depth)"'
stored_invalid "10,000-deep JSON" '.size == 20001 and (.body | length) == 20001'
check "healthy after deep JSON" healthy

printf '{"key": "k\377\376", "name": "bad"}' >"$TMP/utf8"
api POST /v1/alarms/generic -H "$AUTH" --data-binary @"$TMP/utf8"
expect "invalid UTF-8: 400" 400 \
    '.faultstring == "invalid JSON at line 1, column 10: unable to decode byte 0xff near '"'"'\"k'"'"'"'
stored_invalid "invalid UTF-8" '.encoding == "base64" and .body ==
    "'"$(base64 -w0 <"$TMP/utf8")"'"'

api POST /v1/alarms/alertmanager -H 'Authorization: Bearer am-token' \
    --data-binary '{"alerts": [{"status": "firing", "fingerprint": 42}]}'
expect "wrong types: 400 with the JSON path" 400 \
    '.faultstring == "$.alerts[0].fingerprint: expected a string, got an integer"'
stored_invalid "wrong types" '.encoding == "text"'
api POST /v1/alarms/alertmanager -H 'Authorization: Bearer am-token' \
    --data-binary '{"alerts": [{"status": "burning", "fingerprint": "f1"}]}'
expect "a status that is no status: 400" 400 \
    '.faultstring == "$.alerts[0].status: expected \"firing\" or \"resolved\", got \"burning\""'
api POST /v1/alarms/generic -H "$AUTH" --data-binary '{"key": ["a"]}'
expect "a generic key of the wrong type: 400" 400 \
    '.faultstring == "$.key: expected a string, got an array"'
api POST /v1/alarms/generic -H "$AUTH" --data-binary 'not json at all'
expect "no JSON at all: 400" 400 \
    '.faultstring | startswith("invalid JSON at line 1, column 3: ")'
api POST /v1/alarms/generic -H "$AUTH" --data-binary ''
expect "an empty body: 400" 400 \
    '.faultstring == "empty body (expected a JSON object)"'

python3 - "$TMP/group" <<'EOF'
import json, sys
alerts = [{"status": "firing", "labels": {"alertname": "Storm",
    "instance": "compute-%d" % i}, "fingerprint": "%016x" % i}
    for i in range(10000)]
json.dump({"status": "firing", "alerts": alerts, "version": "4"},
    open(sys.argv[1], "w"))
EOF
api POST /v1/alarms/alertmanager -H 'Authorization: Bearer am-token' \
    --data-binary @"$TMP/group"
expect "a group of 10,000 alerts: 413 naming the limit" 413 \
    '.faultstring == "$.alerts: 10000 alerts, more than 1000 (limit alarm-max-events)"'
stored_invalid "10,000 alerts" '.size > 1000000'
api GET "/v2/executions" -H "$AUTH"
check "no hostile payload started anything (only the health checks)" \
    test "$(jb '[.executions[] | select(.alarm_id != null)] |
    map(.input | fromjson | .what) | unique | join(",")')" = still-alive
check "healthy after every hostile payload" healthy
api GET "/v1/alarms?state=invalid&limit=100" -H "$AUTH"
expect "the log lists the invalid ones" 200 '(.alarms | length) == 10 and
    all(.alarms[]; .status == null and .error != null)'

# --- HMAC with a timestamp (Grafana's) ------------------------------------
printf '{"receiver": "r", "status": "firing", "version": "1", "alerts": [{"status": "firing", "labels": {"alertname": "HostDown", "instance": "compute-3"}, "fingerprint": "g1"}]}' >"$TMP/gf"
# sign TS FILE KEY: hex HMAC-SHA256 of "TS:BODY".
sign()
{
	{ printf '%s:' "$1"; cat "$2"; } | openssl dgst -sha256 -hmac "$3" |
	    sed 's/^.*= //'
}
ts=$(date +%s)
sig=$(sign "$ts" "$TMP/gf" grafana-key)
api POST /v1/alarms/grafana -H "X-Grafana-Alerting-Signature: $sig" \
    -H "X-Grafana-Alerting-Signature-Timestamp: $ts" --data-binary @"$TMP/gf"
expect "HMAC right: 202" 202 '.events[0].verdicts[0].verdict == "started"'
api POST /v1/alarms/grafana -H "X-Grafana-Alerting-Signature: $sig" \
    -H "X-Grafana-Alerting-Signature-Timestamp: $ts" --data-binary @"$TMP/gf"
expect "HMAC replayed (the same signature again): 401" 401 \
    '.faultstring == "Authentication failed for alarm source grafana: this signature was already accepted (a replay)"'
api POST /v1/alarms/grafana -H "X-Grafana-Alerting-Signature: $(sign \
    "$ts" "$TMP/gf" other-key)" -H "X-Grafana-Alerting-Signature-Timestamp: \
$ts" --data-binary @"$TMP/gf"
expect "HMAC wrong: 401" 401 \
    '.faultstring == "Authentication failed for alarm source grafana: wrong signature in the X-Grafana-Alerting-Signature header"'
api POST /v1/alarms/grafana --data-binary @"$TMP/gf"
expect "HMAC absent: 401" 401 \
    '.faultstring == "Authentication failed for alarm source grafana: no X-Grafana-Alerting-Signature header"'
old=$((ts - 3600))
api POST /v1/alarms/grafana -H "X-Grafana-Alerting-Signature: $(sign \
    "$old" "$TMP/gf" grafana-key)" -H "X-Grafana-Alerting-Signature-Timestamp: \
$old" --data-binary @"$TMP/gf"
expect "HMAC replayed an hour later (stale timestamp): 401" 401 \
    '.faultstring | test("is 3[0-9]{3} s away from now, more than the tolerance of 60 s")'
ts2=$((ts + 1))
api POST /v1/alarms/grafana -H "X-Grafana-Alerting-Signature: $(sign \
    "$ts2" "$TMP/gf" grafana-key)" -H "X-Grafana-Alerting-Signature-Timestamp: \
$ts2" --data-binary @"$TMP/gf"
expect "a resend signed anew is taken: 202" 202

# --- HMAC without a timestamp, base64 with a prefix -----------------------
printf '{"event_id": "z1", "event_value": "1", "event_name": "Down", "host": "compute-5"}' >"$TMP/zb"
zsig=$(openssl dgst -sha256 -hmac zabbix-key -binary <"$TMP/zb" | base64 -w0)
api POST /v1/alarms/zabbix -H "X-Signature: sha256=$zsig" \
    --data-binary @"$TMP/zb"
expect "HMAC base64 with a prefix: 202" 202
api POST /v1/alarms/zabbix -H "X-Signature: $zsig" --data-binary @"$TMP/zb"
expect "without its prefix: 401" 401 '.faultstring | test("does not start with sha256=")'

# --- bearer, basic, the API token -----------------------------------------
api POST /v1/alarms/alertmanager -H 'Authorization: Bearer wrong' \
    --data-binary @"$TMP/gf"
expect "bearer wrong: 401" 401 '.faultstring | test("wrong token")'
check "bearer: WWW-Authenticate: Bearer" grep -qi \
    '^WWW-Authenticate: Bearer' "$TMP/headers"
api POST /v1/alarms/aodh -u aodh:nope --data-binary '{"alarm_id": "a1",
    "current": "alarm"}'
expect "basic wrong: 401" 401 '.faultstring | test("wrong user or password")'
check "basic: WWW-Authenticate: Basic realm" grep -qi \
    '^WWW-Authenticate: Basic realm="bora"' "$TMP/headers"
api POST /v1/alarms/aodh -u aodh:aodh-pass --data-binary '{"alarm_id": "a1",
    "alarm_name": "cpu", "current": "alarm", "previous": "ok"}'
expect "basic right: 202" 202
api POST /v1/alarms/generic --data-binary '{"key": "k"}'
expect "no entry, no API token: 401" 401 '.faultstring | test("no valid API token")'
api POST /v1/alarms/generic -H 'Authorization: Bearer wrong' \
    --data-binary '{"key": "k"}'
expect "no entry, a wrong API token: 401" 401

# Every refusal recorded: time, source, remote, size; no body.
api GET "/v1/alarm_auth_failures?limit=100" -H "$AUTH"
expect "refusals recorded (source, remote, size, reason)" 200 \
    '(.alarm_auth_failures | length) == 9 and
    all(.alarm_auth_failures[]; .remote == "127.0.0.1" and .created_at !=
    null and (has("body") | not)) and
    ([.alarm_auth_failures[] | select(.source == "grafana")] | length) ==
    4 and (.alarm_auth_failures[] | select(.reason | test("replay")) |
    .size == '"$(wc -c <"$TMP/gf")"')'
api GET "/v1/alarm_auth_failures?source=aodh" -H "$AUTH"
expect "refusals filtered by source" 200 \
    '(.alarm_auth_failures | length) == 1'
api GET "/v1/alarms?source=grafana" -H "$AUTH"
expect "a refused request is no alarm" 200 '(.alarms | length) == 2'
check "borad logged the refusals without secrets" sh -c "grep -q \
    'alarm grafana from 127.0.0.1 refused' '$TMP/borad.log' && ! grep -q \
    'grafana-key\|am-token\|aodh-pass\|$TOKEN' '$TMP/borad.log'"
check "healthy at the end" healthy

finish
