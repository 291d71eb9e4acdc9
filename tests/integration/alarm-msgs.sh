#!/bin/sh
#
# alarm-msgs.sh -- what the alarm intake tells users, and how long it
# keeps alarms, against a real borad over real HTTP, on SQLite and then
# on PostgreSQL: a payload that does not parse (400) and a request its
# source's authentication refuses (401) each make exactly one
# BORA-ALM-001 message with the catalog's text (source, route, reason;
# never the body nor a secret), the request's id and the alarm, and a
# sender refused again within ten minutes no more message; a storm
# of alarms past a trigger's limit makes one BORA-ALM-002 message per
# trigger, limit.by value and window, not one per alarm; the
# deployer's text replaces the catalog's; alarms older than
# alarm-retention go in batches with their events and verdicts, while
# recent ones and those whose hold is in force stay.
#
# Starts its own throwaway PostgreSQL cluster (tests/pg-env.sh).
# Environment: BORAD, SRCDIR, BUILDDIR (see lib.sh).

. "$(dirname "$0")/lib.sh"

# pg-env.sh takes the EXIT trap; chain both cleanups.
. "$SRCDIR/tests/pg-env.sh"
trap 'cleanup; pg_env_stop' EXIT
PSQL=$(command -v psql 2>/dev/null)
if [ -z "$PSQL" ] && [ -n "${pg_env_bin:-}" ]; then
	PSQL=$pg_env_bin/psql
fi
[ -x "$PSQL" ] || skip "psql is not installed"

TOKEN=alarm-sender-token-s3cret
cat >"$TMP/workflows/alm.yaml" <<'EOF'
version: '2.0'
name: alm
workflows:
  drain:
    input: [host]
    tasks:
      t: {action: std.noop}
triggers:
  storm:
    source: generic
    when: <% alert.name == 'Storm' %>
    workflow: drain
    input: {host: <% alert.resource.host %>}
    limit: {count: 2, window: 10m, by: <% alert.resource.host %>}
  held:
    source: generic
    when: <% alert.name == 'Held' %>
    workflow: drain
    input: {host: <% alert.resource.host %>}
    until-resolved: true
EOF
cat >"$TMP/borad.conf" <<EOF
alarm-auth:
  - generic bearer token=$TOKEN
EOF
cat >"$TMP/texts.yaml" <<'EOF'
BORA-ALM-001:
  message: "Alarme de {source} refusée sur {route} : {reason}."
  action: "Corrigez l'émetteur."
EOF
AUTH="Authorization: Bearer $TOKEN"

# db SQL: one statement on the store of this round, its rows printed.
db()
{
	if [ -n "${BORAD_DB:-}" ]; then
		"$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$BORAD_DB" -c "$1"
	else
		python3 - "$TMP/bora.db" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute(sys.argv[2]):
    print("|".join(str(x) for x in r))
db.commit()
EOF
	fi
}

# alarm BODY [CURL-ARGS...]: post to the generic source.
alarm()
{
	_b=$1
	shift
	api POST /v1/alarms/generic -H "$AUTH" \
	    -H 'Content-Type: application/json' --data-binary "$_b" "$@"
}

# nmsg QUERY: how many messages GET /v2/messages?QUERY lists.
nmsg()
{
	curl -s "$URL/v2/messages?$1&limit=1000" | jq '.messages | length'
}

# reaped KIND: what the reapers of this borad deleted of KIND.
reaped()
{
	curl -s "$URL/metrics" | sed -n \
	    "s/^bora_reaped_rows_total{kind=\"$1\"} \([0-9]*\)$/\1/p"
}

# status PATH: the status of GET PATH.
status()
{
	curl -s -o /dev/null -w '%{http_code}' "$URL$1"
}

# storm FROM TO: alarms storm-FROM to storm-TO on compute-7, each with
# its request id; the verdicts of alm.storm in $TMP/verdicts.
storm()
{
	: >"$TMP/verdicts"
	for i in $(seq "$1" "$2"); do
		alarm "{\"key\": \"storm-$i\", \"name\": \"Storm\",
		    \"resource\": {\"host\": \"compute-7\"}}" \
		    -H "X-Request-Id: req-storm-$S-$i"
		jb '.events[0].verdicts[] | select(.trigger == "alm.storm") |
		    .verdict' >>"$TMP/verdicts"
	done
}

# round STORE: every check on one store.
round()
{
	S=$1
	rm -f "$TMP/bora.db"
	borad_start -f "$TMP/borad.conf" --message-ttl 1h \
	    --alarm-retention 1h --alarm-reap-interval 1h ||
	    { not_ok "$S: borad starts"; return; }

	# ---- a payload that does not parse: one message --------------
	alarm '{"key": "k1", "name": "Bad", "status": "burning",
	    "password": "hunter2-in-body"}' -H "X-Request-Id: req-bad-$S"
	expect "$S: a payload that does not parse is 400" 400 \
	    '.alarm_id != null'
	BAD=$(jb .alarm_id)
	REASON=$(curl -s "$URL/v1/alarms/$BAD" | jq -r .error)
	api GET "/v2/messages?event_id=BORA-ALM-001"
	expect "$S: one BORA-ALM-001 message" 200 '.messages | length == 1'
	expect "$S: about the alarm, a WARNING, with the request's id" 200 \
	    ".messages[0] | .resource_type == \"alarm\" and
	     .resource_uuid == \"$BAD\" and .message_level == \"WARNING\" and
	     .request_id == \"req-bad-$S\""
	TEXT=$(jb '.messages[0].user_message')
	WANT="An alarm from generic at /v1/alarms/generic was rejected: \
$REASON. Fix what the sender sends, or the credentials it sends with \
(alarm-auth in borad.conf); \`bora trigger test\` shows what borad \
makes of a payload."
	check "$S: the catalog's text: source, route, reason ($REASON)" \
	    test "$TEXT" = "$WANT"
	[ "$TEXT" = "$WANT" ] || echo "# got: $TEXT"
	check "$S: the reason names what is wrong" sh -c \
	    "printf '%s' '$REASON' | grep -q status"
	check "$S: never the body" sh -c \
	    "! curl -s '$URL/v2/messages' | grep -q hunter2"

	# ---- a request its source refuses: one message ---------------
	api POST /v1/alarms/generic -H "Authorization: Bearer wrong-$TOKEN" \
	    -H "X-Request-Id: req-denied-$S" --data-binary '{"key": "k2"}'
	expect "$S: a refused request is 401" 401
	api GET "/v2/messages?event_id=BORA-ALM-001&request_id=req-denied-$S"
	expect "$S: one message for the refusal, no alarm stored" 200 \
	    '.messages | length == 1 and (.[0].resource_uuid == null) and
	     .[0].resource_type == "alarm"'
	TEXT=$(jb '.messages[0].user_message')
	WANT="An alarm from generic at /v1/alarms/generic was rejected: \
wrong token in the Authorization header. Fix what the sender sends, or \
the credentials it sends with (alarm-auth in borad.conf); \`bora trigger \
test\` shows what borad makes of a payload."
	check "$S: it names the route and why" test "$TEXT" = "$WANT"
	[ "$TEXT" = "$WANT" ] || echo "# got: $TEXT"
	check "$S: never a token" sh -c \
	    "! curl -s '$URL/v2/messages' | grep -q '$TOKEN'"
	check "$S: two BORA-ALM-001 messages in all" test \
	    "$(nmsg event_id=BORA-ALM-001)" = 2

	# ---- one sender refused again and again: told once -----------
	N0=$(db "SELECT count(*) FROM alarm_auth_failures")
	i=0
	while [ $i -lt 20 ]; do
		curl -s -o /dev/null -X POST "$URL/v1/alarms/generic" \
		    -H "Authorization: Bearer wrong-$TOKEN" \
		    --data-binary '{"key": "k2"}'
		i=$((i + 1))
	done
	check "$S: 20 more refusals, each recorded" test \
	    "$(db "SELECT count(*) FROM alarm_auth_failures")" = $((N0 + 20))
	check "$S: and no more messages within the window" test \
	    "$(nmsg event_id=BORA-ALM-001)" = 2
	alarm '{"key": "k3", "name": "Fine", "resource": {"host": "h"}}'
	expect "$S: a valid alarm is taken" 202
	check "$S: a valid alarm tells nothing" test \
	    "$(nmsg event_id=BORA-ALM-001)" = 2

	# ---- a storm: one message per trigger, by value and window ---
	storm 1 25
	check "$S: 25 alarms: 2 started, 23 limited" test \
	    "$(grep -c limited "$TMP/verdicts")" = 23
	api GET "/v2/messages?event_id=BORA-ALM-002"
	expect "$S: one BORA-ALM-002 message for the storm" 200 \
	    '.messages | length == 1'
	expect "$S: about the trigger, with the first turned away's request" \
	    200 ".messages[0] | .resource_type == \"trigger\" and
	     .resource_uuid == \"alm.storm\" and
	     .request_id == \"req-storm-$S-3\""
	TEXT=$(jb '.messages[0].user_message')
	WANT="Trigger alm.storm reached its limit of 2 executions per 600 s \
(limit.by compute-7): alarm storm-3 and the others of this window start \
nothing. If this is no alarm storm, raise the trigger's limit; \`bora \
alarm list --verdict limited\` shows the alarms turned away."
	check "$S: the catalog's text: trigger, limit, by value, key" \
	    test "$TEXT" = "$WANT"
	[ "$TEXT" = "$WANT" ] || echo "# got: $TEXT"
	# One alarm of several events past the limit: still one message.
	alarm '[{"key": "m1", "name": "Storm", "resource": {"host": "c-9"}},
	    {"key": "m2", "name": "Storm", "resource": {"host": "c-9"}},
	    {"key": "m3", "name": "Storm", "resource": {"host": "c-9"}},
	    {"key": "m4", "name": "Storm", "resource": {"host": "c-9"}}]'
	expect "$S: one alarm of four events on another host: 2 limited" 202 \
	    '[.events[].verdicts[] | select(.trigger == "alm.storm") |
	     .verdict] == ["started", "started", "limited", "limited"]'
	check "$S: another by value: one message more, two in all" test \
	    "$(nmsg event_id=BORA-ALM-002)" = 2
	check "$S: it is about c-9 and alarm m3" test "$(curl -s \
	    "$URL/v2/messages?event_id=BORA-ALM-002&user_message=has:c-9" |
	    jq -r '.messages[0].user_message' | grep -c 'alarm m3 ')" = 1
	# A window over opens another: one more message when it trips.
	db "UPDATE alarm_limits SET window_start = window_start - 700000" \
	    >/dev/null
	storm 26 29
	check "$S: a new window: 2 started, 2 limited" test \
	    "$(tr '\n' ' ' <"$TMP/verdicts")" = \
	    "started started limited limited "
	check "$S: a new window, one message more" test \
	    "$(nmsg event_id=BORA-ALM-002)" = 3
	borad_stop

	# ---- the deployer's text -------------------------------------
	borad_start -f "$TMP/borad.conf" --messages-file "$TMP/texts.yaml" \
	    --alarm-reap-interval -1 || { not_ok "$S: borad restarts"; return; }
	alarm 'not json at all' -H "X-Request-Id: req-fr-$S"
	expect "$S: not JSON is 400" 400
	api GET "/v2/messages?request_id=req-fr-$S"
	expect "$S: the deployer's text replaces the catalog's" 200 \
	    '.messages | length == 1 and (.[0].user_message |
	     startswith("Alarme de generic refusée sur /v1/alarms/generic : ")
	     and endswith(". Corrigez l'"'"'émetteur."))'

	# ---- retention -------------------------------------------------
	: >"$TMP/old"
	for i in 1 2 3 4 5; do
		alarm "{\"key\": \"old-$i\", \"name\": \"Nothing\"}"
		jb .alarm_id >>"$TMP/old"
	done
	alarm '{"key": "held-1", "name": "Held", "resource": {"host": "h1"}}'
	expect "$S: an alarm that holds its key until resolved" 202 \
	    '.events[0].verdicts[] | select(.trigger == "alm.held") |
	     .verdict == "started"'
	HELD=$(jb .alarm_id)
	alarm '{"key": "recent-1", "name": "Nothing"}'
	RECENT=$(jb .alarm_id)
	borad_stop
	OLD=$(sed "s/.*/'&'/" "$TMP/old" | paste -sd, -)
	# Alarms of a day ago (the held one and the refused ones too).
	db "UPDATE alarms SET received_at = received_at - 86400000
	    WHERE id <> '$RECENT'" >/dev/null
	db "UPDATE alarm_auth_failures SET time = time - 86400000" >/dev/null
	NOLD=$(db "SELECT count(*) FROM alarms WHERE id <> '$RECENT' AND
	    id <> '$HELD'")
	NEV=$(db "SELECT count(*) FROM alarm_events WHERE alarm_id IN ($OLD)")
	check "$S: old alarms have events ($NEV)" test "$NEV" -ge 5
	borad_start -f "$TMP/borad.conf" --alarm-retention 1h \
	    --alarm-reap-interval 300ms --alarm-reap-batch-size 2 ||
	    { not_ok "$S: borad restarts"; return; }
	yields 15 0 db "SELECT count(*) FROM alarms WHERE id IN ($OLD)"
	check "$S: old alarms are purged" test \
	    "$(db "SELECT count(*) FROM alarms WHERE id IN ($OLD)")" = 0
	api GET "/v1/alarms/$(head -1 "$TMP/old")"
	expect "$S: an old alarm is gone from the API" 404
	check "$S: their events went with them" test "$(db "SELECT count(*)
	    FROM alarm_events WHERE alarm_id IN ($OLD)")" = 0
	check "$S: and their verdicts" test "$(db "SELECT count(*)
	    FROM alarm_decisions WHERE alarm_id IN ($OLD)")" = 0
	check "$S: the invalid ones too" test "$(db "SELECT count(*)
	    FROM alarms WHERE id = '$BAD'")" = 0
	check "$S: and the refused requests" test "$(db "SELECT count(*)
	    FROM alarm_auth_failures")" = 0
	api GET "/v1/alarms/$HELD"
	expect "$S: an old alarm whose hold is in force stays" 200 \
	    '.state == "decided"'
	api GET "/v1/alarms/$RECENT"
	expect "$S: a recent alarm stays" 200
	check "$S: the messages stay: they have their own TTL" test \
	    "$(nmsg event_id=BORA-ALM-002)" = 3
	check "$S: metrics: every old alarm reaped ($NOLD)" test \
	    "$(reaped alarms)" = "$NOLD"
	check "$S: metrics: their events" test "$(reaped alarm_events)" -ge \
	    "$NEV"
	check "$S: in batches of 2" test "$(grep -c \
	    'reaper: 2 old alarms deleted' "$TMP/borad.log")" -ge \
	    $((NOLD / 2))
	check "$S: no batch larger than 2" sh -c "! grep -E \
	    'reaper: ([3-9]|[0-9][0-9]+) old alarms' '$TMP/borad.log'"
	# Resolved, its hold no longer in force: the next round takes it.
	alarm '{"key": "held-1", "name": "Held", "status": "resolved",
	    "resource": {"host": "h1"}}'
	expect "$S: the held key is resolved" 202
	yields 15 404 status "/v1/alarms/$HELD"
	check "$S: once resolved, the old held alarm goes" test \
	    "$(status "/v1/alarms/$HELD")" = 404
	borad_stop
	sanitizer_check "$TMP/borad.log"
	mv "$TMP/borad.log" "$TMP/borad-$S.log"
}

round sqlite
BORAD_DB=$BORA_TEST_PGURL
round pg

finish
