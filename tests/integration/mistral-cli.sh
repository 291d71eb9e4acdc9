#!/bin/sh
#
# mistral-cli.sh -- the real OpenStack client (python3-mistralclient)
# against a real borad: definitions, executions, tasks, action
# executions, pause/resume/cancel and validation work unchanged.

. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/integration/mistral-lib.sh"

borad_start || { not_ok "borad starts"; finish; }
ok "borad starts"

# val FIELD: a field of the last "-f json" output.
val()
{
	jq -r ".$1" "$TMP/out"
}

mcheck "workflow-create" workflow-create "$DATA/contract_wf.yaml" -f json
check "workflow-create shows the workflow" grep -q contract_wf "$TMP/out"
mcheck "workflow-list" workflow-list -f json
check "workflow-list has it" grep -q contract_wf "$TMP/out"
mcheck "workflow-get" workflow-get contract_wf -f json
check "workflow-get input" test "$(val Input)" = 'name, greeting="Hello"'
mcheck "workflow-get-definition" workflow-get-definition contract_wf
check "the definition is the YAML" grep -q "contract_wf:" "$TMP/out"
mcheck "workflow-validate (valid)" workflow-validate "$DATA/contract_wf.yaml" \
    -f json
check "valid is True" test "$(val Valid)" = true
mcheck "workflow-validate (invalid)" workflow-validate "$DATA/invalid.yaml" \
    -f json
check "invalid is reported with its error" sh -c \
    "jq -e '.Valid == false and (.Error | test(\"nope\"))' $TMP/out"
if M workflow-create "$DATA/contract_wf.yaml" >"$TMP/out" 2>&1; then
	not_ok "duplicate workflow-create fails"
else
	ok "duplicate workflow-create fails"
fi
check "the client shows the conflict" grep -qi "duplicate" "$TMP/out"
mcheck "workbook-create" workbook-create "$DATA/workbook.yaml" -f json
check "workbook-create shows the name" test "$(val Name)" = contract_wb
mcheck "workbook-list" workbook-list
mcheck "action-list (500 in Mistral 15)" action-list -f json
check "action-list has std.echo" grep -q '"std.echo"' "$TMP/out"
mcheck "action-get" action-get std.echo -f json

mcheck "execution-create" execution-create contract_wf \
    '{"name": "Mistral"}' '{"env": {"k": "v"}}' -d captured -f json
EX=$(val ID)
check "execution-create state RUNNING" test "$(val State)" = RUNNING
check "execution reaches SUCCESS" wait_state "$EX" SUCCESS
mcheck "execution-get" execution-get "$EX" -f json
check "execution-get state SUCCESS" test "$(val State)" = SUCCESS
check "execution-get description" test "$(val Description)" = captured
mcheck "execution-get-output" execution-get-output "$EX"
check "output is the workflow output" sh -c \
    "jq -e '.msg == \"Hello, Mistral\"' $TMP/out"
mcheck "execution-get-input" execution-get-input "$EX"
check "input has defaults applied" sh -c \
    "jq -e '.greeting == \"Hello\"' $TMP/out"
mcheck "execution-list" execution-list -f json
check "execution-list has it" grep -q "$EX" "$TMP/out"
mcheck "execution-list --filter" execution-list --filter \
    workflow_name=contract_wf -f json
check "filtered list" sh -c \
    "jq -e 'length >= 1 and all(.[\"Workflow name\"] == \"contract_wf\")' $TMP/out"
mcheck "task-list" task-list "$EX" -f json
check "two tasks" sh -c "jq -e 'length == 2' $TMP/out"
TASK=$(jq -r '.[] | select(.Name == "hello") | .ID' "$TMP/out")
mcheck "task-get" task-get "$TASK" -f json
check "task state SUCCESS" test "$(val State)" = SUCCESS
mcheck "task-get-result" task-get-result "$TASK"
check "task result" grep -q "Hello, Mistral" "$TMP/out"
mcheck "task-get-published" task-get-published "$TASK"
check "task published" grep -q '"msg"' "$TMP/out"
mcheck "action-execution-list" action-execution-list -f json
check "action executions listed" grep -q std.echo "$TMP/out"
mcheck "action-execution-list TASK" action-execution-list "$TASK" -f json
AX=$(jq -r '.[0].ID' "$TMP/out")
mcheck "action-execution-get" action-execution-get "$AX" -f json
mcheck "action-execution-get-output" action-execution-get-output "$AX"
check "action output is wrapped in result" grep -q '"result"' "$TMP/out"
mcheck "execution-get-report" execution-get-report "$EX"
mcheck "run-action" run-action std.echo '{"output": "adhoc"}'
check "run-action output" grep -q adhoc "$TMP/out"

# Pause, resume and cancel a sleeping execution.
mcheck "workflow-create sleep_wf" workflow-create "$DATA/sleep_wf.yaml"
# It sleeps far longer than the CLI calls below take, even on a loaded
# machine; the cancel ends it.
mcheck "execution-create sleep_wf" execution-create sleep_wf \
    '{"seconds": 60}' -f json
SL=$(val ID)
sleep 0.3
mcheck "execution-update -s PAUSED" execution-update -s PAUSED "$SL" -f json
check "paused" test "$(val State)" = PAUSED
mcheck "execution-update -s RUNNING" execution-update -s RUNNING "$SL" \
    -f json
check "resumed" test "$(val State)" = RUNNING
mcheck "execution-update -s CANCELLED" execution-update -s CANCELLED "$SL" \
    -f json
check "cancelled" test "$(val State)" = CANCELLED
mcheck "execution-update -d" execution-update -d "new text" "$SL" -f json
check "description updated" test "$(val Description)" = "new text"
mcheck "execution-delete" execution-delete "$SL"
if M execution-get "$SL" >"$TMP/out" 2>&1; then
	not_ok "a deleted execution is gone"
else
	ok "a deleted execution is gone"
fi

# An unknown workflow is a clear client error.
if M execution-create no_such_wf >"$TMP/out" 2>&1; then
	not_ok "execution-create of an unknown workflow fails"
else
	ok "execution-create of an unknown workflow fails"
fi
check "the message names the workflow" grep -q "no_such_wf" "$TMP/out"

mcheck "workflow-delete" workflow-delete contract_wf
mcheck "workbook-delete" workbook-delete contract_wb
check "daemon still ready" curl -sf "$URL/readyz"

finish
