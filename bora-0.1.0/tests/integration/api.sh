#!/bin/sh
#
# api.sh -- the REST API of a real borad, driven with curl: every route,
# Mistral's status codes and shapes, and bad requests (malformed JSON,
# a huge body, unknown routes and methods, invalid YAML, an unknown
# workflow), after which the daemon must still be healthy.

. "$(dirname "$0")/lib.sh"

cp "$DATA/hello.yaml" "$TMP/workflows/"
borad_start || { not_ok "borad starts"; finish; }
ok "borad starts and is ready"

# ---- service ---------------------------------------------------------
api GET /healthz
expect "GET /healthz" 200 '.status == "ok"'
api GET /readyz
expect "GET /readyz: store and definitions" 200 \
    '.status == "ok" and .definitions_loaded == true'
api GET /
expect "GET / lists versions" 200 '.versions[0].id == "v2.0"'
api GET /v2
expect "GET /v2" 200 '.version.status == "CURRENT"'
api GET /v2/openapi.json
expect "OpenAPI document lists the routes" 200 \
    '.openapi == "3.0.3" and (.paths["/v2/executions/{id}"].put != null)'
api GET /v2/services
expect "GET /v2/services is 406 as in Mistral" 406 \
    '.faultstring == "Service API is not supported."'

# ---- request ids -------------------------------------------------------
api GET /healthz -H 'X-Request-Id: req-test-1234'
if grep -qi '^X-Request-Id: req-test-1234' "$TMP/headers" &&
    grep -qi '^X-Openstack-Request-Id: req-test-1234' "$TMP/headers"; then
	ok "X-Request-Id is echoed in both headers"
else
	not_ok "X-Request-Id is echoed in both headers"
fi
api GET /healthz -H 'X-Openstack-Request-Id: req-os-77'
check "X-Openstack-Request-Id is accepted" \
    grep -qi '^X-Request-Id: req-os-77' "$TMP/headers"
api GET /v2/nothing-here
check "a request id is generated on errors too" \
    grep -qi '^X-Request-Id: req-' "$TMP/headers"

# ---- routing errors ----------------------------------------------------
expect "unknown route is 404 JSON" 404 \
    '.faultcode == "Client" and (.faultstring | test("No such resource"))'
api PATCH /v2/executions
expect "wrong method is 405" 405 '.faultstring | test("not allowed")'
check "405 carries Allow" grep -qi '^Allow: GET, POST' "$TMP/headers"
api DELETE /v2/workflows
expect "DELETE on a collection is 405" 405

# ---- workflows ---------------------------------------------------------
api GET '/v2/workflows?sort_keys=created_at&sort_dirs=asc&fields=id,name,input,created_at'
expect "workflow list with fields" 200 \
    '(.workflows | map(.name) | index("hello")) != null and
     (.workflows[0] | has("definition") | not)'
api GET /v2/workflows/hello
expect "workflow get by name" 200 \
    '.name == "hello" and (.interface | type) == "string" and
     .project_id == "<default-project>"'
WF_ID=$(jb .id)
api GET "/v2/workflows/$WF_ID"
expect "workflow get by id" 200 '.name == "hello"'
api_text POST /v2/workflows "$DATA/contract_wf.yaml"
expect "workflow create is 201 {workflows:[...]}" 201 \
    '.workflows[0].name == "contract_wf" and
     (.workflows[0].interface | type) == "object" and
     (.workflows[0].created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"))'
api_text POST /v2/workflows "$DATA/contract_wf.yaml"
expect "duplicate workflow is 409" 409 '.faultstring | test("Duplicate")'
api_text PUT /v2/workflows "$DATA/contract_wf.yaml"
expect "workflow update is 200" 200 '.workflows[0].name == "contract_wf"'
api_text POST /v2/workflows "$DATA/invalid.yaml"
expect "invalid workflow is 400 naming the line" 400 \
    '.faultstring | test("[0-9]+:[0-9]+: .*nope")'
printf 'version: "2.0"\nx: [unclosed\n' >"$TMP/bad-yaml.yaml"
api_text POST /v2/workflows "$TMP/bad-yaml.yaml"
expect "YAML syntax error is 400" 400 '.faultstring | test(":[0-9]+:[0-9]+:")'
api POST /v2/workflows -H 'Content-Type: text/plain'
expect "empty definition is 400" 400
api_text POST /v2/workflows/validate "$DATA/invalid.yaml"
expect "workflow validate: invalid" 200 \
    '.valid == false and (.error | test("nope"))'
api_text POST /v2/workflows/validate "$DATA/contract_wf.yaml"
expect "workflow validate: valid" 200 '.valid == true'
api_text PUT /v2/workflows "$TMP/workflows/hello.yaml"
expect "a workflow from a watched file cannot be replaced" 409 \
    '.faultstring | test("defined by the file")'
api DELETE /v2/workflows/hello
expect "a workflow from a watched file cannot be deleted" 409
api GET /v2/workflows/no_such_wf
expect "unknown workflow is 404" 404

# ---- workbooks and actions ---------------------------------------------
api_text POST /v2/workbooks "$DATA/workbook.yaml"
expect "workbook create is 201" 201 \
    '.name == "contract_wb" and .project_id == "<default-project>"'
api_text POST /v2/workbooks "$DATA/workbook.yaml"
expect "duplicate workbook is 409" 409
api_text PUT /v2/workbooks "$DATA/workbook.yaml"
expect "workbook update is 200" 200 '.name == "contract_wb"'
api GET /v2/workbooks
expect "workbook list" 200 '.workbooks | map(.name) | index("contract_wb") != null'
api GET /v2/workbooks/contract_wb
expect "workbook get" 200 '.definition | test("wb_wf")'
api GET /v2/workflows/contract_wb.wb_wf
expect "a workbook's workflow is listed" 200
api_text POST /v2/workbooks/validate "$DATA/workbook.yaml"
expect "workbook validate" 200 '.valid == true'
api GET '/v2/actions?sort_keys=created_at&sort_dirs=asc&fields=id,name,is_system,input,description,tags,created_at,updated_at'
expect "action list works (with Mistral's sort)" 200 \
    '(.actions | map(select(.name == "std.echo" and .is_system == true)) | length) == 1'
api GET /v2/actions/std.echo
expect "action get" 200 '.is_system == true'
api GET /v2/actions/contract_wb.greet
expect "a workbook's ad-hoc action is listed" 200 '.is_system == false'
api_text POST /v2/actions "$DATA/adhoc_actions.yaml"
expect "ad-hoc action create is 201" 201 '.actions[0].name == "text.shout"'
api_text POST /v2/actions/validate "$DATA/adhoc_actions.yaml"
expect "action validate" 200 '.valid != null'
api DELETE /v2/actions/std.echo
expect "built-in action cannot be deleted" 400
api DELETE /v2/actions/text.shout
expect "ad-hoc action delete is 204" 204
api GET /v2/actions/text.shout
expect "deleted action is gone" 404

# ---- executions --------------------------------------------------------
api_json POST /v2/executions \
    '{"workflow_name":"contract_wf","input":"{\"name\": \"Bora\"}","params":"{\"env\": {\"k\": \"v\"}}","description":""}'
expect "execution create is 201 with JSON-in-string fields" 201 \
    '.state == "RUNNING" and (.input | fromjson | .name == "Bora") and
     (.input | fromjson | .greeting == "Hello") and
     (.params | fromjson | .env.k == "v") and .output == "{}"'
EX=$(jb .id)
check "execution reaches SUCCESS" wait_state "$EX" SUCCESS
api GET "/v2/executions/$EX"
expect "execution get has the output" 200 \
    '(.output | fromjson | .msg == "Hello, Bora") and
     (.created_at | test("^[0-9-]+ [0-9:]+$"))'
api_json POST /v2/executions '{"workflow_name":"contract_wf","input":{"name":"obj"}}'
expect "input as an object is accepted" 201
EX2=$(jb .id)
ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
api_json POST /v2/executions "{\"id\":\"$ID\",\"workflow_name\":\"hello\"}"
expect "execution with a client id" 201 ".id == \"$ID\""
api_json POST /v2/executions "{\"id\":\"$ID\",\"workflow_name\":\"hello\",\"input\":{\"name\":\"again\"}}"
expect "the same id again returns the same execution" 201 \
    ".id == \"$ID\" and (.input | fromjson | .name == \"world\")"
api_json POST /v2/executions '{"workflow_name":"no_such_workflow"}'
expect "unknown workflow is 404, not 500" 404 \
    '.faultstring | test("Workflow not found")'
api_json POST /v2/executions '{"workflow_name":"contract_wf"}'
expect "missing input is 400" 400 '.faultstring | test("name")'
api_json POST /v2/executions '{"workflow_name": "hello", '
expect "malformed JSON is 400 with line and column" 400 \
    '.faultstring | test("Malformed JSON at line 1, column [0-9]+")'
api_json POST /v2/executions '[1, 2]'
expect "a JSON array body is 400" 400
api_json POST /v2/executions '{"workflow_name":"hello","input":"{not json"}'
expect "input that is not JSON is 400" 400 '.faultstring | test("input")'
head -c 2000000 /dev/zero | tr '\0' 'a' >"$TMP/big"
api POST /v2/executions -H 'Content-Type: application/json' \
    --data-binary "@$TMP/big"
expect "a 2 MB JSON body is 413" 413 '.faultstring | test("limit")'
api GET '/v2/executions?limit=1&sort_keys=created_at&sort_dirs=desc&fields=id,state'
expect "execution list with limit has next" 200 \
    '(.executions | length) == 1 and (.next | test("marker=")) and
     (.executions[0] | keys == ["id", "state"])'
NEXT=$(jb .next | sed "s#^http://[^/]*##")
api GET "$NEXT"
expect "next page follows the marker" 200 '(.executions | length) == 1'
api GET '/v2/executions?workflow_name=contract_wf&state=SUCCESS'
expect "execution list filters" 200 \
    '(.executions | length) >= 1 and
     (.executions | all(.workflow_name == "contract_wf"))'
api GET '/v2/executions?created_at=gte:2000-01-01%2000:00:00'
expect "filter with an operator" 200 '(.executions | length) >= 3'
api GET '/v2/executions?bogus_field=1'
expect "unknown filter field is 400" 400 '.faultstring | test("bogus_field")'
api GET '/v2/executions?limit=x'
expect "bad limit is 400" 400
api GET "/v2/executions/$EX/tasks"
expect "tasks of an execution" 200 \
    '(.tasks | length) == 2 and (.tasks | all(.workflow_execution_id != null))'
TASK=$(jq -r '.tasks[] | select(.name == "hello") | .id' "$TMP/body")
api GET "/v2/tasks/$TASK"
expect "task get with result and published as strings" 200 \
    '(.result | fromjson) == "Hello, Bora" and
     (.published | fromjson | .msg == "Hello, Bora") and .type == "ACTION"'
api GET "/v2/tasks?workflow_execution_id=$EX"
expect "task list filter" 200 '(.tasks | length) == 2'
api GET "/v2/tasks/$TASK/action_executions"
expect "action executions of a task" 200 \
    '.action_executions[0].name == "std.echo" and
     .action_executions[0].task_name == "hello"'
AX=$(jb '.action_executions[0].id')
api GET "/v2/action_executions/$AX"
expect "action execution get has output" 200 \
    '(.output | fromjson) != null and .workflow_name == "contract_wf"'
api GET '/v2/action_executions?limit=100&sort_keys=created_at&sort_dirs=desc'
expect "action execution list" 200 '(.action_executions | length) >= 2'
api GET "/v2/executions/$EX/report"
expect "execution report" 200 \
    '.statistics.total_tasks_count == 2 and
     .root_workflow_execution.task_executions[0].action_executions != null'
api GET "/v2/executions/$EX/events"
expect "execution events" 200 '.events | type == "array"'
api GET "/v2/executions/$EX/executions"
expect "sub-executions" 200 '.executions == []'
api_json PUT "/v2/executions/$EX" '{"description":"described"}'
expect "execution description update" 200 '.description == "described"'
api_json PUT "/v2/executions/$EX" '{"state":"BOGUS"}'
expect "bad state is 400" 400
api_json PUT "/v2/executions/$EX" '{}'
expect "empty update is 400" 400
api_json POST /v2/action_executions '{"name":"std.echo","input":"{\"output\": \"adhoc\"}"}'
expect "run an action synchronously" 201 \
    '.state == "SUCCESS" and (.output | fromjson | .result == "adhoc") and .id == null'
api_json POST /v2/action_executions '{"name":"std.nothing"}'
expect "unknown action is 404" 404
api GET /v2/executions/00000000-0000-0000-0000-000000000000
expect "unknown execution is 404 Mistral-style" 404 \
    '.faultcode == "Client" and (.faultstring | test("WorkflowExecution not found"))'
api GET /v2/tasks/nope
expect "unknown task is 404" 404
api_json PUT /v2/action_executions/nope '{"state":"SUCCESS","output":1}'
expect "callback for an unknown action execution is 404" 404

# Pause, resume, cancel: a sleeping workflow.
api_text POST /v2/workflows "$DATA/sleep_wf.yaml"
expect "sleep workflow created" 201
api_json POST /v2/executions '{"workflow_name":"sleep_wf","input":{"seconds":3}}'
SL=$(jb .id)
sleep 0.3
api_json PUT "/v2/executions/$SL" '{"state":"PAUSED"}'
expect "pause" 200 '.state == "PAUSED"'
api_json PUT "/v2/executions/$SL" '{"state":"RUNNING"}'
expect "resume" 200 '.state == "RUNNING"'
api DELETE "/v2/executions/$SL"
expect "deleting a running execution is 400" 400 \
    '.faultstring | test("Only completed")'
api_json PUT "/v2/executions/$SL" '{"state":"CANCELLED"}'
expect "cancel" 200 '.state == "CANCELLED"'
api DELETE "/v2/executions/$SL"
expect "delete a finished execution is 204" 204
api GET "/v2/executions/$SL"
expect "deleted execution is gone" 404

# Re-run a failed task.
api_text POST /v2/workflows "$DATA/fail_wf.yaml"
api_json POST /v2/executions '{"workflow_name":"fail_wf"}'
FX=$(jb .id)
check "failing workflow ends in ERROR" wait_state "$FX" ERROR
api GET "/v2/executions/$FX/tasks"
FT=$(jb '.tasks[0].id')
api_json PUT "/v2/tasks/$FT" "{\"id\":\"$FT\",\"state\":\"RUNNING\",\"reset\":true}"
expect "task re-run is 200" 200 ".id == \"$FT\""
api_json PUT "/v2/tasks/$FT" '{"state":"SUCCESS"}'
expect "task PUT other than RUNNING is 400" 400

api DELETE /v2/workbooks/contract_wb
expect "workbook delete is 204" 204
api GET /v2/workbooks/contract_wb
expect "deleted workbook is gone" 404
api DELETE /v2/workflows/contract_wf
expect "workflow delete is 204" 204

# ---- metrics and health after all that ---------------------------------
api GET /metrics
if [ "$STATUS" = 200 ] &&
    grep -q '^bora_executions{state="SUCCESS"} [1-9]' "$TMP/body" &&
    grep -q '^bora_http_requests_total{method="POST",route="/v2/executions",code="201"}' "$TMP/body" &&
    grep -q '^bora_task_duration_seconds_count [1-9]' "$TMP/body"; then
	ok "/metrics: executions by state, requests by route, task histogram"
else
	not_ok "/metrics" "$(head -c 400 "$TMP/body")"
fi
api GET /readyz
expect "daemon still ready after bad requests" 200

# ---- bearer token ------------------------------------------------------
borad_stop
check "SIGTERM stops borad with status 0" test $? -eq 0
borad_start --api-token s3cret || not_ok "borad starts with a token"
api GET /v2/workflows
expect "no token is 401" 401
api GET /v2/workflows -H 'Authorization: Bearer wrong'
expect "a wrong token is 401" 401
api GET /v2/workflows -H 'Authorization: Bearer s3cret'
expect "the token opens the API" 200
api GET /v2/workflows -H 'X-Auth-Token: s3cret'
expect "X-Auth-Token works too" 200
api GET /healthz
expect "/healthz needs no token" 200

finish
