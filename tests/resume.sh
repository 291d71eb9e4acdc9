#!/bin/sh
#
# resume.sh -- crash recovery: kill -9 a `bora run` while a task's action
# is running, then continue with `bora run --resume ID` and check what
# the store holds.
#
#   a) a pure action (std.sleep) is run again; every task appears once
#      and the interrupted action execution is kept, marked CANCELLED;
#   b) a side-effecting action (std.http) without safe-rerun is not run
#      again: the task and the execution end in ERROR, "not safe-rerun",
#      and the server saw one request;
#   c) the same with safe-rerun: true is run again: SUCCESS, and the
#      server saw two requests;
#   d) two takeovers in a row: the run of a pure action started by the
#      first --resume is killed too; the second --resume runs it a third
#      time and the execution ends SUCCESS, not "action failed";
#   e) a takeover of what a recovery left between its two commits (the
#      interrupted run closed, its new run not yet begun): SUCCESS.
#
# Environment: BORA (the bora binary, default ./src/bora), SRCDIR (the
# source tree, default .).  Needs sqlite3, jq and python3 (exit 77 to
# skip without them).
#

BORA=${BORA:-./src/bora}
SRCDIR=${SRCDIR:-.}
DATA=$SRCDIR/tests/data/resume
WAIT_S=${RESUME_WAIT:-30}

case $BORA in
/*) ;;
*) BORA=$(pwd)/$BORA ;;
esac

for tool in sqlite3 jq python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "resume.sh: $tool is needed; skipped" >&2
		exit 77
	fi
done
if [ ! -x "$BORA" ]; then
	echo "resume.sh: $BORA is not executable" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-resume.XXXXXX") || exit 99
run_pid=
srv_pid=

# Stop what this script started (by process id) and remove the files.
cleanup() {
	[ -n "$srv_pid" ] && stop_server
	if [ -n "$run_pid" ]; then
		kill -9 "$run_pid" 2>/dev/null
		wait "$run_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failed=0

ok() {
	echo "ok   - $*"
}
bad() {
	echo "FAIL - $*"
	failed=1
}
# check DESCRIPTION GOT WANT
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		bad "$1: got '$2', expected '$3'"
	fi
}
# check_contains DESCRIPTION TEXT PIECE
check_contains() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) bad "$1: '$2' does not mention '$3'" ;;
	esac
}

# Query the store (a busy writer may hold the database for a moment).
q() {
	sqlite3 -cmd ".timeout 5000" "$db" "$1" 2>/dev/null
}

# Poll until query $1 prints $2, for at most WAIT_S seconds.
wait_for() {
	_n=0
	while [ $_n -lt $((WAIT_S * 10)) ]; do
		if [ "$(q "$1")" = "$2" ]; then
			return 0
		fi
		if [ -n "$run_pid" ] && ! kill -0 "$run_pid" 2>/dev/null; then
			echo "  bora run exited early:" >&2
			sed 's/^/  | /' "$tmp/run.out" "$tmp/run.err" >&2
			return 1
		fi
		sleep 0.1
		_n=$((_n + 1))
	done
	echo "  timed out waiting for [$1] = $2 (now: $(q "$1"))" >&2
	return 1
}

# Start bora run on file $1 (extra args after) in the background on $db.
start_run() {
	_f=$1
	shift
	"$BORA" run "$_f" "$@" --db "sqlite:$db" -f json -q \
	    >"$tmp/run.out" 2>"$tmp/run.err" &
	run_pid=$!
}

# kill -9 the background bora run and reap it.
crash_run() {
	kill -9 "$run_pid" 2>/dev/null
	wait "$run_pid" 2>/dev/null
	run_pid=
}

# bora run --resume of the only execution; JSON into $tmp/resume.json.
resume_run() {
	_id=$(q "select id from executions where parent_task_id is null")
	if [ -z "$_id" ]; then
		bad "$1: no execution in the store"
		return 1
	fi
	"$BORA" run --resume "$_id" --db "sqlite:$db" -f json -q \
	    --timeout "$WAIT_S" >"$tmp/resume.json" 2>"$tmp/resume.err"
	resume_rc=$?
	if ! jq -e . "$tmp/resume.json" >/dev/null 2>&1; then
		bad "$1: --resume printed no JSON (exit $resume_rc)"
		sed 's/^/  | /' "$tmp/resume.json" "$tmp/resume.err"
		return 1
	fi
	return 0
}

jr() {
	jq -r "$1" "$tmp/resume.json"
}

# Start the HTTP server; its port into srv_port.
start_server() {
	# Empty it here: the background job truncates it only once it runs,
	# and the previous server's port must not be read meanwhile.
	: >"$tmp/srv.out"
	python3 "$DATA/hang_server.py" >"$tmp/srv.out" 2>"$tmp/srv.err" &
	srv_pid=$!
	_n=0
	srv_port=
	while [ $_n -lt 50 ]; do
		srv_port=$(head -n 1 "$tmp/srv.out" 2>/dev/null)
		[ -n "$srv_port" ] && return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	echo "resume.sh: the test HTTP server did not start" >&2
	cat "$tmp/srv.err" >&2
	exit 99
}

# Stop the server: the process started and, should python3 be a
# wrapper, the interpreter it names.
stop_server() {
	_real=$(sed -n 's/^PID //p' "$tmp/srv.out" 2>/dev/null | head -n 1)
	[ -n "$_real" ] && [ "$_real" != "$srv_pid" ] &&
	    kill -9 "$_real" 2>/dev/null
	kill -9 "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	srv_pid=
}

server_requests() {
	grep -c '^REQUEST ' "$tmp/srv.out"
}

# ---- a) a pure action is run again -----------------------------------
echo "# a) kill -9 during std.sleep, then --resume"
db=$tmp/a.db
start_run "$DATA/sleep.yaml"
if wait_for "select state from tasks where name='t2'" RUNNING &&
    wait_for "select count(*) from action_executions a join tasks t
    on a.task_id = t.id where t.name='t2' and a.state='RUNNING'" 1; then
	crash_run
	check "a: t2 RUNNING in the store after the crash" \
	    "$(q "select state from tasks where name='t2'")" RUNNING
	check "a: t3 not started before the crash" \
	    "$(q "select count(*) from tasks where name='t3'")" 0
	if resume_run a; then
		check "a: bora run --resume exit status" "$resume_rc" 0
		check "a: execution SUCCESS" "$(jr .state)" SUCCESS
		for t in t1 t2 t3; do
			check "a: one $t task row" \
			    "$(q "select count(*) from tasks where
			    name='$t'")" 1
			check "a: $t SUCCESS" \
			    "$(jr ".tasks[] | select(.name==\"$t\") | .state")" \
			    SUCCESS
		done
		check "a: t2 has two action executions" \
		    "$(q "select count(*) from action_executions a join
		    tasks t on a.task_id = t.id where t.name='t2'")" 2
		check "a: t2's interrupted action CANCELLED, the re-run SUCCESS" \
		    "$(q "select group_concat(a.state, ',') from (select
		    a.state from action_executions a join tasks t on
		    a.task_id = t.id where t.name='t2' order by
		    a.created_at, a.rowid) a")" "CANCELLED,SUCCESS"
		check_contains "a: the interrupted action says why" \
		    "$(q "select a.state_info from action_executions a join
		    tasks t on a.task_id = t.id where t.name='t2' and
		    a.state='CANCELLED'")" "interrupted"
		check "a: t1 and t3 ran once" \
		    "$(q "select count(*) from action_executions a join
		    tasks t on a.task_id = t.id where t.name in
		    ('t1','t3')")" 2
		check "a: output" "$(jr .output.last)" finished
		check "a: no due work is left behind" \
		    "$(q "select count(*) from work")" 0
	fi
else
	bad "a: t2 never reached RUNNING"
	crash_run
fi

# ---- b) a side effect without safe-rerun is not repeated -------------
echo "# b) kill -9 during std.http (no safe-rerun), then --resume"
db=$tmp/b.db
start_server
start_run "$DATA/http.yaml" -i "url=http://127.0.0.1:$srv_port/b"
if wait_for "select state from tasks where name='call'" RUNNING &&
    wait_for "select count(*) from action_executions where
    state='RUNNING'" 1; then
	# The request must have reached the server before the crash.
	_n=0
	while [ "$(server_requests)" -lt 1 ] && [ $_n -lt 100 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	crash_run
	check "b: the server got the request before the crash" \
	    "$(server_requests)" 1
	if resume_run b; then
		check "b: bora run --resume exit status" "$resume_rc" 1
		check "b: execution ERROR" "$(jr .state)" ERROR
		check "b: task call ERROR" \
		    "$(jr '.tasks[] | select(.name=="call") | .state')" ERROR
		check_contains "b: task call says not safe-rerun" \
		    "$(jr '.tasks[] | select(.name=="call") | .state_info')" \
		    "not safe-rerun"
		check_contains "b: execution state_info names the task" \
		    "$(jr .state_info)" "call"
		check "b: one task row for call" \
		    "$(q "select count(*) from tasks where name='call'")" 1
		check "b: after never ran" \
		    "$(q "select count(*) from tasks where name='after'")" 0
		check "b: one action execution, ERROR" \
		    "$(q "select group_concat(state) from
		    action_executions")" ERROR
		sleep 0.3
		check "b: the server saw exactly one request" \
		    "$(server_requests)" 1
	fi
else
	bad "b: task call never reached RUNNING"
	crash_run
fi
stop_server

# ---- c) with safe-rerun the request is sent again ---------------------
echo "# c) kill -9 during std.http with safe-rerun, then --resume"
db=$tmp/c.db
start_server
start_run "$DATA/http_safe.yaml" -i "url=http://127.0.0.1:$srv_port/c"
if wait_for "select state from tasks where name='call'" RUNNING &&
    wait_for "select count(*) from action_executions where
    state='RUNNING'" 1; then
	_n=0
	while [ "$(server_requests)" -lt 1 ] && [ $_n -lt 100 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	crash_run
	check "c: the server got the request before the crash" \
	    "$(server_requests)" 1
	if resume_run c; then
		check "c: bora run --resume exit status" "$resume_rc" 0
		check "c: execution SUCCESS" "$(jr .state)" SUCCESS
		check "c: task call SUCCESS" \
		    "$(jr '.tasks[] | select(.name=="call") | .state')" \
		    SUCCESS
		check "c: after SUCCESS" \
		    "$(jr '.tasks[] | select(.name=="after") | .state')" \
		    SUCCESS
		check "c: one task row for call" \
		    "$(q "select count(*) from tasks where name='call'")" 1
		check "c: the answer is the second request's" \
		    "$(jr .output.answer)" 2
		check "c: two action executions for call: CANCELLED, SUCCESS" \
		    "$(q "select group_concat(a.state, ',') from (select
		    a.state from action_executions a join tasks t on
		    a.task_id = t.id where t.name='call' order by
		    a.created_at, a.rowid) a")" "CANCELLED,SUCCESS"
		check "c: the server saw two requests" "$(server_requests)" 2
	fi
else
	bad "c: task call never reached RUNNING"
	crash_run
fi
stop_server

# t2's action rows, oldest first: "STATE,STATE,...".
t2_runs() {
	q "select group_concat(a.state, ',') from (select a.state from
	    action_executions a join tasks t on a.task_id = t.id where
	    t.name='t2' order by a.created_at, a.rowid) a"
}

# Wait until t2 has $1 action rows, the last one RUNNING.
wait_t2_runs() {
	wait_for "select count(*) || ' ' || sum(a.state='RUNNING') from
	    action_executions a join tasks t on a.task_id = t.id where
	    t.name='t2'" "$1 1"
}

# ---- d) two takeovers in a row -----------------------------------------
echo "# d) kill -9 during std.sleep, --resume, kill -9 again, --resume"
db=$tmp/d.db
start_run "$DATA/sleep.yaml"
if wait_t2_runs 1; then
	crash_run
	_id=$(q "select id from executions where parent_task_id is null")
	"$BORA" run --resume "$_id" --db "sqlite:$db" -f json -q \
	    >"$tmp/run.out" 2>"$tmp/run.err" &
	run_pid=$!
	if wait_t2_runs 2; then
		crash_run
		check "d: after two crashes t2 has a CANCELLED run and a RUNNING one" \
		    "$(t2_runs)" "CANCELLED,RUNNING"
		if resume_run d; then
			check "d: bora run --resume exit status" "$resume_rc" 0
			check "d: execution SUCCESS" "$(jr .state)" SUCCESS
			check "d: t2 SUCCESS" \
			    "$(jr '.tasks[] | select(.name=="t2") | .state')" \
			    SUCCESS
			check "d: t2 ran three times, the last one to the end" \
			    "$(t2_runs)" "CANCELLED,CANCELLED,SUCCESS"
			check "d: one task row each" \
			    "$(q "select group_concat(n) from (select count(*) n
			    from tasks group by name)")" "1,1,1"
			check "d: output" "$(jr .output.last)" finished
		fi
	else
		bad "d: the first --resume never ran t2 again"
		crash_run
	fi
else
	bad "d: t2 never reached RUNNING"
	crash_run
fi

# ---- e) a takeover between a recovery's two commits --------------------
# A recovery commits the interrupted run closed, then begins the new run
# in a commit of its own: an engine dying in between leaves t2 RUNNING
# with no run RUNNING.  The rows are made so by hand, as that commit
# writes them.
echo "# e) kill -9 during std.sleep, the run closed, then --resume"
db=$tmp/e.db
start_run "$DATA/sleep.yaml"
if wait_t2_runs 1; then
	crash_run
	q "update action_executions set state='CANCELLED', state_info=
	    'interrupted by an engine stop; run again' where
	    state='RUNNING'"
	if resume_run e; then
		check "e: bora run --resume exit status" "$resume_rc" 0
		check "e: execution SUCCESS" "$(jr .state)" SUCCESS
		check "e: t2 ran again" "$(t2_runs)" "CANCELLED,SUCCESS"
	fi
else
	bad "e: t2 never reached RUNNING"
	crash_run
fi

if [ $failed -ne 0 ]; then
	echo "resume.sh: FAILED"
	exit 1
fi
echo "resume.sh: all checks passed"
exit 0
