#!/bin/sh
#
# cli.sh -- the bora command line against a real borad on 127.0.0.1:
# workbooks, workflows, executions (start with --wait, --watch, --task
# and --params; list, tasks, events, watch, pause, resume, cancel,
# rerun, delete), tasks, actions and action executions, the output
# formats, -q, and the exit statuses (0 ok, 1 failed, 2 usage, 3 no
# server).  Also that a short `bora run` on SQLite neither links nor
# loads libcrypto (src/dl loads it only for what signs or hashes).
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

# ---- a short bora run loads no libcrypto -----------------------------

if ! command -v readelf >/dev/null 2>&1; then
	echo "Bail out! readelf (binutils) is needed"
	exit 99
fi
readelf -d "$BORA" >"$TMP/out" 2>"$TMP/err"
RC=$?
if [ "$RC" -ne 0 ] || ! grep -q '(NEEDED).*libsqlite3' "$TMP/out"; then
	not_ok "readelf -d bora lists its libraries" "exit status $RC"
elif grep -q '(NEEDED).*libcrypto' "$TMP/out"; then
	not_ok "bora does not link libcrypto" \
	    "$(grep '(NEEDED).*libcrypto' "$TMP/out")"
else
	ok "bora does not link libcrypto"
fi
cat >"$TMP/noop.yaml" <<'EOF'
version: '2.0'
noop:
  tasks:
    t1:
      action: std.noop
EOF
LD_DEBUG=files "$BORA" run "$TMP/noop.yaml" -f json \
    --db "sqlite:$TMP/run.db" >"$TMP/out" 2>"$TMP/err"
RC=$?
if [ "$RC" -ne 0 ] || ! grep -q '"state": "SUCCESS"' "$TMP/out" ||
    ! grep -q 'file=libsqlite3' "$TMP/err"; then
	not_ok "bora run under LD_DEBUG=files: SUCCESS, libraries listed" \
	    "exit status $RC"
elif grep -q 'file=libcrypto' "$TMP/err"; then
	not_ok "bora run on SQLite loads no libcrypto" \
	    "$(grep -m1 'file=libcrypto' "$TMP/err")"
else
	ok "bora run on SQLite loads no libcrypto"
fi
rm -f "$TMP/out" "$TMP/err"

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
        action: std.sleep seconds=1
        fail-on: <% true %>
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

# one_line NAME: the last command printed exactly one line.
one_line()
{
	if [ "$(wc -l <"$TMP/out")" -eq 1 ]; then
		ok "$1"
	else
		not_ok "$1" "$(wc -l <"$TMP/out") lines"
	fi
}
UUID='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

b -q execution start "$SLOW"
expect "execution start -q prints only the id" 0 "^$UUID\$"
one_line "execution start -q: one line"
S=$(cat "$TMP/out")
b execution pause "$S"
expect "execution pause: one line with the new state" 0 \
    "^Execution $S is PAUSED\\.\$"
one_line "execution pause: nothing more"
b -f json execution resume "$S"
expect "execution resume -f json: the execution" 0 '"state": "RUNNING"'
b execution cancel "$S"
expect "execution cancel: one line" 0 "^Execution $S is CANCELLED\\.\$"
one_line "execution cancel: nothing more"
b execution watch --interval 0.2 "$S"
expect "execution watch of a cancelled execution: exit 1" 1 "CANCELLED"

b -f json execution start "$BROKEN" --wait --timeout 30
E=$(field "$TMP/out" id)
b -f json execution tasks "$E"
FT=$(sed -n 's/^    "id": "\([^"]*\)".*/\1/p' "$TMP/out" | head -1)
b execution rerun "$FT"
expect "execution rerun of a failed task: one line with its new state" 0 \
    "^Re-running task fails \\($FT\\) of execution $E: RUNNING\\.\$"
one_line "execution rerun: nothing more"
# It fails again a second later; then it can be re-run again.
i=0
while [ $i -lt 100 ] && [ "$(curl -s "$URL/v2/tasks/$FT" | jq -r .state)" != \
    ERROR ]; do
	sleep 0.1
	i=$((i + 1))
done
b -q execution rerun "$FT"
expect "execution rerun -q: the task id" 0 "^$FT\$"

# --wait ends with the task table and the exit status of the state.
b execution start "$WF" -i name=Table --wait --timeout 30
expect "execution start --wait: SUCCESS line" 0 \
    "^Execution $UUID  $WF  . SUCCESS"
if tail -2 "$TMP/out" | head -1 | grep -Eq '^NAME +STATE +DURATION' &&
    tail -1 "$TMP/out" | grep -Eq '^greet +SUCCESS'; then
	ok "execution start --wait ends with the task table"
else
	not_ok "execution start --wait ends with the task table"
fi
grep -q '"msg": "Hello, Table"' "$TMP/out" &&
    ok "execution start --wait shows the output" ||
    not_ok "execution start --wait shows the output"
b execution start "$BROKEN" --wait --timeout 30
expect "execution start --wait: ERROR exits 1" 1 "ERROR"
tail -1 "$TMP/out" | grep -Eq '^fails +ERROR +[0-9]+s +' &&
    ok "execution start --wait of ERROR ends with the failed task" ||
    not_ok "execution start --wait of ERROR ends with the failed task"
b -q execution start "$WF" --wait --timeout 30
expect "execution start -q --wait: the id and exit 0" 0 "^$UUID\$"
one_line "execution start -q --wait: one line"
b execution start "$SLOW" --wait --timeout 0.5
expect "execution start --wait --timeout: exit 1 and why" 1 \
    "still RUNNING after 0.5s"
b -q execution list --state RUNNING --workflow "$SLOW"
for id in $(cat "$TMP/out"); do
	"$BORA" --url "$URL" -q execution cancel "$id" >/dev/null
done

# --watch follows what it started, and exits as --wait.
b execution start "$WF" -i name=Watch --watch
expect "execution start --watch: exit 0" 0 "^Started execution $UUID"
grep -Eq "^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} $WF/greet  task greet succeeded\$" \
    "$TMP/out" && ok "execution start --watch shows the events" ||
    not_ok "execution start --watch shows the events"
tail -1 "$TMP/out" | grep -q "ended SUCCESS" &&
    ok "execution start --watch ends with the end of the execution" ||
    not_ok "execution start --watch ends with the end of the execution"
b execution start "$BROKEN" --watch
expect "execution start --watch of ERROR: exit 1" 1 "ended ERROR"
b execution start "$WF" --wait --watch
expect "execution start --wait --watch: exit 2" 2 "give one"

b execution get 00000000-0000-4000-8000-000000000000
expect "unknown execution: exit 1 with the faultstring" 1 "^bora: .*not found"
b execution start nosuchworkflow
expect "start an unknown workflow: exit 1" 1 "^bora: "

# ---- reverse workflows: --task and --params ---------------------------

cat >"$TMP/rev.yaml" <<'EOF'
version: '2.0'
cli_reverse:
  type: reverse
  tasks:
    fetch:
      action: std.echo output=fetched
    build:
      action: std.echo output=built
      requires: [fetch]
    deploy:
      action: std.echo output=deployed
      requires: [build]
    notify:
      action: std.echo output=notified
      requires: [fetch]
EOF
b workflow create "$TMP/rev.yaml"
expect "reverse workflow created" 0 "cli_reverse"
b -q execution start cli_reverse --task build --wait --timeout 30
expect "execution start --task of a reverse workflow: SUCCESS" 0 "^$UUID\$"
R=$(cat "$TMP/out")
b -q task list --execution "$R"
n=$(wc -l <"$TMP/out")
b task list --execution "$R"
if [ "$n" -eq 2 ] && grep -Eq '^[^ ]+ +fetch +SUCCESS' "$TMP/out" &&
    grep -Eq '^[^ ]+ +build +SUCCESS' "$TMP/out"; then
	ok "execution start --task runs the target and what it requires"
else
	not_ok "execution start --task runs the target and what it requires"
fi
b execution start cli_reverse --params '{"task_name": "notify"}' --wait \
    --timeout 30
expect "execution start --params task_name" 0 "^notify +SUCCESS"
if grep -Eq '^(build|deploy) ' "$TMP/out"; then
	not_ok "execution start --params runs only what notify requires"
else
	ok "execution start --params runs only what notify requires"
fi
b execution start cli_reverse --params '[1]'
expect "execution start --params that is not an object: exit 2" 2 \
    "--params: not a JSON object"
b -f json execution start cli_reverse --task deploy \
    --params '{"env": {"site": "lab"}}' --wait --timeout 30
expect "execution start --task with --params keeps both" 0 \
    '"task_name": "deploy"'
grep -q '"site": "lab"' "$TMP/out" && ok "--params env is sent" ||
    not_ok "--params env is sent"

# ---- tasks ------------------------------------------------------------

b task list --execution "$X"
expect "task list --execution" 0 "^ID +NAME +STATE"
grep -Eq "^$T +greet +SUCCESS +$X" "$TMP/out" &&
    ok "task list shows the task of the execution" ||
    not_ok "task list shows the task of the execution"
b task list --state ERROR --limit 1
expect "task list --state ERROR --limit 1" 0 "ERROR"
[ "$(wc -l <"$TMP/out")" -eq 2 ] && ok "task list --limit 1: one row" ||
    not_ok "task list --limit 1: one row"
b -f yaml task list --execution "$X"
expect "task list -f yaml" 0 "^- id: \"?$T\"?\$"
b task list --nope x
expect "task list --nope: exit 2" 2 "unknown option '--nope'"

# ---- actions and action executions --------------------------------------

b action list
expect "action list" 0 "std\\.echo"
b -f json action run std.echo -i output='{"a": [1, 2]}'
expect "action run std.echo" 0 '"a": \['
b action get std.echo
expect "action get" 0 "^input +output, delay=0"
b -f json action get std.nope
expect "action get of an unknown action: exit 1" 1 "^bora: "
# Mistral's file of ad-hoc actions: the actions at the top level.
cat >"$TMP/acts.yaml" <<'EOF'
version: '2.0'
shout:
  base: std.echo
  base-input:
    output: <% _.word .. '!' %>
  input:
    - word
EOF
b action create "$TMP/acts.yaml"
expect "action create" 0 "^shout +word"
b action get shout
expect "action get of the created action" 0 "^input +word"
b -f json action run shout -i word=hey
expect "action run of the ad-hoc action" 0 '"result": "hey!"'
b -q action-execution list --name shout --limit 1
AX=$(head -1 "$TMP/out")
expect "action-execution list --name -q: ids" 0 "^$UUID\$"
one_line "action-execution list --limit 1: one id"
b action-execution get "$AX"
expect "action-execution get: the record" 0 "^state +SUCCESS"
grep -q 'hey!' "$TMP/out" && ok "action-execution get shows the output" ||
    not_ok "action-execution get shows the output"
b action-execution list --task "$T"
expect "action-execution list --task" 0 "std\\.echo +greet +SUCCESS"
b action delete shout
expect "action delete" 0 "^Deleted action shout\\.\$"

# ---- execution delete ---------------------------------------------------

b -q execution start "$SLOW"
S=$(cat "$TMP/out")
b execution delete "$S"
expect "execution delete of a running execution: exit 1" 1 "^bora: "
b execution delete --force "$S"
expect "execution delete --force of a running one" 0 \
    "^Deleted execution $S\\.\$"
b execution get "$S"
expect "a force-deleted execution is gone: exit 1" 1 "^bora: "
b execution delete "$R"
expect "execution delete" 0 "^Deleted execution $R\\.\$"
b execution get "$R"
expect "a deleted execution is gone: exit 1" 1 "^bora: "

# ---- watch prints each event at the time it happened --------------------

cat >"$TMP/paced.yaml" <<'EOF'
version: '2.0'
cli_paced:
  tasks:
    first:
      action: std.echo output=1
      on-success: pause_a_bit
    pause_a_bit:
      action: std.sleep seconds=1.2
      on-success: last
    last:
      action: std.echo output=3
EOF
b workflow create "$TMP/paced.yaml"
b -q execution start cli_paced --wait --timeout 30
P=$(cat "$TMP/out")
TZ=UTC "$BORA" --url "$URL" execution watch --interval 5 "$P" \
    >"$TMP/watch" 2>"$TMP/err"
RC=$?
curl -s "$URL/v2/executions/$P/events" | jq -r '.events[] |
    ((.time_ms / 1000 | floor | strftime("%H:%M:%S")) + "." +
    ((.time_ms % 1000) + 1000 | tostring | .[1:]) + " cli_paced" +
    (if .task_name then "/" + .task_name else "" end) + "  " +
    (if .level != "info" then "[" + .level + "] " else "" end) +
    .message)' >"$TMP/want"
if [ $RC -eq 0 ] && [ -s "$TMP/want" ] && cmp -s "$TMP/want" "$TMP/watch"
then
	ok "execution watch: each event stamped with its own time, in order"
else
	not_ok "execution watch: each event stamped with its own time, in order" \
	    "$(diff "$TMP/want" "$TMP/watch" | head -20)"
fi
first=$(grep ' task first started$' "$TMP/watch" | cut -c1-12)
last=$(grep ' task last started$' "$TMP/watch" | cut -c1-12)
if [ -n "$first" ] && [ -n "$last" ] && [ "$first" != "$last" ]; then
	ok "execution watch: events apart in time are apart in the log"
else
	not_ok "execution watch: events apart in time are apart in the log" \
	    "first $first, last $last"
fi

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
