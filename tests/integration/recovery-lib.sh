# recovery-lib.sh -- Masakari notifications for the recovery tests, after
# lib.sh and sim-lib.sh: a segment made through the API, host failures
# notified as masakari-monitors does, and the race of two of them for
# the reserved hosts.

NSTATUS=
NOTE_SEQ=0

# two_hosts_cloud FILE COUNT: the cloud of the races: compute-1 and
# compute-2 with COUNT servers each ("one-N", "two-N"), compute-3 and
# compute-4 kept aside as reserved hosts, compute-5.
two_hosts_cloud()
{
	cat >"$1" <<EOF
service_down_time: 0
hosts:
  - {name: compute-1}
  - {name: compute-2}
  - {name: compute-3, enabled: false}
  - {name: compute-4, enabled: false}
  - {name: compute-5}
servers:
  - {name: one, host: compute-1, count: $2, metadata: {HA_Enabled: "True"}}
  - {name: two, host: compute-2, count: $2, metadata: {HA_Enabled: "True"}}
EOF
}

# segment_make METHOD [RESERVED...]: the segment "seg" (made anew) of
# compute-1 to compute-5 with the method, and the reserved hosts.
segment_make()
{
	_m=$1
	shift
	for _s in $(curl -s "$URL/v1/segments" | jq -r '.segments[].uuid'); do
		curl -s -o /dev/null -X DELETE "$URL/v1/segments/$_s"
	done
	_seg=$(curl -s -X POST "$URL/v1/segments" -H 'Content-Type:
	    application/json' -d "{\"segment\": {\"name\": \"seg\",
	    \"recovery_method\": \"$_m\", \"service_type\": \"COMPUTE\",
	    \"options\": {\"wait_period_after_service_update\": 0,
	    \"verify_interval\": 0.1}}}" | jq -r .segment.uuid)
	for _h in compute-1 compute-2 compute-3 compute-4 compute-5; do
		_r=false
		for _x in "$@"; do
			[ "$_x" = "$_h" ] && _r=true
		done
		curl -s -o /dev/null -X POST "$URL/v1/segments/$_seg/hosts" \
		    -H 'Content-Type: application/json' -d "{\"host\":
		    {\"name\": \"$_h\", \"type\": \"COMPUTE\",
		    \"control_attributes\": \"SSH\", \"reserved\": $_r}}"
	done
	SEG=$_seg
}

# notify_host URL HOST: masakari-monitors' notification that HOST
# stopped (a new generated_time each time); prints the answer.
notify_host()
{
	NOTE_SEQ=$((NOTE_SEQ + 1))
	curl -s -X POST "$1/v1/notifications" -H 'Content-Type:
	    application/json' -d "{\"notification\": {\"type\":
	    \"COMPUTE_HOST\", \"hostname\": \"$2\", \"generated_time\":
	    \"2026-11-23T$(printf %02d $((NOTE_SEQ % 24))):16:11.666360\",
	    \"payload\": {\"event\": \"STOPPED\", \"cluster_status\":
	    \"OFFLINE\", \"host_status\": \"NORMAL\"}}}"
}

# notification_wait URL UUID STATUS...: wait (120 s) for one of the
# statuses; NSTATUS is the last seen.
notification_wait()
{
	_u=$1
	_n=$2
	shift 2
	_i=0
	while [ $_i -lt 1200 ]; do
		NSTATUS=$(curl -s "$_u/v1/notifications/$_n" |
		    jq -r .notification.status)
		for _w in "$@"; do
			[ "$NSTATUS" = "$_w" ] && return 0
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# two_failures URL1 URL2: compute-1 and compute-2 die and both are
# notified at the same moment, one through each URL; N1, N2 their ids.
two_failures()
{
	sim_host compute-1 '{"alive": false}'
	sim_host compute-2 '{"alive": false}'
	notify_host "$1" compute-1 >"$TMP/n1.json" &
	_p=$!
	notify_host "$2" compute-2 >"$TMP/n2.json"
	wait $_p
	N1=$(jq -r .notification.notification_uuid "$TMP/n1.json")
	N2=$(jq -r .notification.notification_uuid "$TMP/n2.json")
	check "both notifications accepted" test "${#N1}" -eq 36 -a "${#N2}" -eq 36
	notification_wait "$URL" "$N1" finished error
	S1=$NSTATUS
	notification_wait "$URL" "$N2" finished error
	S2=$NSTATUS
}

# reserved_race K: K reserved hosts were free for the two failures.
reserved_race()
{
	curl -s "$SIM/_sim/state" >"$TMP/state.json"
	# host of each server: "one=compute-3"...
	jq -r '.servers[] | (.name | sub("-[0-9]+$"; "")) + "=" + .host' \
	    "$TMP/state.json" | sort -u >"$TMP/where.txt"
	if [ "$1" -eq 1 ]; then
		check "one reserved host: one recovery finished, one failed ($S1, $S2)" \
		    sh -c "test \"$S1 $S2\" = 'finished error' -o \
		    \"$S1 $S2\" = 'error finished'"
		_lost=$N1
		[ "$S1" = finished ] && _lost=$N2
		check "the one that lost says no reserved host is free" sh -c \
		    "curl -s $URL/v1/notifications/$_lost | jq -e \
		    '.notification.status_reason | contains(\"No reserved_hosts \
available for evacuation.\") and contains(\"compute-3\")'"
		check "the winner's servers, and only them, went to compute-3" \
		    test "$(grep -c '=compute-3$' "$TMP/where.txt")" -eq 1
	else
		check "two reserved hosts: both recoveries finished" test \
		    "$S1 $S2" = "finished finished"
		check "each to its own reserved host" sh -c "grep -qx \
		    'one=compute-[34]' $TMP/where.txt && grep -qx \
		    'two=compute-[34]' $TMP/where.txt && test \
		    \$(cut -d= -f2 $TMP/where.txt | sort -u | wc -l) -eq 2"
	fi
	check "no server went to two places" test "$(cut -d= -f1 \
	    "$TMP/where.txt" | sort | uniq -d | wc -l)" -eq 0
	check "no reserved host is left reserved" test "$(curl -s \
	    "$URL/v1/segments/$SEG/hosts?reserved=true" |
	    jq '.hosts | length')" -eq 0
}
