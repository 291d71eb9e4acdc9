#!/bin/sh
#
# recovery.sh -- a host failure with 200 servers on the simulated cloud
# (bora sim), recovered by the shipped masakari.host_failure flow (auto:
# force the service down, list the servers, evacuate each, confirm it,
# stop it again when it was not running): the wall time from the
# masakari-monitors notification to the end of the recovery, and
# borad's CPU time and peak memory, for several evacuation
# concurrencies (host_failure_recovery_threads; Masakari runs 3 at a
# time), with the simulator's delays at zero and at realistic values
# (an evacuation taking EVACUATE seconds).  Each run gets a fresh borad
# and store.  It builds nothing and is never run by make check.
#
# Environment:
#   BORA, BORAD   the binaries (default ./src/bora, ./src/borad)
#   SERVERS       servers on the failed host (default 200)
#   ZERO          concurrencies with zero delays (default "1 3 10 50 200")
#   REAL          concurrencies with realistic delays (default "3 10 50 200")
#   EVACUATE      seconds an evacuation takes when realistic (default 10)
#   BORA_DB       a PostgreSQL URL to use instead of a SQLite file

BORA=${BORA:-./src/bora}
BORAD=${BORAD:-./src/borad}
SERVERS=${SERVERS:-200}
ZERO=${ZERO-1 3 10 50 200}
REAL=${REAL-3 10 50 200}
EVACUATE=${EVACUATE:-10}
here=$(cd "$(dirname "$0")/.." && pwd)

for b in "$BORA" "$BORAD"; do
	if [ ! -x "$b" ]; then
		echo "bench: $b is not executable (set BORA and BORAD)" >&2
		exit 1
	fi
done
for t in curl jq python3; do
	command -v $t >/dev/null 2>&1 || { echo "bench: $t is needed" >&2;
	    exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-bench-recovery.XXXXXX") || exit 1
SIM_PID=
BORAD_PID=
stop_all()
{
	for p in $BORAD_PID $SIM_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	BORAD_PID=
	SIM_PID=
}
trap 'stop_all; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1]); s.close()'
}

# start_sim DELAYS: the cloud, with its delays (YAML flow mapping).
start_sim()
{
	cat >"$tmp/cloud.yaml" <<EOF
service_down_time: 0
delays: $1
hosts:
  - {name: compute-1}
  - {name: compute-2}
  - {name: compute-3}
  - {name: compute-4}
servers:
  - {name: vm, host: compute-1, count: $SERVERS, metadata: {HA_Enabled: "True"}}
EOF
	rm -f "$tmp/sim.port"
	"$BORA" sim --listen 127.0.0.1:0 --port-file "$tmp/sim.port" \
	    --scenario "$tmp/cloud.yaml" --log /dev/null 2>"$tmp/sim.err" &
	SIM_PID=$!
	while [ ! -s "$tmp/sim.port" ]; do
		kill -0 "$SIM_PID" 2>/dev/null || { cat "$tmp/sim.err"; exit 1; }
		sleep 0.05
	done
	SIM=http://127.0.0.1:$(cat "$tmp/sim.port")
	curl -sf -o /dev/null -X POST "$SIM/_sim/hosts/compute-1" \
	    -d '{"alive": false}'
}

# start_borad: a fresh borad on a fresh store, the shipped flows.
start_borad()
{
	rm -f "$tmp"/bora.db*
	PORT=$(port)
	URL=http://127.0.0.1:$PORT
	OS_AUTH_URL=$SIM/identity OS_USERNAME=admin OS_PASSWORD=secret \
	    OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default \
	    OS_PROJECT_DOMAIN_NAME=Default OS_CLOUD= \
	    "$BORAD" -d --db "${BORA_DB:-sqlite:$tmp/bora.db}" \
	    --listen "127.0.0.1:$PORT" --workflows "$here/workflows" \
	    --actions "$here/actions" --lua "$here/lua" \
	    >"$tmp/borad.log" 2>&1 &
	BORAD_PID=$!
	while ! curl -sf -o /dev/null "$URL/readyz"; do
		kill -0 "$BORAD_PID" 2>/dev/null || { cat "$tmp/borad.log";
		    exit 1; }
		sleep 0.05
	done
}

# cpu_ms: borad's user + system CPU time so far.
cpu_ms()
{
	python3 -c "
import os
f = open('/proc/$BORAD_PID/stat').read().rsplit(')', 1)[1].split()
print(int((int(f[11]) + int(f[12])) * 1000 / os.sysconf('SC_CLK_TCK')))"
}

# rss_mb: borad's peak resident memory.
rss_mb()
{
	awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$BORAD_PID/status"
}

# one DELAYS THREADS VERIFY: one recovery; prints its figures.
one()
{
	start_sim "$1"
	start_borad
	seg=$(curl -s -X POST "$URL/v1/segments" -H 'Content-Type: application/json' \
	    -d "{\"segment\": {\"name\": \"seg\", \"recovery_method\": \"auto\",
	    \"service_type\": \"COMPUTE\", \"options\":
	    {\"host_failure_recovery_threads\": $2, \"verify_interval\": $3,
	    \"wait_period_after_evacuation\": 600}}}" | jq -r .segment.uuid)
	curl -s -o /dev/null -X POST "$URL/v1/segments/$seg/hosts" \
	    -H 'Content-Type: application/json' -d '{"host": {"name":
	    "compute-1", "type": "COMPUTE", "control_attributes": "SSH"}}'
	cpu0=$(cpu_ms)
	t0=$(python3 -c 'import time; print(time.monotonic())')
	n=$(curl -s -X POST "$URL/v1/notifications" -H 'Content-Type: application/json' \
	    -d '{"notification": {"type": "COMPUTE_HOST", "hostname": "compute-1",
	    "generated_time": "2026-11-23T01:16:11.666360", "payload": {"event":
	    "STOPPED", "cluster_status": "OFFLINE", "host_status": "NORMAL"}}}' |
	    jq -r .notification.notification_uuid)
	while :; do
		s=$(curl -s "$URL/v1/notifications/$n" | jq -r .notification.status)
		case $s in
		finished|error|failed|ignored) break ;;
		esac
		sleep 0.05
	done
	t1=$(python3 -c 'import time; print(time.monotonic())')
	moved=$(curl -s "$SIM/_sim/state" | jq '[.servers[] |
	    select(.host != "compute-1")] | length')
	printf '%-9s %8s %10.1f %10s %8s %7s/%s\n' "$4" "$2" \
	    "$(python3 -c "print($t1 - $t0)")" "$(($(cpu_ms) - cpu0))" \
	    "$(rss_mb)" "$moved" "$SERVERS"
	[ "$s" = finished ] || echo "  (notification $s: $(curl -s \
	    "$URL/v1/notifications/$n" | jq -r .notification.status_reason))"
	stop_all
}

echo "host failure of $SERVERS servers, bora $("$BORAD" -V 2>&1 | head -1)," \
    "store ${BORA_DB:-SQLite}"
printf '%-9s %8s %10s %10s %8s %9s\n' delays threads wall_s cpu_ms \
    rss_mb evacuated
for c in $ZERO; do
	one "{evacuate: 0, stop: 0, start: 0}" "$c" 0.05 zero
done
for c in $REAL; do
	one "{evacuate: $EVACUATE, stop: 3, start: 4}" "$c" 1 "${EVACUATE}s"
done
