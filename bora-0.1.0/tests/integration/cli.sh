#!/bin/sh
#
# cli.sh -- the bora command line against a real borad on 127.0.0.1:
# workbooks, workflows, executions (start, wait, watch, list, tasks,
# events, pause, resume, cancel, rerun), tasks and actions, the output
# formats, and the exit statuses (0 ok, 1 failed, 2 usage, 3 no server).
#
# Environment: BORA and BORAD (the binaries; default under BUILDDIR or
# the current directory).  Exits 77 (skip) when borad was not built.

: "${BUILDDIR:=$(pwd)}"
: "${BORA:=$BUILDDIR/src/bora}"
: "${BORAD:=$BUILDDIR/src/borad}"

if [ ! -x "$BORA" ] || [ ! -x "$BORAD" ]; then
	echo "cli.sh: $BORA or $BORAD not built; skipping"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bora-cli.XXXXXX")
PID=
FAILED=0
NTEST=0

cleanup()
{
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$TMP"
	else
		echo "# logs and files kept in $TMP"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

unset BORA_URL BORA_TOKEN

# ok NAME: report a passed check; not_ok NAME DETAIL: a failed one.
ok()
{
	NTEST=$((NTEST + 1))
	echo "ok $NTEST - $1"
}
not_ok()
{
	NTEST=$((NTEST + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $NTEST - $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
	[ -f "$TMP/out" ] && sed 's/^/#   out: /' "$TMP/out" | head -40
	[ -f "$TMP/err" ] && sed 's/^/#   err: /' "$TMP/err" | head -20
	return 0
}

# b ARGS...: run bora against the server; output in $TMP/out and
# $TMP/err, exit status in $RC.
b()
{
	"$BORA" --url "$URL" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}

# expect NAME RC [PATTERN]: the last command exited RC and printed
# PATTERN (an extended regex) on stdout or stderr.
expect()
{
	if [ "$RC" -ne "$2" ]; then
		not_ok "$1" "exit status $RC, want $2"
	elif [ -n "$3" ] && ! grep -Eq -- "$3" "$TMP/out" "$TMP/err"; then
		not_ok "$1" "no match for /$3/"
	else
		ok "$1"
	fi
}

# field FILE KEY: a top-level string field of a JSON object on one
# line of pretty JSON ("key": "value").
field()
{
	sed -n "s/^  \"$2\": \"\\([^\"]*\\)\".*/\\1/p" "$1" | head -1
}

# ---- no server ------------------------------------------------------

PORT=$((20000 + $$ % 20000))
URL=http://127.0.0.1:$PORT

b workflow list
expect "no server: exit 3 and a clear message" 3 \
    "cannot reach http://127.0.0.1:$PORT: .* is borad running\\?"

b nosuchcommand
expect "unknown command: exit 2" 2 "unknown command 'nosuchcommand'"
b exection list
expect "unknown command: did you mean" 2 "did you mean 'execution'"
b execution get
expect "missing argument: exit 2 with usage" 2 "usage: bora execution get ID"
b execution start --help
expect "command --help" 0 "usage: bora execution start NAME"

# ---- start borad ----------------------------------------------------

mkdir -p "$TMP/workflows" "$TMP/actions" "$TMP/lua"
start_borad()
{
	BORA_DB="sqlite:$TMP/bora.db" BORA_LISTEN="127.0.0.1:$PORT" \
	BORA_WORKFLOWS="$TMP/workflows" BORA_ACTIONS="$TMP/actions" \
	BORA_LUA="$TMP/lua" "$BORAD" -d >"$TMP/borad.log" 2>&1 &
	PID=$!
	i=0
	while [ $i -lt 100 ]; do
		"$BORA" --url "$URL" workflow list >/dev/null 2>&1
		[ $? -ne 3 ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
if ! start_borad; then
	echo "Bail out! borad did not start"
	sed 's/^/# /' "$TMP/borad.log"
	exit 1
fi
ok "borad started on $URL"

# ---- workbooks and workflows -----------------------------------------

cat >"$TMP/wb.yaml" <<'EOF'
version: '2.0'
name: clitest
workflows:
  hello:
    input:
      - name: World
    tasks:
      greet:
        action: std.echo output="Hello, <% _.name %>"
        publish:
          greeting: <% task().result %>
    output:
      msg: <% _.greeting %>
  broken:
    tasks:
      fails:
        action: std.fail
  slow:
    tasks:
      nap:
        action: std.sleep seconds=30
EOF

b workbook create "$TMP/wb.yaml"
expect "workbook create" 0 "clitest"
b workbook create "$TMP/wb.yaml"
expect "duplicate workbook: exit 1 and the faultstring" 1 "^bora: .+"
b workbook list
expect "workbook list as a table" 0 "^NAME .*CREATED AT"
grep -q "^clitest " "$TMP/out" || not_ok "workbook list shows clitest"
b -f yaml workbook get clitest
expect "workbook get as YAML with a literal definition" 0 "^definition: \\|"
b workbook update "$TMP/wb.yaml"
expect "workbook update" 0 "clitest"

b workflow list
expect "workflow list" 0 "hello"
b -f json workflow list
expect "workflow list as JSON" 0 '"name": "(clitest\.)?broken"'
b workflow get clitest.hello || true
[ $RC -ne 0 ] && b workflow get hello
expect "workflow get" 0 "^definition +"
b workflow get nope
expect "unknown workflow: exit 1" 1 "^bora: "

cat >"$TMP/wf.yaml" <<'EOF'
version: '2.0'
cli_standalone:
  tasks:
    one:
      action: std.noop
EOF
b workflow create "$TMP/wf.yaml"
expect "workflow create" 0 "cli_standalone"
b workflow update "$TMP/wf.yaml"
expect "workflow update" 0 "cli_standalone"
b workflow delete cli_standalone
expect "workflow delete" 0

# ---- executions -----------------------------------------------------

b -f json execution start clitest.hello -i name=Bora --wait --timeout 30
if [ $RC -ne 0 ]; then
	# Workflows of a workbook may be known by their short name.
	b -f json execution start hello -i name=Bora --wait --timeout 30
	WF=hello
else
	WF=clitest.hello
fi
expect "execution start --wait: SUCCESS exits 0" 0 '"state": "SUCCESS"'
grep -q '"msg": "Hello, Bora"' "$TMP/out" ||
    not_ok "output is decoded JSON, not a string"
grep -q '"input": {' "$TMP/out" || not_ok "input is decoded JSON"
X=$(field "$TMP/out" id)
[ -n "$X" ] && ok "execution id $X" || not_ok "no execution id"

BROKEN=$(echo "$WF" | sed 's/hello$/broken/')
SLOW=$(echo "$WF" | sed 's/hello$/slow/')

b execution start "$BROKEN" --wait --timeout 30
expect "execution start --wait: ERROR exits 1" 1 "ERROR"

b execution get "$X"
expect "execution get as a record" 0 "^state +SUCCESS"
b -f yaml execution get "$X"
expect "execution get as YAML" 0 "^state: SUCCESS"
b execution list
expect "execution list" 0 "^ID .*STATE"
b execution list --state ERROR --limit 5
expect "execution list --state ERROR" 0 "ERROR"
if grep -q SUCCESS "$TMP/out"; then
	not_ok "execution list --state ERROR shows only ERROR"
fi
b execution list --limit nope
expect "execution list --limit nope: exit 2" 2

b execution tasks "$X"
expect "execution tasks" 0 "greet +SUCCESS"
b -f json execution tasks "$X"
T=$(sed -n 's/^    "id": "\([^"]*\)".*/\1/p' "$TMP/out" | head -1)
b -f json task get "$T"
expect "task get: result decoded" 0 '"result": "Hello, Bora"'
b task get 00000000-0000-4000-8000-000000000000
expect "unknown task: exit 1" 1 "^bora: "

b execution events "$X"
expect "execution events" 0 ""
b -f json execution events "$X"
expect "execution events as JSON" 0 "^\\["

b execution watch "$X"
expect "execution watch of a finished execution: exit 0" 0 "SUCCESS"

b -f json execution start "$SLOW"
S=$(field "$TMP/out" id)
b execution pause "$S"
expect "execution pause" 0 "^state +PAUSED"
b execution resume "$S"
expect "execution resume" 0 "^state +RUNNING"
b execution cancel "$S"
expect "execution cancel" 0 "CANCELLED"
b execution watch --interval 0.2 "$S"
expect "execution watch of a cancelled execution: exit 1" 1 "CANCELLED"

b -f json execution start "$BROKEN" --wait --timeout 30
E=$(field "$TMP/out" id)
b -f json execution tasks "$E"
FT=$(sed -n 's/^    "id": "\([^"]*\)".*/\1/p' "$TMP/out" | head -1)
b execution rerun "$FT"
expect "execution rerun of a failed task" 0 "$FT"

b execution get 00000000-0000-4000-8000-000000000000
expect "unknown execution: exit 1 with the faultstring" 1 "^bora: .*not found"
b execution start nosuchworkflow
expect "start an unknown workflow: exit 1" 1 "^bora: "

# ---- actions --------------------------------------------------------

b action list
expect "action list" 0 "std\\.echo"
b -f json action run std.echo -i output='{"a": [1, 2]}'
expect "action run std.echo" 0 '"a": \['

# ---- clean up -------------------------------------------------------

b workbook delete clitest
expect "workbook delete" 0
b workbook get clitest
expect "deleted workbook is gone: exit 1" 1 "^bora: "

# ---- the daemon stops cleanly ----------------------------------------

kill -TERM "$PID"
wait "$PID"
RC=$?
PID=
expect "SIGTERM: borad exits with status 0" 0
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
    "$TMP/borad.log"; then
	not_ok "no sanitizer report in borad.log" \
	    "$(grep -E -m1 'Sanitizer|runtime error:' "$TMP/borad.log")"
else
	ok "no sanitizer report in borad.log"
fi

echo "1..$NTEST"
[ "$FAILED" -eq 0 ]
