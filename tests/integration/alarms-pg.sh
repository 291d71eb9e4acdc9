#!/bin/sh
#
# alarms-pg.sh -- the alarm intake on PostgreSQL: two borad on one
# database receiving the same alarm at the same instant start one
# execution per key (the hold is a unique key in the store, not a map in
# memory), and every alarm is in the decision log of both; with the
# database stopped, the webhook answers 503 with Retry-After (nothing is
# acknowledged that is not stored); restarted, the sender's resend is
# taken and starts its execution; no alarm that got a 2xx is missing.
#
# Starts its own throwaway cluster (tests/pg-env.sh).  Environment:
# BORAD, SRCDIR, BUILDDIR; KEYS (alarms sent to both at once, default 40).

. "$(dirname "$0")/multi-lib.sh"

KEYS=${KEYS:-40}

cp "$SRCDIR"/lua/*.lua "$TMP/lua/"
cat >"$TMP/workflows/pg.yaml" <<'EOF'
version: '2.0'
name: pg
workflows:
  recover:
    input: [host]
    tasks:
      t: {action: std.noop}
triggers:
  host:
    source: generic
    workflow: recover
    input: {host: <% alert.resource.host %>}
    until-resolved: true
EOF
engine_start 1 || { not_ok "borad 1 starts"; finish; }
engine_start 2 || { not_ok "borad 2 starts"; finish; }
ok "two borad on one PostgreSQL"

# --- the same alarm to both at the same instant ---------------------------
# A client per engine, released together by a barrier for each key;
# each records "KEY STATUS VERDICT ALARM_ID" lines.
python3 - "$URL_1" "$URL_2" "$KEYS" "$TMP/same" <<'EOF'
import json, sys, threading, urllib.request
u1, u2, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
bar = threading.Barrier(2)
lines = []
lock = threading.Lock()
def post(url, body):
    req = urllib.request.Request(url + "/v1/alarms/generic", data=body,
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
def client(url):
    for i in range(n):
        body = json.dumps({"key": "same-%d" % i, "name": "HostDown",
            "resource": {"host": "compute-%d" % i}}).encode()
        bar.wait()
        st, ans = post(url, body)
        v = ans.get("events", [{}])[0].get("verdicts", [{}])[0]
        with lock:
            lines.append("same-%d %d %s %s %s" % (i, st,
                v.get("verdict"), v.get("execution_id"),
                ans.get("alarm_id")))
ts = [threading.Thread(target=client, args=(u,)) for u in (u1, u2)]
for t in ts: t.start()
for t in ts: t.join()
open(out, "w").write("\n".join(sorted(lines)) + "\n")
EOF
check "every request answered 202 ($((2 * KEYS)))" test \
    "$(grep -c ' 202 ' "$TMP/same")" -eq $((2 * KEYS))
nstarted=$(grep -c ' started ' "$TMP/same")
ndup=$(grep -c ' duplicate ' "$TMP/same")
check "one started and one duplicate per key ($nstarted started, $ndup \
duplicates)" test "$nstarted" -eq "$KEYS" -a "$ndup" -eq "$KEYS"
bad=$(awk '{ k[$1] = k[$1] " " $3 ":" $4 } END { for (x in k) {
    split(k[x], a, " "); split(a[1], p, ":"); split(a[2], q, ":");
    if (p[2] != q[2]) print x } }' "$TMP/same" | wc -l)
check "each duplicate names the execution its twin started" test "$bad" -eq 0
check "one execution per key in the store" test "$(sql "SELECT count(*)
    FROM executions WHERE params LIKE '%same-%'")" -eq "$KEYS"
check "every alarm of both engines in the log" test "$(sql "SELECT count(*)
    FROM alarms WHERE state = 'decided'")" -eq $((2 * KEYS))
api GET "/v1/alarms?verdict=duplicate&limit=1000"
expect "the duplicates listed from either engine" 200 \
    "(.alarms | length) == $KEYS"

# --- the database stopped -------------------------------------------------
if [ -z "${BORA_TEST_PG_STOP:-}" ]; then
	echo "# BORA_TEST_PGURL is set: no server of our own to stop"
	finish
fi
engine_stop_2()
{
	kill -TERM "$PID_2" 2>/dev/null
	wait "$PID_2" 2>/dev/null
}
engine_stop_2
URL=$URL_1
: >"$TMP/acked"
# post KEY: post one alarm to borad 1; "KEY STATUS ALARM_ID" appended to
# $TMP/acked when it was 2xx.
post()
{
	_st=$(curl -s -o "$TMP/p.$1" -D "$TMP/h.$1" -w '%{http_code}' \
	    --max-time 10 -XPOST "$URL_1/v1/alarms/generic" --data-binary \
	    "{\"key\": \"$1\", \"name\": \"HostDown\", \"resource\": \
{\"host\": \"$1\"}}")
	case $_st in
	2*) echo "$1 $_st $(jq -r .alarm_id "$TMP/p.$1")" >>"$TMP/acked" ;;
	esac
	echo "$_st"
}
for k in before-1 before-2 before-3; do
	post $k >/dev/null
done
check "three alarms taken before the stop" test "$(wc -l <"$TMP/acked")" -eq 3
eval "$BORA_TEST_PG_STOP"
st=$(post during-1)
check "the database down: the webhook answers 503 ($st)" test "$st" = 503
check "with Retry-After" grep -qi '^Retry-After: [0-9]' "$TMP/h.during-1"
check "saying the alarm was not stored" jq -e '.faultstring |
    test("not stored; send it again")' "$TMP/p.during-1"
check "nothing acknowledged while down" test "$(wc -l <"$TMP/acked")" -eq 3
# A sender that resends until it gets a 2xx, as Alertmanager does.
(
	i=0
	while [ $i -lt 100 ]; do
		case $(post during-1) in
		2*) exit 0 ;;
		esac
		sleep 0.2
		i=$((i + 1))
	done
	exit 1
) &
resend=$!
sleep 1
api GET /healthz
expect "the process stays alive (/healthz 200)" 200
eval "$BORA_TEST_PG_START"
wait $resend
check "restarted: the resent alarm is taken" test $? -eq 0
check "its answer says it started" jq -e '.events[0].verdicts[0].verdict ==
    "started"' "$TMP/p.during-1"
x=$(jq -r '.events[0].verdicts[0].execution_id' "$TMP/p.during-1")
check "its execution runs to SUCCESS" sh -c "i=0; while [ \$i -lt 100 ]; do
    [ \"\$(curl -s '$URL_1/v2/executions/$x' | jq -r .state)\" = SUCCESS ] &&
    exit 0; sleep 0.1; i=\$((i + 1)); done; exit 1"
post after-1 >/dev/null
missing=0
while read -r k st id; do
	api GET "/v1/alarms/$id"
	if [ "$STATUS" != 200 ] || [ "$(jb '.events[0].key')" != "$k" ]; then
		missing=$((missing + 1))
	fi
done <"$TMP/acked"
check "no alarm that got a 2xx is missing ($(wc -l <"$TMP/acked") acked)" \
    test "$missing" -eq 0 -a "$(wc -l <"$TMP/acked")" -eq 5
check "every acknowledged alarm decided" test "$(sql "SELECT count(*)
    FROM alarms WHERE state <> 'decided'")" -eq 0

for n in 1 2; do
	sanitizer_check "$TMP/borad-$n.log"
done
finish
