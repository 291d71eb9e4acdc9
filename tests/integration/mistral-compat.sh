#!/bin/sh
#
# mistral-compat.sh -- what a Mistral user finds on moving over, driven
# by the real OpenStack client (python3-mistralclient) against a real
# borad: each workflow of a file stored on its own, ad-hoc actions run
# directly and created from Mistral's action files, re-runs of failed
# with-items items only, force deletes, answers that show the state
# after a change, workbooks that keep their id, namespaces and scopes,
# the smaller defects (404 texts, sub-workflow ids, HTTP error texts,
# action definitions, sub-executions, action execution deletes),
# environments, and cron triggers firing every second across a restart
# (a tick missed while borad was down fires once).

. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/mistral-lib.sh"

: "${BORA:=$BUILDDIR/src/bora}"
MD=$SRCDIR/tests/data/mistral

HTTP_PID=
compat_cleanup()
{
	if [ -n "$HTTP_PID" ]; then
		kill "$HTTP_PID" 2>/dev/null
		wait "$HTTP_PID" 2>/dev/null
	fi
	cleanup
}
trap compat_cleanup EXIT

cp "$MD/catalog.yaml" "$TMP/actions/"
borad_start || { not_ok "borad starts"; finish; }
ok "borad starts"

# val FIELD: a field of the last "-f json" output.
val()
{
	jq -r ".[\"$1\"]" "$TMP/out"
}

# ---- 2: deleting one workflow of a file leaves the others -----------

mcheck "workflow-create of a file with two workflows" workflow-create \
    "$MD/pair.yaml" -f json
jcheck "both are created" 'length == 2'
mcheck "workflow-delete pair_b" workflow-delete pair_b
mcheck "workflow-get pair_a after pair_b went" workflow-get pair_a -f json
check "pair_a is still there" test "$(val Name)" = pair_a
mcheck "workflow-get-definition pair_a" workflow-get-definition pair_a
check "its definition is its own" sh -c "grep -q '^pair_a:' $TMP/out &&
    ! grep -q pair_b $TMP/out"
mfail "workflow-get pair_b: gone" "Workflow not found" workflow-get pair_b
mcheck "execution-create pair_a still runs" execution-create pair_a -f json
check "pair_a reaches SUCCESS" wait_state "$(val ID)" SUCCESS
mcheck "workflow-update of pair_a alone" workflow-update "$MD/pair.yaml"
mcheck "workflow-list shows both again" workflow-list -f value -c Name
check "pair_a and pair_b listed" sh -c "grep -qx pair_a $TMP/out &&
    grep -qx pair_b $TMP/out"

# ---- 4: Mistral's ad-hoc action file --------------------------------

mcheck "action-create of Mistral's action file" action-create \
    "$MD/adhoc.yaml" -f json
jcheck "two actions created" 'map(.Name) | sort == ["greet", "shout"]'
mcheck "action-get greet" action-get greet -f json
jcheck "its input and tags" '.Input == "name" and (.Tags | test("demo"))'
mcheck "action-get-definition greet" action-get-definition greet
check "the definition is its own text" sh -c "grep -q '^greet:' $TMP/out &&
    ! grep -q '^shout:' $TMP/out"
mcheck "action-update of the file" action-update "$MD/adhoc.yaml"
mcheck "action-validate of the file" action-validate "$MD/adhoc.yaml" -f json
check "it is valid" test "$(val Valid)" = true

# ---- 3: ad-hoc actions run directly ---------------------------------

mcheck "run-action greet (ad-hoc)" run-action greet '{"name": "Ann"}'
jcheck "its output, through the ad-hoc output" '.result.said == "Hello, Ann"'
mcheck "run-action shout (ad-hoc on ad-hoc)" run-action shout '{"who": "bo"}'
jcheck "nested base-input and output" '.result.said == "Hello, BO"'
mcheck "run-action cat.twice (a catalog of actions/)" run-action cat.twice \
    '{"n": 21}'
jcheck "the catalog action's result" '.result == 42'
mcheck "run-action -s saves the run" run-action greet '{"name": "Bo"}' -s \
    -f json
GR=$(val ID)
sleep 0.3
mcheck "action-execution-get of the saved run" action-execution-get "$GR" \
    -f json
jcheck "it is the ad-hoc action's, done" '.Name == "greet" and .State == "SUCCESS"'
if "$BORA" --url "$URL" -f json action run greet -i name=Cy >"$TMP/out" \
    2>&1 && jq -e '.output.result.said == "Hello, Cy"' "$TMP/out" \
    >/dev/null; then
	ok "bora action run of an ad-hoc action"
else
	not_ok "bora action run of an ad-hoc action" "$(head -c 300 "$TMP/out")"
fi
mfail "run-action of an unknown action: one clear message" \
    "Action not found \\[name=nope\\]" run-action nope '{}'
mcheck "action-delete shout" action-delete shout
mfail "shout is gone" "Action not found" action-get shout
mcheck "greet stays" action-get greet

# ---- 5 and 8: re-run of failed items only; answers after changes ----

mcheck "workflow-create items_wf" workflow-create "$MD/items.yaml"
mcheck "execution-create items_wf" execution-create items_wf -f json
IX=$(val ID)
check "items_wf fails on item 2" wait_state "$IX" ERROR
M task-list "$IX" -f json >"$TMP/out" 2>&1
IT=$(jq -r '.[] | select(.Name == "each") | .ID' "$TMP/out")
M action-execution-list "$IT" -f json >"$TMP/out" 2>&1
jcheck "two items ran (item 2 failed before its action)" 'length == 2'
mcheck "task-rerun --resume with an env" task-rerun "$IT" --resume \
    -e '{"fixed": true}' -f json
jcheck "task-rerun answers with the task re-run, not ERROR" '.State == "RUNNING" or .State == "SUCCESS"'
check "items_wf ends in SUCCESS" wait_state "$IX" SUCCESS
M action-execution-list "$IT" -f json >"$TMP/out" 2>&1
jcheck "only the failed item ran again (3 action executions, not 5)" 'length == 3'
mcheck "execution-get-output items_wf" execution-get-output "$IX"
jcheck "the kept items' results and the re-run one" '.got == [1, 2, 3]'
mcheck "execution-get-published" execution-get-published "$IX"

mcheck "workflow-create async_wf" workflow-create "$MD/async.yaml"
mcheck "execution-create async_wf" execution-create async_wf -f json
AS=$(val ID)
sleep 0.5
M task-list "$AS" -f json >"$TMP/out" 2>&1
AT=$(jq -r '.[0].ID' "$TMP/out")
M action-execution-list "$AT" -f json >"$TMP/out" 2>&1
AA=$(jq -r '.[0].ID' "$TMP/out")
mcheck "action-execution-update --state SUCCESS" action-execution-update \
    "$AA" --state SUCCESS --output '"called back"' -f json
check "it answers with the state after the change" test "$(val State)" = \
    SUCCESS
check "async_wf ends in SUCCESS" wait_state "$AS" SUCCESS
mcheck "action-execution-get-input" action-execution-get-input "$AA"
mcheck "action-execution-get-output" action-execution-get-output "$AA"
check "the callback's output" grep -q "called back" "$TMP/out"

# ---- 7: force delete of a running execution -------------------------

mcheck "workflow-create sleep_wf" workflow-create "$DATA/sleep_wf.yaml"
mcheck "execution-create sleep_wf" execution-create sleep_wf \
    '{"seconds": 60}' -f json
SL=$(val ID)
sleep 0.3
mfail "execution-delete of a running execution needs force" \
    "Only completed executions" execution-delete "$SL"
mcheck "execution-delete --force cancels and deletes at once" \
    execution-delete --force "$SL"
mfail "the execution is gone" "not found" execution-get "$SL"

# ---- 9: workbook-update keeps the id, created_at and tags ------------

mcheck "workbook-create with tags" workbook-create "$MD/wb.yaml" -f json
C0=$(val "Created at")
jcheck "tags shown" '.Tags == "ops, nightly"'
I0=$(curl -s "$URL/v2/workbooks/compat_wb" | jq -r .id)
sleep 1.1
mcheck "workbook-update" workbook-update "$MD/wb.yaml" -f json
check "created_at kept" test "$(val "Created at")" = "$C0"
jcheck "updated_at set" '.["Updated at"] != null'
jcheck "tags kept" '.Tags == "ops, nightly"'
check "the id kept" test "$(curl -s "$URL/v2/workbooks/compat_wb" |
    jq -r .id)" = "$I0"
mcheck "workbook-get-definition" workbook-get-definition compat_wb
check "the workbook's text" grep -q "name: compat_wb" "$TMP/out"
mcheck "workbook-validate" workbook-validate "$MD/wb.yaml"

# ---- 10: namespaces and scopes --------------------------------------

mcheck "workflow-create in namespace ns1, public" workflow-create \
    "$MD/pair.yaml" --namespace ns1 --public -f json
jcheck "namespace and scope shown" 'all(.Namespace == "ns1" and .Scope == "public")'
mcheck "workflow-list: the same names in two namespaces" workflow-list \
    -f json
jcheck "pair_a twice" '[.[] | select(.Name == "pair_a")] | map(.Namespace) | sort == ["", "ns1"]'
mcheck "workflow-list --filter namespace=ns1" workflow-list \
    --filter namespace=ns1 -f json
jcheck "only ns1's" 'length == 2 and all(.Namespace == "ns1")'
mcheck "workflow-get --namespace ns1" workflow-get pair_b --namespace ns1 \
    -f json
check "ns1's pair_b" test "$(val Namespace)" = ns1
mcheck "execution-create --namespace ns1" execution-create --namespace ns1 \
    pair_b '{"x": 7}' -f json
NX=$(val ID)
check "its workflow namespace" test "$(val "Workflow namespace")" = ns1
check "it runs" wait_state "$NX" SUCCESS
mcheck "execution-list --filter workflow_namespace=ns1" execution-list \
    --filter workflow_namespace=ns1 -f json
jcheck "only ns1's executions" "length == 1 and .[0].ID == \"$NX\""
mcheck "workflow-delete --namespace ns1 pair_b" workflow-delete pair_b \
    --namespace ns1
mcheck "the default namespace's pair_b stays" workflow-get pair_b -f json
check "it is the default one" test "$(val Namespace)" = ""
mfail "unknown in ns1 now" "Workflow not found" workflow-get pair_b \
    --namespace ns1
mcheck "action-create in namespace ns2" action-create "$MD/adhoc.yaml" \
    --namespace ns2
mcheck "action-get --namespace ns2" action-get greet --namespace ns2 -f json
check "ns2's greet" sh -c "curl -s $URL/v2/actions/greet/ns2 |
    jq -e '.namespace == \"ns2\"'"

# ---- 12: smaller defects --------------------------------------------

mfail "workflow-get of an unknown workflow" "Workflow not found" \
    workflow-get nope_wf
check "the 404 text says it once" test "$(grep -o "not found" "$TMP/out" |
    wc -l)" -eq 1
mfail "execution-create of an unknown workflow" "Workflow not found" \
    execution-create nope_wf
check "said once" test "$(grep -o "not found" "$TMP/out" | wc -l)" -eq 1
mfail "task-get of an unknown task" "not found" task-get \
    00000000-0000-4000-8000-000000000000
check "said once" test "$(grep -o "not found" "$TMP/out" | wc -l)" -eq 1

mcheck "workflow-create parent_wf" workflow-create "$MD/parent.yaml"
mcheck "execution-create parent_wf" execution-create parent_wf -f json
PX=$(val ID)
check "parent_wf reaches SUCCESS" wait_state "$PX" SUCCESS
mcheck "execution-get-sub-executions" execution-get-sub-executions "$PX" \
    -f json
jcheck "the child with its workflow_id" 'length == 1 and .[0]["Workflow name"] == "child_wf" and (.[0]["Workflow ID"] | test("^[0-9a-f-]{36}$"))'
CID=$(jq -r '.[0].ID' "$TMP/out")
check "GET of the child: workflow_id not null" sh -c \
    "curl -s $URL/v2/executions/$CID | jq -e '.workflow_id != null'"
M task-list "$PX" -f json >"$TMP/out" 2>&1
PT=$(jq -r '.[0].ID' "$TMP/out")
mcheck "task-get-sub-executions" task-get-sub-executions "$PT" -f json
jcheck "the task's child" "length == 1 and .[0].ID == \"$CID\""

mcheck "action-get-definition std.echo" action-get-definition std.echo
check "it prints the built-in action's interface" grep -q "output, delay" \
    "$TMP/out"

mcheck "run-action -s for a deletable run" run-action std.echo \
    '{"output": "x"}' -s -f json
RA=$(val ID)
sleep 0.3
mcheck "action-execution-delete" action-execution-delete "$RA"
mfail "it is gone" "not found" action-execution-get "$RA"
mfail "an action execution of a task cannot be deleted" \
    "Only ad-hoc action execution" action-execution-delete "$AA"

# An HTML error page: the state_info keeps the status and an excerpt.
HPORT=$(free_port)
python3 - "$HPORT" >"$TMP/http.log" 2>&1 <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (b"<!DOCTYPE html><html><head><title>500 Internal</title>"
                b"</head><body><h1>Internal Server Error</h1>"
                + b"<p>" + b"stack frame " * 2000 + b"</p></body></html>")
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
HTTP_PID=$!
sleep 0.5
mcheck "workflow-create http_err_wf" workflow-create "$MD/http_err.yaml"
mcheck "execution-create http_err_wf" execution-create http_err_wf \
    "{\"url\": \"http://127.0.0.1:$HPORT/x\"}" -f json
HX=$(val ID)
check "http_err_wf fails" wait_state "$HX" ERROR
M task-list "$HX" -f json >"$TMP/out" 2>&1
HT=$(jq -r '.[0].ID' "$TMP/out")
mcheck "task-get of the failed HTTP call" task-get "$HT" -f json
jcheck "state_info: the status and a short excerpt, no HTML" '(.["State info"] | startswith("HTTP 500")) and (.["State info"] | test("Internal Server Error")) and (.["State info"] | test("<") | not) and (.["State info"] | length) < 400'
mcheck "task-get-result keeps the whole page" task-get-result "$HT"
check "the page is in the result" grep -q "stack frame stack frame" \
    "$TMP/out"

# bora run leaves the database alone, no WAL beside it.
cat >"$TMP/run.yaml" <<'EOF'
version: '2.0'
run_once:
  tasks:
    t:
      action: std.echo output=1
EOF
"$BORA" run --db "sqlite:$TMP/run.db" "$TMP/run.yaml" >/dev/null 2>&1
"$BORA" run --db "sqlite:$TMP/run.db" "$TMP/run.yaml" >/dev/null 2>&1
check "bora run leaves no -wal file" test ! -e "$TMP/run.db-wal"
check "the database holds the runs" test -s "$TMP/run.db"

mfail "service-list: not supported, as Mistral without coordination" \
    "Service API is not supported" service-list

# ---- environments ---------------------------------------------------

mcheck "environment-create" environment-create "$MD/env.yaml" -f json
jcheck "its variables" '.Variables | fromjson | .zone == "a"'
mfail "a duplicate is refused" "Duplicate entry" environment-create \
    "$MD/env.yaml"
mcheck "environment-list" environment-list -f json
jcheck "listed" 'map(.Name) | index("cloud_north") != null'
mcheck "environment-get" environment-get cloud_north -f json
check "its description" test "$(val Description)" = "The northern cloud"
mcheck "workflow-create env_wf" workflow-create "$MD/env_wf.yaml"
mcheck "execution-create with params {env: NAME}" execution-create env_wf \
    '{}' '{"env": "cloud_north"}' -f json
EX=$(val ID)
check "env_wf reaches SUCCESS" wait_state "$EX" SUCCESS
mcheck "execution-get-output" execution-get-output "$EX"
jcheck "env() saw the environment's variables" '.where == "north/a"'
mcheck "environment-update" environment-update "$MD/env2.yaml" -f json
jcheck "variables replaced" '.Variables | fromjson | .zone == "b"'
mcheck "execution-create with params {env: {...}}" execution-create env_wf \
    '{}' '{"env": {"region": "south", "zone": "c"}}' -f json
EX=$(val ID)
check "env_wf with a dict reaches SUCCESS" wait_state "$EX" SUCCESS
M execution-get-output "$EX" >"$TMP/out" 2>&1
jcheck "env() saw the dict" '.where == "south/c"'
mfail "an unknown environment" "Environment not found \\[name=nope\\]" \
    execution-create env_wf '{}' '{"env": "nope"}'
mcheck "environment-delete" environment-delete cloud_north
mfail "it is gone" "Environment not found" environment-get cloud_north

# ---- cron triggers, across a restart --------------------------------

mcheck "workflow-create tick_wf" workflow-create "$MD/tick.yaml"
mfail "a bad pattern is refused" "pattern is not valid" \
    cron-trigger-create bad tick_wf --pattern "61 * * * *"
mfail "a first time in the past is refused" "at least 1 minute" \
    cron-trigger-create past tick_wf --first-time "2020-01-01 00:00" --utc
mfail "an unknown workflow is refused" "Workflow not found" \
    cron-trigger-create nowf nope_wf --pattern "* * * * *"
mcheck "cron-trigger-create with a first time" cron-trigger-create later \
    tick_wf --first-time "2099-01-01 10:30" --utc -f json
check "its next execution is the first time" test \
    "$(val "Next execution time")" = "2099-01-01 10:30:00"
check "one execution" test "$(val "Remaining executions")" = 1
mcheck "cron-trigger-create every second" cron-trigger-create every \
    tick_wf '{"who": "every"}' --pattern "* * * * * *" -f json
mcheck "cron-trigger-list" cron-trigger-list -f json
jcheck "both triggers" 'map(.Name) | sort == ["every", "later"]'
# Listed after the list: three ticks may pass while a slow client lists.
mcheck "cron-trigger-create with a count" cron-trigger-create thrice \
    tick_wf '{"who": "three"}' --pattern "* * * * * *" --count 3 -f json
check "it counts three" test "$(val "Remaining executions")" = 3
mcheck "cron-trigger-get" cron-trigger-get every -f json
check "its pattern" test "$(val Pattern)" = "* * * * * *"
sleep 4.5
# ticks_of NAME: the executions a trigger started, by tick.
ticks_of()
{
	curl -s "$URL/v2/executions?workflow_name=tick_wf&limit=1000" |
	    jq -r --arg n "$1" '.executions[] | .description | fromjson |
	    select(.triggered_by.name == $n) | .triggered_by.tick' | sort
}
check "thrice fired three times, then went" sh -c \
    "test \$(curl -s '$URL/v2/executions?workflow_name=tick_wf&limit=1000' |
    jq '[.executions[] | select(.description | fromjson |
    .triggered_by.name == \"thrice\")] | length') -eq 3"
mfail "thrice is deleted after its last firing" "not found" \
    cron-trigger-get thrice
ticks_of every >"$TMP/ticks1"
check "every fired at each second" test "$(wc -l <"$TMP/ticks1")" -ge 3
check "once per tick" test "$(wc -l <"$TMP/ticks1")" -eq \
    "$(uniq <"$TMP/ticks1" | wc -l)"

# Down for about four seconds: the missed ticks fire once at start.
borad_stop
STOP=$(date -u +%s)
sleep 4
START=$(date -u +%s)
borad_start || { not_ok "borad restarts"; finish; }
ok "borad restarts"
sleep 3
ticks_of every >"$TMP/ticks2"
check "once per tick across the restart" test "$(wc -l <"$TMP/ticks2")" \
    -eq "$(uniq <"$TMP/ticks2" | wc -l)"
# Ticks inside the downtime window: only the first missed one fired.
DOWN=$(while read -r d t; do
	s=$(date -u -d "$d $t" +%s)
	if [ "$s" -gt "$((STOP + 1))" ] && [ "$s" -lt "$START" ]; then
		echo "$s"
	fi
done <"$TMP/ticks2" | wc -l)
check "the missed ticks fired once, not one by one ($DOWN)" test "$DOWN" -le 1
check "it fires again after the restart" test "$(wc -l <"$TMP/ticks2")" \
    -ge "$(($(wc -l <"$TMP/ticks1") + 2))"
mcheck "cron-trigger-delete every" cron-trigger-delete every
mcheck "cron-trigger-delete later" cron-trigger-delete later
sleep 1.2
ticks_of every >"$TMP/ticks3"
sleep 1.2
ticks_of every >"$TMP/ticks4"
check "a deleted trigger fires no more" cmp -s "$TMP/ticks3" "$TMP/ticks4"
check "daemon still ready" curl -sf "$URL/readyz"

finish
