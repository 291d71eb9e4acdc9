# sim-lib.sh -- the simulated cloud for the recovery tests, sourced
# after lib.sh: `bora sim` on a port of its own that stays the same
# across restarts (so borad's credentials keep pointing at it), borad
# started with the shipped workflows, actions and Lua library and the
# simulator's credentials, and runs of workflows compared with what
# Masakari does (sim-calls.py).
#
# Environment: BORA (the CLI), and lib.sh's.

: "${BORA:=$BUILDDIR/src/bora}"
[ -x "$BORA" ] || skip "$BORA is not built"

SIM_PID=
SIM_PORT=$(free_port)
SIM=http://127.0.0.1:$SIM_PORT
SIM_LOG=$TMP/sim.log
CALLS="python3 $SRCDIR/tests/integration/sim-calls.py"

# sim_stop: SIGTERM the simulator and wait for it.
sim_stop()
{
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=
	fi
}

# sim_start [ARGS...]: (re)start bora sim on SIM_PORT, logging to
# SIM_LOG (emptied).
sim_start()
{
	sim_stop
	: >"$SIM_LOG"
	rm -f "$TMP/sim.port"
	"$BORA" sim --listen "127.0.0.1:$SIM_PORT" --port-file "$TMP/sim.port" \
	    --log "$SIM_LOG" "$@" 2>>"$TMP/sim.err" &
	SIM_PID=$!
	_i=0
	while [ ! -s "$TMP/sim.port" ] && [ $_i -lt 100 ]; do
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			sed 's/^/# sim: /' "$TMP/sim.err"
			SIM_PID=
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
}

cleanup_sim()
{
	sim_stop
	cleanup
}
trap cleanup_sim EXIT

# A clean OpenStack environment, then the simulator's credentials.
for _v in $(env | sed -n 's/^\(OS_[A-Z_]*\)=.*/\1/p'); do
	unset "$_v"
done
export OS_AUTH_URL=$SIM/identity OS_USERNAME=admin OS_PASSWORD=secret \
    OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default \
    OS_PROJECT_DOMAIN_NAME=Default
export HOME="$TMP"

# borad_recovery [ARGS...]: borad with the shipped workflows, actions and
# Lua library, and the test's own workflows folder.
borad_recovery()
{
	borad_start --workflows "$SRCDIR/workflows" \
	    --actions "$SRCDIR/actions" --lua "$SRCDIR/lua" "$@"
}

# sim_host NAME JSON: change a host of the running simulator.
sim_host()
{
	curl -sf -o /dev/null -X POST "$SIM/_sim/hosts/$1" -d "$2"
}

# run_flow WORKFLOW INPUT [STATE]: start an execution, wait (60 s) until
# it ends; EX is its id, STATE_GOT its state, and $TMP/events.json its
# events.  ok when it ends in STATE (default SUCCESS).
run_flow()
{
	api_json POST /v2/executions "{\"workflow_name\": \"$1\", \
\"input\": $2}"
	EX=$(jb .id)
	_i=0
	while [ $_i -lt 600 ]; do
		STATE_GOT=$(curl -s "$URL/v2/executions/$EX" | jq -r .state)
		case $STATE_GOT in
		SUCCESS|ERROR|CANCELLED)
			break
			;;
		esac
		sleep 0.1
		_i=$((_i + 1))
	done
	curl -s "$URL/v2/executions/$EX/events?include_children=true" \
	    >"$TMP/events.json"
	if [ "$STATE_GOT" = "${3:-SUCCESS}" ]; then
		ok "$1 $2 ends $STATE_GOT"
	else
		not_ok "$1 $2 ends $STATE_GOT, not ${3:-SUCCESS}" "$(curl -s \
		    "$URL/v2/executions/$EX" | jq -r .state_info)"
	fi
}

# same NAME GOT: ok when the file GOT equals the standard input.
same()
{
	cat >"$TMP/want"
	if diff -u "$TMP/want" "$2" >"$TMP/diff"; then
		ok "$1"
	else
		not_ok "$1" "differs from what was expected:"
		sed 's/^/#   /' "$TMP/diff"
	fi
}

# calls_are NAME [--by-server]: the Nova calls of the last run (stdin).
calls_are()
{
	_n=$1
	shift
	$CALLS calls "$SIM_LOG" "$@" >"$TMP/calls.txt"
	same "$_n" "$TMP/calls.txt"
}

# progress_is NAME: the progress messages of the last run (stdin).
progress_is()
{
	$CALLS progress "$TMP/events.json" "$SIM_LOG" >"$TMP/progress.txt"
	same "$1" "$TMP/progress.txt"
}
