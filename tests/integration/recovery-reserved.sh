#!/bin/sh
#
# recovery-reserved.sh -- recoveries that run at once, and one that an
# engine crash interrupts, on one borad:
#  - two host failures of one segment at the same moment with one
#    reserved host left: one takes it, the other ends in error saying
#    no reserved host is free; with two left, each takes its own;
#  - borad killed with SIGKILL mid-evacuation: after the restart no
#    server is evacuated twice and the notification ends finished or
#    error, never stuck in running;
#  - a Keystone token that expires mid-flow is renewed, once.
# recovery-pg.sh does the first with two engines on PostgreSQL.
#
# Environment: BORA, BORAD, BUILDDIR, SRCDIR (see lib.sh).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/recovery-lib.sh"

two_hosts_cloud "$TMP/cloud.yaml" 2

sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
borad_recovery --lease 60s || exit 1

# --- two failures, one reserved host ----------------------------------------
segment_make reserved_host compute-3
two_failures "$URL" "$URL"
reserved_race 1

# --- two failures, two reserved hosts ---------------------------------------
sim_start --delay 0 --scenario "$TMP/cloud.yaml" || exit 1
segment_make reserved_host compute-3 compute-4
two_failures "$URL" "$URL"
reserved_race 2

# --- an engine killed mid-evacuation ----------------------------------------
cat >"$TMP/slow.yaml" <<'EOF'
service_down_time: 0
delays: {evacuate: 2}
latency: 0.3
hosts:
  - {name: compute-1}
  - {name: compute-2}
servers:
  - {name: slow, host: compute-1, count: 6, metadata: {HA_Enabled: "True"}}
EOF
sim_start --scenario "$TMP/slow.yaml" || exit 1
segment_make auto
sim_host compute-1 '{"alive": false}'
notify_host "$URL" compute-1 >"$TMP/n.json"
N=$(jq -r .notification.notification_uuid "$TMP/n.json")
_i=0
while [ $_i -lt 100 ] && ! grep -q '"evacuate"' "$SIM_LOG"; do
	sleep 0.1
	_i=$((_i + 1))
done
check "evacuations are under way" grep -q '"evacuate"' "$SIM_LOG"
kill -KILL "$BORAD_PID"
wait "$BORAD_PID" 2>/dev/null
BORAD_PID=
ok "borad killed mid-evacuation"
borad_recovery --lease 60s || exit 1
if notification_wait "$URL" "$N" finished error; then
	ok "after the restart the notification ends ($NSTATUS), not running"
else
	not_ok "after the restart the notification ends" "it is $NSTATUS"
fi
check "no server was evacuated twice" sh -c "$CALLS calls $SIM_LOG |
    grep evacuate | sort | uniq -d | grep -c . | grep -qx 0"
check "every server of compute-1 was tried or left for an operator" \
    test "$($CALLS calls "$SIM_LOG" | grep -c evacuate)" -le 6
if [ "$NSTATUS" = error ]; then
	# Either the interrupted call's own reason, or, when the kill fell
	# between evacuations, the flow's report naming the servers, as
	# Masakari words it: "... instances 'ID' from host 'compute-1'".
	REASON=$(curl -s "$URL/v1/notifications/$N" |
	    jq -r .notification.status_reason)
	case $REASON in
	*"interrupted by an engine stop"* | \
	*"Failed to evacuate instances "*" from host 'compute-1'"*)
		ok "an interrupted evacuation is an error that says so" ;;
	*)
		not_ok "an interrupted evacuation is an error that says so" \
		    "the reason is: $REASON" ;;
	esac
fi

# --- a token that expires mid-flow -----------------------------------------
cat >"$TMP/ttl.yaml" <<'EOF'
service_down_time: 0
delays: {evacuate: 2}
keystone: {token_ttl: 3}
hosts:
  - {name: compute-1}
  - {name: compute-2}
servers:
  - {name: vm, host: compute-1, count: 6, metadata: {HA_Enabled: "True"}}
EOF
borad_stop
sim_start --scenario "$TMP/ttl.yaml" || exit 1
borad_recovery || exit 1
segment_make auto
sim_host compute-1 '{"alive": false}'
N=$(notify_host "$URL" compute-1 | jq -r .notification.notification_uuid)
if notification_wait "$URL" "$N" finished; then
	ok "a recovery that outlives its token finishes"
else
	not_ok "a recovery that outlives its token finishes" "it is $NSTATUS"
fi
NTOK=$(jq -r 'select(.method == "POST" and .path ==
    "/identity/v3/auth/tokens") | .status' "$SIM_LOG" | wc -l)
check "the token was renewed before it expired ($NTOK tokens)" test \
    "$NTOK" -ge 2
check "once each time: every token issued was used" test "$(jq -r \
    'select(.path | startswith("/compute")) | .token' "$SIM_LOG" |
    sort -u | wc -l)" -eq "$NTOK"
check "and no call was refused" test "$(jq -r 'select(.status == 401) |
    .path' "$SIM_LOG" | wc -l)" -eq 0

finish
